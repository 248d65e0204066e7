"""Labour-market checks for `validate`: the regional pattern, no runaway over the levers' range, extreme conditions.

REG   Each shipped region scenario (scenarios/regions/, fitted by `culturedrift authority`) reproduces its
      DfE targets within the data's own spread (mean over seeds), the held-out region included.
XS    The cross-section's shape: between the lowest- and the highest-vacancy region scenario, vacancy
      differs by more than `XS_VACANCY_GAP` while turnover differs by less than `XS_TURNOVER_GAP`
      (DfE 2023: 10.9% vs 20.5% vacancy, 14.2% vs 15.3% turnover).
RUN   No runaway: over the documented range of labour-market pressure, with the authority's vacancy
      from ~11% to ~25%, the phased programme's peak 12-month turnover stays below `CEILING`, and the
      baseline's mean turnover differs by a few points only (`XS_TURNOVER_GAP` x 2) across the range.
EXT   Extreme conditions (Sterman 2000, ch. 21): the model must behave sensibly when an input is pushed
      to its limit. Each condition lists what it must show; all outputs must stay finite and in range.

The ceiling: the highest 12-month FTE turnover of an English local authority in the DfE tables is
an assumption here (the shipped fixture holds no authority rows): 35%, a little over twice the
national rate (15.9% in 2023). A small authority can exceed it in one year (a few leavers in a
small team move the rate a lot), but a whole organisation losing more than a third of its social
workers every year is not what any published series shows; `culturedrift authority FILE` prints the
highest authority turnover in a full DfE file, against which this ceiling can be checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.model import Scenario, load_scenario, simulate

ROOT = Path(__file__).resolve().parents[3]
REGIONS = ROOT / "scenarios" / "regions"
PHASED = ROOT / "scenarios" / "phased.yaml"
CEILING = 0.35
XS_VACANCY_GAP = 0.06
XS_TURNOVER_GAP = 0.03
# the documented range of the labour-market pressure lever (TurnoverParams.labour_market_pressure): from
# below the least pressed region (North East) to above the most pressed (North West, London) fitted by
# `culturedrift authority` on the DfE 2023 figures
PRESSURE_RANGE = (0.7, 1.4)
# an authority's budget pays for the agency worker cover it uses (DfE 2023: agency rate close to the vacancy
# rate in every region; `culturedrift authority` sizes it so); RUN gives every pressure a budget that pays
# cover up to this agency worker rate. A budget too small for the cover is EXT1's question, not RUN's.
RUN_AGENCY_COVER = 0.30
STATS = ("turnover_rate_12m", "vacancy_rate", "agency_worker_share", "caseload_mean")
MapFn = Callable[[Callable[..., Any], list[tuple[Any, ...]]], list[Any]]


@dataclass
class Check:
    """One check: its key, claim, verdict and the lines and table that show why."""

    key: str
    claim: str
    passed: bool
    lines: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None


def _stats(sc: Scenario, seed: int, from_week: int = 26) -> dict[str, float]:
    """Means over weeks from_week..horizon, peaks, and whether every output stayed finite and in range."""
    ts = simulate(sc, seed, _weeks()).timeseries
    w = ts[ts["week"] >= min(from_week, int(ts["week"].max()))]
    out = {k: float(w[k].mean()) for k in STATS}
    out["peak_turnover_12m"] = float(ts["turnover_rate_12m"].max())
    out["peak_vacancy"] = float(ts["vacancy_rate"].max())
    out["morale_min"] = float(ts["morale_mean"].min())
    out["service_standard_end"] = float(ts["service_standard"].iloc[-13:].mean())
    out["agency_worker_share_end"] = float(ts["agency_worker_share"].iloc[-13:].mean())
    out["headcount_min"] = float(ts["headcount"].min())
    shares = ts[["morale_mean", "vacancy_rate", "agency_worker_share", "service_standard", "turnover_intention"]]
    num = ts.select_dtypes("number")
    out["bounded"] = float(bool(np.isfinite(num.to_numpy(float)).all() and (shares >= -1e-9).all().all()
                                and (shares <= 1 + 1e-9).all().all()))
    return out


SHRINK: dict[str, Any] = {}  # tests set e.g. {"organisation.n_teams": 2, "weeks": 40} to run tiny


def _shrunk(sc: Scenario) -> Scenario:
    up = {k: v for k, v in SHRINK.items() if k != "weeks"}
    return sc.with_updates(up) if up else sc


def _weeks() -> int | None:
    """A shorter window of every run (tests only)."""
    return SHRINK.get("weeks")


def _mean_runs(map_fn: MapFn, scenarios: list[Scenario], seeds: int) -> list[dict[str, float]]:
    scenarios = [_shrunk(sc) for sc in scenarios]
    tasks = [(sc, 500 + s) for sc in scenarios for s in range(seeds)]
    rows = map_fn(_stats, tasks)
    out = []
    for i in range(len(scenarios)):
        chunk = rows[i * seeds:(i + 1) * seeds]
        out.append({k: float(np.mean([r[k] for r in chunk])) if k != "bounded" else float(min(r[k] for r in chunk))
                    for k in chunk[0]})
    return out


def region_scenarios() -> dict[str, Scenario]:
    """The shipped region scenarios that carry their DfE targets (fitted_to)."""
    out = {}
    for f in sorted(REGIONS.glob("*.yaml")):
        sc = load_scenario(f)
        if sc.fitted_to.get("targets"):
            out[sc.fitted_to.get("area", sc.name)] = sc
    return out


def regional_checks(seeds: int, map_fn: MapFn) -> list[Check]:
    """REG (targets within the data's spread, per region) and XS (wide vacancy gap, narrow turnover gap)."""
    regs = region_scenarios()
    if not regs:
        return [Check("REG", "Region scenarios reproduce their DfE targets", False,
                      [f"no region scenarios with targets in {REGIONS}"])]
    res = _mean_runs(map_fn, list(regs.values()), seeds)
    rows, ok = [], True
    for (area, sc), st in zip(regs.items(), res, strict=True):
        for k, t in sc.fitted_to["targets"].items():
            within = abs(st[k] - t["value"]) <= t["spread"]
            ok &= within
            rows.append({"region": area, "statistic": k, "data": t["value"], "spread": t["spread"], "model": st[k],
                         "within spread": within})
    reg = Check("REG", "Region scenarios (fitted by `culturedrift authority`) reproduce their DfE 2023 targets "
                "within the data's spread", bool(ok), [f"Mean of {seeds} seeds per region, weeks 26 to the horizon."],
                pd.DataFrame(rows))
    by_vac = sorted(zip(regs, res, strict=True), key=lambda x: x[1]["vacancy_rate"])
    (lo_n, lo), (hi_n, hi) = by_vac[0], by_vac[-1]
    dv, dt = hi["vacancy_rate"] - lo["vacancy_rate"], abs(hi["turnover_rate_12m"] - lo["turnover_rate_12m"])
    xs = Check("XS", f"Cross-section: vacancy differs by more than {XS_VACANCY_GAP:.0%} between regions, turnover by "
               f"less than {XS_TURNOVER_GAP:.0%}", bool(dv > XS_VACANCY_GAP and dt < XS_TURNOVER_GAP),
               [f"{lo_n} vacancy {lo['vacancy_rate']:.1%}, turnover {lo['turnover_rate_12m']:.1%}; {hi_n} vacancy "
                f"{hi['vacancy_rate']:.1%}, turnover {hi['turnover_rate_12m']:.1%}: vacancy gap {dv:.1%}, turnover "
                f"gap {dt:.1%} (DfE 2023: North East 10.9% / 14.2%, North West 20.5% / 15.3%)."])
    return [reg, xs]


def runaway_check(seeds: int, map_fn: MapFn, points: int = 5) -> Check:
    """RUN: baseline and phased over the pressure range: peak turnover under the ceiling, turnover spread small."""
    grid = np.round(np.geomspace(*PRESSURE_RANGE, points), 3)
    from culturedrift.experiments.workflows.authority import budget_for

    defaults = Scenario(name="baseline")
    posts = defaults.organisation.n_teams * (defaults.organisation.team_size + 1)
    budget = {"budget.quarterly_budget": budget_for(posts, RUN_AGENCY_COVER, defaults)}
    base = defaults.with_updates(budget)
    phased = load_scenario(PHASED).with_updates(budget)
    scs = [b.with_updates({"turnover.labour_market_pressure": float(p)}) for b in (base, phased) for p in grid]
    res = _mean_runs(map_fn, scs, seeds)
    peak_all = map_fn(_peak, [(_shrunk(sc), 500 + s) for sc in scs[points:] for s in range(seeds)])
    rows = []
    for i, p in enumerate(grid):
        b, ph = res[i], res[points + i]
        rows.append({"pressure": p, "baseline vacancy": b["vacancy_rate"], "baseline agency": b["agency_worker_share"],
                     "baseline turnover": b["turnover_rate_12m"], "phased mean turnover": ph["turnover_rate_12m"],
                     "phased peak turnover (max over seeds)": max(peak_all[i * seeds:(i + 1) * seeds])})
    df = pd.DataFrame(rows)
    worst = float(df["phased peak turnover (max over seeds)"].max())
    spread = float(df["baseline turnover"].max() - df["baseline turnover"].min())
    passed = worst < CEILING and spread < 2 * XS_TURNOVER_GAP
    return Check("RUN", f"No runaway: over pressure {PRESSURE_RANGE[0]}-{PRESSURE_RANGE[1]} no phased run's peak "
                 f"12-month turnover reaches {CEILING:.0%}; baseline turnover varies by less than "
                 f"{2 * XS_TURNOVER_GAP:.0%}", passed,
                 [f"Highest phased peak {worst:.1%} (ceiling {CEILING:.0%}); baseline turnover range {spread:.1%} "
                  f"while vacancy runs {df['baseline vacancy'].min():.1%}-{df['baseline vacancy'].max():.1%}."], df)


def _peak(sc: Scenario, seed: int) -> float:
    return float(simulate(sc, seed, _weeks()).timeseries["turnover_rate_12m"].max())


@dataclass(frozen=True)
class Extreme:
    """An extreme condition: what is changed, and what the model must show (metric, op, value, why)."""

    key: str
    name: str
    base: str  # "baseline" or "phased"
    updates: dict[str, Any]
    must: tuple[tuple[str, str, Any, str], ...]


EXTREMES = (
    Extreme("EXT1", "zero budget", "phased", {"budget.quarterly_budget": 0.0}, (
        ("agency_worker_share_end", "<", 0.03, "no money, no new agency workers: cover dies out as contracts end"),
        ("vacancy_rate", ">", "reference", "posts stay empty longer than with a budget"),
        ("peak_turnover_12m", "<", 0.6, "turnover rises but is bounded (intention's effect is capped)"),
    )),
    Extreme("EXT2", "maximum labour-market pressure", "baseline", {"turnover.labour_market_pressure": 5.0}, (
        ("vacancy_rate", ">", 0.35, "permanent posts can hardly be filled"),
        ("turnover_rate_12m", "<", 0.6, "leaving responds weakly to the market (exit elasticity well below fill)"),
        ("headcount_min", ">", 0.0, "the organisation never empties"),
    )),
    Extreme("EXT3", "no culture reinforcement", "phased", {"culture.reinforcement_rate": 0.0}, (
        ("peak_turnover_12m", "<", CEILING, "culture has no path to a turnover spiral"),
        ("bounded", "==", 1.0, "every output finite and every share in [0, 1]"),
    )),
    Extreme("EXT4", "ten times the demand", "baseline", {"workload.demand_cases_per_post": "x10"}, (
        ("service_standard_end", "<", 0.5, "most open cases are no longer worked to standard"),
        ("caseload_mean", ">", "reference", "caseloads rise"),
        ("peak_turnover_12m", "<", 0.75, "turnover is high but bounded"),
        ("morale_min", ">=", 0.0, "morale stays in [0, 1]"),
    )),
)


def extreme_checks(seeds: int, map_fn: MapFn) -> list[Check]:
    """EXT1-EXT4: each condition against its unperturbed reference on the same seeds."""
    bases = {"baseline": Scenario(name="baseline"), "phased": load_scenario(PHASED)}
    scs, refs = [], []
    for e in EXTREMES:
        b = bases[e.base]
        up = {k: (getattr(getattr(b, k.split(".")[0]), k.split(".")[1]) * 10 if v == "x10" else v)
              for k, v in e.updates.items()}
        scs.append(b.with_updates(up))
        refs.append(b)
    res = _mean_runs(map_fn, scs + refs, seeds)
    out = []
    for i, e in enumerate(EXTREMES):
        got, ref = res[i], res[len(EXTREMES) + i]
        rows, ok = [], got["bounded"] == 1.0
        for metric, op, val, why in e.must:
            target = ref[metric] if val == "reference" else val
            v = got[metric]
            good = {"<": v < target, ">": v > target, ">=": v >= target, "==": math.isclose(v, target)}[op]
            ok &= bool(good)
            rows.append({"metric": metric, "must be": f"{op} {'reference ' if val == 'reference' else ''}"
                         f"{target:.4g}", "model": v, "reference run": ref[metric], "why": why,
                         "result": "PASS" if good else "FAIL"})
        up = ", ".join(f"{k} = {v}" for k, v in e.updates.items())
        out.append(Check(e.key, f"Extreme condition: {e.name} ({e.base}; {up})", bool(ok),
                         [f"Mean of {seeds} seeds; every output finite and in range: "
                          f"{'yes' if got['bounded'] == 1.0 else 'NO'}."], pd.DataFrame(rows)))
    return out


def run_checks(seeds: int, map_fn: MapFn, region_seeds: int | None = None) -> list[Check]:
    """Every labour-market check (REG and XS on `region_seeds`, default `seeds`)."""
    return [*regional_checks(region_seeds or seeds, map_fn), runaway_check(seeds, map_fn),
            *extreme_checks(seeds, map_fn)]


def markdown(checks: list[Check], md_table: Callable[[pd.DataFrame], str]) -> list[str]:
    """The report section: one subsection per check with its lines and table."""
    L = ["## Labour market: regional pattern, no runaway, extreme conditions", "",
         "Patterns and data: data/patterns.yaml and docs/validation.md. Ceiling for no runaway: "
         f"{CEILING:.0%} 12-month turnover (reasoning in docs/validation.md).", ""]
    for c in checks:
        L += [f"### {c.key}: {c.claim} - {'PASS' if c.passed else 'FAIL'}", "", *c.lines, ""]
        if c.table is not None:
            L += [md_table(c.table), ""]
    return L

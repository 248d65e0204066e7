"""Pattern-oriented calibration of the labour market (Grimm et al. 2005): several patterns at once.

The patterns (data/patterns.yaml, each with its source):
  1. the regional cross-section: vacancy and agency worker rates that differ two-fold between
     regions with turnover that differs by a point or two (DfE 2023, England, North East, North West;
     Yorkshire and The Humber held out as a prediction);
  2. the leaver tenure profile: most leavers have under five years' service;
  3. stability: with nothing changing the 12-month turnover does not drift.

One evaluation of a parameter vector runs every fitted geography once, with the structural
parameters shared and each region's labour-market pressure its own, and returns the statistics
the distance is computed from. `calibrate` runs ABC-SMC over these evaluations on the project's
executor and reports which parameters the patterns identify.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from culturedrift.experiments.workflows import abc_smc
from culturedrift.experiments.workflows.authority import Selection, base_updates, read_workforce, select
from culturedrift.model import Scenario, simulate

DATA = Path(__file__).resolve().parents[2] / "data"
PATTERNS = DATA / "patterns.yaml"
CROSS_SECTION_STATS = ("turnover_rate_12m", "vacancy_rate", "agency_worker_share", "caseload_mean")
PRESSURE = "turnover.labour_market_pressure"


def load_patterns(path: str | Path | None = None) -> dict[str, Any]:
    """The pattern settings (data/patterns.yaml)."""
    return yaml.safe_load(Path(path or PATTERNS).read_text())


def selections(settings: dict[str, Any], which: str = "fitted") -> dict[str, Selection]:
    """The DfE rows of the fitted (or held-out) geographies."""
    cs = settings["cross_section"]
    df = read_workforce(DATA / cs["data"])
    from culturedrift.experiments.workflows.authority import parse_years

    years = parse_years(cs.get("years"))
    return {name: select(df, name, years) for name in cs[which]}


def geography_scenarios(settings: dict[str, Any], which: str = "fitted",
                        base: Scenario | None = None) -> dict[str, Scenario]:
    """One baseline scenario per geography: size, budget and demand from its figures (pressure fitted later)."""
    base = base or Scenario(name="pattern")
    run = settings["run"]
    out = {}
    for name, sel in selections(settings, which).items():
        up = base_updates(sel, base, max_teams=run["max_teams"])
        up["horizon_weeks"] = run["horizon_weeks"]
        sc = base.with_updates(up)
        out[name] = sc.model_copy(update={"name": name.replace(" ", "_")})
    return out


def run_statistics(sc: Scenario, seed: int, from_week: int) -> dict[str, float]:
    """One run's pattern statistics: cross-section means, leaver tenure share and turnover drift."""
    res = simulate(sc, seed)
    ts = res.timeseries
    win = ts[ts["week"] >= from_week]
    out = {k: float(win[k].mean()) for k in CROSS_SECTION_STATS}
    out["turnover_peak_12m"] = float(ts["turnover_rate_12m"].max())
    ev = res.events
    leave = ev[(ev["event"] == "leave") & (ev["employment"] == "permanent") & (ev["role"] != "partner")]
    out["leavers_under_5y"] = float((leave["tenure_weeks"] < 260).mean()) if len(leave) else math.nan
    last = int(ts["week"].max())
    ends = [float(ts.loc[ts["week"] == w, "turnover_rate_12m"].iloc[0]) for w in range(52, last + 1, 52)]
    out["turnover_drift_per_year"] = float(np.polyfit(np.arange(len(ends)), ends, 1)[0]) if len(ends) >= 2 else 0.0
    return out


def evaluate(params: dict[str, Any], seed: int, context: dict[str, Any]) -> dict[str, float]:
    """Every fitted geography with the shared parameters and its own pressure: flat 'geo:stat' statistics.

    Each geography runs `context["seeds"]` times (own seeds drawn from `seed`) and its statistics are the
    means over those runs (the peak is the highest): one seed's spread of the 12-month turnover (SD ~0.016)
    is as large as a target's half-width, so a single run per draw cannot tell good parameters from luck.
    """
    shared = {k: v for k, v in params.items() if not k.startswith("pressure:")}
    out: dict[str, float] = {}
    rng = np.random.default_rng(seed)
    n_seeds = int(context.get("seeds", 1))
    keys = (*CROSS_SECTION_STATS, "turnover_peak_12m", "leavers_under_5y", "turnover_drift_per_year")
    for name, sc in context["scenarios"].items():
        up = dict(shared)
        up[PRESSURE] = params.get(f"pressure:{name}", context["pressures"].get(name, 1.0))
        if "workload.demand_cases_per_post" in up:
            up["workload.demand_cases_per_post"] *= context["demand_ratio"][name]
        runs = []
        for _ in range(n_seeds):
            try:
                runs.append(run_statistics(sc.with_updates(up), int(rng.integers(0, 2**31 - 1)),
                                           context["from_week"]))
            except (ValueError, FloatingPointError):
                runs.append(dict.fromkeys(keys, math.nan))
        st = {k: float(np.max([r[k] for r in runs])) if k == "turnover_peak_12m"
              else float(np.mean([r[k] for r in runs])) for k in keys}
        out.update({f"{name}:{k}": v for k, v in st.items()})
    return out


class PatternDistance:
    """Root-mean-square of each statistic's distance from its target in units of the data's spread."""

    def __init__(self, settings: dict[str, Any], sels: dict[str, Selection]) -> None:
        self.terms: list[tuple[str, float, float]] = []  # key, target, scale
        for name, sel in sels.items():
            for k, t in sel.targets.items():
                self.terms.append((f"{name}:{k}", t["value"], t["spread"]))
        ten = settings["tenure"]
        self.tenure = (ten["statistic"], ten["low"], ten["high"])
        self.drift_max = settings["stability"]["high"]
        self.names = list(sels)

    def components(self, stats: dict[str, float]) -> dict[str, float]:
        """Each term's signed distance in spreads (0 inside a band)."""
        out = {k: (stats.get(k, math.nan) - v) / s for k, v, s in self.terms}
        key, lo, hi = self.tenure
        vals = [stats.get(f"{n}:{key}", math.nan) for n in self.names]
        share = float(np.nanmean(vals)) if np.isfinite(vals).any() else math.nan
        half = (hi - lo) / 2
        out["tenure"] = max(abs(share - (lo + hi) / 2) - half, 0.0) / half if np.isfinite(share) else math.nan
        drift = [abs(stats.get(f"{n}:turnover_drift_per_year", math.nan)) for n in self.names]
        out["stability"] = max(float(np.nanmean(drift)) - self.drift_max, 0.0) / self.drift_max
        return out

    def __call__(self, stats: dict[str, float]) -> float:
        c = np.array(list(self.components(stats).values()), float)
        if not np.isfinite(c).all():
            return math.inf
        return float(np.sqrt(np.mean(c**2)))


def context_for(settings: dict[str, Any], scenarios: dict[str, Scenario]) -> dict[str, Any]:
    """What every evaluation needs besides its parameters (picklable)."""
    ref = settings["cross_section"]["reference"]
    base_demand = scenarios[ref].workload.demand_cases_per_post
    return {"scenarios": scenarios, "from_week": settings["run"]["stat_from_week"],
            "seeds": int(settings["run"].get("seeds", 1)), "pressures": {ref: 1.0},
            "demand_ratio": {n: sc.workload.demand_cases_per_post / base_demand for n, sc in scenarios.items()}}


def calibrate(settings: dict[str, Any], size: str = "full", map_fn: abc_smc.MapFn | None = None,
              progress: Any = None, base: Scenario | None = None, on_generation: Any = None,
              resume: pd.DataFrame | None = None) -> tuple[abc_smc.SMCResult, PatternDistance]:
    """ABC-SMC of the structural labour-market parameters and the fitted regions' pressures; with `resume`
    (a population written by `write_posterior`) it continues that run for `generations` more generations."""
    sels = selections(settings)
    scen = geography_scenarios(settings, base=base)
    dist = PatternDistance(settings, sels)
    sz = settings["smc"][size]
    ctx = context_for(settings, scen)
    ctx["seeds"] = int(sz.get("seeds", ctx["seeds"]))
    priors = abc_smc.priors_from(settings["priors"])
    start = abc_smc.generation_from_particles(resume, priors) if resume is not None else None
    start_index = int(resume["generation"].iloc[0]) if resume is not None and "generation" in resume else 0
    res = abc_smc.abc_smc(evaluate, dist, priors, population=sz["population"],
                          generations=sz["generations"], batch=sz["batch"], quantile=sz["quantile"],
                          seed=settings["smc"]["seed"], map_fn=map_fn, context=ctx,
                          progress=progress, max_batches=sz.get("max_batches", 3), on_generation=on_generation,
                          start=start, start_index=start_index)
    return res, dist


def fit_table(res: abc_smc.SMCResult, dist: PatternDistance, settings: dict[str, Any]) -> pd.DataFrame:
    """Per target: data value and spread, the posterior population's weighted median and 95% range."""
    g = res.final
    st = pd.DataFrame(g.stats)
    rows = []
    for key, v, s in dist.terms:
        x = st[key].to_numpy(float)
        q = abc_smc.weighted_quantiles(x, g.weights, (0.025, 0.5, 0.975))
        rows.append({"target": key, "data": v, "spread": s, "model_q025": q[0], "model_median": q[1],
                     "model_q975": q[2], "within_spread": bool(abs(q[1] - v) <= s)})
    ten = settings["tenure"]
    x = np.nanmean(np.stack([st[f"{n}:{ten['statistic']}"].to_numpy(float) for n in dist.names]), axis=0)
    q = abc_smc.weighted_quantiles(x, g.weights, (0.025, 0.5, 0.975))
    rows.append({"target": ten["statistic"], "data": (ten["low"] + ten["high"]) / 2,
                 "spread": (ten["high"] - ten["low"]) / 2,
                 "model_q025": q[0], "model_median": q[1], "model_q975": q[2],
                 "within_spread": bool(ten["low"] <= q[1] <= ten["high"])})
    x = np.nanmean(np.stack([st[f"{n}:turnover_drift_per_year"].to_numpy(float) for n in dist.names]), axis=0)
    q = abc_smc.weighted_quantiles(x, g.weights, (0.025, 0.5, 0.975))
    rows.append({"target": "turnover_drift_per_year", "data": 0.0, "spread": settings["stability"]["high"],
                 "model_q025": q[0], "model_median": q[1], "model_q975": q[2],
                 "within_spread": bool(abs(q[1]) <= settings["stability"]["high"])})
    return pd.DataFrame(rows)


def write_posterior(res: abc_smc.SMCResult, path: str | Path) -> Path:
    """The final population as CSV: one column per parameter (scenario paths), weight, distance, statistics
    and its generation number (what `calibrate --resume` continues from).

    `compare --posterior FILE` draws rows by weight and applies the columns that are scenario paths.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    df = res.particles()
    df.insert(df.columns.get_loc("distance") + 1, "generation", res.last_index)
    df.to_csv(tmp, index=False)
    tmp.replace(path)
    return path

"""Patterns from evidence, with magnitudes fixed before the model was run: checks that can fail.

Each pattern states what a published source reports, the statistic that measures it in the model and
the band it must fall in. The bands were written down (here and in docs/validation.md) before the
runs that test them; a check passes when the mean over seeds lies inside its band (the 95% interval is
reported with it). None of these statistics is a calibration target.

P1  Culture change takes years. Munro's progress report a year on: "moving in the right direction but
    ... needs to move faster" (Munro 2012); Hackney's Reclaim Social Work was evaluated after about two
    and a half years (Cross, Hubbard & Munro 2010; Forrester et al. 2013); culture change in public
    services is a matter of years (Scott et al. 2003). Statistic: under `phased_with_vigilance`, the
    share of the week-260 shift in the mean compliance habit already reached at week 52 - band
    [0.2, 0.8] (visible progress after a year, far from done) - and the week at which half of it is
    reached - band [26, 156].
P2  Gains partly persist after programme support ends. Partial sustainment is the most common outcome
    of new programmes (Stirman et al. 2012, review of 125 studies); improvement decays once attention
    moves on (Buchanan et al. 2005); Reclaim Social Work's features were diluted where support waned
    (Bostock et al. 2017). Statistic: under `phased_vigilance_withdrawn` (all support stops at handover,
    week 104), the share of the handover gain still held at week 260 - band [0.3, 0.95] - and the
    rise of the habit in the year after handover - band [0.005, 0.2] (slippage happens, slowly).
P3  Vigilance matters until the new culture sustains itself, not forever, and it protects rather than
    builds (Munro 2011: "a never-ending journey of monitoring"; Lewin's refreezing). Statistics:
    vigilance with no programme moves the week-260 habit by less than 0.03 (band [-0.03, 0.03]);
    stopping vigilance at week 52 instead of keeping it leaves the week-260 habit higher by
    [0.005, 0.3]; and stopping it at week 156 costs less than stopping it at week 52 (difference of the
    two costs in [0.0, 0.3]).
P5  Operating point. Children's social workers at the national 16-18 cases work about 6 hours a week
    unpaid (DfE longitudinal study of child and family social workers, 2019-2022) and up to ~11 hours
    (Ravalier & Boichat 2018): about 116% of contracted hours out of a sustainable ~130%. Statistic:
    mean workload (caseload / capacity) of the baseline, weeks 26-156 - band [0.85, 0.95].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from culturedrift.experiments.workflows.validation.common import base_scenario
from culturedrift.experiments.workflows.validation.facts import Arm, run_arms
from culturedrift.model import load_scenario

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


@dataclass
class Band:
    """One pattern statistic: mean over seeds with its 95% CI, and the band fixed before running."""

    check: str
    name: str
    metric: str
    low: float
    high: float
    mean: float
    lo: float
    hi: float
    n: int
    source: str = ""
    values: list[float] = field(default_factory=list, repr=False)

    @property
    def passed(self) -> bool:
        """The mean over seeds lies inside the band."""
        return bool(self.low <= self.mean <= self.high)

    def as_row(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("values")
        d["passed"] = self.passed
        return d


def band(check: str, name: str, metric: str, values: list[float], low: float, high: float,
         source: str = "") -> Band:
    """Mean and t-based 95% CI of per-seed values against a band."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    n = v.size
    mean = float(v.mean()) if n else float("nan")
    half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return Band(check, name, metric, low, high, mean, mean - half, mean + half, n, source, [float(x) for x in v])


def ratio_band(check: str, name: str, metric: str, num: list[float], den: list[float], low: float, high: float,
               source: str = "", resamples: int = 2000) -> Band:
    """A ratio of means over seeds (robust when single seeds have tiny denominators), bootstrap 95% CI."""
    a, b = np.asarray(num, float), np.asarray(den, float)
    mean = float(a.mean() / b.mean()) if b.mean() != 0 else float("nan")
    rng = np.random.default_rng(20110510)
    idx = rng.integers(0, a.size, (resamples, a.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    lo, hi = np.nanquantile(boot, [0.025, 0.975]) if a.size > 1 else (np.inf * -1, np.inf)
    return Band(check, name, metric, low, high, mean, float(lo), float(hi), int(a.size), source,
                [float(x) for x in a / np.where(b != 0, b, np.nan)])


def _habit(ts: pd.DataFrame) -> pd.Series:
    return ts.set_index("week")["compliance_habit_mean"]


def _load(name: str, horizon: int, n_teams: int | None) -> Any:
    sc = load_scenario(SCENARIOS / name).with_updates({"horizon_weeks": horizon})
    return sc.with_updates({"organisation.n_teams": n_teams}) if n_teams else sc


def _vigilance_index(sc: Any) -> int:
    return next(i for i, iv in enumerate(sc.interventions) if iv.kind == "culture_vigilance")


# --- P1 ---

def shift(ts: pd.DataFrame, week: int) -> float:
    """Fall of the mean compliance habit from week 0 to `week` (the culture shift so far)."""
    c = _habit(ts)
    return float(c.loc[0] - c.loc[week])


def half_time(curve: pd.Series, end: int) -> float:
    """First week at which a shift curve reaches half of its value at `end`."""
    c = curve.loc[:end]
    total = c.loc[end]
    return float(c.index[np.argmax(c.to_numpy() >= 0.5 * total)]) if total > 1e-9 else float("nan")


def p1(seeds: int, workers: int = 1, n_teams: int | None = None) -> list[Band]:
    r = run_arms({"kept": Arm(_load("phased_with_vigilance.yaml", 260, n_teams))}, seeds, workers)["kept"]
    src = "Munro 2012; Cross et al. 2010; Forrester et al. 2013; Scott et al. 2003"
    curves = pd.concat([_habit(t).loc[0] - _habit(t) for t in r], axis=1)
    rng = np.random.default_rng(20110510)
    boot = [half_time(curves.iloc[:, rng.integers(0, len(r), len(r))].mean(axis=1), 260) for _ in range(500)]
    t50 = half_time(curves.mean(axis=1), 260)
    lo, hi = np.nanquantile(boot, [0.025, 0.975])
    return [ratio_band("P1", "culture change takes years (phased_with_vigilance)", "share of the week-260 habit "
                       "shift reached by week 52 (ratio of means over seeds)", [shift(t, 52) for t in r],
                       [shift(t, 260) for t in r], 0.2, 0.8, src),
            Band("P1", "culture change takes years (phased_with_vigilance)", "week when the mean shift first "
                 "reaches half its week-260 value", 26, 156, t50, float(lo), float(hi), len(r), src)]


# --- P2 ---

def p2(seeds: int, workers: int = 1, n_teams: int | None = None) -> list[Band]:
    sc = _load("phased_vigilance_withdrawn.yaml", 260, n_teams)
    h = sc.handover
    r = run_arms({"withdrawn": Arm(sc)}, seeds, workers)["withdrawn"]

    src = "Stirman et al. 2012; Buchanan et al. 2005; Bostock et al. 2017"
    return [ratio_band("P2", "gains partly persist after support ends (phased_vigilance_withdrawn)",
                       f"share of the week-{h} shift still held at week 260 (ratio of means over seeds)",
                       [shift(t, 260) for t in r], [shift(t, h) for t in r], 0.3, 0.95, src),
            band("P2", "gains partly persist after support ends (phased_vigilance_withdrawn)",
                 f"habit rise in the year after handover (weeks {h}-{h + 52})",
                 [float(_habit(t).loc[h + 52] - _habit(t).loc[h]) for t in r], 0.005, 0.2, src)]


# --- P3 ---

def p3(seeds: int, workers: int = 1, n_teams: int | None = None) -> list[Band]:
    kept = _load("phased_with_vigilance.yaml", 260, n_teams)
    k = _vigilance_index(kept)
    base = base_scenario("p3_none", horizon_weeks=260)
    base = base.with_updates({"organisation.n_teams": n_teams}) if n_teams else base
    only = base.with_updates({"name": "p3_vigilance_only",
                              "interventions": [{"kind": "culture_vigilance", "start_week": 0}]})
    arms = {"kept": Arm(kept),
            "stop52": Arm(kept.with_updates({"name": "p3_stop52", f"interventions.{k}.end_week": 52})),
            "stop156": Arm(kept.with_updates({"name": "p3_stop156", f"interventions.{k}.end_week": 156})),
            "none": Arm(base), "only": Arm(only)}
    r = run_arms(arms, seeds, workers)
    end = lambda ts: float(_habit(ts).loc[260])  # noqa: E731
    cost52 = [end(a) - end(b) for a, b in zip(r["stop52"], r["kept"], strict=True)]
    cost156 = [end(a) - end(b) for a, b in zip(r["stop156"], r["kept"], strict=True)]
    src = "Munro 2011; Lewin 1951 (refreezing); Buchanan et al. 2005"
    return [band("P3", "vigilance protects, it does not build: vigilance with no programme vs none",
                 "week-260 habit difference", [end(a) - end(b) for a, b in zip(r["only"], r["none"], strict=True)],
                 -0.03, 0.03, src),
            band("P3", "vigilance matters before the culture sustains itself: stopped at week 52 vs kept",
                 "week-260 habit difference (paired)", cost52, 0.005, 0.3, src),
            band("P3", "... and less once it has taken hold: cost of stopping at 52 minus cost of stopping at 156",
                 "difference of the two paired costs", [a - b for a, b in zip(cost52, cost156, strict=True)],
                 0.0, 0.3, src)]


# --- P5 ---

def p5(seeds: int, workers: int = 1, n_teams: int | None = None) -> list[Band]:
    sc = base_scenario("p5", horizon_weeks=156)
    sc = sc.with_updates({"organisation.n_teams": n_teams}) if n_teams else sc
    r = run_arms({"base": Arm(sc)}, seeds, workers)["base"]
    w = [float(t.loc[t["week"] >= 26, "workload_mean"].mean()) for t in r]
    return [band("P5", "operating point: case holders near their sustainable maximum", "mean workload "
                 "(caseload / capacity), weeks 26-156", w, 0.85, 0.95,
                 "DfE longitudinal study of child and family social workers 2019-2022; Ravalier & Boichat 2018")]


PATTERNS: dict[str, tuple[str, Callable[..., list[Band]]]] = {
    "P1": ("Culture change takes years", p1),
    "P2": ("Gains partly persist after programme support ends", p2),
    "P3": ("Vigilance matters until the new culture sustains itself, and protects rather than builds", p3),
    "P5": ("The operating point: case holders near their sustainable maximum", p5),
}


def run_patterns(seeds: int, workers: int = 1, only: list[str] | None = None, **kw: Any) -> dict[str, list[Band]]:
    """Every pattern (or `only` some) at `seeds` seeds."""
    return {k: fn(seeds, workers, **kw) for k, (_, fn) in PATTERNS.items() if only is None or k in only}


# --- support effects within their evidence range: does "phased is free" flip? ---

#: morale support per week (morale units) of the programme's support, low / default / high end of the
#: range the evidence allows (docs/validation.md, "Support effects"): supervision's supportive function
#: is associated with job satisfaction at r ~ 0.2-0.3 (Mor Barak et al. 2009 meta-analysis; Carpenter et
#: al. 2013 review), i.e. 0.03-0.08 of equilibrium morale on this model's scale (support / recovery rate)
SUPPORT_RANGE = {"low": 0.0, "default": None, "high": 0.004}


def support_range(seeds: int, workers: int = 1, n_teams: int | None = None) -> pd.DataFrame:
    """Phased minus baseline (paired) on morale trough and mean 12-month turnover, support at each end of its range."""
    base = _load("baseline.yaml", 260, n_teams)
    phased = _load("phased.yaml", 260, n_teams)
    arms: dict[str, Arm] = {"baseline": Arm(base)}
    for level, v in SUPPORT_RANGE.items():
        upd: dict[str, Any] = {"name": f"phased_support_{level}"}
        if v is not None:
            for i, iv in enumerate(phased.interventions):
                if iv.kind in ("engagement", "reflective_supervision"):
                    upd[f"interventions.{i}.support"] = v
        arms[level] = Arm(phased.with_updates(upd))
    r = run_arms(arms, seeds, workers)
    rows = []
    metrics = {"morale trough": lambda t: float(t["morale_mean"].min()),
               "mean 12-month turnover": lambda t: float(t["turnover_rate_12m"].mean())}
    for level in SUPPORT_RANGE:
        for name, f in metrics.items():
            d = band("SUP", f"phased - baseline, support {level}", name,
                     [f(a) - f(b) for a, b in zip(r[level], r["baseline"], strict=True)], -np.inf, np.inf)
            free = (d.lo >= 0) if name == "morale trough" else (d.hi <= 0)
            costly = (d.hi < 0) if name == "morale trough" else (d.lo > 0)
            rows.append({"support": level, "metric": name, "phased - baseline": d.mean, "lo": d.lo, "hi": d.hi,
                         "n": d.n, "verdict": "no worse" if free else ("worse" if costly else "unresolved")})
    return pd.DataFrame(rows)


# --- report sections (Markdown lines), used by report.py ---

def _fmt(v: float) -> str:
    return f"{v:.4g}"


def patterns_markdown(results: dict[str, list[Band]]) -> list[str]:
    """One table per pattern: statistic, band fixed before running, mean and 95% CI, result."""
    out = ["## Patterns from evidence (magnitudes fixed before running)", "",
           "Each band was written down with its source before the model was run (docs/validation.md). A "
           "statistic passes when its mean over seeds lies inside the band; none is a calibration target.", ""]
    for k, bands in results.items():
        ok = all(b.passed for b in bands)
        out += [f"### {k}: {PATTERNS[k][0]} - {'PASS' if ok else 'FAIL'}", "", f"Sources: {bands[0].source}.", "",
                "| result | comparison | statistic | band | mean | 95% CI | seeds |", "|---|---|---|---|---|---|---|"]
        out += [f"| {'PASS' if b.passed else 'FAIL'} | {b.name} | {b.metric} | [{_fmt(b.low)}, {_fmt(b.high)}] | "
                f"{_fmt(b.mean)} | [{_fmt(b.lo)}, {_fmt(b.hi)}] | {b.n} |" for b in bands]
        out.append("")
    return out


def support_markdown(table: pd.DataFrame) -> list[str]:
    """The support-range table and whether 'phased is free' holds across the range."""
    out = ["## Support effects across their evidence range: does \"phased is free\" flip?", "",
           "Weekly morale support of engagement and reflective supervision set to the low end (none), the "
           "defaults and the high end (0.004 a week) of the range the evidence allows; phased minus baseline, "
           "paired by seed.", "", "| support | metric | phased - baseline | 95% CI | seeds | verdict |",
           "|---|---|---|---|---|---|"]
    out += [f"| {r.support} | {r.metric} | {_fmt(r._3)} | [{_fmt(r.lo)}, {_fmt(r.hi)}] | {r.n} | {r.verdict} |"
            for r in table.itertuples()]
    turn = table[table["metric"] == "mean 12-month turnover"].set_index("support")["verdict"]
    flips = len(set(turn)) > 1
    out += ["", "\"Phased is free\" (mean turnover no worse than baseline) "
            + ("**flips within the range**: " + ", ".join(f"{k}: {v}" for k, v in turn.items())
               if flips else f"holds the same way across the range ({turn.iloc[0]})") + ".", ""]
    return out

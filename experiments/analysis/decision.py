"""Decision-table maths: per strategy and metric the median and 90% interval over seeds, the paired difference
against a reference with its confidence interval, a verdict, and where each metric applies.

Nothing here writes files or draws: `experiments.reporting` renders these tables, `experiments.workflows.compare`
orchestrates runs into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from culturedrift.experiments.analysis.metrics import INTERVAL, METRIC, METRICS, Metric, applies, with_derived
from culturedrift.experiments.analysis.paired import CiMethod, paired_ci
from culturedrift.experiments.execution.errors import InputError
from culturedrift.experiments.execution.store import frames
from culturedrift.model import RunResult, Scenario


class CompareError(InputError):
    """A comparison that cannot be made as asked (duplicate names, no seeds, unknown reference...)."""


def display_title(sc: Scenario) -> str:
    """The name a reader sees: the scenario's `title:` if it has one, else its name with spaces."""
    title = getattr(sc, "title", None) or ""
    return title or sc.name.replace("_", " ").capitalize()


@dataclass
class ComparisonData:
    """Runs of every strategy on the same seeds and the tables computed from them.

    Attributes are pandas objects: `timeseries` (one row per scenario, seed and week), `summary` (one row
    per scenario and seed, with the derived metrics), `events` (joiners and leavers), `decision_table` (one
    row per strategy: for each metric `<m>_median`, `<m>_p05`, `<m>_p95`, `<m>_diff`, `<m>_diff_lo`,
    `<m>_diff_hi`, `<m>_best`, `<m>_applies`), `differences` (long form of the paired differences against the
    reference, with a verdict: better, worse, unclear, reference or n/a) and `funding` (planned, delivered and
    unfunded cost per strategy, and when interventions were cut).
    """

    scenarios: list[Scenario]
    seeds: list[int]
    reference: str
    ci_method: CiMethod
    results: list[RunResult] = field(repr=False)
    timeseries: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame = field(repr=False)
    events: pd.DataFrame = field(repr=False)
    decision_table: pd.DataFrame = field(repr=False)
    differences: pd.DataFrame = field(repr=False)
    weeks: int | None = None
    funding: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    levers: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # filled by `compare(explain=True)`
    # with a calibration posterior: each seed's draw (seed, particle, parameters) and the rank-stability table
    posterior_draws: pd.DataFrame | None = field(default=None, repr=False)
    rank_stability: pd.DataFrame | None = field(default=None, repr=False)
    posterior_source: str = ""

    @property
    def names(self) -> list[str]:
        """Strategy names in the order given."""
        return [s.name for s in self.scenarios]

    @property
    def titles(self) -> dict[str, str]:
        """Display title per strategy name (tables, figures and text use these)."""
        return {s.name: display_title(s) for s in self.scenarios}

    @property
    def horizon(self) -> int:
        """Last week shown: the window when `weeks` was given, else the longest horizon."""
        return self.weeks or max(s.horizon_weeks for s in self.scenarios)

    @property
    def programmes(self) -> dict[str, tuple[int, int]]:
        """Change-programme period (first go-live week, handover week) per strategy."""
        return {s.name: (s.programme_start, s.handover) for s in self.scenarios}

    def metric_values(self, name: str, metric: str) -> pd.Series:
        """One strategy's values of one summary metric, indexed by seed (NaN where it does not apply)."""
        if name not in self.names:
            raise CompareError(f"unknown strategy {name!r}; the strategies are {', '.join(self.names)}")
        if metric not in self.summary.columns:
            raise CompareError(f"unknown metric {metric!r}; the metrics are {', '.join(METRIC)}")
        return self._wide(metric)[name]

    def _wide(self, metric: str) -> pd.DataFrame:
        """One metric as seeds x strategies (cached: the reading asks for the same pairs many times)."""
        cache = self.__dict__.setdefault("_wide_cache", {})
        if metric not in cache:
            cache[metric] = self.summary.pivot(index="seed", columns="scenario", values=metric).sort_index()
        return cache[metric]

    def applies(self, name: str, metric: str) -> bool:
        """Whether `metric` means something for strategy `name` (a value on at least half its seeds)."""
        return applies(self.metric_values(name, metric))

    def paired(self, a: str, b: str, metric: str) -> tuple[float, float, float]:
        """Mean paired difference a − b of `metric` over the shared seeds, with its 95% CI (mean, lo, hi)."""
        if not (self.applies(a, metric) and self.applies(b, metric)):
            return np.nan, np.nan, np.nan
        va, vb = self.metric_values(a, metric), self.metric_values(b, metric)
        return paired_ci((va - vb).to_numpy(), self.ci_method)

    def active_interventions(self, name: str) -> list[str]:
        """Intervention kinds a strategy schedules within the compared window (the levers behind its effects)."""
        sc = self.scenarios[self.names.index(name)]
        end = self.weeks or sc.horizon_weeks
        _, planned = sc.planned()  # those started by scheduled events too
        return list(dict.fromkeys(iv.name for iv in planned if iv.start_week < end))


def verdict(m: Metric, lo: float, hi: float, is_reference: bool = False) -> str:
    """'better' / 'worse' when the whole CI of (strategy - reference) lies on one side of zero, else 'unclear'.

    Metrics without a direction (informational) give 'higher' / 'lower' / 'unclear' instead.
    """
    if is_reference:
        return "reference"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "unclear"
    if not m.ranked:
        return "higher" if lo > 0 else "lower" if hi < 0 else "unclear"
    a, b = sorted((m.sign * lo, m.sign * hi))
    return "better" if a > 0 else "worse" if b < 0 else "unclear"


def best_mask(values: pd.Series, metric: Metric, applicable: pd.Series | None = None) -> pd.Series:
    """True where the value is the best in its column (ties at display precision all marked).

    Never True on a metric without a direction or for a strategy where the metric does not apply.
    """
    ok = values.notna() if applicable is None else applicable & values.notna()
    if not metric.ranked or not ok.any():
        return pd.Series(False, index=values.index)
    shown = (values * metric.scale).round(metric.decimals)
    target = shown[ok].max() if metric.better == "higher" else shown[ok].min()
    return ok & (shown == target)


def _differences(cmp: ComparisonData) -> pd.DataFrame:
    rows = []
    for name in cmp.names:
        for m in METRICS:
            mean, lo, hi = cmp.paired(name, cmp.reference, m.key)
            both = cmp.applies(name, m.key) and cmp.applies(cmp.reference, m.key)
            rows.append({"scenario": name, "reference": cmp.reference, "metric": m.key, "diff": mean,
                         "diff_lo": lo, "diff_hi": hi,
                         "verdict": "reference" if name == cmp.reference else
                         verdict(m, lo, hi) if both else "n/a",
                         "n": len(cmp.seeds), "method": cmp.ci_method})
    return pd.DataFrame(rows)


def _decision_table(cmp: ComparisonData) -> pd.DataFrame:
    lo_q, hi_q = INTERVAL
    diffs = cmp.differences.set_index(["scenario", "metric"])
    rows = []
    for name in cmp.names:
        row: dict[str, Any] = {"scenario": name, "title": cmp.titles[name], "n_seeds": len(cmp.seeds),
                               "reference": cmp.reference}
        for m in METRICS:
            v = cmp.metric_values(name, m.key).to_numpy(dtype=float)
            ok = applies(v)
            v = v[np.isfinite(v)]
            d = diffs.loc[(name, m.key)]
            row[f"{m.key}_median"] = float(np.median(v)) if ok else np.nan
            row[f"{m.key}_p05"] = float(np.quantile(v, lo_q)) if ok else np.nan
            row[f"{m.key}_p95"] = float(np.quantile(v, hi_q)) if ok else np.nan
            row[f"{m.key}_diff"] = d["diff"]
            row[f"{m.key}_diff_lo"] = d["diff_lo"]
            row[f"{m.key}_diff_hi"] = d["diff_hi"]
            row[f"{m.key}_applies"] = ok
        rows.append(row)
    table = pd.DataFrame(rows)
    for m in METRICS:
        table[f"{m.key}_best"] = best_mask(table[f"{m.key}_median"], m, table[f"{m.key}_applies"])
    ordered = ["scenario", "title", "n_seeds", "reference"]
    for m in METRICS:
        ordered += [f"{m.key}_{s}" for s in ("median", "p05", "p95", "diff", "diff_lo", "diff_hi", "best",
                                             "applies")]
    return table[ordered]


def _funding(cmp: ComparisonData) -> pd.DataFrame:
    """Per strategy (medians over seeds): planned, delivered and unfunded cost, and when interventions were cut."""
    s = cmp.summary
    rows = []
    for name in cmp.names:
        g = s[s["scenario"] == name]
        cut = g[g["cut_weeks"] > 0]
        rows.append({
            "scenario": name, "title": cmp.titles[name],
            "planned_cost": float(g["planned_cost"].median()),
            "delivered_cost": float(g["total_cost"].median()),
            "unfunded_cost": float(g["unfunded_cost"].median()),
            "agency_cost": float(g["agency_cost"].median()),
            "intervention_cost": float(g["intervention_cost"].median()),
            "planned_intervention_cost": float((g["intervention_cost"] + g["unfunded_cost"]).median()),
            "seeds_with_cuts": len(cut),
            "cut_first_week": float(cut["cut_first_week"].median()) if len(cut) else np.nan,
            "cut_last_week": float(cut["cut_last_week"].median()) if len(cut) else np.nan,
            "cut_weeks": float(cut["cut_weeks"].median()) if len(cut) else 0.0,
            "overspend": float(g["overspend_total"].median()),
            "agency_hires_refused": float(g["agency_worker_hires_refused_total"].median()),
        })
    return pd.DataFrame(rows)


def tabulate(cmp: ComparisonData) -> ComparisonData:
    """Fill the differences, decision table and funding table of a comparison from its summary."""
    cmp.__dict__.pop("_wide_cache", None)
    cmp.differences = _differences(cmp)
    cmp.decision_table = _decision_table(cmp)
    cmp.funding = _funding(cmp)
    return cmp


def tables_from_runs(scenarios: list[Scenario], results: list[RunResult]) -> tuple[pd.DataFrame, ...]:
    """Timeseries, summary (with derived metrics, strategies in the order given) and events of the runs."""
    ts, summary, events = frames(results)
    names = [s.name for s in scenarios]
    order = pd.CategoricalDtype(names, ordered=True)
    summary = summary.sort_values(["scenario", "seed"], key=lambda c: c.astype(order) if c.name == "scenario"
                                  else c, kind="stable").reset_index(drop=True)
    summary = with_derived(summary, ts)
    return ts, summary, events


def lever_contributions(cmp: ComparisonData, without: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Each lever's contribution: mean paired difference (strategy as run − strategy without that lever) per metric.

    `without[(strategy, lever)]` is the summary (with derived metrics) of the strategy re-run on the same seeds with
    that intervention kind switched off. Contributions need not add up to the strategy's total effect: levers
    interact (and share one budget).
    """
    rows = []
    for (name, lever), s in without.items():
        full = cmp.summary[cmp.summary["scenario"] == name].set_index("seed")
        alt = s.set_index("seed").reindex(full.index)
        for m in METRICS:
            if not m.ranked:
                continue
            d = (full[m.key] - alt[m.key]).to_numpy(dtype=float)
            ok = applies(full[m.key]) and applies(alt[m.key])
            mean, lo, hi = paired_ci(d, cmp.ci_method) if ok else (np.nan, np.nan, np.nan)
            rows.append({"scenario": name, "lever": lever, "metric": m.key, "contribution": mean,
                         "contribution_lo": lo, "contribution_hi": hi,
                         "verdict": verdict(m, lo, hi) if ok else "n/a"})
    return pd.DataFrame(rows, columns=["scenario", "lever", "metric", "contribution", "contribution_lo",
                                       "contribution_hi", "verdict"])

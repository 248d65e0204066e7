"""Compare strategies: every scenario on the same seeds, paired differences and a decision table.

Every scenario runs on the same seeds. Each mechanism of the model draws from its own random stream
keyed by the seed and the mechanism's name, so two strategies run on one seed share their randomness
(common random numbers): the difference between them on that seed is the effect of the strategy, not
of luck. The decision table gives, per strategy and summary metric, the median and the 90% interval
over seeds and the mean paired difference against a reference strategy with a 95% confidence interval.

From Python (a notebook), with pandas objects back::

    >>> from culturedrift.experiments.workflows.compare import compare
    >>> cmp = compare(["scenarios/baseline.yaml", "scenarios/big_bang.yaml", "scenarios/phased.yaml"],
    ...               seeds=20, workers=2, reference="baseline")
    >>> cmp.decision_table.filter(like="peak_turnover_12m")   # one row per strategy
    >>> cmp.differences.query("metric == 'morale_trough'")     # paired mean differences and 95% CIs
    >>> cmp.paired("big_bang", "phased", "morale_trough")      # any pair, not only against the reference
    >>> print("\\n".join(cmp.reading()))                       # the generated reading
    >>> cmp.write("results/mine")                              # data files, figures, report.html, report.md

The reference defaults to the first scenario given.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from culturedrift.experiments.execution.errors import InputError
from culturedrift.experiments.execution.files import check_out, staging, unique_names
from culturedrift.experiments.execution.runner import default_workers, plan, run_all
from culturedrift.experiments.execution.store import frames, write_outputs
from culturedrift.model import RunResult, Scenario, ScenarioError, load_scenario, parse_scenario
from culturedrift.model.outputs import decision_metrics

CiMethod = Literal["t", "bootstrap"]
INTERVAL = (0.05, 0.95)  # spread over seeds shown in the decision table: a 90% interval
CONFIDENCE = 0.95  # confidence level of the paired-difference intervals
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20110510  # fixed: the same outputs give the same intervals


class CompareError(InputError):
    """A comparison that cannot be made as asked (duplicate names, no seeds, unknown reference...)."""


@dataclass(frozen=True)
class Metric:
    """How one summary metric is named, shown and judged; the single source for table, figures and text."""

    key: str
    label: str
    unit: str
    better: Literal["higher", "lower"]
    group: str
    definition: str
    more: str  # phrase for "this strategy's value is higher than the other's"
    less: str  # phrase for "lower"
    scale: float = 1.0  # display multiplier (shares shown as percentages)
    decimals: int = 2
    diff_unit: str = ""

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is better."""
        return 1 if self.better == "higher" else -1

    @property
    def header(self) -> str:
        """Column header with its unit."""
        return f"{self.label} ({self.unit})"

    def fmt(self, value: float) -> str:
        """A value in display units (no unit suffix)."""
        if value is None or not np.isfinite(value):
            return "n/a"
        text = f"{value * self.scale:,.{self.decimals}f}"
        if text.startswith("-"):
            text = "\u2212" + text[1:] if text.strip("-0.,") else text[1:]  # no "-0.0"
        return text

    def fmt_diff(self, value: float, signed: bool = True) -> str:
        """A difference in display units; signed with a real minus sign."""
        if value is None or not np.isfinite(value):
            return "n/a"
        v = value * self.scale
        text = f"{abs(v):,.{self.decimals}f}"
        if not signed or float(text.replace(",", "")) == 0:
            return text
        return ("+" if v > 0 else "\u2212") + text

    def with_unit(self, value: float, diff: bool = False) -> str:
        """A value or an unsigned difference followed by its unit, for sentences."""
        text = self.fmt_diff(value, signed=False) if diff else self.fmt(value)
        unit = self.diff_unit if diff and self.diff_unit else self.unit
        if unit == "%":
            return f"{text}%"
        if unit.startswith("GBP"):
            return f"GBP {text}k"
        return f"{text} {unit}" if unit and not unit.startswith("0-1") else text

    def better_of(self, a: float, b: float) -> bool:
        """True when `a` is strictly better than `b`."""
        return bool(self.sign * (a - b) > 0)


# the decision table's metrics: every summary metric of the model's output catalogue with a direction
METRICS: tuple[Metric, ...] = tuple(
    Metric(key=o.key, label=o.label, unit=o.unit, better=o.better, group=o.group, definition=o.definition,
           more=o.more, less=o.less, scale=o.scale, decimals=o.decimals, diff_unit=o.diff_unit)
    for o in decision_metrics())
METRIC = {m.key: m for m in METRICS}


# --------------------------------------------------------------------------------------------- statistics


def paired_ci(diffs: Sequence[float] | np.ndarray, method: CiMethod = "t",
              confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of paired differences and its confidence interval: (mean, low, high).

    "t": the paired t-interval (mean +- t * sd / sqrt(n)); "bootstrap": percentile interval of the mean
    over `BOOTSTRAP_RESAMPLES` resamples of seeds with a fixed generator. Two or more differences that
    are all equal give a zero-width interval; fewer than two give NaN bounds. NaNs are ignored.
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan
    if np.all(d == d[0]):
        return float(d[0]), float(d[0]), float(d[0])
    alpha = 1.0 - confidence
    if method == "t":
        half = float(stats.t.ppf(1 - alpha / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
        return mean, mean - half, mean + half
    if method == "bootstrap":
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        means = d[rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))].mean(axis=1)
        lo, hi = np.quantile(means, (alpha / 2, 1 - alpha / 2))
        return mean, float(lo), float(hi)
    raise CompareError(f"unknown confidence-interval method {method!r}; use 't' or 'bootstrap'")


def ci_note(method: CiMethod, n_seeds: int) -> str:
    """The footnote that says how the differences and their intervals were computed."""
    how = ("paired t-interval (mean difference +- t(0.975, n-1) x sd / sqrt(n))" if method == "t" else
           f"percentile bootstrap over seeds ({BOOTSTRAP_RESAMPLES:,} resamples of the {n_seeds} paired "
           "differences)")
    return (f"Difference = mean over the {n_seeds} seeds of (strategy − reference) on the same seed "
            f"(common random numbers); 95% confidence interval by {how}. Median and 90% interval "
            f"(5th-95th percentile) are over seeds.")


@dataclass
class Comparison:
    """The result of `compare`: runs, tables and the means to write the report.

    Attributes are pandas objects: `timeseries` (one row per scenario, seed and week), `summary` (one row
    per scenario and seed, every summary metric of the output catalogue), `events` (joiners and leavers),
    `decision_table` (one row per strategy: for each metric `<m>_median`, `<m>_p05`, `<m>_p95`, `<m>_diff`,
    `<m>_diff_lo`, `<m>_diff_hi`, `<m>_best`) and `differences` (long form of the paired differences
    against the reference, with a verdict: better, worse, unclear or reference).
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

    @property
    def names(self) -> list[str]:
        """Strategy names in the order given."""
        return [s.name for s in self.scenarios]

    @property
    def programmes(self) -> dict[str, tuple[int, int]]:
        """Change-programme period (first go-live week, handover week) per strategy."""
        return {s.name: (s.programme_start, s.handover) for s in self.scenarios}

    def metric_values(self, name: str, metric: str) -> pd.Series:
        """One strategy's values of one summary metric, indexed by seed."""
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

    def paired(self, a: str, b: str, metric: str) -> tuple[float, float, float]:
        """Mean paired difference a − b of `metric` over the shared seeds, with its 95% CI (mean, lo, hi)."""
        va, vb = self.metric_values(a, metric), self.metric_values(b, metric)
        return paired_ci((va - vb).to_numpy(), self.ci_method)

    def reading(self) -> list[str]:
        """A short generated reading of the result: one plain-English statement per list item."""
        from culturedrift.experiments.reporting.text import reading

        return reading(self)

    def write(self, out: str | Path, figures: bool = True, report: bool = True) -> dict[str, Path]:
        """Write every output into `out` (see `write_comparison`)."""
        return write_comparison(self, out, figures=figures, report=report)


# ------------------------------------------------------------------------------------------------- inputs


def as_scenarios(items: Iterable[Scenario | str | Path | dict[str, Any]]) -> list[Scenario]:
    """Scenario objects, file paths or dicts -> validated scenarios with distinct names."""
    scenarios = []
    for item in items:
        if isinstance(item, Scenario):
            scenarios.append(item)
        elif isinstance(item, dict):
            scenarios.append(parse_scenario(item))
        elif isinstance(item, str | os.PathLike):
            scenarios.append(load_scenario(item))
        else:
            raise CompareError(f"expected a Scenario, a scenario file path or a dict, got {type(item).__name__}")
    if not scenarios:
        raise CompareError("no scenarios to compare")
    try:
        unique_names([s.name for s in scenarios])
    except InputError as e:
        raise CompareError(str(e)) from None
    return scenarios


def as_seeds(seeds: int | Iterable[int]) -> list[int]:
    """A count N (seeds 0..N-1) or explicit seeds -> a list of distinct non-negative seeds."""
    if isinstance(seeds, bool):
        raise CompareError(f"seeds must be a count or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise CompareError(f"the number of seeds must be at least 1, got {seeds}")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out:
        raise CompareError("no seeds given; at least one is needed")
    if any(s < 0 for s in out):
        raise CompareError(f"seeds must be non-negative, got {min(out)}")
    if len(set(out)) != len(out):
        raise CompareError("seeds must be distinct (a repeated seed repeats a run exactly)")
    return out


def with_horizon(scenarios: list[Scenario], weeks: int | None) -> list[Scenario]:
    """Apply a horizon override to every scenario up front, so an impossible one fails before any run."""
    if weeks is None:
        return scenarios
    if isinstance(weeks, bool) or int(weeks) != weeks or weeks < 1:
        raise CompareError(f"weeks must be a whole number of at least 1, got {weeks!r}")
    out = []
    for s in scenarios:
        try:
            out.append(s if s.horizon_weeks == weeks else s.with_updates({"horizon_weeks": int(weeks)}))
        except ScenarioError as e:
            raise ScenarioError(f"--weeks {weeks} does not fit scenario '{s.name}': {e}") from None
    return out


# -------------------------------------------------------------------------------------------------- core


def compare(scenarios: Iterable[Scenario | str | Path | dict[str, Any]], seeds: int | Iterable[int] = 30,
            weeks: int | None = None, workers: int | None = None, reference: str | None = None,
            ci_method: CiMethod = "t", progress: bool = False, executor: Any = None) -> Comparison:
    """Run every scenario on the same seeds and compare them against a reference strategy.

    `scenarios`: Scenario objects, scenario file paths or dicts (names must be distinct). `seeds`: a count
    N (seeds 0..N-1) or the seeds themselves. `weeks`: horizon override. `workers`: local processes
    (default: all cores; 1 = in this process). `reference`: the strategy the differences are taken
    against (default: the first scenario). `ci_method`: "t" (paired t-interval) or "bootstrap".
    Everything is validated before the first run. Returns a `Comparison`; nothing is written.
    """
    scs = with_horizon(as_scenarios(scenarios), weeks)
    seed_list = as_seeds(seeds)
    names = [s.name for s in scs]
    reference = names[0] if reference is None else reference
    if reference not in names:
        raise CompareError(f"unknown reference {reference!r}; the strategies are {', '.join(names)}")
    if ci_method not in ("t", "bootstrap"):
        raise CompareError(f"unknown confidence-interval method {ci_method!r}; use 't' or 'bootstrap'")
    specs = plan(scs, seed_list)
    n_workers = default_workers(len(specs)) if workers is None else max(1, min(int(workers), len(specs)))
    results = run_all(specs, workers=n_workers, executor=executor, progress=progress, desc="compare")
    return build_comparison(scs, seed_list, results, reference, ci_method, weeks)


def build_comparison(scenarios: list[Scenario], seeds: list[int], results: list[RunResult], reference: str,
                     ci_method: CiMethod = "t", weeks: int | None = None) -> Comparison:
    """Tables of a comparison from its runs (one per scenario and seed)."""
    ts, summary, events = frames(results)
    names = [s.name for s in scenarios]
    order = pd.CategoricalDtype(names, ordered=True)
    summary = summary.sort_values(["scenario", "seed"], key=lambda c: c.astype(order) if c.name == "scenario"
                                  else c, kind="stable").reset_index(drop=True)
    cmp = Comparison(scenarios=scenarios, seeds=list(seeds), reference=reference, ci_method=ci_method,
                     results=list(results), timeseries=ts, summary=summary, events=events,
                     decision_table=pd.DataFrame(), differences=pd.DataFrame(), weeks=weeks)
    cmp.differences = _differences(cmp)
    cmp.decision_table = _decision_table(cmp)
    return cmp


def _differences(cmp: Comparison) -> pd.DataFrame:
    rows = []
    for name in cmp.names:
        for m in METRICS:
            mean, lo, hi = cmp.paired(name, cmp.reference, m.key)
            rows.append({"scenario": name, "reference": cmp.reference, "metric": m.key, "diff": mean,
                         "diff_lo": lo, "diff_hi": hi, "verdict": verdict(m, lo, hi, name == cmp.reference),
                         "n": len(cmp.seeds), "method": cmp.ci_method})
    return pd.DataFrame(rows)


def verdict(m: Metric, lo: float, hi: float, is_reference: bool = False) -> str:
    """'better' / 'worse' when the whole CI of (strategy - reference) lies on one side of zero, else 'unclear'."""
    if is_reference:
        return "reference"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "unclear"
    a, b = sorted((m.sign * lo, m.sign * hi))
    return "better" if a > 0 else "worse" if b < 0 else "unclear"


def _decision_table(cmp: Comparison) -> pd.DataFrame:
    lo_q, hi_q = INTERVAL
    diffs = cmp.differences.set_index(["scenario", "metric"])
    rows = []
    for name in cmp.names:
        row: dict[str, Any] = {"scenario": name, "n_seeds": len(cmp.seeds), "reference": cmp.reference}
        for m in METRICS:
            v = cmp.metric_values(name, m.key).to_numpy(dtype=float)
            d = diffs.loc[(name, m.key)]
            row[f"{m.key}_median"] = float(np.median(v))
            row[f"{m.key}_p05"] = float(np.quantile(v, lo_q))
            row[f"{m.key}_p95"] = float(np.quantile(v, hi_q))
            row[f"{m.key}_diff"] = d["diff"]
            row[f"{m.key}_diff_lo"] = d["diff_lo"]
            row[f"{m.key}_diff_hi"] = d["diff_hi"]
        rows.append(row)
    table = pd.DataFrame(rows)
    for m in METRICS:
        table[f"{m.key}_best"] = best_mask(table[f"{m.key}_median"], m)
    ordered = ["scenario", "n_seeds", "reference"]
    for m in METRICS:
        ordered += [f"{m.key}_{s}" for s in ("median", "p05", "p95", "diff", "diff_lo", "diff_hi", "best")]
    return table[ordered]


def best_mask(values: pd.Series, metric: Metric) -> pd.Series:
    """True where the value is the best in its column (ties at display precision all marked)."""
    shown = (values * metric.scale).round(metric.decimals)
    target = shown.max() if metric.better == "higher" else shown.min()
    return shown == target


# ------------------------------------------------------------------------------------------------ writing

DATA_FILES = ("timeseries.parquet", "timeseries.csv", "summary.csv", "summary.json", "events.parquet")
OUTPUT_FILES = (*DATA_FILES, "decision_table.csv", "decision_table.md", "differences.csv", "comparison.json",
                "fig_transition_risks.png", "fig_culture_work_cost.png", "fig_tradeoff.png", "fig_differences.png",
                "report.md", "report.html")


def write_comparison(cmp: Comparison, out: str | Path, figures: bool = True, report: bool = True,
                     on_step: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write data files, decision tables, figures and report into `out`; nothing half-written is left.

    Everything is first written into a hidden staging directory inside `out`; only when all of it has been
    written are the files moved into place (renames on one file system), report.html last. The report of
    an earlier comparison, and any of its outputs this one does not write, are removed before the new
    files go in, so a report in `out` always describes the files next to it. On failure the staging
    directory is removed and `out` keeps what it had. Returns the paths written, by file name.
    """
    out = Path(out)
    try:
        check_out(out, OUTPUT_FILES)
    except InputError as e:
        raise CompareError(str(e)) from None
    out.mkdir(parents=True, exist_ok=True)
    say = on_step or (lambda _msg: None)
    with staging(out) as stage:
        say("data files")
        write_outputs(cmp.results, stage)
        say("decision table")
        cmp.decision_table.to_csv(stage / "decision_table.csv", index=False)
        cmp.differences.to_csv(stage / "differences.csv", index=False)
        (stage / "comparison.json").write_text(json.dumps(manifest(cmp), indent=1))
        from culturedrift.experiments.reporting import write_figures, write_reports
        from culturedrift.experiments.reporting.text import decision_markdown

        (stage / "decision_table.md").write_text(decision_markdown(cmp))
        figs: dict[str, Path] = {}
        if figures:
            say("figures")
            figs = write_figures(cmp, stage)
        if report:
            say("report")
            write_reports(cmp, stage, figs)
        names = sorted(p.name for p in stage.iterdir())
        last = [n for n in ("report.md", "report.html") if n in names]
        for stale in ("report.html", "report.md", *(n for n in OUTPUT_FILES if n not in names)):
            (out / stale).unlink(missing_ok=True)
        written = {}
        for name in [n for n in names if n not in last] + last:
            (stage / name).replace(out / name)
            written[name] = out / name
        return written


def manifest(cmp: Comparison) -> dict[str, Any]:
    """What was compared and how: enough to reproduce the comparison."""
    return {
        "strategies": cmp.names,
        "reference": cmp.reference,
        "seeds": cmp.seeds,
        "weeks": cmp.weeks,
        "runs": len(cmp.results),
        "interval_over_seeds": list(INTERVAL),
        "difference_confidence": CONFIDENCE,
        "ci_method": cmp.ci_method,
        "metrics": {m.key: {"label": m.label, "unit": m.unit, "better": m.better, "definition": m.definition}
                    for m in METRICS},
        "scenarios": {s.name: s.model_dump(mode="json") for s in cmp.scenarios},
    }

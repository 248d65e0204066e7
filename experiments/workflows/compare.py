"""Compare strategies: every scenario on the same seeds, paired differences and a decision table.

Every scenario runs on the same seeds. Each mechanism of the model draws from its own random stream
keyed by the seed and the mechanism's name, so two strategies run on one seed share their randomness
(common random numbers): the difference between them on that seed is the effect of the strategy, not
of luck. The decision table gives, per strategy and summary metric, the median and the 90% interval
over seeds and the mean paired difference against a reference strategy with a 95% confidence interval.

This module is the workflow (layer 4): it validates the request, runs through the runner and hands the
runs to `analysis.decision` (tables) and `reporting` (files). From Python (a notebook)::

    >>> from culturedrift.experiments.workflows.compare import compare
    >>> cmp = compare(["scenarios/baseline.yaml", "scenarios/big_bang.yaml", "scenarios/phased.yaml"],
    ...               seeds=20, workers=2, reference="baseline")
    >>> cmp.decision_table.filter(like="peak_turnover_12m")   # one row per strategy
    >>> cmp.differences.query("metric == 'morale_trough'")     # paired mean differences and 95% CIs
    >>> cmp.paired("big_bang", "phased", "morale_trough")      # any pair, not only against the reference
    >>> cmp.funding                                            # planned, delivered and unfunded cost
    >>> print("\\n".join(cmp.reading()))                       # the generated reading
    >>> cmp.write("results/mine")                              # data files, figures, report.html, report.md

The reference defaults to the first scenario given. `weeks` is a window on every scenario (the same
meaning as `run --weeks`): changes and interventions dated later have not happened yet when it ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from culturedrift.experiments.analysis.decision import (
    CompareError,
    ComparisonData,
    best_mask,
    lever_contributions,
    tables_from_runs,
    tabulate,
    verdict,
)
from culturedrift.experiments.analysis.metrics import INTERVAL, METRIC, METRICS, Metric
from culturedrift.experiments.analysis.paired import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    CiMethod,
    ci_note,
    paired_ci,
)
from culturedrift.experiments.analysis.rank_stability import rank_stability
from culturedrift.experiments.execution.errors import InputError
from culturedrift.experiments.execution.files import unique_names
from culturedrift.experiments.execution.runner import RunSpec, default_workers, plan, run_all
from culturedrift.experiments.reporting.text import reading
from culturedrift.experiments.reporting.write import DATA_FILES, OUTPUT_FILES, manifest, write_comparison
from culturedrift.model import RunResult, Scenario, load_scenario, parse_scenario
from culturedrift.model.events import InterventionStart

__all__ = [
    "BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "CONFIDENCE", "DATA_FILES", "INTERVAL", "METRIC", "METRICS",
    "OUTPUT_FILES", "CiMethod", "CompareError", "Comparison", "Metric", "as_scenarios", "as_seeds", "best_mask",
    "build_comparison", "ci_note", "compare", "manifest", "paired_ci", "verdict", "write_comparison",
]


class Comparison(ComparisonData):
    """The result of `compare`: runs, tables (see `ComparisonData`) and the means to read and write them."""

    def reading(self) -> list[str]:
        """A short generated reading of the result: one plain-English statement per list item."""
        return reading(self)

    def write(self, out: str | Path, figures: bool = True, report: bool = True,
              formats: tuple[str, ...] = ("png",)) -> dict[str, Path]:
        """Write every output into `out` (see `reporting.write.write_comparison`)."""
        return write_comparison(self, out, figures=figures, report=report, formats=formats)


def as_scenarios(items: Iterable[Scenario | str | Path | dict[str, Any]]) -> list[Scenario]:
    """Scenario objects, file paths (or shipped scenario names) or dicts -> validated scenarios with distinct names."""
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


def as_window(weeks: int | None) -> int | None:
    """A window length in weeks (None: each scenario's own horizon)."""
    if weeks is None:
        return None
    if isinstance(weeks, bool) or int(weeks) != weeks or weeks < 1:
        raise CompareError(f"weeks must be a whole number of at least 1, got {weeks!r}")
    return int(weeks)


def compare(scenarios: Iterable[Scenario | str | Path | dict[str, Any]], seeds: int | Iterable[int] = 30,
            weeks: int | None = None, workers: int | None = None, reference: str | None = None,
            ci_method: CiMethod = "t", progress: bool = False, executor: Any = None,
            explain: bool = False, posterior: Any = None) -> Comparison:
    """Run every scenario on the same seeds and compare them against a reference strategy.

    `scenarios`: Scenario objects, scenario file paths or dicts (names must be distinct). `seeds`: a count
    N (seeds 0..N-1) or the seeds themselves. `weeks`: a window (the first `weeks` weeks of every
    scenario, as `run --weeks`). `workers`: local processes (default: all cores; 1 = in this process).
    `reference`: the strategy the differences are taken against (default: the first scenario). `ci_method`:
    "t" (paired t-interval) or "bootstrap". `explain`: also re-run each strategy with each of its intervention
    kinds switched off, on the same seeds, so `levers` gives every lever's contribution (one extra run per
    strategy, kind and seed). Everything is validated before the first run. Returns a `Comparison`; nothing is
    written.
    `posterior` (a DataFrame from `posterior.load_posterior`): each seed's uncertain parameters are one draw
    from it, the same for every strategy on that seed; the comparison then also reports rank stability.
    """
    scs = as_scenarios(scenarios)
    window = as_window(weeks)
    seed_list = as_seeds(seeds)
    names = [s.name for s in scs]
    reference = names[0] if reference is None else reference
    if reference not in names:
        raise CompareError(f"unknown reference {reference!r}; the strategies are {', '.join(names)}")
    if ci_method not in ("t", "bootstrap"):
        raise CompareError(f"unknown confidence-interval method {ci_method!r}; use 't' or 'bootstrap'")
    specs = plan(scs, seed_list, window)
    drawn = None
    if posterior is not None:
        from culturedrift.experiments.workflows import posterior as post

        drawn = post.draws(posterior, seed_list)
        by_seed = drawn.set_index("seed")
        specs = [RunSpec(post.apply_draw(sp.scenario, by_seed.loc[sp.seed]), sp.seed, sp.weeks) for sp in specs]
    n_workers = default_workers(len(specs)) if workers is None else max(1, min(int(workers), len(specs)))
    results = run_all(specs, workers=n_workers, executor=executor, progress=progress, desc="compare")
    cmp = build_comparison(scs, seed_list, results, reference, ci_method, window)
    if drawn is not None:
        cmp.posterior_draws = drawn
        cmp.posterior_source = str(posterior.attrs.get("path", ""))
        cmp.rank_stability = rank_stability(cmp.summary, cmp.names, METRICS)
    if explain:
        explain_levers(cmp, n_workers, executor, progress)
    return cmp


def without_lever(sc: Scenario, lever: str) -> Scenario:
    """The strategy with every intervention of one kind switched off, those scheduled events would start included
    (everything else, seeds included, the same)."""
    kept = [iv for iv in sc.interventions if iv.name != lever]
    events = [e for e in sc.events if not (isinstance(e, InterventionStart) and e.intervention.name == lever)]
    return sc.model_copy(update={"interventions": kept, "events": events, "name": f"{sc.name}.without.{lever}"})


def explain_levers(cmp: Comparison, workers: int = 1, executor: Any = None, progress: bool = False) -> Comparison:
    """Fill `cmp.levers`: for each strategy and intervention kind, the paired effect of switching that kind off."""
    variants = {(name, lever): without_lever(cmp.scenarios[cmp.names.index(name)], lever)
                for name in cmp.names for lever in cmp.active_interventions(name)}
    if not variants:
        cmp.levers = lever_contributions(cmp, {})
        return cmp
    specs = plan(list(variants.values()), cmp.seeds, cmp.weeks)
    results = run_all(specs, workers=workers, executor=executor, progress=progress, desc="levers")
    _, summary, _ = tables_from_runs(list(variants.values()), results)
    by_variant = {key: summary[summary["scenario"] == sc.name].assign(scenario=key[0])
                  for key, sc in variants.items()}
    cmp.levers = lever_contributions(cmp, by_variant)
    return cmp


def build_comparison(scenarios: list[Scenario], seeds: list[int], results: list[RunResult], reference: str,
                     ci_method: CiMethod = "t", weeks: int | None = None) -> Comparison:
    """Tables of a comparison from its runs (one per scenario and seed)."""
    ts, summary, events = tables_from_runs(scenarios, results)
    cmp = Comparison(scenarios=scenarios, seeds=list(seeds), reference=reference, ci_method=ci_method,
                     results=list(results), timeseries=ts, summary=summary, events=events,
                     decision_table=None, differences=None, weeks=weeks)  # type: ignore[arg-type]
    tabulate(cmp)
    return cmp

"""Run many (scenario, seed) pairs on the executor, with progress; results in the order of the specs.

A run in a worker process gives exactly the numbers it gives in this process (each run owns its random
streams). A run that fails stops the batch with `RunFailed`, which names the scenario and seed; the runs
not yet started are cancelled. A `ScenarioError` (bad input, e.g. a horizon override the scenario cannot
take) passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from culturedrift.experiments.execution.executor import TaskFailed, cores, run_map
from culturedrift.model import RunResult, Scenario, ScenarioError, simulate


@dataclass(frozen=True)
class RunSpec:
    """One run to do: a validated scenario, a seed and an optional horizon override."""

    scenario: Scenario
    seed: int
    weeks: int | None = None

    def __str__(self) -> str:
        weeks = f", {self.weeks} weeks" if self.weeks is not None else ""
        return f"scenario '{self.scenario.name}' seed {self.seed}{weeks}"


class RunFailed(RuntimeError):
    """One run of a batch raised; `spec` is the run and the original exception is chained."""

    def __init__(self, spec: RunSpec, error: BaseException) -> None:
        super().__init__(f"run of {spec} failed: {type(error).__name__}: {error}")
        self.spec = spec
        self.error = error


def execute(spec: RunSpec) -> RunResult:
    """Top-level (picklable) work function: one run."""
    return simulate(spec.scenario, spec.seed, spec.weeks)


def plan(scenarios: Sequence[Scenario], seeds: Iterable[int], weeks: int | None = None) -> list[RunSpec]:
    """Every scenario on the same seeds (paired: common random numbers)."""
    seeds = list(seeds)
    return [RunSpec(sc, s, weeks) for sc in scenarios for s in seeds]


def default_workers(n_runs: int | None = None) -> int:
    """All usable cores, never more than there are runs."""
    return max(1, min(cores(), n_runs)) if n_runs is not None else cores()


def run_all(specs: Sequence[RunSpec], workers: int = 1, executor: Any = None, progress: bool = True,
            desc: str = "runs", scheduler: str | None = None) -> list[RunResult]:
    """Run every spec on `executor` (ours or any concurrent.futures one), or on `workers` local processes
    (in this process for 1), or on the Dask cluster at `scheduler`; raises `RunFailed` for the first failure."""
    try:
        return run_map(execute, specs, workers=max(1, min(workers, len(specs) or 1)), scheduler=scheduler,
                       executor=executor, progress=progress, desc=desc)
    except TaskFailed as e:
        if isinstance(e.error, ScenarioError):
            raise e.error from None
        raise RunFailed(specs[e.index], e.error) from e.error

"""Run many (scenario, seed) pairs, serially or over any concurrent.futures executor, with progress."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from tqdm import tqdm

from model import RunResult, Scenario, simulate


@dataclass(frozen=True)
class RunSpec:
    """One run to do: a validated scenario, a seed and an optional horizon override."""

    scenario: Scenario
    seed: int
    weeks: int | None = None


def execute(spec: RunSpec) -> RunResult:
    """Top-level (picklable) work function: one run."""
    return simulate(spec.scenario, spec.seed, spec.weeks)


def plan(scenarios: Sequence[Scenario], seeds: Iterable[int], weeks: int | None = None) -> list[RunSpec]:
    """Every scenario on the same seeds (paired: common random numbers)."""
    seeds = list(seeds)
    return [RunSpec(sc, s, weeks) for sc in scenarios for s in seeds]


def run_all(specs: Sequence[RunSpec], workers: int = 1, executor: Executor | None = None,
            progress: bool = True, desc: str = "runs") -> list[RunResult]:
    """Run every spec; results come back in the order of `specs` whatever the completion order."""
    bar = tqdm(total=len(specs), desc=desc, unit="run", disable=not progress, leave=False)
    out: list[RunResult | None] = [None] * len(specs)
    try:
        if executor is None and workers <= 1:
            for i, spec in enumerate(specs):
                out[i] = execute(spec)
                bar.update()
        else:
            own = executor is None
            ex = executor or ProcessPoolExecutor(max_workers=workers)
            try:
                futures = {ex.submit(execute, spec): i for i, spec in enumerate(specs)}
                for fut in as_completed(futures):
                    out[futures[fut]] = fut.result()
                    bar.update()
            finally:
                if own:
                    ex.shutdown(cancel_futures=True)
    finally:
        bar.close()
    return [r for r in out if r is not None]

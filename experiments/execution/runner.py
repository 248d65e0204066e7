"""Run many (scenario, seed) pairs, serially or over any concurrent.futures executor, with progress.

Results always come back in the order of the specs, whatever the completion order, so a run in a
worker process gives exactly the numbers it gives in this process (each run owns its random streams).
A run that fails stops the batch with `RunFailed`, which names the scenario and seed; the runs not yet
started are cancelled. A `ScenarioError` (bad input, e.g. a horizon override the scenario cannot take)
passes through unchanged.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from tqdm import tqdm

from culturedrift.model import RunResult, Scenario, ScenarioError, simulate

BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} runs |{bar}| {percentage:3.0f}% [{elapsed} elapsed, ETA {remaining}]"


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
    """All usable cores (the CPU affinity mask where the OS has one), never more than there are runs."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, n_runs)) if n_runs is not None else max(1, cores)


def run_all(specs: Sequence[RunSpec], workers: int = 1, executor: Executor | None = None,
            progress: bool = True, desc: str = "runs") -> list[RunResult]:
    """Run every spec; results come back in the order of `specs` whatever the completion order.

    With `workers` <= 1 and no `executor` the runs are done here, one after the other; otherwise over
    `executor` or a process pool of `workers` processes made (and shut down) for this call. The bar
    shows runs done / total, elapsed time and ETA. Raises `RunFailed` for the first run that fails.
    """
    out: list[RunResult | None] = [None] * len(specs)
    if not specs:
        return []
    if executor is None and workers <= 1:
        with _bar(len(specs), desc, progress) as bar:
            for i, spec in enumerate(specs):
                out[i] = _guarded(spec)
                bar.update()
        return [r for r in out if r is not None]
    own = executor is None
    ex = executor or ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=pool_context())
    futures: dict[Future[RunResult], int] = {}
    try:
        # Submit before the bar exists: a fork-started pool then forks before tqdm starts its monitor thread.
        futures = {ex.submit(execute, spec): i for i, spec in enumerate(specs)}
        with _bar(len(specs), desc, progress) as bar:
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    out[i] = fut.result()
                except ScenarioError:
                    raise
                except BrokenProcessPool as e:
                    raise RunFailed(specs[i], RuntimeError("a worker process died (out of memory or killed?)")) \
                        from e
                except Exception as e:
                    raise RunFailed(specs[i], e) from e
                bar.update()
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
    return [r for r in out if r is not None]


def pool_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: fork when that is safe (POSIX, this process has a single thread), else
    from a fork server that has imported the model once (fork from a multi-threaded process, e.g. a
    notebook kernel or a test worker, can deadlock)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["culturedrift.experiments.execution.runner"])
        return ctx
    return multiprocessing.get_context("spawn")


def _guarded(spec: RunSpec) -> RunResult:
    try:
        return execute(spec)
    except ScenarioError:
        raise
    except Exception as e:
        raise RunFailed(spec, e) from e


def _bar(total: int, desc: str, progress: bool) -> tqdm:
    return tqdm(total=total, desc=desc, disable=not progress, leave=False, bar_format=BAR_FORMAT,
                dynamic_ncols=True, mininterval=0.5)

"""Running a sweep: chunks of runs on a local process pool or a Dask cluster, written as they finish.

The local pool and the Dask path share the chunk function (`run_chunk`) and the writer: workers
return rows, the driving process writes them. A chunk whose worker dies (a killed process, a lost
Dask worker) is retried up to `MAX_ATTEMPTS` times, then its runs are recorded as failed.

Test-only hook: if the environment variable CULTUREDRIFT_SWEEP_TEST_FAIL holds a condition
``PATH=VALUE``, ``PATH<VALUE`` or ``PATH>VALUE`` (e.g. ``turnover.labour_market_pressure>1.2``) when a
sweep starts, runs whose parameters meet it raise inside the worker (the condition travels with each
chunk, so it reaches pool and Dask workers alike). It exists so tests can check how failures are
recorded; it is not part of the model.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from culturedrift.experiments.workflows.sweep.experiment import Prepared, load_experiment, run_seed
from culturedrift.experiments.workflows.sweep.store import SweepDirError, SweepStore
from culturedrift.model import Scenario, simulate_summary

TEST_FAIL_ENV = "CULTUREDRIFT_SWEEP_TEST_FAIL"
MAX_ATTEMPTS = 3


# -- the work ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chunk:
    """Runs sent to a worker as one task: the base scenario and (run, point, replicate, seed, params)."""

    id: int
    base: Scenario
    metrics: tuple[str, ...]
    runs: tuple[tuple[int, int, int, int, dict[str, Any]], ...]
    fail_if: str | None = None  # test-only hook (see the module docstring)


class InjectedFailure(RuntimeError):
    """Raised by the test-only failure hook."""


def _test_hook(cond: str | None) -> Callable[[dict[str, Any]], None] | None:
    cond = (cond or "").strip()
    if not cond:
        return None
    op = next((o for o in ("<", ">", "=") if o in cond), None)
    if op is None:
        raise ValueError(f"{TEST_FAIL_ENV}={cond!r}: expected PATH=VALUE, PATH<VALUE or PATH>VALUE")
    path, _, raw = cond.partition(op)
    path, target = path.strip(), float(raw)
    test = {"<": lambda v: v < target, ">": lambda v: v > target, "=": lambda v: math.isclose(v, target)}[op]

    def hook(params: dict[str, Any]) -> None:
        if path in params and test(float(params[path])):
            raise InjectedFailure(f"test hook: {path}={params[path]} meets {cond}")

    return hook


def run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """Run every run of a chunk; a run that raises becomes a 'failed' row with its error message."""
    hook = _test_hook(chunk.fail_if)
    rows = []
    for run, point, rep, seed, params in chunk.runs:
        row: dict[str, Any] = {"run": run, "point": point, "replicate": rep, "seed": seed}
        try:
            if hook is not None:
                hook(params)
            summary = simulate_summary(params, seed, base=chunk.base)
            row |= {"status": "ok", "error": None, **{m: float(summary[m]) for m in chunk.metrics}}
        except Exception as e:
            msg = str(e).strip().replace("\n", "; ")
            row |= {"status": "failed", "error": f"{type(e).__name__}: {msg}"[:2000],
                    **dict.fromkeys(chunk.metrics, math.nan)}
        rows.append(row)
    return rows


# -- executors -----------------------------------------------------------------------------------
class _Serial:
    """In-process execution (one worker): no pool, no pickling."""

    label = "in-process (1 worker)"
    capacity = 1

    def submit(self, chunk: Chunk) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(run_chunk(chunk))
        except Exception as e:
            fut.set_exception(e)
        return fut

    def wait(self, pending: Iterable[Any]) -> set[Any]:
        return set(pending)

    def infra_error(self, exc: BaseException) -> bool:
        return False

    def recover(self) -> None:
        pass

    def close(self, interrupted: bool = False) -> None:
        pass


class _LocalPool:
    """A pool of local processes (forkserver: clean workers, no inherited threads)."""

    def __init__(self, workers: int) -> None:
        import multiprocessing as mp

        self.workers = workers
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(["culturedrift.experiments.workflows.sweep.engine"])
        self.label = f"local process pool ({workers} workers)"
        self.capacity = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=self.ctx)

    def submit(self, chunk: Chunk) -> Future:
        return self.pool.submit(run_chunk, chunk)

    def wait(self, pending: Iterable[Any]) -> set[Any]:
        return wait(pending, return_when=FIRST_COMPLETED).done

    def infra_error(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)

    def recover(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self.ctx)

    def close(self, interrupted: bool = False) -> None:
        if interrupted:  # do not wait for running chunks: stop the workers (finished rows are already saved)
            procs = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
            return
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Dask:
    """A Dask distributed cluster reached through its scheduler address."""

    def __init__(self, address: str, connect_timeout: float = 20.0) -> None:
        from distributed import Client

        if "://" not in address:
            address = f"tcp://{address}"
        try:
            self.client = Client(address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise SweepDirError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
        except (OSError, TimeoutError):
            self.client.close()
            raise SweepDirError(f"the Dask scheduler at {address} has no workers (start some with "
                                f"`dask worker {address}`)") from None
        threads = sum(self.client.nthreads().values())
        self.capacity = max(threads, 1)
        self.label = f"Dask cluster {address} ({len(self.client.nthreads())} workers, {threads} threads)"

    def submit(self, chunk: Chunk) -> Any:
        return self.client.submit(run_chunk, chunk, pure=False)

    def wait(self, pending: Iterable[Any]) -> set[Any]:
        from distributed import wait as dwait

        with self.client.as_current():
            return set(dwait(list(pending), return_when="FIRST_COMPLETED").done)

    def infra_error(self, exc: BaseException) -> bool:
        from distributed import KilledWorker
        from distributed.comm.core import CommClosedError

        return isinstance(exc, KilledWorker | CommClosedError)

    def recover(self) -> None:
        pass

    def close(self, interrupted: bool = False) -> None:
        self.client.close()


# -- the sweep -----------------------------------------------------------------------------------
@dataclass
class SweepReport:
    """What a call to `sweep` did."""

    out: Path
    n_runs: int
    done_before: int
    computed: int = 0
    failed: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0
    executor: str = ""
    complete: bool = False

    @property
    def rate(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else math.nan

    def failure_summary(self, top: int = 5) -> str:
        """Failures grouped by error message, with one example's parameters each."""
        if self.failed.empty:
            return ""
        lines = [f"{len(self.failed)} of {self.n_runs} runs failed (details in {self.out / 'failures.csv'}):"]
        counts = Counter(self.failed["error"])
        params = [c for c in self.failed.columns if c not in ("run", "point", "replicate", "seed", "status", "error")]
        for err, n in counts.most_common(top):
            ex = self.failed[self.failed["error"] == err].iloc[0]
            example = ", ".join(f"{p}={ex[p]}" for p in params)
            lines.append(f"  {n} x {err}\n      e.g. point {ex['point']} replicate {ex['replicate']}: {example}")
        if len(counts) > top:
            lines.append(f"  ... and {len(counts) - top} other distinct errors")
        return "\n".join(lines)


def _open_dir(store: SweepStore, prep: Prepared, resume: bool, overwrite: bool) -> None:
    if store.exists():
        try:
            old = store.manifest()
        except SweepDirError:
            if not overwrite:
                raise
            old = {}
        same = old.get("experiment_hash") == prep.hash
        if overwrite:
            store.clear()
        elif not same:
            raise SweepDirError(
                f"{store.root} holds a sweep of a different experiment ('{old.get('name')}' from "
                f"{old.get('source')}); the experiment or its base scenario changed since "
                f"(hash {old.get('experiment_hash', '?')[:12]} vs {prep.hash[:12]}). "
                "Use a new --out directory, or --overwrite to discard the old results")
        elif not resume and any(store.runs_dir.glob("part-*.parquet")):
            raise SweepDirError(f"{store.root} already holds runs of this experiment; pass --resume to continue "
                                "it, or --overwrite to start again")
    elif store.foreign_files():
        raise SweepDirError(f"{store.root} is not empty and is not a sweep directory "
                            f"(found {', '.join(store.foreign_files()[:5])}); choose another --out")


def auto_chunk_size(remaining: int, capacity: int) -> int:
    """About 16 chunks per worker slot, between 1 and 16 runs each (short chunks lose little when killed)."""
    return max(1, min(16, math.ceil(remaining / (capacity * 16))))


def sweep(experiment: str | Path | Prepared, out: str | Path, *, workers: int | None = None,
          scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
          retry_failed: bool = False, chunk_size: int | None = None, progress: bool = True,
          flush_seconds: float = 5.0, log: Callable[[str], None] | None = print) -> SweepReport:
    """Run (or continue) a sweep into `out` and return a report; see the module docstring."""
    say = log or (lambda _m: None)
    text = None
    if isinstance(experiment, Prepared):
        prep = experiment
    else:
        prep = load_experiment(experiment)
        text = Path(experiment).read_text()
    exp = prep.experiment
    store = SweepStore(out)
    store.lock()
    try:
        _open_dir(store, prep, resume, overwrite)
        if not store.exists():
            store.create(prep, text)
        runs = store.runs()
        keep = runs if not retry_failed else runs[runs["status"] == "ok"]
        done = set(keep["run"].tolist())
        reps = exp.replicates
        todo = [r for r in range(prep.n_runs) if r not in done]
        report = SweepReport(out=store.root, n_runs=prep.n_runs, done_before=len(done))
        if not todo:
            say(f"sweep {exp.name}: all {prep.n_runs} runs already done")
        else:
            ex: Any
            if scheduler:
                ex = _Dask(scheduler)
            else:
                n = workers or os.cpu_count() or 1
                ex = _Serial() if n == 1 else _LocalPool(n)
            report.executor = ex.label
            try:
                size = chunk_size or auto_chunk_size(len(todo), ex.capacity)
                metrics = tuple(exp.metrics)
                specs = []
                fail_if = os.environ.get(TEST_FAIL_ENV) or None
                _test_hook(fail_if)  # a malformed condition fails here, not in every run
                for i in range(0, len(todo), size):
                    batch = []
                    for r in todo[i:i + size]:
                        p, k = divmod(r, reps)
                        batch.append((r, p, k, run_seed(exp.seed, p, k, exp.common_random_numbers), prep.params(p)))
                    specs.append(Chunk(id=len(specs), base=prep.base, metrics=metrics, runs=tuple(batch),
                                       fail_if=fail_if))
                say(f"sweep {exp.name}: {exp.design} design, {len(prep.points)} points x {reps} replicates = "
                    f"{prep.n_runs} runs; {len(done)} already done, {len(todo)} to run in {len(specs)} chunks "
                    f"on {ex.label}")
                _drive(ex, specs, store, exp.metrics, report, progress, flush_seconds)
            except BaseException:
                ex.close(interrupted=True)
                raise
            else:
                ex.close()
        report.failed = store.finalise() if len(store.runs()) == prep.n_runs else pd.DataFrame()
        report.complete = len(store.runs()) == prep.n_runs
        return report
    finally:
        store.unlock()


def _drive(ex: Any, chunks: list[Chunk], store: SweepStore, metrics: list[str], report: SweepReport,
           progress: bool, flush_seconds: float) -> None:
    session = store.next_session()
    seq = 0
    buffer: list[dict[str, Any]] = []
    last_flush = time.monotonic()
    failures = 0

    def flush() -> None:
        nonlocal seq, last_flush
        if buffer:
            store.write_part(buffer, metrics, session, seq)
            seq += 1
            buffer.clear()
        last_flush = time.monotonic()

    queue = list(reversed(chunks))
    attempts: Counter[int] = Counter()
    pending: dict[Any, Chunk] = {}
    window = 1 if isinstance(ex, _Serial) else 2 * ex.capacity + 1
    bar = tqdm(total=report.n_runs, initial=report.done_before, unit="run", desc="sweep", disable=not progress,
               dynamic_ncols=True, smoothing=0.1)
    bar.set_postfix(failed=0)
    t0 = time.perf_counter()
    try:
        while queue or pending:
            while queue and len(pending) < window:
                c = queue.pop()
                pending[ex.submit(c)] = c
            broken = False
            for fut in ex.wait(list(pending)):
                c = pending.pop(fut, None)
                if c is None:  # already requeued after its pool broke
                    continue
                try:
                    rows = fut.result()
                except Exception as e:
                    if not ex.infra_error(e):
                        raise
                    attempts[c.id] += 1
                    if attempts[c.id] < MAX_ATTEMPTS:
                        queue.append(c)
                        broken |= isinstance(e, BrokenProcessPool)
                        continue
                    rows = [{"run": r, "point": p, "replicate": k, "seed": s, "status": "failed",
                             "error": f"WorkerDied: the worker running this chunk died {MAX_ATTEMPTS} times "
                                      f"({type(e).__name__}: {e})", **dict.fromkeys(metrics, math.nan)}
                            for r, p, k, s, _ in c.runs]
                buffer.extend(rows)
                n_failed = sum(r["status"] != "ok" for r in rows)
                failures += n_failed
                report.computed += len(rows)
                bar.update(len(rows))
                if n_failed:
                    bar.set_postfix(failed=failures)
                if time.monotonic() - last_flush >= flush_seconds or len(buffer) >= 4096:
                    flush()
            if broken:  # a dead process takes the local pool down: start a new one and resend what was in it
                queue.extend(pending.values())
                pending.clear()
                ex.recover()
        flush()
    finally:
        report.seconds = time.perf_counter() - t0
        try:
            flush()  # keep what finished, even when interrupted
        finally:
            bar.close()

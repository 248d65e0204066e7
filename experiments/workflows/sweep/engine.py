"""Running a sweep: its runs on the executor (in process, local processes or Dask), written as they finish.

Workers return one row per run, the driving process writes them in part files. A chunk whose worker dies
(a killed process, a lost Dask worker) is retried by the executor, then its runs are recorded as failed.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from culturedrift.experiments.execution.executor import (
    MAX_ATTEMPTS,
    DaskCluster,
    Executor,
    chunk_plan,
    imap_chunks,
    make_executor,
    progress_bar,
    resolve_workers,
)
from culturedrift.experiments.execution.files import check_out
from culturedrift.experiments.workflows.sweep.experiment import Prepared, load_experiment, run_seed
from culturedrift.experiments.workflows.sweep.store import OWNED, SweepDirError, SweepStore, _versions
from culturedrift.model import Scenario, simulate_summary


# -- the work ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepRun:
    """One run sent to a worker: the base scenario (shared within a chunk), the metrics kept, and the run."""

    base: Scenario
    metrics: tuple[str, ...]
    run: int
    point: int
    replicate: int
    seed: int
    params: dict[str, Any]

    def key(self) -> dict[str, Any]:
        return {"run": self.run, "point": self.point, "replicate": self.replicate, "seed": self.seed}


def run_one(task: SweepRun) -> dict[str, Any]:
    """One run; a run that raises becomes a 'failed' row with its error message (the sweep goes on)."""
    row = task.key()
    try:
        summary = simulate_summary(task.params, task.seed, base=task.base)
        row |= {"status": "ok", "error": None, **{m: float(summary[m]) for m in task.metrics}}
    except Exception as e:
        msg = str(e).strip().replace("\n", "; ")
        row |= {"status": "failed", "error": f"{type(e).__name__}: {msg}"[:2000],
                **dict.fromkeys(task.metrics, math.nan)}
    return row


def lost_row(task: SweepRun, error: BaseException) -> dict[str, Any]:
    """The row of a run whose worker died `MAX_ATTEMPTS` times."""
    return {**task.key(), "status": "failed",
            "error": f"WorkerDied: the worker running this run died {MAX_ATTEMPTS} times ({type(error).__name__}: "
                     f"{error})", **dict.fromkeys(task.metrics, math.nan)}


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


def _changed_versions(stored: dict[str, str]) -> list[tuple[str, str, str]]:
    """Packages whose version differs from the one a sweep was started with (those that shape results)."""
    now = _versions()
    return [(k, stored[k], now.get(k, "absent")) for k in ("culturedrift", "numpy", "mesa", "python")
            if k in stored and stored[k] != now.get(k, "absent")]


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
        elif not same and old.get("name") != prep.experiment.name:
            raise SweepDirError(
                f"{store.root} holds a different experiment ('{old.get('name')}' from {old.get('source')}), not "
                f"'{prep.experiment.name}'. Use a new --out directory, or --overwrite to discard its results")
        elif not same:
            raise SweepDirError(
                f"{store.root} holds a different experiment: its sweep was made from another version of "
                f"'{old.get('name')}' (the experiment file or its base scenario differ: hash "
                f"{old.get('experiment_hash', '?')[:12]} there, {prep.hash[:12]} now), so its runs would not "
                "match. Use a new --out directory, or --overwrite to discard the old results")
        elif resume and (changed := _changed_versions(old.get("versions", {}))):
            raise SweepDirError(
                f"{store.root} was started with {', '.join(f'{k} {a}' for k, a, _ in changed)}; this is "
                f"{', '.join(f'{k} {b}' for k, _, b in changed)}, so resumed runs could differ from the saved "
                "ones. Resume with the versions in its manifest.json, or use a new --out (or --overwrite)")
        elif not resume and any(store.runs_dir.glob("part-*.parquet")):
            raise SweepDirError(f"{store.root} already holds runs of this experiment; pass --resume to continue "
                                "it, or --overwrite to start again")
    elif store.foreign_files():
        raise SweepDirError(f"{store.root} is not empty and is not a sweep directory "
                            f"(found {', '.join(store.foreign_files()[:5])}); choose another --out")


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
    check_out(out, OWNED)
    store = SweepStore(out)
    hint = f"finished runs are saved in {store.root}; continue with --resume"
    cluster = DaskCluster(scheduler, resume_hint=hint) if scheduler else None  # checked before --out is touched
    try:
        store.lock()
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
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
            ex = cluster or make_executor(resolve_workers(workers, len(todo), oversubscribe=True))
            cluster = None
            report.executor = ex.label
            try:
                metrics = tuple(exp.metrics)
                tasks = []
                for r in todo:
                    p, k = divmod(r, reps)
                    tasks.append(SweepRun(prep.base, metrics, r, p, k, run_seed(exp.seed, p, k,
                                                                               exp.common_random_numbers),
                                          prep.params(p)))
                say(f"sweep {exp.name}: {exp.design} design, {len(prep.points)} points x {reps} replicates = "
                    f"{prep.n_runs} runs; {len(done)} already done, {len(todo)} to run in "
                    f"{len(chunk_plan(len(todo), ex.capacity, chunk_size, ex.chunks_per_slot))} chunks on {ex.label}")
                _drive(ex, tasks, chunk_size, store, exp.metrics, report, progress, flush_seconds)
            except BaseException:
                ex.close(interrupted=True)
                raise
            else:
                ex.close()
        report.failed = store.finalise() if len(store.runs()) == prep.n_runs else pd.DataFrame()
        report.complete = len(store.runs()) == prep.n_runs
        return report
    finally:
        if cluster is not None:
            cluster.close()
        store.unlock()


def _drive(ex: Executor, tasks: list[SweepRun], size: int | None, store: SweepStore, metrics: list[str],
           report: SweepReport, progress: bool, flush_seconds: float) -> None:
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

    bar = progress_bar(report.n_runs, "sweep", progress, initial=report.done_before)
    bar.set_postfix(failed=0)
    t0 = time.perf_counter()
    try:
        for _, rows in imap_chunks(ex, run_one, tasks, chunk_size=size, on_lost=lost_row):
            buffer.extend(rows)
            report.computed += len(rows)
            bar.update(len(rows))
            n_failed = sum(row["status"] != "ok" for row in rows)
            if n_failed:
                failures += n_failed
                bar.set_postfix(failed=failures)
            if time.monotonic() - last_flush >= flush_seconds or len(buffer) >= 4096:
                flush()
    finally:
        report.seconds = time.perf_counter() - t0
        try:
            flush()  # keep what finished, even when interrupted
        finally:
            bar.close()

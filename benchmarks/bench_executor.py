"""Where a Dask cluster's time goes against 2 local processes: wall and CPU per run, split by process and thread.

A sweep-shaped batch of five-year runs of the default 300-person authority (issue 12 asks for >= 80), run in
alternating rounds (load hits every executor alike; best wall and best CPU of each are printed):
  1. in this process, one after the other (the yardstick);
  2. on 2 local worker processes;
  3. on a real Dask cluster on 127.0.0.1 started as a user starts one, `dask scheduler` and 2 single-threaded
     `dask worker`s, on Dask's default settings;
  4. on the same cluster started with the project's simulation settings (experiments/execution/dask_setup.py)
     passed as DASK_* environment variables, as docs/execution.md shows.
CPU time is summed over this process and every process below it and split by role: the client (this process),
the scheduler, the nannies, and in each worker the thread running tasks, the event loop and the profiler thread.
Target (issue 12): Dask loses at most 10% per run against the 2 local processes. Every executor returns the
same rows (checked). The load average is printed beside the numbers: only an idle machine's wall clock counts.

    .venv/bin/python benchmarks/bench_executor.py [--runs 80] [--rounds 3] [--no-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import psutil

from culturedrift.experiments.execution.dask_setup import environment
from culturedrift.experiments.execution.executor import DaskCluster, Executor, LocalProcesses, Serial, run_map
from culturedrift.experiments.workflows.sweep.engine import SweepRun, run_one
from culturedrift.model import Scenario, warm_up
from culturedrift.model.outputs import summary_keys

BIN = Path(sys.executable).parent
DASK_DEFAULTS, SIMULATION = "Dask, Dask's defaults", "Dask, simulation settings"


def tasks(n: int) -> list[SweepRun]:
    """The batch: n runs of the default five-year authority, one seed each."""
    base = Scenario(name="bench")
    assert base.horizon_weeks >= 260, "the default scenario is expected to run five years"
    return [SweepRun(base, tuple(summary_keys()), i, i, 0, 1000 + i, {}) for i in range(n)]


def thread_cpu() -> dict[tuple[int, int], float]:
    """CPU seconds of every thread of this process and of every live process below it, by (pid, thread id)."""
    out: dict[tuple[int, int], float] = {}
    me = psutil.Process()
    for proc in (me, *me.children(recursive=True)):
        try:
            for t in proc.threads():
                out[(proc.pid, t.id)] = t.user_time + t.system_time
        except psutil.Error:  # a process that ended meanwhile
            pass
    return out


def worker_threads() -> dict[int, dict[int, str]]:
    """Run on each Dask worker: its pid and the names of its threads by native id."""
    return {os.getpid(): {t.native_id: t.name for t in threading.enumerate()}}


def dask_role(name: str) -> str:
    """The part of a Dask worker a thread belongs to."""
    if "Dask-Default-Threads" in name:
        return "worker: running tasks"
    return {"MainThread": "worker: event loop", "Profile": "worker: profiler thread"}.get(name, "worker: other threads")


def timed(ex: Executor, items: list[SweepRun], role: Callable[[int, int], str]) -> tuple[float, dict[str, float], list]:
    """Wall seconds, CPU seconds by role, and the rows of one batch on `ex`."""
    c0, t0 = thread_cpu(), time.perf_counter()
    rows = run_map(run_one, items, executor=ex)
    wall, c1 = time.perf_counter() - t0, thread_cpu()
    by: dict[str, float] = defaultdict(float)
    for key, cpu in c1.items():
        by[role(*key)] += cpu - c0.get(key, 0.0)
    return wall, dict(by), rows


@contextmanager
def dask_cluster(env: dict[str, str]) -> Iterator[tuple[str, int, set[int]]]:
    """`dask scheduler` + 2 single-threaded `dask worker`s on 127.0.0.1 (address, scheduler pid, nanny pids)."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": os.environ | env}
    with tempfile.TemporaryDirectory() as tmp:
        sched_file = Path(tmp) / "scheduler.json"
        procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(sched_file)], **quiet)]
        try:
            deadline = time.monotonic() + 60
            while not sched_file.exists() or not sched_file.read_text().strip():
                if time.monotonic() > deadline or procs[0].poll() is not None:
                    raise RuntimeError("dask scheduler did not start")
                time.sleep(0.1)
            address = json.loads(sched_file.read_text())["address"]
            for _ in range(2):
                procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1",
                                               "--nthreads", "1", "--nworkers", "1", "--no-dashboard"], **quiet))
            yield address, procs[0].pid, {p.pid for p in procs[1:]}
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


def on_dask(items: list[SweepRun], env: dict[str, str]) -> tuple[float, dict[str, float], list, str]:
    """One batch on a fresh 2-worker cluster started with `env` (its start-up and warm-up not timed)."""
    with dask_cluster(env) as (address, scheduler, nannies), DaskCluster(address) as ex:
        ex.client.wait_for_workers(2, timeout=60)
        ex.capacity = 2
        run_map(run_one, items[:4], executor=ex)  # the workers import the model and load the kernels once
        names: dict[int, dict[int, str]] = {}
        for reply in ex.client.run(worker_threads).values():
            names |= reply

        def role(pid: int, tid: int) -> str:
            if pid == os.getpid():
                return "client (this process)"
            if pid == scheduler:
                return "scheduler"
            if pid in nannies:
                return "nannies"
            return dask_role(names[pid].get(tid, "")) if pid in names else "other processes"

        wall, cpu, rows = timed(ex, items, role)
        return wall, cpu, rows, ex.label


def load() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    items = tasks(args.runs)
    print(f"{args.runs} five-year runs of the default authority; {os.cpu_count()} cores; load average {load()}")
    warm_up()  # local workers fork from this process with the kernels loaded
    run_map(run_one, items[:2], executor=Serial())

    walls: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[dict[str, float]]] = defaultdict(list)
    ref: pd.DataFrame | None = None

    def record(name: str, wall: float, cpu: dict[str, float], rows: list) -> None:
        nonlocal ref
        frame = pd.DataFrame(rows)
        ref = frame if ref is None else ref
        assert frame.equals(ref), f"{name} gave different rows"
        walls[name].append(wall)
        cpus[name].append(cpu)

    here = os.getpid()
    for r in range(args.rounds):
        record("in process", *timed(Serial(), items, lambda pid, tid: "this process"))
        with LocalProcesses(2) as ex:
            record("2 local processes", *timed(ex, items, lambda pid, tid: "driver" if pid == here else "workers"))
        if not args.no_dask:
            for name, env in ((DASK_DEFAULTS, {}), (SIMULATION, environment())):
                wall, cpu, rows, label = on_dask(items, env)
                record(name, wall, cpu, rows)
                if r == 0:
                    print(f"  {name}: {label}")
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in walls.items()) + f"; load {load()}")

    n = args.runs
    best = {k: (min(walls[k]), min(sum(c.values()) for c in cpus[k])) for k in walls}
    one, local = best["in process"], best["2 local processes"]
    print(f"\nbest of {args.rounds} alternating rounds (load now {load()}):")
    print(f"  {'executor':<28}{'wall s':>8}{'speed-up':>10}{'CPU ms/run':>12}{'wall vs local':>15}{'CPU vs local':>14}")
    for k, (wall, cpu) in best.items():
        print(f"  {k:<28}{wall:8.2f}{one[0] / wall:9.2f}x{cpu / n * 1e3:12.1f}"
              f"{(wall / local[0] - 1) * 100:+14.1f}%{(cpu / local[1] - 1) * 100:+13.1f}%")
    print("\nCPU ms per run by process and thread (mean over the rounds):")
    for k, rounds in cpus.items():
        roles = sorted({role for c in rounds for role in c})
        mean = {role: sum(c.get(role, 0.0) for c in rounds) / len(rounds) / n * 1e3 for role in roles}
        parts = ", ".join(f"{role} {ms:.1f}" for role, ms in sorted(mean.items(), key=lambda kv: -kv[1]) if ms >= 0.05)
        print(f"  {k:<28}{sum(mean.values()):6.1f}: {parts}")
    if SIMULATION in best:
        over = best[SIMULATION][0] / local[0] - 1
        print(f"\nDask (simulation settings) against 2 local processes: {over * 100:+.1f}% wall per run, "
              f"{(best[SIMULATION][1] / local[1] - 1) * 100:+.1f}% CPU per run (target <= +10%)")


if __name__ == "__main__":
    main()

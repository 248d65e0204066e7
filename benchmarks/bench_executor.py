"""Executor scaling, measured side by side in one invocation and printed as ratios (not a timed test).

A sweep-shaped batch of five-year runs of the default 300-person authority (issue 12 asks for >= 80):
  1. in this process, one after the other (the yardstick);
  2. on 2 local worker processes (target: >= 1.8x the yardstick);
  3. on a real Dask cluster on 127.0.0.1: a `dask scheduler` and 2 single-threaded `dask worker`s
     (target: <= 10% lost per run to overhead against the ideal of 2x the yardstick).
Every executor returns identical rows (checked). The load of the machine is printed: on a shared machine
other processes take cores, and the ratios are only meaningful on an idle one.

    .venv/bin/python benchmarks/bench_executor.py [--runs 80] [--no-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from culturedrift.experiments.execution.executor import DaskCluster, LocalProcesses, Serial, auto_chunk_size, run_map
from culturedrift.experiments.workflows.sweep.engine import SweepRun, run_one
from culturedrift.model import Scenario
from culturedrift.model.outputs import summary_keys

BIN = Path(sys.executable).parent


def tasks(n: int) -> list[SweepRun]:
    base = Scenario(name="bench")
    assert base.horizon_weeks >= 260, "the default scenario is expected to run five years"
    return [SweepRun(base, tuple(summary_keys()), i, i, 0, 1000 + i, {}) for i in range(n)]


def timed(ex, items) -> tuple[float, list]:
    t0 = time.perf_counter()
    rows = run_map(run_one, items, executor=ex)
    return time.perf_counter() - t0, rows


def same(a: list[dict], b: list[dict]) -> bool:
    """Identical rows (NaN equal to NaN: a metric that does not apply is NaN on every executor)."""
    return pd.DataFrame(a).equals(pd.DataFrame(b))


def cpu() -> float:
    """CPU seconds of this process."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def dask_cluster(workdir: Path) -> tuple[str, list[subprocess.Popen]]:
    sched_file = workdir / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)], **quiet)]
    deadline = time.monotonic() + 60
    while not sched_file.exists() or not sched_file.read_text().strip():
        if time.monotonic() > deadline:
            raise RuntimeError("dask scheduler did not start")
        time.sleep(0.1)
    address = json.loads(sched_file.read_text())["address"]
    for _ in range(2):
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                       "--nworkers", "1", "--no-dashboard", "--memory-limit", "0"], **quiet))
    return address, procs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=80)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    items = tasks(args.runs)
    print(f"{args.runs} five-year runs of the default authority; {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; chunks of {auto_chunk_size(args.runs, 2)} runs")
    run_map(run_one, items[:2], executor=Serial())  # warm caches
    c0 = cpu()
    t1, ref = timed(Serial(), items)
    c1 = cpu() - c0
    print(f"  in process (yardstick)   {t1:7.2f} s   {t1 / args.runs * 1000:6.0f} ms per run, {c1:.1f} CPU s")
    c0 = cpu()
    with LocalProcesses(2) as ex:
        t2, rows = timed(ex, items)
    c2 = cpu() - c0  # the driver only: pickling, waiting, collecting
    assert same(rows, ref), "local processes gave different results"
    print(f"  2 local processes        {t2:7.2f} s   speed-up {t1 / t2:4.2f}x (target >= 1.80x); this process "
          f"spent {c2:.1f} CPU s driving them")
    if not args.no_dask:
        with tempfile.TemporaryDirectory() as tmp:
            address, procs = dask_cluster(Path(tmp))
            try:
                with DaskCluster(address) as ex:
                    ex.client.wait_for_workers(2, timeout=60)
                    ex.capacity = 2
                    run_map(run_one, items[:4], executor=ex)  # workers import the model once
                    t3, rows = timed(ex, items)
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait(timeout=20)
        assert same(rows, ref), "Dask gave different results"
        overhead = (2 * t3 - t1) / t1
        print(f"  Dask, 2 workers          {t3:7.2f} s   speed-up {t1 / t3:4.2f}x; overhead per run against the "
              f"ideal 2x: {overhead * 100:+.1f}% (target <= 10%); against 2 local processes {t3 / t2:4.2f}x")
        print(f"  overhead per run: {(2 * t3 - t1) / args.runs * 1000:+.0f} ms on {t1 / args.runs * 1000:.0f} ms")


if __name__ == "__main__":
    main()

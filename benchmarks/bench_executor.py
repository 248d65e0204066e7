"""Executor scaling and where a Dask cluster's time goes, in alternating rounds of one invocation (not a timed test).

A sweep-shaped batch of five-year runs of the default 300-person authority (issue 12 asks for >= 80) on:
  1. this process, one run after the other (the yardstick);
  2. 2 local worker processes (target: >= 1.8x the yardstick);
  3. a real Dask cluster on 127.0.0.1 started as a user starts one, `dask scheduler` and 2 single-threaded
     `dask worker`s, with the project's simulation settings (experiments/execution/dask_setup.py) passed as
     DASK_* environment variables, as docs/execution.md shows (target: at most 10% more per run than 2);
  4. with --dask-defaults, the same cluster on Dask's own defaults (what the settings save).
The Dask cluster starts once and serves every round (a cluster outlives the sweeps sent to it); the local pool
starts afresh each round (a fork, as each sweep starts its own); the in-process batch, twice as long, runs only in
the first rounds (only the local speed-up needs it). The order rotates each round, so load drifting during the
invocation hits the executors alike; each round's Dask/local ratios are paired, and their median is what `make
bench` judges (min / median / max printed). CPU time is summed over this process and every process below it and split by
role: the client (this process), the scheduler, the nannies, and in each worker the thread running the tasks, the
event loop and the profiler thread; what is not "running tasks" is Dask's cost outside the runs, which other
processes' load barely moves. The runs' own CPU time on the Dask workers and on the local workers is compared round
by round too. Every executor must return the same rows (checked). `benchmarks/bench_model.py` (`make bench`) calls
`measure` for its scaling item.

    .venv/bin/python benchmarks/bench_executor.py [--runs 80] [--rounds 6] [--serial-rounds 3] [--no-dask]
                                                  [--dask-defaults]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

from culturedrift.experiments.execution.dask_setup import environment
from culturedrift.experiments.execution.executor import DaskCluster, Executor, LocalProcesses, Serial, run_map
from culturedrift.experiments.workflows.sweep.engine import SweepRun, run_one
from culturedrift.model import Scenario, warm_up
from culturedrift.model.outputs import summary_keys

BIN = Path(sys.executable).parent
TASKS = "worker: running tasks"
Role = Callable[[int, int], str]


def tasks(n: int, first_seed: int = 2000) -> list[SweepRun]:
    """The batch: n runs of the default five-year authority, one seed each."""
    base = Scenario(name="bench")
    assert base.horizon_weeks >= 260, "the default scenario is expected to run five years"
    return [SweepRun(base, tuple(summary_keys()), i, i, 0, first_seed + i, {}) for i in range(n)]


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
        return TASKS
    return {"MainThread": "worker: event loop", "Profile": "worker: profiler thread"}.get(name, "worker: other threads")


def timed(ex: Executor, items: list[SweepRun], role: Role) -> tuple[float, dict[str, float], pd.DataFrame]:
    """Wall seconds, CPU seconds by role, and the rows of one batch on `ex`."""
    c0, t0 = thread_cpu(), time.perf_counter()
    rows = run_map(run_one, items, executor=ex)
    wall, c1 = time.perf_counter() - t0, thread_cpu()
    by: dict[str, float] = defaultdict(float)
    for key, cpu in c1.items():
        by[role(*key)] += cpu - c0.get(key, 0.0)
    return wall, dict(by), pd.DataFrame(rows)


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
                    p.wait(timeout=5)


def on_serial(items: list[SweepRun]) -> tuple[float, dict[str, float], pd.DataFrame]:
    """One batch in this process."""
    return timed(Serial(), items, lambda pid, tid: "this process")


def on_local(items: list[SweepRun]) -> tuple[float, dict[str, float], pd.DataFrame]:
    """One batch on a fresh pool of 2 local worker processes (its start-up and first runs not timed)."""
    here = os.getpid()
    with LocalProcesses(2) as ex:
        # untimed, as on Dask: a forked worker's first runs pay for the pages it shares with this process
        run_map(run_one, items[:4], executor=ex)
        return timed(ex, items, lambda pid, tid: "driver" if pid == here else "workers")


@contextmanager
def on_dask(items: list[SweepRun], env: dict[str, str]) -> Iterator[Callable[[], tuple[float, dict[str, float],
                                                                                     pd.DataFrame]]]:
    """A 2-worker cluster started with `env` and kept for every round (as a cluster outlives the sweeps sent to it;
    its start-up and the workers' warm-up not timed): yields a function timing one batch on it."""
    import cloudpickle

    if __name__ != "__main__":  # imported (by bench_model.py): workers cannot import this file, so send it by value
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
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

        yield lambda: timed(ex, items, role)


def load() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(runs: int = 80, rounds: int = 6, dask: bool = True, dask_defaults: bool = False,
            serial_rounds: int = 3, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every executor on the same batch in `rounds` rounds (in process only in the first `serial_rounds`: it takes
    twice as long and only the local speed-up needs it), the order rotated each round: best wall and CPU of each,
    each round's paired ratios (local speed-up; Dask against the local pool) and their medians, and CPU per run by
    role (mean over rounds); rows checked identical. The Dask clusters start once and serve every round; the local
    pool starts afresh each round (forked: about 0.1 s, as each sweep starts its own)."""
    warm_up()  # local workers fork from this process with the kernels loaded
    items = tasks(runs)
    on_serial(items[:2])  # warms this process's caches
    out: dict[str, Any] = {"runs": runs, "rounds": rounds, "load_before": load()}
    walls: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[dict[str, float]]] = defaultdict(list)
    same: dict[str, bool] = {}
    ref: pd.DataFrame | None = None
    with contextlib.ExitStack() as stack:
        runners: dict[str, Callable[[], tuple[float, dict[str, float], pd.DataFrame]]] = {
            "serial": lambda: on_serial(items), "local2": lambda: on_local(items)}
        if dask:
            runners["dask2"] = stack.enter_context(on_dask(items, environment()))
        if dask and dask_defaults:
            runners["dask2_defaults"] = stack.enter_context(on_dask(items, {}))
        names = list(runners)
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]  # rotated: no executor always goes first
            for name in order:
                if name == "serial" and r >= serial_rounds:
                    continue
                wall, cpu, rows = runners[name]()
                ref = rows if ref is None else ref
                same[name] = same.get(name, True) and rows.equals(ref)
                walls[name].append(wall)
                cpus[name].append(cpu)
            if log:
                log(f"  round {r + 1}: " + ", ".join(f"{k} {walls[k][-1]:.2f} s / {sum(cpus[k][-1].values()):.1f} CPU s"
                                                    for k in order if len(walls[k]) == r + 1) + f"; load {load()}")
    for name in [n for n in names if walls[n]]:  # in process only when some round ran it (--serial-rounds 0)
        total = [sum(c.values()) for c in cpus[name]]
        roles = {role for c in cpus[name] for role in c}
        by_role = {role: round(1e3 * statistics.mean(c.get(role, 0.0) for c in cpus[name]) / runs, 2)
                   for role in sorted(roles)}
        out |= {f"{name}_s": round(min(walls[name]), 2), f"{name}_cpu_ms_per_run": round(1e3 * min(total) / runs, 1),
                f"{name}_same": same[name], f"{name}_walls": [round(w, 2) for w in walls[name]],
                f"{name}_cpu_by_role_ms": by_role}
        if name == "local2" and walls["serial"]:  # paired with the rounds that ran in process
            pairs = zip(walls["serial"], walls["local2"][:len(walls["serial"])], strict=True)
            out["local2_speedups"] = [round(s / lo, 3) for s, lo in pairs]
        if name.startswith("dask2"):
            local_cpu = [sum(c.values()) for c in cpus["local2"]]
            wall_ratios = [d / lo - 1 for d, lo in zip(walls[name], walls["local2"], strict=True)]
            cpu_ratios = [d / lo - 1 for d, lo in zip(total, local_cpu, strict=True)]
            out[f"{name}_wall_ratios"] = [round(x, 4) for x in wall_ratios]
            out[f"{name}_cpu_ratios"] = [round(x, 4) for x in cpu_ratios]
            out[f"{name}_wall_vs_local2"] = statistics.median(wall_ratios)
            out[f"{name}_cpu_vs_local2"] = statistics.median(cpu_ratios)
            outside = [sum(v for k, v in c.items() if k != TASKS) for c in cpus[name]]
            out[f"{name}_outside_runs_ms"] = round(1e3 * statistics.mean(outside) / runs, 2)
            out[f"{name}_outside_share"] = statistics.mean(o / max(t - o, 1e-9) for o, t in zip(outside, total,
                                                                                              strict=True))
            tasks_cpu = [c.get(TASKS, 0.0) for c in cpus[name]]
            workers_cpu = [c.get("workers", 0.0) for c in cpus["local2"]]
            out[f"{name}_runs_cpu_ratios"] = [round(d / lo - 1, 4) for d, lo in zip(tasks_cpu, workers_cpu,
                                                                                     strict=True)]
    out["load_after"] = load()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=80)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--serial-rounds", type=int, default=3, help="rounds that also run the batch in process")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--dask-defaults", action="store_true", help="also a cluster on Dask's default settings")
    args = ap.parse_args()
    print(f"{args.runs} five-year runs of the default authority; {os.cpu_count()} cores; load average {load()}")
    m = measure(args.runs, args.rounds, not args.no_dask, args.dask_defaults, args.serial_rounds, log=print)
    names = [k[:-2] for k in m if k.endswith("_s") and f"{k[:-2]}_walls" in m]
    print(f"\nbest of {args.rounds} rotated rounds (load {m['load_before']} -> {m['load_after']}):")
    print(f"  {'executor':<16}{'wall s':>8}{'speed-up':>10}{'CPU ms/run':>12}{'wall vs local2':>16}"
          f"{'CPU vs local2':>15}  (Dask: median of the rounds' paired ratios)")
    for k in names:
        wall, cpu = m[f"{k}_s"], m[f"{k}_cpu_ms_per_run"]
        vs = (f"{m[f'{k}_wall_vs_local2'] * 100:+15.1f}%{m[f'{k}_cpu_vs_local2'] * 100:+14.1f}%"
              if k.startswith("dask2") else "")
        differ = "" if m[f"{k}_same"] else "  ROWS DIFFER"
        speedup = f"{m['serial_s'] / wall:9.2f}x" if "serial_s" in m else f"{'-':>10}"
        print(f"  {k:<16}{wall:8.2f}{speedup}{cpu:12.1f}{vs}{differ}")
    print("\nCPU ms per run by process and thread (mean over the rounds):")
    for k in names:
        parts = sorted(m[f"{k}_cpu_by_role_ms"].items(), key=lambda kv: -kv[1])
        print(f"  {k:<16}{sum(v for _, v in parts):6.1f}: " + ", ".join(f"{r} {v:.1f}" for r, v in parts if v >= 0.05))
    for k in names:
        if k.startswith("dask2"):
            spread = lambda xs: "/".join(f"{100 * x:+.1f}" for x in xs)  # noqa: E731
            print(f"{k}: {m[f'{k}_outside_runs_ms']:.1f} CPU ms per run outside the runs "
                  f"({m[f'{k}_outside_share'] * 100:.1f}% of a run's own CPU time); each round against the local "
                  f"pool: wall {spread(m[f'{k}_wall_ratios'])}%, CPU {spread(m[f'{k}_cpu_ratios'])}%, the runs' "
                  f"own CPU {spread(m[f'{k}_runs_cpu_ratios'])}%")


if __name__ == "__main__":
    main()

"""`make bench`: the model's speed and memory targets, measured side by side in one invocation, printed as ratios.

Usage: python benchmarks/bench_model.py [--quick] [--sizes 10000] [--big 1000000] [--sweep-runs 1000]
                                       [--scaling-runs 80] [--repeats 3] [--no-dask]

  1. agent-steps per second of the full model against the idiomatic Mesa yardstick
     (benchmarks/yardstick_mesa.py: three numbers per person on a network, `shuffle_do`) at each size;
     target >= 40x at 10,000 staff;
  2. one 5-year weekly run of the default 300-person authority, compiled kernels against the numpy
     reference path (`compiled=False`), five alternating pairs so load hits both alike, best CPU time of each;
     target >= 4x;
  3. a sweep of that authority (default 1,000 runs) on 2 local worker processes through the one executor;
     target under 60 s on an idle 2-core machine;
  4. peak memory of a 1,000,000-staff organisation built and stepped, and bytes per slot; target < 1 GiB;
  5. executor scaling on a sweep-shaped batch of >= 80 five-year runs: in process (1 worker), 2 local worker
     processes (target >= 1.8x one worker) and a real Dask LocalCluster on 127.0.0.1 with 2 single-threaded
     worker processes started with the project's simulation settings (experiments/execution/dask_setup.py;
     target: at most 10% more time per run than the 2 local processes); three alternating rounds, best of
     each; every executor must return the same rows.

`--quick` is a shorter check of the same items (200-run sweep, 2 repeats); the default is what the targets
ask for and takes about 5 minutes on an idle 2-core machine.

Every model measurement runs in a fresh process (so peak memory is that size's own). Times are wall
clock with CPU seconds beside them; the load average is printed before and after, because on a shared
machine other processes take the cores and only an idle machine's numbers meet the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30


def staff_scenario(n_staff: int, weeks: int):
    """An organisation of about n_staff people (11 staff slots per team + partners at the default ratio)."""
    from culturedrift.model import Scenario, load_scenario

    n_teams = max(1, round(n_staff / 15))
    partners = max(3, round(n_staff * 80 / 300))
    phased = load_scenario(ROOT / "scenarios" / "phased.yaml")
    shares = {"police": partners // 4, "health": partners * 3 // 8}
    shares["education"] = partners - sum(shares.values())
    agencies = {}  # a scenario caps an agency at 100,000 people: larger ones are split (police_2, ...)
    for name, size in shares.items():
        parts = -(-size // 100_000)
        for k in range(parts):
            agencies[name if k == 0 else f"{name}_{k + 1}"] = size // parts + (k < size % parts)
    sc = Scenario(name=f"bench_{n_staff}").with_updates({
        "horizon_weeks": weeks, "burn_in_weeks": 4, "organisation.n_teams": n_teams,
        "organisation.partner_agencies": agencies})
    return sc.model_copy(update={"change_programme": phased.change_programme, "interventions": phased.interventions})


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_model() -> str:
    """The CPU's model name (Linux), for the record beside the numbers."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "CPU model unknown"


def load() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure_model(n_staff: int, weeks: int) -> dict:
    """Agent-steps/s of the full model's weekly step (construction excluded), phased programme's changes."""
    from culturedrift.model import CultureDriftModel, warm_up

    warm_up()
    sc = staff_scenario(n_staff, weeks)
    base = _peak_mib()
    t0 = time.perf_counter()
    model = CultureDriftModel(sc, seed=1)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(weeks):
        model.step()
    dt = time.perf_counter() - t0
    n = model.state.n
    peak = _peak_mib()
    return {"slots": n, "weeks": weeks, "build_s": round(built, 3), "step_ms": round(1e3 * dt / weeks, 3),
            "agent_steps_per_s": round(n * weeks / dt), "peak_rss_mib": round(peak),
            "bytes_per_slot": round((peak - base) * 2**20 / n)}


def measure_yardstick(n: int, weeks: int) -> dict:
    """Agent-steps/s of the idiomatic Mesa model of the same size."""
    sys.path.insert(0, str(Path(__file__).parent))
    from yardstick_mesa import StaffOnNetwork

    model = StaffOnNetwork(n, rng=1)
    t0 = time.perf_counter()
    for _ in range(weeks):
        model.step()
    dt = time.perf_counter() - t0
    return {"slots": n, "weeks": weeks, "agent_steps_per_s": round(n * weeks / dt)}


def five_year_runs(repeats: int) -> dict:
    """One 5-year run of the default authority (phased), compiled and numpy reference, alternating; best of each."""
    from culturedrift.model import CultureDriftModel, load_scenario, warm_up

    sc = load_scenario(ROOT / "scenarios" / "phased.yaml")
    warm_up()
    best = {True: (float("inf"), float("inf")), False: (float("inf"), float("inf"))}
    for seed in range(repeats):
        for compiled in (True, False):
            w0, c0 = time.perf_counter(), time.process_time()
            CultureDriftModel(sc, seed, compiled=compiled).run()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best[compiled] = (min(best[compiled][0], wall), min(best[compiled][1], cpu))
    return {"compiled_ms": round(1e3 * best[True][0], 1), "compiled_cpu_ms": round(1e3 * best[True][1], 1),
            "numpy_ms": round(1e3 * best[False][0], 1), "numpy_cpu_ms": round(1e3 * best[False][1], 1),
            "weeks": sc.burn_in_weeks + sc.horizon_weeks}


def cold_start() -> dict:
    """A fresh process's first run: import, load (or compile) the kernels from the disk cache, one 5-year run."""
    code = ("import time; t0 = time.perf_counter(); from culturedrift.model import load_scenario, simulate; "
            "t1 = time.perf_counter(); simulate(load_scenario('scenarios/phased.yaml'), 0); t2 = time.perf_counter(); "
            "simulate(load_scenario('scenarios/phased.yaml'), 1); t3 = time.perf_counter(); "
            "print(t1 - t0, t2 - t1, t3 - t2)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    imp, first, second = map(float, out.stdout.split())
    return {"import_s": round(imp, 2), "first_run_s": round(first, 2), "second_run_s": round(second, 3)}


def sweep(runs: int, workers: int) -> dict:
    """A sweep-shaped batch of 5-year runs of the default authority on local worker processes (the one executor)."""
    from culturedrift.experiments.execution.executor import LocalProcesses, run_map
    from culturedrift.experiments.workflows.sweep.engine import SweepRun, run_one
    from culturedrift.model import Scenario, warm_up
    from culturedrift.model.outputs import summary_keys

    warm_up()  # workers fork from this process with the kernels loaded
    base = Scenario(name="bench")
    items = [SweepRun(base, tuple(summary_keys()), i, i, 0, 1000 + i, {}) for i in range(runs)]
    t0 = time.perf_counter()
    with LocalProcesses(workers) as ex:
        c0 = cpu_seconds()
        rows = run_map(run_one, items, executor=ex)
        cpu = cpu_seconds() - c0
    dt = time.perf_counter() - t0
    ok = sum(r["status"] == "ok" for r in rows)
    return {"runs": runs, "ok": ok, "workers": workers, "seconds": round(dt, 1),
            "ms_per_run": round(1e3 * dt / runs, 1), "cpu_ms_per_run": round(1e3 * cpu / runs, 1),
            "load_after": load()}


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and every live process below it (pool and Dask workers)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for proc in (me, *me.children(recursive=True)):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:  # a process that ended meanwhile
            pass
    return total


def scaling(runs: int, dask: int) -> dict:
    """The same batch of five-year runs in process, on 2 local processes and (if `dask`) on a 2-worker Dask
    LocalCluster on 127.0.0.1; rows must be identical on every executor."""
    import pandas as pd

    from culturedrift.experiments.execution.dask_setup import local_cluster
    from culturedrift.experiments.execution.executor import DaskCluster, LocalProcesses, Serial, run_map
    from culturedrift.experiments.workflows.sweep.engine import SweepRun, run_one
    from culturedrift.model import Scenario, warm_up
    from culturedrift.model.outputs import summary_keys

    warm_up()
    base = Scenario(name="bench")
    items = [SweepRun(base, tuple(summary_keys()), i, i, 0, 2000 + i, {}) for i in range(runs)]
    run_map(run_one, items[:2], executor=Serial())

    best: dict[str, tuple[float, float]] = {}  # executor -> (best wall s, best CPU s) over the rounds
    rows: dict[str, pd.DataFrame] = {}

    def timed(ex, name: str) -> None:
        c0, t0 = cpu_seconds(), time.perf_counter()
        result = run_map(run_one, items, executor=ex)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0  # driver + workers (+ Dask's scheduler, here)
        old = best.get(name, (float("inf"), float("inf")))
        best[name] = (min(old[0], wall), min(old[1], cpu))
        rows[name] = pd.DataFrame(result)

    out: dict = {"runs": runs, "load_before": load()}
    for _ in range(3):  # three rounds, alternating executors, best of each: load hits them alike
        timed(Serial(), "serial")
        with LocalProcesses(2) as ex:
            timed(ex, "local2")
        if dask:  # the project's settings for simulation workers (profiler off, slower monitors): dask_setup.py
            with local_cluster(2) as cluster, DaskCluster(cluster.scheduler_address) as ex:
                ex.client.wait_for_workers(2, timeout=60)
                ex.capacity = 2
                run_map(run_one, items[:4], executor=ex)  # the workers import the model and load the kernels once
                timed(ex, "dask2")
    for name, (wall, cpu) in best.items():
        out |= {f"{name}_s": round(wall, 2), f"{name}_cpu_ms_per_run": round(1e3 * cpu / runs, 1),
                f"{name}_same": bool(rows[name].equals(rows["serial"]))}
    out["load_after"] = load()
    return out


def _fresh(kind: str, *args: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, *map(str, args)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000])
    ap.add_argument("--big", type=int, default=1_000_000, help="one extra large size for memory (0 to skip)")
    ap.add_argument("--weeks", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sweep-runs", type=int, default=1000, help="runs in the 2-worker sweep (0 to skip)")
    ap.add_argument("--scaling-runs", type=int, default=80, help="runs for executor scaling (0 to skip)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster")
    ap.add_argument("--quick", action="store_true", help="shorter: 200-run sweep, 2 repeats")
    ap.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        kind, args = a.one[0], [int(x) for x in a.one[1:]]
        result = {"model": lambda: measure_model(*args), "yardstick": lambda: measure_yardstick(*args),
                  "five_year": lambda: five_year_runs(*args), "sweep": lambda: sweep(*args),
                  "scaling": lambda: scaling(*args)}[kind]()
        print(json.dumps(result))
        return
    if a.quick:
        a.sweep_runs, a.repeats = min(a.sweep_runs, 200), min(a.repeats, 2)
    started = time.perf_counter()
    print(f"culturedrift benchmark: {os.cpu_count()} cores ({cpu_model()}), load average {load()} (1, 5, 15 min)")
    targets: list[tuple[str, str, str, bool]] = []

    cold = cold_start()
    print(f"cold start (fresh process): import {cold['import_s']} s, first 5-year run {cold['first_run_s']} s "
          f"(kernels loaded from the disk cache, or compiled if absent), second {cold['second_run_s']} s")

    # a 5-year run pair costs about half a second: five alternating pairs (best of each) whatever the repeats, so one
    # slow run on a shared machine does not decide the ratio
    fy = _fresh("five_year", max(a.repeats, 5))
    ratio = fy["numpy_cpu_ms"] / fy["compiled_cpu_ms"]
    print(f"one 5-year run ({fy['weeks']} weeks incl. burn-in), 300-person authority: compiled {fy['compiled_ms']} ms "
          f"({fy['compiled_cpu_ms']} CPU ms), numpy reference {fy['numpy_ms']} ms ({fy['numpy_cpu_ms']} CPU ms): "
          f"{ratio:.2f}x")
    targets.append(("5-year run, compiled vs numpy reference", ">= 4x", f"{ratio:.2f}x", ratio >= 4))

    print(f"{'staff':>9} {'model steps/s':>14} {'Mesa yardstick':>15} {'ratio':>7}")
    for n in a.sizes:
        best_m = best_y = 0
        for _ in range(a.repeats):  # alternate, so load hits both alike; keep the best of each
            best_m = max(best_m, _fresh("model", n, a.weeks)["agent_steps_per_s"])
            best_y = max(best_y, _fresh("yardstick", n, max(2, a.weeks // 4))["agent_steps_per_s"])
        print(f"{n:>9,} {best_m:>14,} {best_y:>15,} {best_m / best_y:>6.1f}x")
        if n == 10_000:
            targets.append(("agent-steps/s vs Mesa yardstick, 10k staff", ">= 40x", f"{best_m / best_y:.1f}x",
                            best_m / best_y >= 40))

    if a.big:
        big = _fresh("model", a.big, 4)
        print(f"{a.big:>9,} staff: {big['slots']:,} slots, peak {big['peak_rss_mib']:,} MiB "
              f"({big['bytes_per_slot']:,} bytes per slot), build {big['build_s']} s, "
              f"{big['agent_steps_per_s']:,} agent-steps/s")
        gib = big["peak_rss_mib"] / 1024
        targets.append((f"peak memory, {a.big:,} staff", "< 1 GiB", f"{gib:.2f} GiB ({big['bytes_per_slot']} B/slot)",
                        gib < 1))

    if a.sweep_runs:
        sw = _fresh("sweep", a.sweep_runs, 2)
        print(f"sweep: {sw['runs']:,} five-year runs ({sw['ok']} ok) on {sw['workers']} local workers: "
              f"{sw['seconds']} s ({sw['ms_per_run']} ms per run; {sw['cpu_ms_per_run']} CPU ms per run, driver and "
              f"workers, i.e. {sw['cpu_ms_per_run'] * sw['runs'] / 2e3:.0f} s if both cores were free and "
              f"fully used; load now {sw['load_after']})")
        targets.append((f"{a.sweep_runs:,}-run sweep on 2 cores", "< 60 s", f"{sw['seconds']} s",
                        sw["seconds"] < 60))

    if a.scaling_runs:
        sc = _fresh("scaling", a.scaling_runs, 0 if a.no_dask else 1)
        speed = sc["serial_s"] / sc["local2_s"]
        print(f"executor scaling, {sc['runs']} five-year runs (load {sc['load_before']} -> {sc['load_after']}): "
              f"in process {sc['serial_s']} s, 2 local processes {sc['local2_s']} s ({speed:.2f}x"
              f"{'' if sc['local2_same'] else ', ROWS DIFFER'}); CPU ms per run: in process "
              f"{sc['serial_cpu_ms_per_run']}, 2 local processes {sc['local2_cpu_ms_per_run']}"
              + (f", Dask {sc['dask2_cpu_ms_per_run']}" if "dask2_cpu_ms_per_run" in sc else ""))
        targets.append((f"2 local workers vs 1, {sc['runs']} runs", ">= 1.8x", f"{speed:.2f}x",
                        speed >= 1.8 and sc["local2_same"]))
        if "dask2_s" in sc:
            over = sc["dask2_s"] / sc["local2_s"] - 1
            ideal = 2 * sc["dask2_s"] / sc["serial_s"] - 1
            print(f"  Dask LocalCluster, 2 workers on 127.0.0.1: {sc['dask2_s']} s: {over * 100:+.1f}% per run against "
                  f"2 local processes, {ideal * 100:+.1f}% against the ideal 2x of one worker"
                  f"{'' if sc['dask2_same'] else ', ROWS DIFFER'}")
            targets.append(("Dask overhead per run vs 2 local workers", "<= 10%", f"{over * 100:+.1f}%",
                            over <= 0.10 and sc["dask2_same"]))
            cpu_over = sc["dask2_cpu_ms_per_run"] / sc["local2_cpu_ms_per_run"] - 1
            print(f"  Dask's CPU per run against 2 local processes: {cpu_over * 100:+.1f}% (driver, scheduler and "
                  "workers; both run two workers at once, so they contend for the cores alike; wall-clock ratios "
                  "need an idle machine, CPU time much less so)")
            targets.append(("Dask CPU per run vs 2 local workers", "<= 10%", f"{cpu_over * 100:+.1f}%",
                            cpu_over <= 0.10 and sc["dask2_same"]))

    print(f"\nload average now {load()}; {time.perf_counter() - started:.0f} s in all; targets are for an idle "
          "2-core machine")
    width = max(len(t[0]) for t in targets)
    for name, target, got, met in targets:
        print(f"  {name:<{width}}  target {target:<8} measured {got:<22} {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()

"""Benchmark of sweeps: runs/s with 1 and 2 local workers, a 1,000-run sweep, Dask overhead per run.

Usage: python benchmarks/bench_sweep.py [--runs 60] [--big 1000] [--skip-dask] [--out results/bench_sweep]

The runs are the default 300-person authority (20 teams) under the phased programme over five years,
varying labour-market pressure and change fatigue (LHS). Dask overhead is measured on a LocalCluster
(2 single-threaded worker processes with the project's simulation settings) against the local pool, both
with near-empty runs (1 week, 1 team), so the difference is the cost of the path, not of the model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from culturedrift.experiments.workflows.sweep import parse_experiment, prepare, sweep
from culturedrift.model import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def experiment(samples: int, seed: int = 1, overrides: dict | None = None):
    exp = parse_experiment({
        "name": "bench", "base": "phased.yaml", "design": "lhs", "samples": samples, "replicates": 1, "seed": seed,
        "overrides": overrides or {},
        "parameters": {"turnover.labour_market_pressure": {"low": 0.7, "high": 1.4},
                       "morale.change_effect": {"low": 0.001, "high": 0.004}}}, "bench")
    return prepare(exp, ROOT / "scenarios" / "phased.yaml", "bench")


def timed(prep, workers: int | None = None, scheduler: str | None = None, chunk_size: int | None = None) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    try:
        t0 = time.perf_counter()
        sweep(prep, out, workers=workers, scheduler=scheduler, chunk_size=chunk_size, progress=False, log=None)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=60, help="runs per throughput measurement (default 60)")
    ap.add_argument("--big", type=int, default=1000, help="size of the big sweep (0 to skip; default 1000)")
    ap.add_argument("--tiny-runs", type=int, default=400, help="near-empty runs for the Dask overhead (default 400)")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--out", default="results/bench_sweep", help="where to write bench_sweep.json")
    args = ap.parse_args()
    staff = load_scenario(ROOT / "scenarios" / "phased.yaml").organisation
    print(f"authority: {staff.n_teams} teams x {staff.team_size} posts, 5 years; {os.cpu_count()} cores")
    report: dict = {"cores": os.cpu_count(), "runs": args.runs}

    prep = experiment(args.runs)
    timed(experiment(2, seed=99), workers=2)  # warm the page cache and the forkserver imports
    t1 = timed(prep, workers=1)
    t2 = timed(prep, workers=2)
    report |= {"runs_per_s_1_worker": args.runs / t1, "runs_per_s_2_workers": args.runs / t2, "speedup": t1 / t2}
    print(f"1 worker : {args.runs / t1:6.2f} runs/s ({t1:.1f} s for {args.runs})")
    print(f"2 workers: {args.runs / t2:6.2f} runs/s ({t2:.1f} s for {args.runs}); speed-up {t1 / t2:.2f}x")

    if args.big:
        tb = timed(experiment(args.big, seed=2), workers=2)
        report |= {"big_runs": args.big, "big_seconds": tb}
        print(f"{args.big}-run sweep, 2 workers: {tb:.1f} s ({args.big / tb:.2f} runs/s)")

    if not args.skip_dask:
        from culturedrift.experiments.execution.dask_setup import local_cluster

        fixed = {"horizon_weeks": 1, "burn_in_weeks": 0, "organisation.n_teams": 1, "change_programme": [],
                 "interventions": [], "handover_week": 0}
        small, large = (experiment(n, seed=3, overrides=fixed) for n in (args.tiny_runs, 2 * args.tiny_runs))
        with local_cluster(2) as cluster:  # single-threaded workers with the project's simulation settings
            addr = cluster.scheduler_address
            for chunk in (1, None):
                # marginal cost per run (time for 2n runs minus time for n, over n): start-up costs cancel
                local = (timed(large, workers=2, chunk_size=chunk) - timed(small, workers=2, chunk_size=chunk))
                dask = (timed(large, scheduler=addr, chunk_size=chunk) - timed(small, scheduler=addr, chunk_size=chunk))
                key = "chunk_1" if chunk == 1 else "chunk_auto"
                lm, dm = local / args.tiny_runs * 1e3, dask / args.tiny_runs * 1e3
                report[f"near_empty_ms_per_run_local_{key}"] = lm
                report[f"near_empty_ms_per_run_dask_{key}"] = dm
                report[f"dask_overhead_ms_per_run_{key}"] = dm - lm
                print(f"near-empty runs, {key}: local pool {lm:.2f} ms/run, Dask {dm:.2f} ms/run -> Dask adds "
                      f"{dm - lm:.2f} ms/run (2 workers, marginal)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_sweep.json").write_text(json.dumps(report, indent=1))
    print(f"wrote {out / 'bench_sweep.json'}")


if __name__ == "__main__":
    main()

"""Benchmark of `culturedrift optimise`: trials per second on 1 and 2 workers, and a full study.

Usage:
  python benchmarks/bench_optimise.py [--trials 16] [--seeds 4]            # trials/s on 1 and 2 workers
  python benchmarks/bench_optimise.py --study [--trials 200] [--seeds 10]  # the 300-person authority study

The yardstick, measured in the same run, is one 5-year run of the 300-person authority in this process:
trials/s is also printed as "runs per yardstick-run time" so numbers from busy and idle machines compare.
Search only (no report) for the throughput part; `--study` runs the whole `optimise` command on
experiments/optimise_rollout.yaml (search, shipped strategies, out-of-sample compare, robustness, report).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "optimise_rollout.yaml"


def yardstick() -> float:
    """Seconds of one 5-year run of the 300-person authority (phased with vigilance), best of 2."""
    from culturedrift.model import load_scenario, simulate

    sc = load_scenario(ROOT / "scenarios" / "phased_with_vigilance.yaml")
    best = float("inf")
    for seed in range(2):
        t = time.perf_counter()
        simulate(sc, seed)
        best = min(best, time.perf_counter() - t)
    return best


def throughput(trials: int, seeds: int, workers: int, tmp: Path) -> dict[str, float]:
    """Search-only trials per second with `workers` local processes."""
    import yaml

    from culturedrift.experiments.workflows.optimise.workflow import run_optimise

    data = yaml.safe_load(SPEC.read_text())
    data["base"] = str(ROOT / "scenarios" / "phased_with_vigilance.yaml")
    data["compare_with"] = []
    data.pop("conditions", None)
    data["search"] = {**data["search"], "trials": trials, "search_seeds": seeds, "batch": 8}
    spec = tmp / f"spec_{workers}.yaml"
    spec.write_text(yaml.safe_dump(data))
    t = time.perf_counter()
    run_optimise(spec, tmp / f"out_{workers}", workers=workers, progress=False, search_only=True)
    wall = time.perf_counter() - t
    return {"workers": workers, "trials": trials, "seeds": seeds, "seconds": wall, "trials_per_s": trials / wall,
            "runs_per_s": trials * seeds / wall}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=None)
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--study", action="store_true", help="run the full optimise command (default 200 trials x 10 seeds)")
    p.add_argument("--out", default=None, help="--study output directory (default: a temporary one)")
    args = p.parse_args(argv)
    load = os.getloadavg()
    y = yardstick()
    rec: dict = {"yardstick_run_s": y, "load_before": load}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        if args.study:
            from culturedrift.experiments.cli import main as cli

            out = Path(args.out) if args.out else tmp / "study"
            trials, seeds = args.trials or 200, args.seeds or 10
            import yaml

            data = yaml.safe_load(SPEC.read_text())
            data["search"] = {**data["search"], "search_seeds": seeds}
            for k in ("base", "conditions"):
                data[k] = str((SPEC.parent / data[k]).resolve())
            data["compare_with"] = [str((SPEC.parent / c).resolve()) for c in data["compare_with"]]
            spec = tmp / "rollout_study.yaml"
            spec.write_text(yaml.safe_dump(data, sort_keys=False))
            t = time.perf_counter()
            code = cli(["optimise", str(spec), "--out", str(out), "--trials", str(trials), "--workers", "2",
                        "--no-progress"])
            rec["study"] = {"trials": trials, "seeds": seeds, "seconds": time.perf_counter() - t, "exit": code,
                            "summary": json.loads((out / "summary.json").read_text()) if code == 0 else None}
        else:
            trials, seeds = args.trials or 16, args.seeds or 4
            rec["throughput"] = [throughput(trials, seeds, w, tmp) for w in (1, 2)]
            for r in rec["throughput"]:
                r["runs_per_yardstick"] = r["runs_per_s"] * y
            rec["speedup_2_over_1"] = rec["throughput"][1]["trials_per_s"] / rec["throughput"][0]["trials_per_s"]
    rec["load_after"] = os.getloadavg()
    print(json.dumps(rec, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

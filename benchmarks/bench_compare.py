"""Benchmark of `culturedrift compare`: the default five strategies x 30 seeds x 5 years on 2 processes.

Usage: python benchmarks/bench_compare.py [--seeds 30] [--workers 2] [--weeks 260] [--out DIR] [--json]

Reports wall time of the runs and of writing tables, figures and report, CPU time per run, peak memory
of the parent and of the largest worker, and the machine's load average (other work on the machine
slows the wall time; CPU seconds per run do not depend on it much).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ("baseline", "big_bang", "phased", "phased_with_vigilance", "phased_vigilance_withdrawn")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--weeks", type=int, default=None, help="horizon override (default: the scenarios' 260)")
    p.add_argument("--out", default=None, help="output directory (default: a temporary one, removed after)")
    p.add_argument("--json", action="store_true", help="print only the JSON record")
    args = p.parse_args(argv)

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    from culturedrift.experiments.workflows.compare import compare  # import time is part of what a user waits for

    t_import = time.perf_counter() - t0
    paths = [ROOT / "scenarios" / f"{s}.yaml" for s in STRATEGIES]
    t1 = time.perf_counter()
    cmp = compare(paths, seeds=args.seeds, weeks=args.weeks, workers=args.workers, progress=not args.json)
    t_runs = time.perf_counter() - t1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "compare"
        t2 = time.perf_counter()
        written = cmp.write(out)
        t_write = time.perf_counter() - t2
        size = sum(p.stat().st_size for p in written.values())
    total = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    n_runs = len(cmp.results)
    cpu_runs = children.ru_utime + children.ru_stime if args.workers > 1 else None
    record = {
        "strategies": len(STRATEGIES), "seeds": args.seeds, "weeks": args.weeks or 260, "runs": n_runs,
        "workers": args.workers, "cores": os.cpu_count(),
        "import_s": round(t_import, 2), "runs_s": round(t_runs, 2), "write_s": round(t_write, 2),
        "total_s": round(total, 2), "runs_per_s": round(n_runs / t_runs, 2),
        "cpu_s_per_run": round(cpu_runs / n_runs, 3) if cpu_runs is not None else None,
        "peak_rss_parent_mib": round(me.ru_maxrss / 1024), "peak_rss_worker_mib": round(children.ru_maxrss / 1024),
        "output_mib": round(size / 2**20, 1), "loadavg_1m_before": round(load_before[0], 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
    }
    if not args.json:
        print(f"{len(STRATEGIES)} strategies x {args.seeds} seeds x {record['weeks']} weeks = {n_runs} runs on "
              f"{args.workers} processes: runs {t_runs:.1f} s, tables+figures+report {t_write:.1f} s, "
              f"total {total:.1f} s (import {t_import:.1f} s)", file=sys.stderr)
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())

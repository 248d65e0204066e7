"""`culturedrift robustness SPEC.yaml [STRATEGY.yaml ...]`: PRIM boxes of conditions where strategies fail."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from culturedrift.experiments.commands._args import parallel_options, positive_int
from culturedrift.experiments.execution.runner import RunFailed, default_workers


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "robustness", help="where do strategies fail? PRIM boxes over uncertain conditions, rank reversals",
        description="Sample the spec's uncertain conditions (Latin hypercube), run every strategy in each, and "
                    "find with PRIM (EMA Workbench) the boxes of conditions where each fails its threshold, "
                    "with coverage and density, plus the share of conditions in which each ranks first.")
    p.add_argument("spec", metavar="SPEC.yaml", help="robustness spec (e.g. experiments/robustness.yaml)")
    p.add_argument("strategies", nargs="*", metavar="STRATEGY.yaml",
                   help="strategies to test (default: the spec's `strategies`)")
    p.add_argument("--out", default="results/robustness", help="output directory (default results/robustness)")
    p.add_argument("--samples", type=positive_int, default=None, help="conditions to sample (default: the spec's)")
    p.add_argument("--seeds", type=positive_int, default=None, help="seeds per condition (default: the spec's)")
    parallel_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.workflows.optimise.robustness import run_robustness
    from culturedrift.experiments.workflows.optimise.workflow import executor_for

    t0 = time.perf_counter()
    try:
        with executor_for(args.scheduler) as ex:
            r = run_robustness(args.spec, args.strategies, Path(args.out), samples=args.samples, seeds=args.seeds,
                               workers=args.workers or default_workers(), executor=ex,
                               progress=not args.no_progress)
    except RunFailed as e:
        print(f"culturedrift robustness: error: {e}; nothing was written", file=sys.stderr)
        return 1
    print(f"{len(r.table)} conditions x {len(r.names)} strategies in {time.perf_counter() - t0:.0f} s")
    for n in r.names:
        print("  - " + r.box_text(n).replace("**", ""))
    print("  - " + r.headline()[-1])
    print(f"Report: {(Path(args.out) / 'report.html').resolve()}")
    return 0

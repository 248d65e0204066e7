"""`culturedrift optimise SPEC.yaml --out DIR`: search rollout schedules, recommend, check on fresh seeds."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from culturedrift.experiments.commands._args import parallel_options, positive_int
from culturedrift.experiments.execution.runner import RunFailed, default_workers


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "optimise", help="search rollout schedules (optuna), recommend, check on fresh seeds, report.html",
        description="Multi-objective search over the levers of SPEC.yaml (optuna study in DIR/study.db, resumable "
                    "and shareable), then the Pareto front, recommended schedules as scenario files, an "
                    "out-of-sample compare against the shipped strategies and report.html. See docs/optimise.md.")
    p.add_argument("spec", metavar="SPEC.yaml", help="optimisation spec (e.g. experiments/optimise_rollout.yaml)")
    p.add_argument("--out", required=True, help="output directory (holds the study: reuse it with --resume)")
    p.add_argument("--trials", type=positive_int, default=None, help="total trials in the study (default: the spec's)")
    parallel_options(p)
    p.add_argument("--resume", action="store_true",
                   help="continue the study in --out (or --storage); also how a second process joins a study")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="optuna RDB storage URL (default sqlite:///OUT/study.db; e.g. postgresql+psycopg2://...)")
    p.add_argument("--posterior", default=None, metavar="FILE",
                   help="calibration draws (CSV/Parquet; columns = scenario field paths) to score over")
    p.add_argument("--no-robustness", action="store_true", help="skip the where-does-it-fail analysis")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.cli import UsageError
    from culturedrift.experiments.workflows.optimise.workflow import run_optimise

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    workers = args.workers or default_workers()
    t0 = time.perf_counter()
    where = f"Dask cluster {args.scheduler}" if args.scheduler else f"{workers} local process(es)"
    print(f"Optimising {args.spec} on {where}; study in {args.storage or out / 'study.db'}", file=sys.stderr)
    try:
        o = run_optimise(args.spec, out, trials=args.trials, workers=workers, scheduler=args.scheduler,
                         resume=args.resume, posterior=args.posterior, storage=args.storage,
                         progress=not args.no_progress, robustness=not args.no_robustness)
    except RunFailed as e:
        print(f"culturedrift optimise: error: {e}; the study keeps every finished trial (rerun with --resume)",
              file=sys.stderr)
        return 1
    from culturedrift.experiments.workflows.optimise.report import verdict_sentences

    took = time.perf_counter() - t0
    n = len(o.trials)
    print(f"{n} trials ({int(o.trials['feasible'].sum()) if n else 0} feasible), Pareto front of {len(o.pareto)}; "
          f"{o.n_runs} runs in {took:.0f} s ({o.seconds.get('search', 0):.0f} s searching)")
    for line in verdict_sentences(o):
        print("  - " + line.replace("**", ""))
    if o.robustness is not None:
        for line in o.robustness.headline():
            print("  - " + line.replace("**", ""))
    print(f"Recommended schedules: {out / 'recommended'}/")
    print(f"Report: {(out / 'report.html').resolve()}")
    return 0

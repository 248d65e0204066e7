"""`culturedrift sweep EXPERIMENT.yaml --out DIR [--workers K] [--scheduler ADDRESS] [--resume]`."""

from __future__ import annotations

import argparse
import sys

from culturedrift.experiments.commands._args import positive_int, seconds, warn, workers_count


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a parameter sweep (grid, lhs, sobol, morris) locally or on Dask",
                       description="Run every (design point, replicate) of an experiment file, writing results "
                       "in chunks to DIR so an interrupted sweep continues with --resume. See docs/sweeps.md.")
    p.add_argument("experiment", metavar="EXPERIMENT.yaml")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep directory (manifest, points, runs)")
    p.add_argument("--workers", type=workers_count, default=None,
                   help="local processes (default: all cores; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run on a Dask distributed cluster, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--resume", action="store_true", help="continue a sweep in DIR, computing only missing runs")
    p.add_argument("--retry-failed", action="store_true", help="with --resume: also rerun runs that failed")
    p.add_argument("--overwrite", action="store_true", help="discard an existing sweep in DIR and start again")
    p.add_argument("--chunk-size", type=positive_int, default=None, help="runs per task (default: automatic)")
    p.add_argument("--flush-seconds", type=seconds(0, 3600), default=5.0,
                   help="write finished runs to disk at least this often (default 5, at most 3600)")
    p.add_argument("--oversubscribe", action="store_true", help="allow more --workers than cores")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.cli import UsageError
    from culturedrift.experiments.execution.errors import ExecutorLost
    from culturedrift.experiments.execution.executor import resolve_workers
    from culturedrift.experiments.workflows.sweep import SweepDirError, sweep

    if args.scheduler and args.workers:
        raise UsageError("--workers sizes the local pool; with --scheduler the Dask cluster's workers do the runs")
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite contradict each other; choose one")
    if args.retry_failed and not args.resume:
        raise UsageError("--retry-failed needs --resume")

    workers = None if args.scheduler else resolve_workers(args.workers, None, args.oversubscribe, warn=warn)
    try:
        report = sweep(args.experiment, args.out, workers=workers, scheduler=args.scheduler,
                       resume=args.resume, overwrite=args.overwrite, retry_failed=args.retry_failed,
                       chunk_size=args.chunk_size, progress=not args.no_progress,
                       flush_seconds=args.flush_seconds)
    except SweepDirError as e:
        raise UsageError(str(e)) from None
    except KeyboardInterrupt:
        print(f"culturedrift sweep: interrupted; finished runs are saved in {args.out}. Continue with:\n"
              f"  culturedrift sweep {args.experiment} --out {args.out} --resume", file=sys.stderr)
        return 130
    except ExecutorLost as e:
        print(f"culturedrift sweep: error: {e}. Continue with:\n"
              f"  culturedrift sweep {args.experiment} --out {args.out} --resume [--scheduler ADDRESS]",
              file=sys.stderr)
        return 1
    if report.computed:
        print(f"{report.computed} runs in {report.seconds:.1f} s ({report.rate:.2f} runs/s) on {report.executor}")
    if report.failed is not None and len(report.failed):
        print(report.failure_summary())
    print(f"Wrote {report.out}/: manifest.json, points.parquet, runs/, results.parquet, results.csv"
          + (", failures.csv" if len(report.failed) else ""))
    return 0

"""`culturedrift compare SCENARIO.yaml [...]`: strategies on the same seeds, decision table, figures, report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from culturedrift.experiments.commands._args import seeds_count, warn, weeks_count, workers_count
from culturedrift.experiments.commands.run import load_all
from culturedrift.experiments.execution.estimate import check_size, estimate
from culturedrift.experiments.execution.executor import resolve_workers
from culturedrift.experiments.execution.files import OutputLock, check_out
from culturedrift.experiments.execution.runner import RunFailed, default_workers
from culturedrift.experiments.reporting.style import FIGURE_FORMATS
from culturedrift.experiments.reporting.text import (
    RANK_STABILITY_TITLE,
    median_table,
    rank_stability_lines,
    reading_sections,
)
from culturedrift.experiments.workflows.compare import (
    OUTPUT_FILES,
    CompareError,
    Comparison,
    compare,
    write_comparison,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="compare strategies on the same seeds: decision table, figures, report.html",
        description="Run every scenario on seeds 0..N-1 (paired: common random numbers), then write the run "
                    "outputs, decision_table.csv/.md, figures and report.html/report.md into --out.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml", help="one scenario file per strategy")
    p.add_argument("--seeds", type=seeds_count, default=30, help="number of seeds (0..N-1), default 30")
    p.add_argument("--weeks", type=weeks_count, default=None,
                   help="compare the first W weeks of every scenario (a window, as in `run --weeks`: changes and "
                        "interventions dated later have not happened yet)")
    p.add_argument("--workers", type=workers_count, default=None,
                   help=f"local processes (default: all cores, here {default_workers()})")
    p.add_argument("--oversubscribe", action="store_true", help="allow more --workers than cores")
    p.add_argument("--allow-large", action="store_true", help="run even when the size estimate is past the limits")
    p.add_argument("--out", default="results/compare", help="output directory (default results/compare)")
    p.add_argument("--reference", default=None, metavar="NAME",
                   help="strategy the differences are taken against (default: the first scenario given)")
    p.add_argument("--ci", choices=("t", "bootstrap"), default="t",
                   help="confidence interval of paired differences: paired t-interval (default) or bootstrap")
    p.add_argument("--posterior", default=None, metavar="FILE",
                   help="draw each seed's uncertain parameters from a calibration posterior (CSV written by "
                   "`culturedrift calibrate`); the report then states rank stability")
    p.add_argument("--figure-format", action="append", choices=[f for f in FIGURE_FORMATS if f != "png"],
                   default=[], dest="formats",
                   help="also write every figure as SVG or PDF beside the PNG (repeat for both)")
    p.add_argument("--explain", action="store_true",
                   help="also re-run each strategy with each intervention switched off (same seeds) to show which "
                        "levers produced its effects (one extra run per strategy, intervention kind and seed)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.cli import UsageError

    scenarios = load_all(args.scenarios)
    posterior = None
    if args.posterior:
        from culturedrift.experiments.workflows.posterior import load_posterior

        posterior = load_posterior(args.posterior, scenarios[0])
    names = [s.name for s in scenarios]
    if args.reference is not None and args.reference not in names:
        raise UsageError(f"unknown reference '{args.reference}'; the strategies are {', '.join(names)}")
    out = check_out(args.out, OUTPUT_FILES)
    n_runs = len(scenarios) * args.seeds
    workers = resolve_workers(args.workers, n_runs, args.oversubscribe, warn=warn)
    check_size(estimate(scenarios, n_runs, args.weeks), workers, allow_large=args.allow_large)
    with OutputLock(out, "compare"):  # one writer per folder
        return _run(args, scenarios, names, out, n_runs, workers, posterior)


def _run(args: argparse.Namespace, scenarios: list, names: list[str], out: Path, n_runs: int, workers: int,
         posterior: object = None) -> int:
    from culturedrift.experiments.cli import UsageError

    progress = not args.no_progress
    print(f"Comparing {len(names)} strategies x {args.seeds} seeds = {n_runs} runs on {workers} "
          f"process{'es' if workers > 1 else ''}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        cmp = compare(scenarios, seeds=args.seeds, weeks=args.weeks, workers=workers, reference=args.reference,
                      ci_method=args.ci, progress=progress, explain=args.explain, posterior=posterior)
    except CompareError as e:
        raise UsageError(str(e)) from None
    except RunFailed as e:
        print(f"culturedrift compare: error: {e}; nothing was written", file=sys.stderr)
        return 1
    t_runs = time.perf_counter() - t0
    if progress:
        print(f"Runs done in {t_runs:.1f} s; writing tables, figures and report", file=sys.stderr)
    written = write_comparison(cmp, out, formats=tuple(args.formats))
    _print_summary(cmp)
    if cmp.rank_stability is not None:
        print("\nRank stability:")
        for line in rank_stability_lines(cmp):
            print("  - " + line)
    print(f"\nWrote {len(written)} files to {out}/ in {time.perf_counter() - t0:.1f} s "
          f"({len(cmp.results)} runs in {t_runs:.1f} s)")
    print(f"Report: {(out / 'report.html').resolve()}")
    return 0


def _print_summary(cmp: Comparison) -> None:
    """The decision table's medians and the reading, as plain text."""
    window = f", first {cmp.weeks} weeks" if cmp.weeks else ""
    print(f"\nMedian over {len(cmp.seeds)} seeds{window}; \u2605 best in column where the metric "
          f"applies, n/a where it does not (differences against {cmp.titles[cmp.reference]} are in "
          "decision_table.md and report.html):")
    print(median_table(cmp).console(max_header=14))
    print("\nReading:")
    for title, lines in reading_sections(cmp):
        if title != RANK_STABILITY_TITLE:  # printed under its own heading after the summary
            for line in lines:
                print("  - " + line.replace("**", ""))

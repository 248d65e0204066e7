"""`culturedrift warn EXPERIMENT.yaml --out DIR`: which observable indicators warn of slippage, and how early."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from culturedrift.experiments.commands._args import parallel_options, positive_int
from culturedrift.experiments.execution.runner import RunFailed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "warn", help="early warning: score observable indicators of culture slippage, recommend an alarm rule",
        description="Run the designed futures of EXPERIMENT.yaml (strategies x conditions x seeds), label each "
                    "run by whether material slippage follows, score every observable indicator (AUC, notice, "
                    "hit and false-alarm rates with intervals over seeds), and compare fixed with adaptive "
                    "vigilance; write report.html/report.md and tables into --out.")
    p.add_argument("experiment", metavar="EXPERIMENT.yaml", help="warn experiment file (e.g. experiments/warn.yaml)")
    p.add_argument("--out", default="results/warn", help="output directory (default results/warn)")
    p.add_argument("--seeds", type=positive_int, default=None, help="override the number of seeds (at least 2)")
    parallel_options(p, scheduler=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.cli import UsageError
    from culturedrift.experiments.workflows.warning import WarnError, load_experiment, run_warning
    from culturedrift.experiments.workflows.warning.report import write_report

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    exp, strategies, policies = load_experiment(args.experiment)
    if args.seeds is not None:
        if args.seeds < 2:
            raise UsageError("--seeds must be at least 2 (one to train on, one to test)")
        try:
            exp = exp.model_validate({**exp.model_dump(), "seeds": args.seeds})
        except ValueError as e:
            raise WarnError(f"--seeds {args.seeds}: {e}") from None
    t0 = time.perf_counter()
    n = len(strategies) * exp.conditions.samples * exp.seeds
    print(f"warn: {len(strategies)} strategies x {exp.conditions.samples} conditions x {exp.seeds} seeds = {n} runs"
          + (f", then {len(policies)} vigilance policies x {exp.policy.seeds} seeds" if exp.policy else ""),
          file=sys.stderr)
    try:
        res = run_warning(exp, strategies, policies, workers=args.workers, progress=not args.no_progress)
    except RunFailed as e:
        print(f"culturedrift warn: error: {e}; nothing was written", file=sys.stderr)
        return 1
    written = write_report(res, out)
    top = res.scores[res.scores["kind"].str.startswith("observable")].head(5)  # levels and rises since handover
    print("Best observable indicators (test runs; AUC [95% CI], median notice in weeks):")
    for r in top.itertuples():
        print(f"  {r.indicator:<34} AUC {r.auc:.2f} [{r.auc_lo:.2f}, {r.auc_hi:.2f}]  notice {r.lead_weeks:.0f}")
    print(f"Recommended alarm rule: {res.rule.describe() if res.rule else 'none (no indicator clears AUC 0.5)'}")
    print(f"Wrote {len(written)} files to {out}/ in {time.perf_counter() - t0:.0f} s")
    print(f"Report: {(out / 'report.html').resolve()}")
    return 0

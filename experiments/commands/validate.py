"""`culturedrift validate [--out DIR] [--quick]`: calibration, stylized facts and Munro loop checks in one report."""

from __future__ import annotations

import argparse
import json

from culturedrift.experiments.commands._args import warn, workers_count
from culturedrift.experiments.execution.executor import resolve_workers, show_progress
from culturedrift.experiments.execution.files import OutputLock, check_out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="patterns from evidence, labour-market checks, calibrated defaults, mechanism "
                       "checks", description="Run the patterns from evidence, the loop-gain map, the predictive "
                       "check of the calibrated defaults against the DfE workforce figures, the regional, no-runaway "
                       "and extreme-condition checks, the stylized-fact experiments and the Munro loop perturbation "
                       "checks, and write validation_report.md/.html with a pass/fail line per check "
                       "(docs/validation.md).")
    p.add_argument("--out", default="results/validation", help="output directory (default results/validation)")
    p.add_argument("--quick", action="store_true", help="small sizes (a minute or so): for a smoke check")
    p.add_argument("--workers", type=workers_count, default=None, help="local processes (default: all cores)")
    p.add_argument("--oversubscribe", action="store_true", help="allow more --workers than cores")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.add_argument("--strict", action="store_true", help="exit with status 1 if any check fails")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.workflows.validation.report import validate

    out = check_out(args.out, ("validation_report.md", "validation_report.html"))
    workers = resolve_workers(args.workers, None, args.oversubscribe, warn=warn)
    with OutputLock(out, "validate"), show_progress(None if args.no_progress else "validate"):
        verdict = validate(out, quick=args.quick, workers=workers)
    power = json.loads((out / "validation.json").read_text()).get("power", {})
    width = max(len(k) for k in verdict)
    for k, ok in verdict.items():
        print(f"  {k:<{width}}  {'PASS' if ok else 'FAIL'}" + (f"  ({power[k]})" if not ok and k in power else ""))
    n_fail = len(verdict) - sum(verdict.values())
    n_power = sum(v.startswith("power-limited") for v in power.values())
    print(f"{sum(verdict.values())}/{len(verdict)} checks pass" + (
        f"; {n_power} of the {n_fail} failures are power-limited (estimates point the expected way, too few seeds "
        f"for the interval to exclude zero{': expected with --quick' if args.quick else ''})" if n_power else "")
        + f". Wrote {out}/validation_report.md and .html")
    return 1 if args.strict and not all(verdict.values()) else 0

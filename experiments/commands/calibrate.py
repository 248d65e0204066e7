"""`culturedrift calibrate [--draws N] [--out DIR]`: the baseline calibration (rejection ABC) at full size.

Writes the accepted draws, the posterior table, the fit of the current defaults and the figure,
and prints the calibrated values next to the defaults in the code, so a change of defaults can be
reviewed. Settings and targets: experiments/calibration.yaml.
"""

from __future__ import annotations

import argparse
import json

from culturedrift.experiments.commands._args import draws_count, seeds_count, warn, workers_count
from culturedrift.experiments.execution.executor import resolve_workers, show_progress
from culturedrift.experiments.execution.files import OutputLock, atomic_write, check_out, write_text

OUTPUTS = ("abc_draws.csv", "posterior.csv", "fit.csv", "regions.csv", "calibrated.json", "calibration.png")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="fit the baseline's uncertain parameters to DfE workforce figures (ABC)",
                       description="Rejection ABC of the baseline against the DfE workforce statistics "
                       "(experiments/calibration.yaml).")
    p.add_argument("--draws", type=draws_count, default=None, help="prior draws (default: abc.draws in the settings)")
    p.add_argument("--seeds", type=seeds_count, default=None, help="seeds for the predictive check")
    p.add_argument("--out", default="results/calibration", help="output directory (default results/calibration)")
    p.add_argument("--workers", type=workers_count, default=None, help="local processes (default: all cores)")
    p.add_argument("--oversubscribe", action="store_true", help="allow more --workers than cores")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.workflows.validation import calibration as cal
    from culturedrift.model import Scenario

    out = check_out(args.out, OUTPUTS)
    settings = cal.load_settings()
    draws = args.draws or settings["abc"]["draws"]
    seeds = args.seeds or settings["predictive"]["seeds"]
    workers = resolve_workers(args.workers, None, args.oversubscribe, warn=warn)
    with OutputLock(out, "calibrate"), show_progress(None if args.no_progress else "calibrate"):
        res = cal.run_calibration(draws, seeds, workers, settings=settings)
        for name, key in (("abc_draws.csv", "abc"), ("posterior.csv", "posterior"), ("fit.csv", "fit"),
                          ("regions.csv", "regions")):
            atomic_write(out / name, lambda p, key=key: res[key].to_csv(p, index=False), fsync=False)
        write_text(out / "calibrated.json", json.dumps(res["calibrated"], indent=1))
        atomic_write(out / "calibration.png", lambda p: cal.figure(res["abc"], res["fit"], res["predictive"],
                                                                   res["scan"], settings, p), fsync=False)
    dump = Scenario(name="defaults").model_dump()
    print(f"Accepted {int(res['abc']['accepted'].sum())} of {draws} draws "
          f"(epsilon {res['abc'].attrs['epsilon']:.3g}).")
    print(res["posterior"].round(4).to_string(index=False))
    print("\nparameter                          calibrated   default in code")
    for k, v in res["calibrated"].items():
        node = dump
        for part in k.split("."):
            node = node[part]
        print(f"{k:<34} {v!s:<12} {node}")
    print("\nFit of the defaults in the code:")
    print(res["fit"].drop(columns="label").round(4).to_string(index=False))
    print("\nRegions:")
    print(res["regions"].round(4).to_string(index=False))
    print(f"\nWrote {out}/")
    return 0

"""`culturedrift calibrate [--draws N] [--out DIR]`: the baseline calibration (rejection ABC) at full size.

Writes the accepted draws, the posterior table, the fit of the current defaults and the figure,
and prints the calibrated values next to the defaults in the code, so a change of defaults can be
reviewed. Settings and targets: experiments/calibration.yaml.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from culturedrift.experiments.commands._args import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="fit the baseline's uncertain parameters to DfE workforce figures (ABC)",
                       description="Rejection ABC of the baseline against the DfE workforce statistics "
                       "(experiments/calibration.yaml).")
    p.add_argument("--draws", type=positive_int, default=None, help="prior draws (default: abc.draws in the settings)")
    p.add_argument("--seeds", type=positive_int, default=None, help="seeds for the predictive check")
    p.add_argument("--out", default="results/calibration", help="output directory (default results/calibration)")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="local processes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.workflows.validation import calibration as cal
    from culturedrift.model import Scenario

    settings = cal.load_settings()
    draws = args.draws or settings["abc"]["draws"]
    seeds = args.seeds or settings["predictive"]["seeds"]
    res = cal.run_calibration(draws, seeds, args.workers, settings=settings)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res["abc"].to_csv(out / "abc_draws.csv", index=False)
    res["posterior"].to_csv(out / "posterior.csv", index=False)
    res["fit"].to_csv(out / "fit.csv", index=False)
    res["regions"].to_csv(out / "regions.csv", index=False)
    (out / "calibrated.json").write_text(json.dumps(res["calibrated"], indent=1))
    cal.figure(res["abc"], res["fit"], res["predictive"], res["scan"], settings, out / "calibration.png")
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

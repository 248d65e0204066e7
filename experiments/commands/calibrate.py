"""`culturedrift calibrate [--size full|quick] [--out DIR]`: pattern-oriented ABC-SMC of the labour market.

Fits the structural labour-market parameters and each fitted region's pressure to several patterns
at once (data/patterns.yaml: the regional cross-section, the leaver tenure profile, stability), with
the runs spread over local processes. Writes the posterior population (the file `compare
--posterior` reads), which parameters the patterns identify, the fit to every target and each
generation's tolerance, and prints the calibrated values next to the defaults in the code.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from culturedrift.experiments.commands._args import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="fit the labour market to the DfE regional patterns (ABC-SMC)",
                       description="Pattern-oriented calibration (ABC-SMC) of the labour-market parameters to the "
                       "DfE regional cross-section, the leaver tenure profile and stability (data/patterns.yaml).")
    p.add_argument("--size", choices=("full", "quick"), default="full", help="population sizes (data/patterns.yaml)")
    p.add_argument("--population", type=positive_int, default=None, help="override the population size")
    p.add_argument("--generations", type=positive_int, default=None, help="override the number of generations")
    p.add_argument("--out", default="results/calibration", help="output directory (default results/calibration)")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="local processes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from culturedrift.experiments.execution.executor import local_map
    from culturedrift.experiments.workflows import patterns as pat
    from culturedrift.model import Scenario

    settings = pat.load_patterns()
    sz = settings["smc"][args.size]
    if args.population:
        sz["population"], sz["batch"] = args.population, max(args.population, round(args.population * 4 / 3))
    if args.generations:
        sz["generations"] = args.generations
    out = Path(args.out)
    t0 = time.perf_counter()
    with local_map(args.workers) as map_fn:
        res, dist = pat.calibrate(settings, args.size, map_fn=map_fn, progress=print)
    elapsed = time.perf_counter() - t0
    runs = res.simulations * len(settings["cross_section"]["fitted"])
    ident = res.identification()
    fit = pat.fit_table(res, dist, settings)
    out.mkdir(parents=True, exist_ok=True)
    pat.write_posterior(res, out / "posterior.csv")
    ident.to_csv(out / "identification.csv", index=False)
    fit.to_csv(out / "fit.csv", index=False)
    gens = [{"generation": i, "epsilon": g.epsilon, "simulations": g.simulations, "accepted": int(g.z.shape[0])}
            for i, g in enumerate(res.generations)]
    (out / "calibration.json").write_text(json.dumps({"generations": gens, "model_runs": runs,
                                                      "seconds": elapsed, "workers": args.workers,
                                                      "size": sz}, indent=1))
    dump = Scenario(name="defaults").model_dump()
    print(f"\n{runs} model runs ({res.simulations} evaluations x {len(settings['cross_section']['fitted'])} "
          f"geographies) in {elapsed:.0f} s on {args.workers} worker(s): {runs / elapsed:.2f} runs/s")
    print("\nWhich parameters the patterns identify (95% posterior interval / prior range < 0.5):")
    print(ident.round(4).to_string(index=False))
    print("\nparameter                                calibrated (median)   default in code")
    for _, r in ident.iterrows():
        node = dump
        for part in r["parameter"].split("."):
            node = node.get(part, "-") if isinstance(node, dict) else "-"
        print(f"{r['parameter']:<40} {r['median']:<21.4g} {node}")
    print("\nFit of the posterior population to each target (weighted median and 95% range):")
    print(fit.round(4).to_string(index=False))
    print(f"\nWrote {out}/ (posterior.csv is what `compare --posterior` reads)")
    return 0

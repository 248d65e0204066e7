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
    p.add_argument("--seeds", type=positive_int, default=None,
                   help="seeds per geography in every evaluation (default: run.seeds in data/patterns.yaml)")
    p.add_argument("--max-batches", type=positive_int, default=None,
                   help="batches of proposals a generation may use to fill its population "
                   "(default: data/patterns.yaml)")
    p.add_argument("--resume", default=None, metavar="FILE",
                   help="continue from a population written by an earlier run (its posterior.csv): --generations "
                   "then counts the new generations, so a long calibration runs in chunks")
    p.add_argument("--out", default="results/calibration", help="output directory (default results/calibration)")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, help="local processes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from culturedrift.experiments.execution.executor import local_map
    from culturedrift.experiments.workflows import patterns as pat
    from culturedrift.model import Scenario

    settings = pat.load_patterns()
    sz = settings["smc"][args.size]
    if args.population:
        sz["population"], sz["batch"] = args.population, max(args.population, round(args.population * 4 / 3))
    if args.generations:
        sz["generations"] = args.generations
    if args.seeds:
        sz["seeds"] = args.seeds
    if args.max_batches:
        sz["max_batches"] = args.max_batches
    resume = None
    if args.resume:
        try:
            resume = pd.read_csv(args.resume)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            print(f"culturedrift calibrate: --resume {args.resume}: cannot read it: {e}")
            return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def keep(res: object) -> None:
        """Write the population so far: a calibration stopped early keeps its last finished generation."""
        pat.write_posterior(res, out / "posterior.csv")
        pat.write_posterior(res, out / f"population_{res.last_index}.csv")  # every generation kept to compare

    with local_map(args.workers) as map_fn:
        try:
            res, dist = pat.calibrate(settings, args.size, map_fn=map_fn, progress=print, on_generation=keep,
                                      resume=resume)
        except ValueError as e:
            if resume is None:
                raise
            print(f"culturedrift calibrate: --resume {args.resume}: {e}")
            return 2
    elapsed = time.perf_counter() - t0
    per_eval = len(settings["cross_section"]["fitted"]) * int(sz.get("seeds", settings["run"].get("seeds", 1)))
    runs = res.simulations * per_eval
    ident = res.identification()
    fit = pat.fit_table(res, dist, settings)
    pat.write_posterior(res, out / "posterior.csv")
    ident.to_csv(out / "identification.csv", index=False)
    fit.to_csv(out / "fit.csv", index=False)
    gens = [{"generation": res.first_index + i, "epsilon": g.epsilon, "simulations": g.simulations,
             "accepted": int(g.z.shape[0]), "resumed_from": bool(resume is not None and i == 0)}
            for i, g in enumerate(res.generations)]
    (out / "calibration.json").write_text(json.dumps({"generations": gens, "model_runs": runs,
                                                      "seconds": elapsed, "workers": args.workers,
                                                      "size": sz}, indent=1))
    dump = Scenario(name="defaults").model_dump()
    print(f"\n{runs} model runs ({res.simulations} evaluations x {len(settings['cross_section']['fitted'])} "
          f"geographies x {per_eval // len(settings['cross_section']['fitted'])} seeds) in {elapsed:.0f} s on "
          f"{args.workers} worker(s): {runs / elapsed:.2f} runs/s")
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

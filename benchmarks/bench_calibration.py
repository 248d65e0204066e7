"""Calibration throughput: model runs per second of the pattern ABC-SMC evaluations on 1 and 2 workers.

One fixed batch of ABC-SMC evaluations (prior draws, each running every fitted geography of
data/patterns.yaml) is timed serially and on a pool of 2 local processes. The serial rate is the
yardstick measured in the same run; the printed ratio is the scaling from 1 to 2 workers (2.0 would be
perfect; less on a machine whose cores are busy with other work).

    .venv/bin/python benchmarks/bench_calibration.py [--evaluations 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from culturedrift.experiments.execution.executor import local_map
from culturedrift.experiments.workflows import abc_smc
from culturedrift.experiments.workflows import patterns as pat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaluations", type=int, default=8, help="evaluations per timing (default 8)")
    args = ap.parse_args()
    settings = pat.load_patterns()
    scen = pat.geography_scenarios(settings)
    ctx = pat.context_for(settings, scen)
    priors = abc_smc.priors_from(settings["priors"])
    rng = np.random.default_rng(1)
    tasks = []
    for i in range(args.evaluations):
        params = {p.name: p.value(float(p.from_unit(rng.uniform(*p.bounds)))) for p in priors}
        tasks.append((params, i, ctx))
    runs = args.evaluations * len(scen)
    rates = {}
    for workers in (1, 2):
        with local_map(workers) as map_fn:
            map_fn(pat.evaluate, tasks[:workers])  # start the workers and import the model before timing
            t0 = time.perf_counter()
            map_fn(pat.evaluate, tasks)
            rates[workers] = runs / (time.perf_counter() - t0)
        print(f"{workers} worker(s): {rates[workers]:.2f} model runs/s ({runs} runs of "
              f"{settings['run']['horizon_weeks']} weeks, {len(scen)} geographies per evaluation)")
    print(f"scaling 1 -> 2 workers: x{rates[2] / rates[1]:.2f} (serial rate is the yardstick; 2.0 = perfect)")


if __name__ == "__main__":
    main()

"""Benchmark of the full model: agent-steps per second by size, one 5-year run, peak memory.

Usage: python benchmarks/bench_model.py [--sizes 1000 10000 100000] [--big 1000000]
Each size is measured in a fresh process (so peak memory is that size's own).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from culturedrift.model import CultureDriftModel, Scenario, load_scenario, simulate


def staff_scenario(n_staff: int, weeks: int) -> Scenario:
    """An organisation of about n_staff people (11 staff slots per team + partners at the default ratio)."""
    n_teams = max(1, round(n_staff / 15))
    partners = max(3, round(n_staff * 80 / 300))
    return Scenario(name=f"bench_{n_staff}").with_updates({
        "horizon_weeks": weeks, "burn_in_weeks": 4, "organisation.n_teams": n_teams,
        "organisation.partner_agencies": {"police": partners // 4, "health": partners * 3 // 8,
                                          "education": partners - partners // 4 - partners * 3 // 8}})


def measure_size(n_staff: int, weeks: int) -> dict:
    """Agent-steps/s of the weekly step (construction excluded) with the phased programme's changes."""
    phased = load_scenario("scenarios/phased.yaml")
    sc = staff_scenario(n_staff, weeks).model_copy(update={"change_programme": phased.change_programme,
                                                           "interventions": phased.interventions})
    t0 = time.perf_counter()
    model = CultureDriftModel(sc, seed=1)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(weeks):
        model.step()
    dt = time.perf_counter() - t0
    n = model.state.n
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"slots": n, "weeks": weeks, "build_s": round(built, 3), "step_ms": round(1e3 * dt / weeks, 3),
            "agent_steps_per_s": round(n * weeks / dt), "peak_rss_mib": round(rss)}


def five_year_run() -> dict:
    """Wall time of one 5-year weekly run of the default 300-person authority (median of 7)."""
    sc = load_scenario("scenarios/phased.yaml")
    simulate(sc, 0)
    times = []
    for seed in range(7):
        t0 = time.perf_counter()
        simulate(sc, seed)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"five_year_run_ms_median": round(1e3 * times[3], 1), "min_ms": round(1e3 * times[0], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000])
    ap.add_argument("--big", type=int, default=1_000_000, help="one extra large size (0 to skip)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--weeks", type=int, default=52)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(measure_size(a.one, a.weeks)))
        return
    print("one 5-year run, 300-person authority (phased):", json.dumps(five_year_run()))
    for n in [*a.sizes, *([a.big] if a.big else [])]:
        weeks = a.weeks if n < 500_000 else 10
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--weeks", str(weeks)],
                             capture_output=True, text=True, check=True)
        print(f"{n:>9,} staff:", out.stdout.strip())


if __name__ == "__main__":
    main()

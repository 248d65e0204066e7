"""Benchmark of the full model against the idiomatic-Mesa yardstick, measured side by side in one invocation.

Usage: python benchmarks/bench_model.py [--sizes 1000 10000] [--big 1000000] [--weeks 20] [--repeats 3]

Prints, per size, agent-steps per second of the full model and of the yardstick
(benchmarks/yardstick_mesa.py: three numbers per person on a network, `shuffle_do`) and their ratio;
one 5-year run of the default 300-person authority; and, for the big size, peak memory and bytes per
slot. Every measurement runs in a fresh process (so peak memory is that size's own); sizes alternate
between the two models so background load hits both alike, and the best of `--repeats` is kept.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def staff_scenario(n_staff: int, weeks: int):
    """An organisation of about n_staff people (11 staff slots per team + partners at the default ratio)."""
    from culturedrift.model import Scenario, load_scenario

    n_teams = max(1, round(n_staff / 15))
    partners = max(3, round(n_staff * 80 / 300))
    phased = load_scenario(ROOT / "scenarios" / "phased.yaml")
    sc = Scenario(name=f"bench_{n_staff}").with_updates({
        "horizon_weeks": weeks, "burn_in_weeks": 4, "organisation.n_teams": n_teams,
        "organisation.partner_agencies": {"police": partners // 4, "health": partners * 3 // 8,
                                          "education": partners - partners // 4 - partners * 3 // 8}})
    return sc.model_copy(update={"change_programme": phased.change_programme, "interventions": phased.interventions})


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_model(n_staff: int, weeks: int) -> dict:
    """Agent-steps/s of the full model's weekly step (construction excluded), phased programme's changes."""
    from culturedrift.model import CultureDriftModel

    sc = staff_scenario(n_staff, weeks)
    base = _peak_mib()
    t0 = time.perf_counter()
    model = CultureDriftModel(sc, seed=1)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(weeks):
        model.step()
    dt = time.perf_counter() - t0
    n = model.state.n
    peak = _peak_mib()
    return {"slots": n, "weeks": weeks, "build_s": round(built, 3), "step_ms": round(1e3 * dt / weeks, 3),
            "agent_steps_per_s": round(n * weeks / dt), "peak_rss_mib": round(peak),
            "bytes_per_slot": round((peak - base) * 2**20 / n)}


def measure_yardstick(n: int, weeks: int) -> dict:
    """Agent-steps/s of the idiomatic Mesa model of the same size."""
    sys.path.insert(0, str(Path(__file__).parent))
    from yardstick_mesa import StaffOnNetwork

    model = StaffOnNetwork(n, rng=1)
    t0 = time.perf_counter()
    for _ in range(weeks):
        model.step()
    dt = time.perf_counter() - t0
    return {"slots": n, "weeks": weeks, "agent_steps_per_s": round(n * weeks / dt)}


def five_year_run(repeats: int = 7) -> dict:
    """Wall time of one 5-year weekly run of the default 300-person authority (phased; median and best)."""
    from culturedrift.model import load_scenario, simulate

    sc = load_scenario(ROOT / "scenarios" / "phased.yaml")
    simulate(sc, 0)
    times = []
    for seed in range(repeats):
        t0 = time.perf_counter()
        simulate(sc, seed)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"median_ms": round(1e3 * times[len(times) // 2], 1), "min_ms": round(1e3 * times[0], 1)}


def _fresh(kind: str, n: int, weeks: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(n), str(weeks)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000])
    ap.add_argument("--big", type=int, default=1_000_000, help="one extra large size for memory (0 to skip)")
    ap.add_argument("--weeks", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        kind, n, weeks = a.one[0], int(a.one[1]), int(a.one[2])
        print(json.dumps(measure_model(n, weeks) if kind == "model" else measure_yardstick(n, weeks)))
        return
    print("one 5-year run, 300-person authority (phased):", json.dumps(five_year_run()))
    print(f"{'staff':>9} {'model steps/s':>14} {'Mesa yardstick':>15} {'ratio':>7}")
    for n in a.sizes:
        best_m = best_y = 0
        for _ in range(a.repeats):  # alternate, so load hits both alike; keep the best of each
            best_m = max(best_m, _fresh("model", n, a.weeks)["agent_steps_per_s"])
            best_y = max(best_y, _fresh("yardstick", n, max(2, a.weeks // 4))["agent_steps_per_s"])
        print(f"{n:>9,} {best_m:>14,} {best_y:>15,} {best_m / best_y:>6.1f}x")
    if a.big:
        big = _fresh("model", a.big, 4)
        print(f"{a.big:>9,} staff: {big['slots']:,} slots, peak {big['peak_rss_mib']:,} MiB "
              f"({big['bytes_per_slot']:,} bytes per slot), {big['agent_steps_per_s']:,} agent-steps/s")


if __name__ == "__main__":
    main()

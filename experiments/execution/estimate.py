"""Sizes estimated before anything runs: memory per run, results held in memory, CPU time; refused past a limit.

The rates are rough and deliberately so (README, "Tests and benchmark": ~2 KB of model state per slot,
~1 microsecond per slot-week plus ~1.2 ms of per-week overhead, ~400 bytes of results per run-week held
in memory); they only need to tell a laptop-sized job from a typo such as `--seeds 1000000000` or
`n_teams: 200000`, before memory is allocated. `--allow-large` lets a user who knows better go ahead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from culturedrift.experiments.execution.errors import InputError

BYTES_PER_SLOT = 2_000
BASE_BYTES_PER_PROCESS = 150e6
SECONDS_PER_SLOT_WEEK = 1e-6
SECONDS_PER_WEEK = 1.2e-3
RESULT_BYTES_PER_RUN_WEEK = 400
MAX_HOURS = 24.0


@dataclass(frozen=True)
class Estimate:
    """What a batch of runs will cost, roughly."""

    runs: int
    slots: int  # largest organisation
    weeks: int  # longest horizon
    memory_per_process: float
    results_bytes: float
    cpu_seconds: float

    def describe(self) -> str:
        return (f"{self.runs:,} runs of up to {self.slots:,} people x {self.weeks:,} weeks: about "
                f"{self.memory_per_process / 1e9:,.1f} GB per process, {self.results_bytes / 1e9:,.1f} GB of "
                f"results and {self.cpu_seconds / 3600:,.1f} CPU hours")


def slots(scenario: object) -> int:
    """Model slots of a scenario's organisation (posts, managers, overflow slots and partner workers)."""
    org = scenario.organisation  # type: ignore[attr-defined]
    return int(org.n_teams * (org.team_size + 1 + org.overflow_slots_per_team) + sum(org.partner_agencies.values()))


def estimate(scenarios: Sequence[object], runs: int, weeks: int | None = None) -> Estimate:
    """The cost of `runs` runs of the largest of `scenarios` (horizon `weeks` if given)."""
    n = max(slots(s) for s in scenarios)
    w = weeks or max(int(s.horizon_weeks) for s in scenarios)  # type: ignore[attr-defined]
    return Estimate(runs, n, w, BASE_BYTES_PER_PROCESS + n * BYTES_PER_SLOT,
                    runs * (w + 1) * RESULT_BYTES_PER_RUN_WEEK,
                    runs * w * (SECONDS_PER_WEEK + n * SECONDS_PER_SLOT_WEEK))


def available_memory() -> float:
    """Memory the OS says is available (MemAvailable), or the physical total where that is unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8e9


def check_size(est: Estimate, workers: int = 1, keep_results: bool = True, allow_large: bool = False) -> Estimate:
    """Refuse a batch that cannot fit (memory) or would run past `MAX_HOURS`, unless `allow_large`."""
    if allow_large:
        return est
    mem = available_memory()
    problems = []
    if est.memory_per_process * max(workers, 1) > 0.8 * mem:
        problems.append(f"{workers} process(es) need about {est.memory_per_process * workers / 1e9:,.1f} GB, "
                        f"more than 80% of the {mem / 1e9:,.1f} GB available")
    if keep_results and est.results_bytes > 0.5 * mem:
        problems.append(f"the results held in memory need about {est.results_bytes / 1e9:,.1f} GB, more than half "
                        f"of the {mem / 1e9:,.1f} GB available")
    hours = est.cpu_seconds / 3600 / max(workers, 1)
    if hours > MAX_HOURS:
        problems.append(f"about {hours:,.0f} hours on {workers} process(es), past the limit of {MAX_HOURS:g} hours")
    if problems:
        raise InputError(f"too large: {est.describe()}; " + "; ".join(problems)
                         + ". Make it smaller, or pass --allow-large to run it anyway")
    return est

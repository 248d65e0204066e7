"""Dask settings for clusters that run simulations: long CPU-bound tasks, not interactive analysis.

Dask's defaults serve a dashboard user: every server samples its own event loop and every worker samples
its running tasks each 10 ms (the statistical profiler), every event loop ticks each 20 ms, system and
memory monitors poll each 0.5 s and 0.1 s. A worker running one simulation after another pays for all of
that in CPU time taken from the runs, and in a busy worker's event loop waking up to take the GIL from
the running task. `SIMULATION_CONFIG` turns the samplers off and slows the monitors; everything a sweep
uses (scheduling, retries, memory limits, heartbeats) is unchanged. Measured in docs/performance.md;
docs/execution.md shows how to start `dask scheduler` / `dask worker` with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

SIMULATION_CONFIG: dict[str, Any] = {
    # the 10 ms samplers of running tasks (worker) and of every event loop (scheduler, nanny, worker)
    "distributed.worker.profile.enabled": False,
    # a 1 ms GIL-contention sampler, active only where the optional gilknocker package is installed
    "distributed.admin.system-monitor.gil.enabled": False,
    # the event loop's liveness check (20 ms by default); it still reports a loop blocked for > 3 s
    "distributed.admin.tick.interval": "1s",
    # CPU, memory and network counters for the dashboard (0.5 s by default)
    "distributed.admin.system-monitor.interval": "2s",
    # the memory monitor that spills, pauses or restarts a worker near its limit (0.1 s by default)
    "distributed.worker.memory.monitor-interval": "1s",
}


def environment(config: dict[str, Any] | None = None) -> dict[str, str]:
    """The settings as DASK_* environment variables, for `dask scheduler` / `dask worker` processes."""
    return {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
            for key, value in (SIMULATION_CONFIG if config is None else config).items()}


def yaml_text(config: dict[str, Any] | None = None) -> str:
    """The settings as a Dask YAML file (e.g. ~/.config/dask/culturedrift.yaml on every node)."""
    import yaml

    tree: dict[str, Any] = {}
    for key, value in (SIMULATION_CONFIG if config is None else config).items():
        *path, leaf = key.split(".")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return yaml.safe_dump(tree, sort_keys=False)


@contextlib.contextmanager
def local_cluster(n_workers: int = 2, config: dict[str, Any] | None = None, **kwargs: Any) -> Iterator[Any]:
    """A Dask LocalCluster on 127.0.0.1 with single-threaded worker processes, no dashboard and the
    simulation settings (its nannies hand them to every worker, restarted ones included)."""
    import dask
    from distributed import LocalCluster

    options: dict[str, Any] = {"n_workers": n_workers, "threads_per_worker": 1, "processes": True,
                               "host": "127.0.0.1", "dashboard_address": None} | kwargs
    with dask.config.set(SIMULATION_CONFIG if config is None else config), LocalCluster(**options) as cluster:
        yield cluster


def settings_here() -> dict[str, Any]:
    """This process's values of the simulation settings (run on each worker to see how it was started)."""
    import dask

    return {key: dask.config.get(key, None) for key in SIMULATION_CONFIG}


def untuned(reported: dict[str, dict[str, Any]]) -> list[str]:
    """Workers (address) whose settings differ from `SIMULATION_CONFIG` in a way that costs CPU per run."""
    from dask.utils import parse_timedelta

    def costly(key: str, value: Any) -> bool:
        want = SIMULATION_CONFIG[key]
        if isinstance(want, bool):
            return bool(value) and not want
        try:
            return parse_timedelta(value) < parse_timedelta(want)
        except (TypeError, ValueError):
            return False

    return sorted(addr for addr, got in reported.items() if any(costly(k, got.get(k)) for k in SIMULATION_CONFIG))

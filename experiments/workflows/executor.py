"""A persistent local process pool as a `map_fn(fn, tasks)` for the sequential workflows (calibration, fitting).

Sequential methods call the map many times (one batch per ABC-SMC generation, one per fitting step);
one pool for the whole workflow saves a process start-up and the model import per call. Results
come back in task order, so they do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any


@contextmanager
def local_map(workers: int) -> Iterator[Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]]:
    """Yield map_fn(fn, tasks) -> [fn(*task) ...] over `workers` processes (serial when workers == 1)."""
    if workers <= 1:
        yield lambda fn, tasks: [fn(*t) for t in tasks]
        return
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver"))
    try:
        yield lambda fn, tasks: list(ex.map(fn, *zip(*tasks, strict=True))) if tasks else []
    finally:
        ex.shutdown(wait=True, cancel_futures=True)

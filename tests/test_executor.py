"""The one executor: same results serially, on local processes and on any concurrent.futures pool; an initializer
runs once per worker; failures name their task; worker counts are capped at the cores unless asked."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from culturedrift.experiments.execution import executor as ex_mod
from culturedrift.experiments.execution.errors import InputError
from culturedrift.experiments.execution.executor import (
    LocalProcesses,
    Serial,
    TaskFailed,
    auto_chunk_size,
    check_dask_address,
    chunk_plan,
    pmap,
    resolve_workers,
    run_map,
)


def square(x: int) -> int:
    if x == 13:
        raise ValueError("unlucky")
    return x * x


def pid_and_mark(_: int) -> tuple[int, str | None]:
    return os.getpid(), os.environ.get("CULTUREDRIFT_TEST_WARM")


def warm() -> None:
    os.environ["CULTUREDRIFT_TEST_WARM"] = f"warmed in {os.getpid()}"


def add(a: int, b: int) -> int:
    return a + b


def test_every_executor_gives_the_same_ordered_results():
    items = list(range(12))
    want = [x * x for x in items]
    assert run_map(square, items, executor=Serial()) == want
    with ThreadPoolExecutor(3) as pool:
        assert run_map(square, items, executor=pool, chunk_size=5) == want
    with LocalProcesses(2) as ex:
        assert run_map(square, items, executor=ex, chunk_size=1) == want
        assert run_map(square, items, executor=ex) == want
    assert pmap(add, [(i, 1) for i in items], workers=2) == [i + 1 for i in items]


def test_a_failing_task_is_named_and_the_initializer_runs_once_per_worker():
    with pytest.raises(TaskFailed, match="task 13 failed: ValueError: unlucky") as e:
        run_map(square, list(range(20)), workers=2, chunk_size=3)
    assert e.value.index == 13
    with LocalProcesses(2, initializer=warm) as ex:
        rows = run_map(pid_and_mark, list(range(8)), executor=ex, chunk_size=1)
    assert all(mark == f"warmed in {pid}" for pid, mark in rows)
    assert os.getpid() not in {pid for pid, _ in rows}


def test_worker_counts_and_chunks(monkeypatch):
    monkeypatch.setattr(ex_mod, "cores", lambda: 2)
    notes: list[str] = []
    assert resolve_workers(40, warn=notes.append) == 2 and "--oversubscribe" in notes[0]
    assert resolve_workers(4, oversubscribe=True) == 4
    assert resolve_workers(None, n_tasks=1) == 1
    with pytest.raises(InputError, match="limit"):
        resolve_workers(10_000, oversubscribe=True)
    assert auto_chunk_size(80, 2) == 10 and auto_chunk_size(3, 2) == 1 and auto_chunk_size(10_000, 2) == 16


@pytest.mark.parametrize("n", [0, 1, 7, 80, 1000])
def test_guided_chunks_cover_every_task_once_and_end_with_single_tasks(n):
    plan = chunk_plan(n, 2)
    sizes = [k for _, k in plan]
    assert [s for s, _ in plan] == list(np.cumsum([0, *sizes[:-1]])) if plan else n == 0
    assert sum(sizes) == n and sizes == sorted(sizes, reverse=True) and max(sizes, default=1) <= 16
    assert n < 8 or (sizes[0] == auto_chunk_size(n, 2) and sizes[-2:] == [1, 1])
    assert chunk_plan(10, 2, chunk_size=4) == [(0, 4), (4, 4), (8, 2)]


def test_dask_addresses_are_checked_at_once():
    assert check_dask_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert check_dask_address("tls://10.0.0.5:8786") == "tls://10.0.0.5:8786"
    for bad in ("foo://bar", "tcp://", "http://example.org"):
        with pytest.raises(InputError, match="--scheduler"):
            check_dask_address(bad)

"""The one executor: runs many independent tasks in this process, on local worker processes or on Dask.

Every command that runs many simulations (run, compare, sweep, validate, calibrate) goes through
`imap` / `run_map` here, so chunking, retries, progress, interrupts and worker hygiene are written once:

- tasks are sent in chunks (several tasks per message) so the per-task overhead of a pool or a Dask
  scheduler stays small against a run; by default the chunks shrink as the batch drains (guided
  scheduling: large first, single tasks last), so no worker sits idle at the end while another finishes
  a large chunk; results come back per task, in task order from `run_map`;
- a chunk whose worker died (killed, out of memory, a lost Dask worker) is sent again, up to
  `MAX_ATTEMPTS` times; a task that raises stops the batch with `TaskFailed` naming the task;
- local workers ignore Ctrl-C (the driving process stops them) and exit by themselves when the driving
  process dies, even from SIGKILL (a watchdog thread polls its pid), so nothing is left behind;
- an optional `initializer` runs once per worker process, locally and on Dask, after the model's own
  `culturedrift.model.warm_up()` if it defines one (e.g. to load compiled kernels from the JIT cache);
- Dask waits are bounded: a cluster with no workers, a lost scheduler or an address that is not a Dask
  scheduler raise `ExecutorLost` / `InputError` with a message instead of hanging.

Results are the same on every executor: each task owns its random streams.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import multiprocessing
import multiprocessing.context
import os
import signal
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tqdm import tqdm

from culturedrift.experiments.execution.errors import ExecutorLost, InputError

MAX_ATTEMPTS = 3
MAX_WORKERS = 256  # even with --oversubscribe: a typo such as --workers 10000 must not fork-bomb a laptop
BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit} |{bar}| {percentage:3.0f}% [{elapsed} elapsed, ETA {remaining}]"
DASK_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")
DASK_CONNECT_TIMEOUT = 20.0  # seconds to reach a scheduler, and again to see its first worker
DASK_NO_WORKER_TIMEOUT = 60.0  # seconds a running batch waits for a cluster that has lost every worker


class TaskFailed(RuntimeError):
    """Task number `index` raised `error` (chained) inside a worker."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(f"task {index} failed: {type(error).__name__}: {error}")
        self.index = index
        self.error = error


class _ItemError(Exception):
    """Carries the position of the task that raised inside a chunk back to the driving process."""

    def __init__(self, position: int, error: BaseException) -> None:
        super().__init__(position, error)
        self.position = position
        self.error = error


def cores() -> int:
    """Usable cores (the CPU affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_workers(requested: int | None, n_tasks: int | None = None, oversubscribe: bool = False,
                    warn: Callable[[str], None] | None = None) -> int:
    """How many local processes to use: all cores by default, never more than the cores unless asked."""
    n = cores() if requested is None else int(requested)
    if n < 1:
        raise InputError(f"--workers must be at least 1, got {n}")
    if n > MAX_WORKERS:
        raise InputError(f"--workers {n} is more than the limit of {MAX_WORKERS} local processes")
    if n > cores() and not oversubscribe:
        if warn is not None:
            warn(f"--workers {n} is more than the {cores()} cores here; using {cores()} "
                 "(pass --oversubscribe to start more processes than cores)")
        n = cores()
    return max(1, min(n, n_tasks)) if n_tasks else n


def auto_chunk_size(n_tasks: int, capacity: int, per_slot: int = 4, most: int = 16) -> int:
    """About `per_slot` chunks per worker slot (few messages, a short tail), between 1 and `most` tasks each."""
    return max(1, min(most, math.ceil(n_tasks / (max(capacity, 1) * per_slot))))


def chunk_plan(n_tasks: int, capacity: int, chunk_size: int | None = None, per_slot: int = 4,
               most: int = 16) -> list[tuple[int, int]]:
    """(start, size) of each chunk: `chunk_size` tasks each when given, else guided: each chunk takes a
    1/(capacity x per_slot) share of the tasks still unsent (at most `most`, at least 1), so messages are few
    while the batch is long and the last chunks are single tasks (a short tail: two workers stay busy to the end)."""
    plan, start = [], 0
    while start < n_tasks:
        size = chunk_size or auto_chunk_size(n_tasks - start, capacity, per_slot, most)
        plan.append((start, min(size, n_tasks - start)))
        start += size
    return plan


def _run_chunk(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """Worker side: one chunk of tasks, in order; the first that raises is reported with its position."""
    out = []
    for k, item in enumerate(items):
        try:
            out.append(fn(item))
        except Exception as e:
            raise _ItemError(k, e) from None
    return out


# -- executors -----------------------------------------------------------------------------------
class Executor:
    """Where chunks run: submit/wait on futures, recognise infrastructure faults, stop cleanly."""

    label = "executor"
    capacity = 1
    chunks_per_slot = 4  # guided chunks: each takes a 1/(capacity x this) share of the tasks still unsent

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    def wait(self, pending: list[Any]) -> set[Any]:
        """Some finished futures among `pending` (blocks until at least one has finished)."""
        raise NotImplementedError

    def result(self, fut: Any) -> Any:
        return fut.result()

    def infra_error(self, exc: BaseException) -> bool:
        """True when `exc` says a worker died (retry the chunk) rather than that the task raised."""
        return False

    def recover(self) -> None:
        """Make the executor usable again after an infrastructure fault."""

    def close(self, interrupted: bool = False) -> None:
        """Release the workers; when interrupted, stop running tasks instead of waiting for them."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(interrupted=kind is not None)


class Serial(Executor):
    """In this process, one task after another: no pool, no pickling."""

    label = "in-process (1 worker)"

    def __init__(self, initializer: Callable[[], None] | None = None) -> None:
        if initializer is not None:
            initializer()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as e:
            fut.set_exception(e)
        return fut

    def wait(self, pending: list[Any]) -> set[Any]:
        return set(pending)


def _single_threaded() -> bool:
    """No other Python thread runs here (one could hold a lock a forked child would inherit locked). Threads of
    native libraries (OpenBLAS starts some when numpy is imported) are fork-aware and do not count."""
    return threading.active_count() == 1


def pool_context() -> multiprocessing.context.BaseContext:
    """Fork when that is safe (POSIX, one thread here: workers start instantly with everything imported), else
    a fork server that has imported the model once (fork from a multi-threaded process can deadlock)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["culturedrift.experiments.execution.executor", "culturedrift.model"])
        return ctx
    return multiprocessing.get_context("spawn")


def process_alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _watch_driver(driver: int, interval: float = 0.5) -> None:
    while True:
        time.sleep(interval)
        if not process_alive(driver):
            os._exit(70)


def worker_start(driver: int, initializer: Callable[[], None] | None = None) -> None:
    """Runs first in every local worker: ignore Ctrl-C, die with the driver, then the user's initializer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker must not inherit the driver's handler
    with contextlib.suppress(Exception):  # Linux: the kernel kills us when our parent dies
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    threading.Thread(target=_watch_driver, args=(driver,), daemon=True, name="driver-watchdog").start()
    warm_model()
    if initializer is not None:
        initializer()


def warm_model() -> None:
    """Once per worker: `culturedrift.model.warm_up()` if the model has one (e.g. loading compiled kernels from
    the JIT cache), so no run pays for it; then everything loaded so far is moved out of the garbage collector's
    sight (`gc.freeze`)."""
    import culturedrift.model as model

    warm = getattr(model, "warm_up", None)
    if callable(warm):
        warm()
    freeze_loaded()


def freeze_loaded() -> None:
    """Exempt every object that exists now (imported modules, compiled kernels, a Dask worker's machinery: about
    200,000 objects) from later garbage collections: they live as long as the worker, and each full collection
    (one every 40-200 runs) traversed all of them, about 0.1-0.2 s, and in a forked worker wrote to every page it
    shares with its parent. The young generations are collected first (the warm-up's model); objects made later
    are collected as before."""
    import gc

    gc.collect(1)
    gc.freeze()


class LocalProcesses(Executor):
    """A pool of local worker processes that exit when this process dies."""

    def __init__(self, workers: int, initializer: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.initializer = initializer
        self.capacity = workers
        self.label = f"local process pool ({workers} workers)"
        self.pool = self._new_pool(pool_context())

    def _new_pool(self, ctx: multiprocessing.context.BaseContext) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=worker_start,
                                   initargs=(os.getpid(), self.initializer))
        with warnings.catch_warnings():  # Python warns of forking with any thread, native ones included (above)
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            pool.submit(int).result()  # start the workers now, before any progress-bar thread exists
        return pool

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.pool.submit(fn, *args)

    def wait(self, pending: list[Any]) -> set[Any]:
        return wait(pending, return_when=FIRST_COMPLETED).done

    def infra_error(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)

    def recover(self) -> None:
        self._stop(self.pool)
        ctx = pool_context() if _single_threaded() else multiprocessing.get_context("forkserver")
        self.pool = self._new_pool(ctx)

    @staticmethod
    def _stop(pool: ProcessPoolExecutor) -> None:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.kill()

    def close(self, interrupted: bool = False) -> None:
        if interrupted:  # do not wait for running tasks: stop the workers
            self._stop(self.pool)
        else:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _run_pickled(payload: bytes) -> Any:
    """Worker side of a Dask task: its function and arguments, pickled together by the client."""
    import pickle

    fn, args = pickle.loads(payload)
    return fn(*args)


class DaskCluster(Executor):
    """A Dask distributed cluster reached through its scheduler address; every wait is bounded."""

    def __init__(self, address: str, initializer: Callable[[], None] | None = None,
                 connect_timeout: float | None = None, no_worker_timeout: float | None = None,
                 resume_hint: str = "") -> None:
        from distributed import Client

        address = check_dask_address(address)
        connect_timeout = connect_timeout or DASK_CONNECT_TIMEOUT
        no_worker_timeout = no_worker_timeout or DASK_NO_WORKER_TIMEOUT
        self.address = address
        self.hint = resume_hint
        self.no_worker_timeout = no_worker_timeout
        box: dict[str, Any] = {}

        def connect() -> None:  # in a thread: a non-Dask service at the address can stall the handshake
            try:
                box["client"] = Client(address, timeout=connect_timeout, set_as_default=False)
            except BaseException as e:
                box["error"] = e

        t = threading.Thread(target=connect, daemon=True, name="dask-connect")
        t.start()
        t.join(connect_timeout + 5)
        if "client" not in box:
            err = box.get("error")
            why = f"{type(err).__name__}: {err}" if err else f"no answer within {connect_timeout + 5:.0f} s"
            raise InputError(f"cannot reach the Dask scheduler at {address} ({why}); check the address and "
                             "that `dask scheduler` runs there")
        self.client = box["client"]
        try:
            self.client.wait_for_workers(1, timeout=connect_timeout)
        except (OSError, TimeoutError):
            self.client.close()
            raise InputError(f"the Dask scheduler at {address} has no workers (start some with "
                             f"`dask worker {address}`)") from None
        from distributed.diagnostics.plugin import WorkerPlugin

        class WarmWorker(WorkerPlugin):
            """The model's warm-up and the user's initializer, once per worker (workers joining later too)."""

            name = "culturedrift-warm-up"

            def __init__(self, fn: Callable[[], None] | None) -> None:
                self.fn = fn

            def setup(self, worker: Any) -> None:
                warm_model()
                if self.fn is not None:
                    self.fn()

        self.client.register_plugin(WarmWorker(initializer))
        # a chunk costs about 13 CPU ms of Dask's messaging (submit, schedule, gather, release) against 0.2 ms on a
        # local pool: half as many chunks, the last ones still single tasks
        self.chunks_per_slot = 2
        threads = sum(self.client.nthreads().values())
        self.capacity = max(threads, 1)
        self.untuned = self._untuned(connect_timeout)
        note = (f"; {len(self.untuned)} on Dask's interactive defaults, which cost CPU per run: see "
                "docs/execution.md" if self.untuned else "")
        self.label = f"Dask cluster {address} ({len(self.client.nthreads())} workers, {threads} threads{note})"

    def _untuned(self, timeout: float) -> list[str]:
        """Workers whose profiler or monitors run at Dask's interactive rates (said in the label, so a user
        can restart them with the simulation settings; a cluster's settings are its owner's to change)."""
        from culturedrift.experiments.execution.dask_setup import settings_here, untuned

        box: dict[str, Any] = {}

        def ask() -> None:
            with contextlib.suppress(Exception):
                box["reported"] = self.client.run(settings_here, on_error="ignore")

        t = threading.Thread(target=ask, daemon=True, name="dask-settings")
        t.start()
        t.join(timeout)
        return untuned(box.get("reported") or {})

    def _hint(self) -> str:
        return f". {self.hint}" if self.hint else ""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        import cloudpickle

        # the task and its arguments go as one pickle the scheduler passes on unread: given as objects, the scheduler
        # unpickles every chunk, so it imported the model for the first (2.8 CPU s, taken from the workers when they
        # share its machine: 35 ms a run over a first 80-run batch)
        return self.client.submit(_run_pickled, cloudpickle.dumps((fn, args)), pure=False)

    def wait(self, pending: list[Any]) -> set[Any]:
        from distributed import wait as dwait

        idle_since: float | None = None
        while True:
            try:
                with self.client.as_current():
                    done = dwait(pending, timeout=2.0, return_when="FIRST_COMPLETED").done
                if done:
                    return set(done)
            except TimeoutError:
                pass
            except Exception as e:
                raise self._lost(e) from None
            if self.client.status in ("closed", "closing"):
                raise self._lost(RuntimeError("the connection to the scheduler closed"))
            try:
                workers = len(self.client.nthreads())
            except Exception as e:
                raise self._lost(e) from None
            if workers:
                idle_since = None
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > self.no_worker_timeout:
                raise ExecutorLost(f"the Dask cluster at {self.address} has had no workers for "
                                   f"{self.no_worker_timeout:.0f} s{self._hint()}")

    def result(self, fut: Any) -> Any:
        from distributed.client import FutureCancelledError

        try:
            return fut.result(timeout=60)
        except (FutureCancelledError, TimeoutError) as e:
            raise self._lost(e) from None

    def _lost(self, e: BaseException) -> ExecutorLost:
        return ExecutorLost(f"lost the Dask scheduler at {self.address} ({type(e).__name__}: {e}){self._hint()}")

    def infra_error(self, exc: BaseException) -> bool:
        from distributed import KilledWorker
        from distributed.comm.core import CommClosedError

        return isinstance(exc, KilledWorker | CommClosedError)

    def close(self, interrupted: bool = False) -> None:
        with contextlib.suppress(Exception):
            self.client.close(timeout=5)


class Wrapped(Executor):
    """Any `concurrent.futures.Executor` (a thread pool, a Dask client's `get_executor()`...) as an executor."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.capacity = max(1, int(getattr(pool, "_max_workers", 1) or 1))
        self.label = type(pool).__name__

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.pool.submit(fn, *args)

    def wait(self, pending: list[Any]) -> set[Any]:
        return wait(pending, return_when=FIRST_COMPLETED).done


def as_executor(given: Any) -> Executor:
    """One of ours as it is; any other object with `submit` wrapped (it is not closed by us)."""
    return given if isinstance(given, Executor) else Wrapped(given)


def check_dask_address(address: str) -> str:
    """A scheduler address with a known protocol (tcp:// by default); anything else is refused at once."""
    address = address.strip()
    if "://" not in address:
        address = f"tcp://{address}"
    scheme, _, rest = address.partition("://")
    if scheme not in DASK_SCHEMES or not rest:
        raise InputError(f"--scheduler {address!r}: expected HOST:PORT or one of "
                         f"{', '.join(s + '://' for s in DASK_SCHEMES)} followed by an address")
    return address


def make_executor(workers: int | None = 1, scheduler: str | None = None,
                  initializer: Callable[[], None] | None = None, resume_hint: str = "") -> Executor:
    """Serial for one worker, a local pool for several, Dask when a scheduler address is given."""
    if scheduler:
        return DaskCluster(scheduler, initializer=initializer, resume_hint=resume_hint)
    n = workers or cores()
    return Serial(initializer) if n <= 1 else LocalProcesses(n, initializer)


# -- running many tasks ----------------------------------------------------------------------------
def imap(ex: Executor, fn: Callable[[Any], Any], items: Sequence[Any], *, chunk_size: int | None = None,
         on_lost: Callable[[Any, BaseException], Any] | None = None) -> Iterator[tuple[int, Any]]:
    """(index, result) for every item as its chunk finishes (arguments as `imap_chunks`)."""
    for start, results in imap_chunks(ex, fn, items, chunk_size=chunk_size, on_lost=on_lost):
        for k, r in enumerate(results):
            yield start + k, r


def imap_chunks(ex: Executor, fn: Callable[[Any], Any], items: Sequence[Any], *, chunk_size: int | None = None,
                on_lost: Callable[[Any, BaseException], Any] | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(index of the chunk's first item, its results) for every chunk as it finishes; see the module docstring.

    `fn` must be a top-level function (it is pickled to the workers). A chunk lost `MAX_ATTEMPTS` times
    yields `on_lost(item, error)` for each of its items, or raises `ExecutorLost` without `on_lost`.
    """
    plan = chunk_plan(len(items), ex.capacity, chunk_size, per_slot=ex.chunks_per_slot)
    queue = [(s, list(items[s:s + k])) for s, k in plan][::-1]
    attempts: Counter[int] = Counter()
    pending: dict[Any, tuple[int, list[Any]]] = {}
    window = 1 if isinstance(ex, Serial) else 2 * ex.capacity + 1
    try:
        while queue or pending:
            while queue and len(pending) < window:
                start, batch = queue.pop()
                pending[ex.submit(_run_chunk, fn, batch)] = (start, batch)
            broken = False
            for fut in ex.wait(list(pending)):
                job = pending.pop(fut, None)
                if job is None:
                    continue
                start, batch = job
                try:
                    results = ex.result(fut)
                except _ItemError as e:
                    raise TaskFailed(start + e.position, e.error) from e.error
                except ExecutorLost:
                    raise
                except Exception as e:
                    if not ex.infra_error(e):
                        raise
                    attempts[start] += 1
                    if attempts[start] < MAX_ATTEMPTS:
                        queue.append(job)
                        broken |= isinstance(e, BrokenProcessPool)
                        continue
                    if on_lost is None:
                        raise ExecutorLost(f"a worker died {MAX_ATTEMPTS} times running tasks {start}-"
                                           f"{start + len(batch) - 1} (out of memory or killed?): "
                                           f"{type(e).__name__}: {e}") from e
                    results = [on_lost(item, e) for item in batch]
                yield start, results
            if broken:  # a dead process takes a local pool down: start a new one and resend what was in it
                queue.extend(pending.values())
                pending.clear()
                ex.recover()
    finally:
        for fut in pending:
            with contextlib.suppress(Exception):
                fut.cancel()


class _Bar(tqdm):
    """tqdm without its monitor thread: that thread (started even for a disabled bar) would make every later
    local pool start its workers through a fork server (fresh imports, kernels loaded again) instead of fork."""

    monitor_interval = 0


def progress_bar(total: int, desc: str, progress: bool, unit: str = "runs", initial: int = 0) -> tqdm:
    """The one progress bar of the command line: done / total, elapsed, ETA."""
    return _Bar(total=total, initial=initial, desc=desc, unit=unit, disable=not progress, leave=False,
                bar_format=BAR_FORMAT, dynamic_ncols=True, mininterval=0.5)


def run_map(fn: Callable[[Any], Any], items: Sequence[Any], *, workers: int | None = 1,
            scheduler: str | None = None, executor: Executor | None = None, progress: bool = False,
            desc: str = "runs", unit: str = "runs", chunk_size: int | None = None,
            initializer: Callable[[], None] | None = None) -> list[Any]:
    """`[fn(x) for x in items]` on an executor (a given one, or one made and closed for this call)."""
    items = list(items)
    if not items:
        return []
    own = executor is None
    ex = as_executor(executor) if executor is not None else make_executor(min(workers or cores(), len(items)),
                                                                          scheduler, initializer)
    out: list[Any] = [None] * len(items)
    try:
        with progress_bar(len(items), desc, progress, unit) as bar:
            for i, r in imap(ex, fn, items, chunk_size=chunk_size):
                out[i] = r
                bar.update()
    except BaseException:
        if own:
            ex.close(interrupted=True)
        raise
    if own:
        ex.close()
    return out


def _star(task: tuple[Callable[..., Any], tuple[Any, ...]]) -> Any:
    fn, args = task
    return fn(*args)


_PROGRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("culturedrift_progress", default=None)


@contextlib.contextmanager
def show_progress(desc: str | None) -> Iterator[None]:
    """Within this block, `pmap` calls that do not say otherwise show a progress bar labelled `desc`
    (a command turns bars on for the workflows it calls without threading a flag through them)."""
    token = _PROGRESS.set(desc)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def pmap(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]], workers: int = 1, progress: bool | None = None,
         desc: str | None = None) -> list[Any]:
    """`[fn(*t) for t in tasks]` over local processes (order kept); `fn` must be a top-level function."""
    tasks = list(tasks)
    label = _PROGRESS.get()
    show = label is not None if progress is None else progress
    return run_map(_star, [(fn, tuple(t)) for t in tasks], workers=resolve_workers(workers, len(tasks) or 1),
                   progress=show, desc=desc or label or "runs")


@contextlib.contextmanager
def local_map(workers: int) -> Iterator[Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]]:
    """`map_fn(fn, tasks) -> [fn(*t) for t in tasks]` on one executor kept for a whole sequential workflow
    (one batch per ABC-SMC generation or fitting step: workers start once, not per batch)."""
    with make_executor(resolve_workers(workers)) as ex:
        def map_fn(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
            label = _PROGRESS.get()
            return run_map(_star, [(fn, tuple(t)) for t in tasks], executor=ex, progress=label is not None,
                           desc=label or "runs")

        yield map_fn

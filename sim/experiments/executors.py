"""Where replications run: in this process, in a local process pool, or on a dask cluster.

Every executor has the same interface, ``run(fn, jobs)``, yielding (job index, result) as
jobs finish, so a study does not know where its replications ran. A replication depends
only on its arguments, so the results do not depend on the executor either.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

#: A job function (a module-level function, so that worker processes can import it).
JobFunction = Callable[..., Any]


class Executor(Protocol):
    """What a study needs of an executor."""

    workers: int

    def run(self, fn: JobFunction, jobs: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Yield (job index, fn(*job)) as jobs finish, in any order."""
        ...


class LocalExecutor:
    """Runs replications in this process (workers=1) or in a standard-library process pool."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))

    def run(self, fn: JobFunction, jobs: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Yield (job index, result) as jobs finish (in any order)."""
        if self.workers == 1 or len(jobs) <= 1:
            for i, args in enumerate(jobs):
                yield i, fn(*args)
            return
        pool = make_pool(min(self.workers, len(jobs)))
        pending: dict[Future[Any], int] = {}
        queue = list(enumerate(jobs))
        queue.reverse()
        # a few jobs per worker in flight, so an interrupt loses little and results stream
        limit = 2 * self.workers
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    i, args = queue.pop()
                    pending[pool.submit(fn, *args)] = i
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: pending[f]):
                    i = pending.pop(fut)
                    yield i, fut.result()
        except BaseException:
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)

    def close(self) -> None:
        """Nothing to release: a pool lives only while ``run`` yields."""


class DaskExecutor:
    """Runs replications on a dask.distributed cluster through the same interface as
    LocalExecutor. ``address`` is a scheduler address (``tcp://host:8786``) or ``local``
    for a LocalCluster of one single-threaded worker process per core on this machine
    (loopback only). Results are identical to local runs: a replication depends only on
    its arguments."""

    def __init__(self, address: str, workers: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # the optional extra is not installed
            raise RuntimeError(
                "--scheduler needs the optional extra: pip install -e '.[dask]'"
            ) from exc
        self._cluster = None
        try:
            self._connect(Client, LocalCluster, address, workers)
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(
                f"--scheduler {address}: cannot reach the dask scheduler ({exc}); "
                "nothing was run or written"
            ) from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or 1)

    def _connect(self, client: Any, local_cluster: Any, address: str, workers: int | None) -> None:
        if address == "local":
            n = max(1, workers if workers is not None else (os.cpu_count() or 1))
            self._cluster = local_cluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self._client = client(self._cluster)
        else:
            self._client = client(address, timeout=CONNECT_TIMEOUT_S)

    def run(self, fn: JobFunction, jobs: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Yield (job index, result) as the cluster finishes jobs. Jobs travel in batches
        (about four per worker, at most ``MAX_BATCH`` jobs each), so that the cluster's
        cost per task is spread over several replications."""
        from dask.distributed import as_completed

        size = batch_size(len(jobs), self.workers)
        batches = [list(range(i, min(i + size, len(jobs)))) for i in range(0, len(jobs), size)]
        futures = {
            self._client.submit(run_batch, fn, [jobs[i] for i in batch], pure=False): batch
            for batch in batches
        }
        try:
            for fut in as_completed(list(futures)):
                yield from zip(futures[fut], fut.result(), strict=True)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise

    def close(self) -> None:
        """Disconnect from the cluster (and stop it, if this executor started it)."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


#: The most jobs one dask task carries (a task's results reach the study together).
MAX_BATCH = 8


def batch_size(n_jobs: int, workers: int) -> int:
    """Jobs per dask task: about four tasks per worker, so the load stays balanced, and at
    most MAX_BATCH jobs in one task, so that results keep arriving."""
    return max(1, min(MAX_BATCH, n_jobs // (4 * max(1, workers))))


def run_batch(fn: JobFunction, jobs: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Run several jobs in one task, in order."""
    return [fn(*args) for args in jobs]


def make_executor(scheduler: str | None, workers: int | None) -> LocalExecutor | DaskExecutor:
    """A local executor, or a dask one when a scheduler address (or ``local``) is given."""
    return LocalExecutor(workers) if scheduler is None else DaskExecutor(scheduler, workers)


#: Seconds to wait for a dask scheduler before giving up with a message.
CONNECT_TIMEOUT_S = 10

#: Descriptors the main process holds that a forked worker must not keep open (the run
#: folder's lock: a worker holding a copy would keep the folder locked after its parent died).
_CLOSE_IN_WORKERS: set[int] = set()

_PR_SET_PDEATHSIG = 1


def close_in_workers(fd: int, close: bool = True) -> None:
    """Have pool workers started from now on close ``fd`` (or stop doing so)."""
    if close:
        _CLOSE_IN_WORKERS.add(fd)
    else:
        _CLOSE_IN_WORKERS.discard(fd)


def _init_worker(parent: int, inherited: tuple[int, ...]) -> None:
    """Set up a pool worker: Ctrl-C is for the main process, which decides what to keep;
    the worker ends when its parent ends, however the parent ends (on Linux, the kernel
    sends it SIGTERM); descriptors that belong to the parent alone are closed; what it
    inherited is left out of its garbage collection."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # the objects inherited from the parent (a study's scenarios: tens of thousands for an
    # uncertainty study) stay as they are: keep the cyclic garbage collector from walking
    # them again and again (it made a replication up to a third slower, and its reference
    # counting copied the parent's pages)
    gc.freeze()
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent ended before the line above took effect
        os._exit(1)


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers ignore Ctrl-C and die with the main process."""
    return ProcessPoolExecutor(
        max_workers=workers,
        initializer=_init_worker,
        initargs=(os.getpid(), tuple(sorted(_CLOSE_IN_WORKERS))),
    )


#: Seconds to wait for a broken pool's manager thread to end.
MANAGER_JOIN_S = 10
#: Manager threads of broken pools that did not end (a wait inside the standard library,
#: seen once in a loaded test run after a worker was killed): Python's exit would wait for
#: them for ever, so the command line leaves without them (``pool_left_stuck``).
_STUCK_THREADS: list[Any] = []


def pool_left_stuck() -> bool:
    """Whether a stopped pool left a thread that would keep the process from exiting."""
    return any(t.is_alive() for t in _STUCK_THREADS)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: end its workers (a replication in hand is lost, finished ones are
    kept by the caller) and cancel what has not started."""
    # the standard library offers no public way to end running workers before Python 3.14
    procs = list((getattr(pool, "_processes", None) or {}).values())
    # read before shutdown, which drops the pool's reference to its manager thread (read
    # after it, the thread was never waited for, and a manager stuck on a full queue to a
    # terminated worker kept the command from exiting after Ctrl-C)
    manager = getattr(pool, "_executor_manager_thread", None)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.join(timeout=5)
    if manager is not None:
        manager.join(timeout=MANAGER_JOIN_S)
        if manager.is_alive():
            _STUCK_THREADS.append(manager)

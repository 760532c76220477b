"""Where replications run: in this process, in a local process pool, or on a dask cluster.

Every executor has the same interface, ``run(fn, jobs)``, yielding (job index, result) as
jobs finish, so a study does not know where its replications ran. A replication depends
only on its arguments, so the results do not depend on the executor either.
"""

from __future__ import annotations

import os
import signal
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
            pool.shutdown(wait=False, cancel_futures=True)
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
        if address == "local":
            n = max(1, workers if workers is not None else (os.cpu_count() or 1))
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or 1)

    def run(self, fn: JobFunction, jobs: Sequence[tuple[Any, ...]]) -> Iterator[tuple[int, Any]]:
        """Yield (job index, result) as the cluster finishes jobs."""
        from dask.distributed import as_completed

        futures = {self._client.submit(fn, *args, pure=False): i for i, args in enumerate(jobs)}
        try:
            for fut in as_completed(list(futures)):
                yield futures[fut], fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise

    def close(self) -> None:
        """Disconnect from the cluster (and stop it, if this executor started it)."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(scheduler: str | None, workers: int | None) -> LocalExecutor | DaskExecutor:
    """A local executor, or a dask one when a scheduler address (or ``local``) is given."""
    return LocalExecutor(workers) if scheduler is None else DaskExecutor(scheduler, workers)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers ignore Ctrl-C: the main process decides what to keep
    and stops them."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)

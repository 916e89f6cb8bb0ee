"""The Dask backend: the same chunks, run as tasks on a ``dask.distributed`` cluster.

With no address it starts a private ``LocalCluster`` (one single-threaded worker process per
requested worker, no dashboard, warnings only at ERROR level so that nothing lands on stderr)
and closes it with the pool. With an address it connects to a running scheduler and leaves the
cluster alone when closed. dask is imported only when this backend is chosen.

The code each task runs (:mod:`distlib.compute._worker`) is registered with cloudpickle to be
shipped by value, so the workers of a remote cluster need cloudpickle (which Dask itself needs)
but not this course's package.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from distlib.compute import _helpers, _worker
from distlib.compute._process import WorkerLost


class DaskBackend:
    """Runs chunks on a Dask cluster: a private LocalCluster, or an existing one by address."""

    name = "dask"

    def __init__(
        self, workers: int | None, address: str | None, cluster_options: dict[str, Any] | None
    ) -> None:
        try:
            import cloudpickle
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a test dependency here
            raise ImportError(
                "backend='dask' needs dask.distributed: pip install 'dask[distributed]'"
            ) from exc
        from distlib.compute._process import default_workers

        if _worker.__name__ not in cloudpickle.list_registry_pickle_by_value():
            cloudpickle.register_pickle_by_value(_worker)
        self._cluster: Any = None
        self._requested = workers
        if address is not None:
            if not isinstance(address, str):
                raise TypeError(
                    f"address must be a string such as 'tcp://host:8786', not {address!r}"
                )
            self.client: Any = Client(address)
        else:
            options: dict[str, Any] = {
                "n_workers": workers or default_workers(),
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": ":0",  # a free port: no "port 8787 in use" warning
                "silence_logs": logging.ERROR,
            }
            options.update(cluster_options or {})
            _helpers.acquire()
            try:
                self._cluster = LocalCluster(**options)
                self.client = Client(self._cluster)
            except BaseException:
                if self._cluster is not None:
                    self._cluster.close()
                    self._cluster = None
                _helpers.release()
                raise

    @property
    def workers(self) -> int:
        if self._requested:
            return self._requested
        return max(1, sum(self.client.nthreads().values()))

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def close(self) -> None:
        """Disconnect; shut the cluster down too if this backend started it."""
        try:
            self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None
                _helpers.release()

    def run(self, job: Any) -> Iterator[tuple[int, bytes]]:
        """Submit every chunk, then yield (chunk index, reply bytes) as tasks finish.

        Once a chunk fails (``job.cutoff`` drops), tasks for later chunks are cancelled and not
        waited for. On any exception, KeyboardInterrupt included, all of this call's tasks are
        cancelled; a chunk already running on a worker thread still runs to its end.
        """
        from distributed import as_completed

        futures: dict[Any, int] = {}
        for index in range(job.cutoff):
            future = self.client.submit(
                _worker.run_task, job.task(index), pure=False, key=f"distlib-{job.token}-{index}"
            )
            futures[future] = index
        waiting = set(futures.values())
        cancelled_from = len(futures)
        try:
            for future in as_completed(list(futures)):
                index = futures[future]
                if index >= job.cutoff:
                    continue
                try:
                    reply = future.result()
                except Exception as exc:
                    start, stop = job.bounds(index)
                    raise WorkerLost(
                        f"the Dask task for items {start} to {stop - 1} failed outside the "
                        f"function ({type(exc).__name__}: {exc}); a worker may have died"
                    ) from exc
                waiting.discard(index)
                yield index, reply
                if job.cutoff < cancelled_from:
                    late = [f for f, i in futures.items() if job.cutoff <= i < cancelled_from]
                    self.client.cancel(late)
                    cancelled_from = job.cutoff
                if not any(i < job.cutoff for i in waiting):
                    return
        except BaseException:
            self.client.cancel(list(futures))
            raise

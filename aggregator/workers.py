"""A pool of worker processes with a hard time limit per job and a memory limit per worker.

    submit(fn, *args) ─> job queue ─> one driver thread per worker process ─pipe─> worker
                                       │ answer within the limit: the result or the exception
                                       └ no answer in time / worker died: kill, restart, JobTimeout/JobCrashed

``concurrent.futures.ProcessPoolExecutor`` cannot stop a running task, so one
pathological input (megabytes of nested markup) would hold a worker forever
and a crash would break the whole pool. Here a job that passes its limit has
its worker killed and replaced, a worker that dies costs only its own job, and
each worker runs under an address-space limit (``RLIMIT_AS``) so a runaway
job fails with MemoryError instead of taking the machine's memory.

Functions and arguments cross the pipe by pickle: ``fn`` must be importable
at module level. Contains no knowledge of what the jobs do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class JobTimeout(Exception):
    """The job ran past its time limit; its worker was killed and replaced."""


class JobCrashed(Exception):
    """The worker died while running the job (a crash, or killed by the system)."""


_STOP = None

_Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], "Future[Any]"]


def _worker_main(conn: Connection, memory_limit: int | None) -> None:
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is _STOP:
            return
        fn, args, kwargs = job
        try:
            result: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BaseException as exc:
            result = (False, exc)
        try:
            conn.send(result)
        except Exception as exc:  # an unpicklable result or exception
            conn.send((False, RuntimeError(f"the job's outcome could not be sent back: {exc!r}")))


class _Worker:
    def __init__(self, memory_limit: int | None) -> None:
        self._memory_limit = memory_limit
        self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, self._memory_limit), daemon=True)
        self.process.start()
        child.close()

    def run(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float
    ) -> Any:
        try:
            self.conn.send((fn, args, kwargs))
            ready = self.conn.poll(timeout)
        except (OSError, EOFError):
            ready = False
        if not ready:
            alive = self.process.is_alive()
            self.restart()
            if alive:
                raise JobTimeout(f"no answer within {timeout:g} s; the worker was stopped")
            raise JobCrashed("the worker process died")
        try:
            ok, value = self.conn.recv()
        except (OSError, EOFError):
            self.restart()
            raise JobCrashed("the worker process died") from None
        if ok:
            return value
        raise value

    def restart(self) -> None:
        self.kill()
        self._start()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self.conn.send(_STOP)
        self.process.join(timeout=5)
        self.kill()


class WorkerPool:
    """``workers`` processes; every job runs in one of them within ``timeout`` seconds.

    The processes start with the first job, so a pool that gets no work costs nothing.
    """

    def __init__(self, workers: int, *, timeout: float, memory_limit: int | None = None) -> None:
        if workers < 1:
            raise ValueError("a WorkerPool needs at least one worker")
        self.timeout = timeout
        self._size = workers
        self._memory_limit = memory_limit
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def _start(self) -> None:
        with self._lock:
            if self._workers:
                return
            self._workers = [_Worker(self._memory_limit) for _ in range(self._size)]
            self._threads = [
                threading.Thread(target=self._drive, args=(w,), name=f"worker-driver-{i}", daemon=True)
                for i, w in enumerate(self._workers)
            ]
            for thread in self._threads:
                thread.start()

    def _drive(self, worker: _Worker) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            fn, args, kwargs, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(worker.run(fn, args, kwargs, self.timeout))
            except BaseException as exc:
                future.set_exception(exc)

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        self._start()
        future: Future[T] = Future()
        self._jobs.put((fn, args, kwargs, future))
        return future

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in a worker; raises its exception, JobTimeout or JobCrashed."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        for worker in self._workers:
            worker.stop()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

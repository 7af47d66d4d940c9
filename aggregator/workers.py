"""A pool of worker processes with a hard time limit per job and a memory limit per worker.

    submit(fn, *args) ─> job queue ─> one driver thread per worker ─pipe─> worker (runs a job, holds the next)
                                       │ answer within the limit: the result or the exception
                                       └ no answer in time / worker died: kill, restart,
                                         JobTimeout/JobCrashed; the job it held goes to the replacement

``concurrent.futures.ProcessPoolExecutor`` cannot stop a running task, so one
pathological input (megabytes of nested markup) would hold a worker forever
and a crash would break the whole pool. Here a job that passes its limit has
its worker killed and replaced, a worker that dies costs only its own job, and
each worker runs under an address-space limit (``RLIMIT_AS``) so a runaway
job fails with MemoryError instead of taking the machine's memory.

Functions and arguments cross the pipe by pickle: ``fn`` must be importable
at module level, from a module other than ``__main__``. A worker is a fresh
interpreter that imports only this module, the ``preload`` modules and what the
jobs need, never the program's main module (``multiprocessing``'s spawn would
import the whole command line application into every worker, at half a second
of CPU each). Contains no knowledge of what the jobs do.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import json
import logging
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class JobTimeout(Exception):
    """The job ran past its time limit; its worker was killed and replaced."""


class JobCrashed(Exception):
    """The worker died while running the job (a crash, or killed by the system)."""


_STOP = None

#: Jobs a worker holds at once: the one it runs and the next, so it starts the
#: next the moment it answers instead of waiting for the parent to send one.
_JOBS_PER_WORKER = 2

_Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], "Future[Any]"]


# A worker's command line: the parent's sys.path, the pipe's descriptor, the memory limit, preloads.
_BOOT = "import json, sys; sys.path[:] = json.loads(sys.argv[1]); import aggregator.workers as w; w._child()"


def _child() -> None:
    """A worker process's entry point (see :data:`_BOOT`)."""
    fd, memory_limit, preload = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    _worker_main(Connection(fd), memory_limit or None, preload)


def _worker_main(conn: Connection, memory_limit: int | None, preload: Sequence[str]) -> None:
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    threading.Thread(target=_read_jobs, args=(conn, _inbox), name="job-reader", daemon=True).start()
    for module in preload:  # while the parent fetches the first inputs
        with contextlib.suppress(Exception):  # a job that needs it will say why it fails
            importlib.import_module(module)
    while True:
        job = _inbox.get()
        if job is _STOP:
            break
        if isinstance(job, _Unloadable):
            conn.send((False, RuntimeError(f"the job could not be loaded in the worker: {job.error!r}")))
            continue
        fn, args, kwargs = job
        try:
            result: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BaseException as exc:
            result = (False, exc)
        try:
            conn.send(result)
        except Exception as exc:  # an unpicklable result or exception
            conn.send((False, RuntimeError(f"the job's outcome could not be sent back: {exc!r}")))
    # Leave without tearing the interpreter down: freeing a worker's heap object by
    # object (parsers, regex caches) takes a good part of a second, and nothing in
    # it needs finalizing; every outcome has gone back through the pipe.
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


@dataclass(frozen=True, slots=True)
class _Unloadable:
    """A job that was read from the pipe but cannot be unpickled in the worker."""

    error: Exception


class _Inbox:
    """The jobs a worker has read from its pipe and not yet started, oldest first."""

    def __init__(self) -> None:
        self._jobs: deque[Any] = deque()
        self._changed = threading.Condition()

    def put(self, job: Any) -> None:
        with self._changed:
            self._jobs.append(job)
            self._changed.notify()

    def get(self) -> Any:
        with self._changed:
            self._changed.wait_for(lambda: self._jobs)
            return self._jobs.popleft()

    def waiting(self, timeout: float) -> int:
        """How many jobs wait to start, after waiting up to ``timeout`` seconds for there to be one."""
        with self._changed:
            self._changed.wait_for(lambda: self._jobs, timeout)
            return len(self._jobs)


#: A worker process's jobs on their way from the pipe to its main thread.
_inbox = _Inbox()


def _read_jobs(conn: Connection, inbox: _Inbox) -> None:
    """Read jobs as soon as they arrive, so the parent never waits to hand one over.

    Runs on its own thread in the worker: the parent sends the next job while
    the current one runs, and a job larger than the pipe's buffer would block
    the parent until the worker read it (and a large result, the worker until
    the parent read that: a deadlock). Reading here, the next job is waiting
    the moment the current one ends.
    """
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            inbox.put(_STOP)
            return
        except Exception as exc:  # the job was read but cannot be unpickled here
            inbox.put(_Unloadable(exc))
            continue
        inbox.put(job)
        if job is _STOP:
            return


class _Worker:
    def __init__(self, memory_limit: int | None, preload: Sequence[str]) -> None:
        self._memory_limit = memory_limit
        self._preload = tuple(preload)
        self._retired = False
        self._start()

    def _start(self) -> None:
        self.conn, child = multiprocessing.Pipe()
        try:
            fd = child.fileno()
            command = [
                sys.executable, *_interpreter_flags(), "-c", _BOOT,
                json.dumps([str(p) for p in sys.path]), str(fd), str(self._memory_limit or 0), *self._preload,
            ]  # fmt: skip
            self.process = subprocess.Popen(command, pass_fds=(fd,), stdin=subprocess.DEVNULL)
        except BaseException:
            self.conn.close()
            raise
        finally:
            child.close()

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def send(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Hand a job over; a worker that has died shows up when its answer is awaited."""
        with contextlib.suppress(OSError, EOFError):
            self.conn.send((fn, args, kwargs))

    def answer(self, timeout: float) -> Any:
        """The outcome of the oldest job sent, within ``timeout`` seconds, or JobTimeout/JobCrashed."""
        try:
            ready = self.conn.poll(timeout)
        except (OSError, EOFError):
            ready = False
        if not ready:
            alive = self.is_alive()
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
        if not self._retired:
            self._start()

    def retire(self) -> None:
        """Kill the worker for good (the program is exiting): no replacement is started."""
        self._retired = True
        self.kill()

    def kill(self) -> None:
        if self.is_alive():
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.conn.close()

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self.conn.send(_STOP)

    def stop(self) -> None:
        """Wait for the worker to leave after :meth:`ask_to_stop` (kill it if it does not)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.kill()


def _interpreter_flags() -> list[str]:
    """The flags this interpreter runs with (-B, -X..., -W...), as multiprocessing passes them on."""
    flags: list[str] = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    return flags


#: Pools with live workers, killed if the program exits without closing them (an
#: idle worker would leave by itself at the end of its pipe, a busy one would not).
_OPEN_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


@atexit.register
def _kill_leftover_workers() -> None:
    for pool in list(_OPEN_POOLS):
        for worker in pool._workers:
            with contextlib.suppress(Exception):
                worker.retire()


class WorkerPool:
    """``workers`` processes; every job runs in one of them within ``timeout`` seconds.

    The processes start with the first job (or :meth:`start`, once work is known to
    be coming), so a pool that gets no work costs nothing. Each imports the
    ``preload`` modules as it starts, while the first jobs are still being
    prepared, rather than when its first job arrives.
    """

    def __init__(
        self, workers: int, *, timeout: float, memory_limit: int | None = None, preload: Sequence[str] = ()
    ) -> None:
        if workers < 1:
            raise ValueError("a WorkerPool needs at least one worker")
        self.timeout = timeout
        self._size = workers
        self._memory_limit = memory_limit
        self._preload = tuple(preload)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the worker processes now (the first job starts them otherwise); idempotent."""
        with self._lock:
            if self._workers:
                return
            self._workers = [_Worker(self._memory_limit, self._preload) for _ in range(self._size)]
            _OPEN_POOLS.add(self)
            self._threads = [
                threading.Thread(target=self._drive, args=(w,), name=f"worker-driver-{i}", daemon=True)
                for i, w in enumerate(self._workers)
            ]
            for thread in self._threads:
                thread.start()

    def _drive(self, worker: _Worker) -> None:
        """Keep ``worker`` busy: it runs one job and holds the next, so it never waits for this thread.

        The time limit of a job counts from the answer to the one before it
        (when the worker starts it). If the worker is stopped or dies, the job
        it ran fails; the job it held goes to its replacement.
        """
        sent: deque[_Job] = deque()
        closing = False
        while True:
            while not closing and len(sent) < _JOBS_PER_WORKER:
                try:
                    item = self._jobs.get(block=not sent)
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                    break
                if self._hand_over(worker, item):
                    sent.append(item)
            if not sent:
                if closing:
                    return
                continue
            future = sent[0][3]
            try:
                future.set_result(worker.answer(self.timeout))
            except (JobTimeout, JobCrashed) as exc:
                future.set_exception(exc)
                sent.popleft()
                for job in list(sent):  # the stopped worker held these; its replacement gets them
                    if not self._hand_over(worker, job):
                        sent.remove(job)
                continue
            except BaseException as exc:
                future.set_exception(exc)
            sent.popleft()

    @staticmethod
    def _hand_over(worker: _Worker, job: _Job) -> bool:
        """Send a job to the worker; False if it cannot go (cancelled, or its arguments cannot be pickled)."""
        fn, args, kwargs, future = job
        if not future.running() and not future.set_running_or_notify_cancel():
            return False
        try:
            worker.send(fn, args, kwargs)
        except Exception as exc:  # pickling the job failed: nothing was written to the pipe
            future.set_exception(exc)
            return False
        return True

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        self.start()
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
        for worker in self._workers:  # all at once: each leaves while the next is asked
            worker.ask_to_stop()
        for worker in self._workers:
            worker.stop()
        _OPEN_POOLS.discard(self)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

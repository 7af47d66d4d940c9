"""A pool of worker processes with a hard time limit per job and a memory limit per worker.

    submit(fn, *args) ─> job queue ─> one driver thread per worker ─pipe─> worker (runs a job, holds the next)
                                       │ answer within the limit: the result or the exception
                                       └ no answer in time / worker died / MemoryError: kill, restart,
                                         JobTimeout/JobCrashed/MemoryError; the job it held goes to the
                                         replacement

``concurrent.futures.ProcessPoolExecutor`` cannot stop a running task, so one
pathological input (megabytes of nested markup) would hold a worker forever
and a crash would break the whole pool. Here a job that passes its limit has
its worker killed and replaced, a worker that dies costs only its own job, and
each worker runs under an address-space limit (``RLIMIT_AS``) so a runaway
job fails with MemoryError instead of taking the machine's memory; its worker
is replaced then too, so the next job starts on a clean heap.

Workers die with the program, however it ends (SIGKILL included): the kernel
kills them when their parent dies (Linux), and each leaves as soon as its pipe
to the parent closes. What a worker prints on stderr goes to the program's log
(debug), never to the person at the terminal.

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
import signal
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


class JobOutOfMemory(MemoryError):
    """The job needed more than its worker's memory limit; the worker was replaced."""


_STOP = None
#: What a worker says as it starts a job: the job's time limit counts from it,
#: not from when it was sent (a new worker first boots and imports what it needs).
_STARTED = "started"
#: Seconds a job may wait in a worker to start (a new worker's boot and imports).
START_TIMEOUT = 120.0

#: Jobs a worker holds at once: the one it runs and the next, so it starts the
#: next the moment it answers instead of waiting for the parent to send one.
_JOBS_PER_WORKER = 2

_Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], "Future[Any]"]


# A worker's command line: the parent's sys.path, the parent's pid, the pipe's descriptor, the memory
# limit, preloads.
_BOOT = "import json, sys; sys.path[:] = json.loads(sys.argv[1]); import aggregator.workers as w; w._child()"


def _child() -> None:
    """A worker process's entry point (see :data:`_BOOT`)."""
    parent, fd, memory_limit = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    _die_with_parent(parent)
    _worker_main(Connection(fd), memory_limit or None, sys.argv[5:])


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies, however it dies (SIGKILL included).

    Linux's PR_SET_PDEATHSIG fires when the thread that started the worker ends:
    workers are started by the thread that starts the pool and replaced by the
    pool's driver threads, which all live as long as the pool. Elsewhere, and as a
    second line, the job reader ends the worker as soon as the parent's end of
    the pipe closes (:func:`_read_jobs`), which takes the job running to let go of
    the interpreter lock now and then, as Python code does.
    """
    if sys.platform != "linux":
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


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
        conn.send(_STARTED)  # the job's time limit counts from here
        if isinstance(job, _Unloadable):
            conn.send((False, RuntimeError(f"the job could not be loaded in the worker: {job.error!r}")))
            continue
        fn, args, kwargs = job
        try:
            result: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BaseException as exc:
            result = (False, exc.with_traceback(None))  # its frames (and their memory) go now
        try:
            conn.send(result)
        except Exception as exc:  # an unpicklable result or exception
            try:
                conn.send((False, RuntimeError(f"the job's outcome could not be sent back: {exc!r}")))
            except Exception:  # not even that (out of memory): the parent sees a crash
                os._exit(1)
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
        except (EOFError, OSError):
            # The parent closed its end without asking this worker to stop: it
            # died, or it killed this worker. Nobody will read what the job
            # running now would answer; leave at once rather than finish it.
            os._exit(1)
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
        # Its driver thread restarts it while the program's exit (atexit) may retire it:
        # killing, closing the pipe and starting a replacement happen one thread at a time,
        # so a pipe is never closed twice (the second close could hit a reused descriptor)
        # and no worker is started after the worker was retired.
        self._lock = threading.RLock()
        self._start()

    def _start(self) -> None:
        self.conn, child = multiprocessing.Pipe()
        try:
            fd = child.fileno()
            command = [
                sys.executable, *_interpreter_flags(), "-c", _BOOT,
                json.dumps([str(p) for p in sys.path]), str(os.getpid()), str(fd),
                str(self._memory_limit or 0), *self._preload,
            ]  # fmt: skip
            self.process = subprocess.Popen(
                command, pass_fds=(fd,), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except BaseException:
            self.conn.close()
            raise
        finally:
            child.close()
        self._stderr = threading.Thread(
            target=_log_stderr, args=(self.process,), name=f"worker-stderr-{self.process.pid}", daemon=True
        )
        self._stderr.start()

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def send(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Hand a job over; a worker that has died shows up when its answer is awaited."""
        with contextlib.suppress(OSError, EOFError):
            self.conn.send((fn, args, kwargs))

    def answer(self, timeout: float) -> Any:
        """The outcome of the oldest job sent, within ``timeout`` seconds of its start, or JobTimeout/
        JobCrashed (the job's exception, else)."""
        wait = max(START_TIMEOUT, timeout)
        started = self._receive(wait, f"the job did not start within {wait:g} s (the worker is stuck)")
        if started != _STARTED:
            self.restart()
            raise JobCrashed(f"the worker answered out of turn ({type(started).__name__})")
        ok, value = self._receive(timeout, f"no answer within {timeout:g} s")
        if ok:
            return value
        raise value

    def _receive(self, timeout: float, late: str) -> Any:
        """The next message within ``timeout`` seconds; else the worker is stopped with JobTimeout(late)."""
        try:
            ready = self.conn.poll(timeout)
        except (OSError, EOFError):
            ready = False
        if not ready:
            alive = self.is_alive()
            ended = self.restart()
            if alive:
                raise JobTimeout(f"{late}; the worker was stopped")
            raise JobCrashed(f"the worker process died ({_how_it_ended(ended)})")
        try:
            return self.conn.recv()
        except (OSError, EOFError):
            ended = self.restart()
            raise JobCrashed(f"the worker process died ({_how_it_ended(ended)})") from None

    def restart(self) -> int | None:
        """Replace the worker with a new one; returns how the old one ended (its exit status)."""
        with self._lock:
            self.kill()
            ended = self.process.returncode
            if not self._retired:
                self._start()
                log.debug("replaced a worker process: %s", self.process.pid)
            return ended

    def renew(self) -> None:
        """Replace the worker, which holds no job, by a fresh one: asked to leave, then waited for."""
        with self._lock:
            self.ask_to_stop()
            self.stop()
            if not self._retired:
                self._start()
                log.debug("renewed a worker process: %s", self.process.pid)

    def retire(self) -> None:
        """Kill the worker for good (the program is exiting): no replacement is started."""
        with self._lock:
            self._retired = True
            self.kill()

    def kill(self) -> None:
        with self._lock:
            if self.is_alive():
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            if not self.conn.closed:
                self.conn.close()
        self._stderr.join(timeout=5)  # what it printed last is in the log before the caller goes on

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self.conn.send(_STOP)

    def stop(self) -> None:
        """Wait for the worker to leave after :meth:`ask_to_stop` (kill it if it does not)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.kill()


def _how_it_ended(status: int | None) -> str:
    """A worker's exit status in words: ``killed by SIGSEGV``, ``exit status 3``."""
    if status is None:
        return "still running"
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-status).name}"
        return f"killed by signal {-status}"
    return f"exit status {status}"


def _log_stderr(process: subprocess.Popen[bytes]) -> None:
    """A worker's stderr, a line at a time, to this process's log at debug level.

    What a worker prints there (a traceback from a thread that ran out of memory,
    a library's complaint) is not for the person at the terminal: each job's
    outcome reaches them once, as the caller reports it. Ends when the worker does.
    """
    assert process.stderr is not None
    with process.stderr:
        for line in process.stderr:
            log.debug("worker %d: %s", process.pid, line.decode("utf-8", "replace").rstrip())


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
        self,
        workers: int,
        *,
        timeout: float,
        memory_limit: int | None = None,
        preload: Sequence[str] = (),
        jobs_per_worker: int | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("a WorkerPool needs at least one worker")
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.jobs_per_worker = jobs_per_worker
        """After this many jobs a worker is replaced by a fresh one (None: never), so what a
        long-lived worker's libraries keep (caches, fragmentation) cannot grow without end."""
        self._size = workers
        self._preload = tuple(preload)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the worker processes now (the first job starts them otherwise); idempotent.

        The kernel ties each worker to the thread that starts it (PR_SET_PDEATHSIG): start
        a pool, or submit its first job, from a thread that lives as long as the pool.
        """
        with self._lock:
            if self._workers:
                return
            self._workers = [_Worker(self.memory_limit, self._preload) for _ in range(self._size)]
            _OPEN_POOLS.add(self)
            self._threads = [
                threading.Thread(target=self._drive, args=(w,), name=f"worker-driver-{i}", daemon=True)
                for i, w in enumerate(self._workers)
            ]
            for thread in self._threads:
                thread.start()
            pids = ", ".join(str(w.process.pid) for w in self._workers)
            log.debug("started %d worker processes for %s: %s", self._size, ", ".join(self._preload), pids)

    def _drive(self, worker: _Worker) -> None:
        """Keep ``worker`` busy: it runs one job and holds the next, so it never waits for this thread.

        The time limit of a job counts from when the worker says it starts it
        (so a new worker's boot is not counted). If the worker is stopped, dies
        or runs out of memory, the job it ran fails; the job it held goes to its
        replacement.
        """
        sent: deque[_Job] = deque()
        closing = False
        handed = 0  # jobs this worker process was given
        limit = self.jobs_per_worker
        while True:
            while not closing and len(sent) < _JOBS_PER_WORKER and (limit is None or handed < limit):
                try:
                    item = self._jobs.get(block=not sent)
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                    break
                if self._hand_over(worker, item):
                    sent.append(item)
                    handed += 1
            if not sent:
                if closing:
                    return
                if limit is not None and handed >= limit:
                    worker.renew()  # its last job answered: a fresh process takes the next
                    handed = 0
                continue
            future = sent[0][3]
            try:
                future.set_result(worker.answer(self.timeout))
            except (JobTimeout, JobCrashed, MemoryError) as exc:
                if isinstance(exc, MemoryError):
                    # A worker that ran out of memory may be left unable to run the
                    # next job (libxml2 then fails to parse a page it would have
                    # read): the next job gets a fresh one, so the same page always
                    # fails the same way.
                    worker.restart()
                    limit = (self.memory_limit or 0) // (1024 * 1024)
                    exc = JobOutOfMemory(f"needed more than the {limit} MiB of memory it may use")
                future.set_exception(exc)
                sent.popleft()
                for job in list(sent):  # the stopped worker held these; its replacement gets them
                    if not self._hand_over(worker, job):
                        sent.remove(job)
                handed = len(sent)
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

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: no job is taken any more."""
        return self._closed

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

"""The worker pool: hard time limits, memory limits, crashes cost one job."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import types
from collections.abc import Callable

import pytest

from aggregator import workers
from aggregator.workers import JobCrashed, JobTimeout, WorkerPool


def square(x: int) -> int:
    return x * x


def fail(message: str) -> None:
    raise ValueError(message)


def spin_forever() -> None:
    while True:
        pass


def die() -> None:
    os._exit(3)


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def jobs_waiting_behind_this_one() -> int:
    return workers._inbox.waiting(timeout=30)


def die_once_the_next_job_waits() -> None:
    workers._inbox.waiting(timeout=30)
    os._exit(3)


def spin_once_the_next_job_waits() -> None:
    workers._inbox.waiting(timeout=30)
    spin_forever()


def echo(data: bytes) -> bytes:
    return data


def take(seconds: float) -> float:
    time.sleep(seconds)  # a job that takes this long (the worker's time is what is measured)
    return seconds


def main_module_file() -> str | None:
    return getattr(sys.modules["__main__"], "__file__", None)


def imported(name: str) -> bool:
    return name in sys.modules


def test_results_and_exceptions_come_back() -> None:
    with WorkerPool(2, timeout=30) as pool:
        assert [pool.submit(square, i).result() for i in range(5)] == [0, 1, 4, 9, 16]
        with pytest.raises(ValueError, match="bad input"):
            pool.submit(fail, "bad input").result()


def test_a_job_past_its_limit_is_stopped_and_the_worker_replaced() -> None:
    with WorkerPool(1, timeout=0.5) as pool:
        with pytest.raises(JobTimeout, match=r"0\.5 s"):
            pool.submit(spin_forever).result()
        assert pool.submit(square, 7).result() == 49


def test_the_next_job_is_at_the_worker_while_one_runs() -> None:
    # The worker starts its next job the moment it answers, without a round trip to the parent.
    with WorkerPool(1, timeout=60) as pool:
        running = pool.submit(jobs_waiting_behind_this_one)
        following = pool.submit(square, 6)
        assert running.result() == 1
        assert following.result() == 36


@pytest.mark.parametrize(
    ("job", "failure"),
    [(die_once_the_next_job_waits, JobCrashed), (spin_once_the_next_job_waits, JobTimeout)],
)
def test_the_job_a_stopped_worker_held_runs_on_its_replacement(
    job: Callable[[], None], failure: type[Exception]
) -> None:
    with WorkerPool(1, timeout=2) as pool:
        failing = pool.submit(job)
        held = pool.submit(square, 5)
        with pytest.raises(failure):
            failing.result()
        assert held.result() == 25
        assert pool._workers[0].is_alive()


def test_a_held_jobs_time_limit_starts_when_the_one_before_it_ends() -> None:
    # Each takes 1 s against a limit of 1.5 s: both run in time although the
    # second was handed over (and was waiting) for the whole of the first.
    with WorkerPool(1, timeout=1.5) as pool:
        first, second = pool.submit(take, 1.0), pool.submit(take, 1.0)
        assert (first.result(), second.result()) == (1.0, 1.0)


def test_large_jobs_and_results_pass_each_other_in_the_pipe() -> None:
    # The next job is sent while the current one's result comes back, both larger than
    # the pipe's buffer: that deadlocks unless the worker takes jobs off the pipe as they come.
    data = [bytes([i]) * (4 * 1024 * 1024) for i in range(3)]
    pool = WorkerPool(1, timeout=60)
    futures = [pool.submit(echo, d) for d in data]
    try:
        assert [f.result(timeout=60) for f in futures] == data
    finally:
        if not all(f.done() for f in futures):
            for worker in pool._workers:
                worker.retire()  # unblocks a deadlocked driver, so close() can end
        pool.close()


def my_pid() -> int:
    return os.getpid()


def test_a_worker_is_renewed_after_its_share_of_jobs() -> None:
    with WorkerPool(1, timeout=30, jobs_per_worker=3) as pool:
        futures = [pool.submit(my_pid) for _ in range(8)]
        pids = [f.result() for f in futures]
        assert [f.exception() for f in futures] == [None] * 8  # no job is lost to a renewal
    assert [pids.count(p) for p in dict.fromkeys(pids)] == [3, 3, 2]  # three processes, in turn


def test_a_crash_costs_only_its_own_job() -> None:
    with WorkerPool(2, timeout=30) as pool:
        crashed = pool.submit(die)
        others = [pool.submit(square, i) for i in range(6)]
        with pytest.raises(JobCrashed):
            crashed.result()
        assert [f.result() for f in others] == [0, 1, 4, 9, 16, 25]


def test_memory_limit_turns_a_runaway_job_into_an_error() -> None:
    with WorkerPool(1, timeout=30, memory_limit=512 * 1024 * 1024) as pool:
        with pytest.raises(MemoryError):
            pool.submit(allocate, 2048).result()
        assert pool.submit(allocate, 16).result() == 16 * 1024 * 1024


def test_jobs_run_in_parallel_and_from_asyncio() -> None:
    async def main() -> list[int]:
        with WorkerPool(2, timeout=30) as pool:
            return list(await asyncio.gather(*(pool.run(square, i) for i in range(10))))

    assert asyncio.run(main()) == [i * i for i in range(10)]


def test_closing_waits_for_running_jobs() -> None:
    pool = WorkerPool(1, timeout=30)
    future = pool.submit(square, 3)
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    pool.close()
    assert done.is_set() and future.result() == 9
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(square, 1)
    # The worker left by itself when asked (exit status 0), it was not killed.
    assert [w.process.returncode for w in pool._workers] == [0]


def test_workers_load_the_preloaded_modules_and_not_the_programs_main_module() -> None:
    with WorkerPool(1, timeout=30, preload=("tests.fixture_server",)) as pool:
        assert pool.submit(main_module_file).result() is None  # a bare interpreter, not pytest's script
        assert pool.submit(imported, "tests.fixture_server").result()
    with WorkerPool(1, timeout=30) as pool:
        assert not pool.submit(imported, "tests.fixture_server").result()


def test_a_job_the_worker_cannot_load_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("only_in_the_parent")
    exec("def double(x):\n    return 2 * x\n", module.__dict__)
    monkeypatch.setitem(sys.modules, "only_in_the_parent", module)
    with WorkerPool(1, timeout=30) as pool:
        with pytest.raises(RuntimeError, match="could not be loaded in the worker"):
            pool.submit(module.double, 2).result()
        assert pool.submit(square, 3).result() == 9  # the same worker goes on
        assert len(pool._workers) == 1 and pool._workers[0].is_alive()


def test_workers_still_running_when_the_program_exits_are_killed() -> None:
    pool = WorkerPool(1, timeout=60)
    stuck = pool.submit(spin_forever)
    queued = pool.submit(square, 2)
    (worker,) = pool._workers
    workers._kill_leftover_workers()  # what atexit runs
    for future in (stuck, queued):
        with pytest.raises(JobCrashed):
            future.result(timeout=30)
    assert worker.process.returncode is not None and worker.process.returncode < 0  # killed
    assert pool._workers == [worker] and not worker.is_alive()  # and not replaced
    pool.close()


def test_a_pool_without_work_starts_no_process() -> None:
    pool = WorkerPool(2, timeout=30)
    assert pool._workers == []
    pool.close()


def test_start_boots_the_workers_before_the_first_job() -> None:
    with WorkerPool(2, timeout=30) as pool:
        pool.start()
        started = list(pool._workers)
        pool.start()  # again: the same processes
        assert len(started) == 2 and pool._workers == started
        assert all(worker.is_alive() for worker in started)
        assert pool.submit(square, 4).result() == 16


def own_pid() -> int:
    return os.getpid()


def complain_on_stderr(text: str) -> int:
    """Writes to the worker's stderr at the file descriptor, as a C library or a dying thread does."""
    os.write(2, text.encode())
    return len(text)


def test_a_jobs_time_limit_does_not_count_the_workers_boot() -> None:
    # The worker takes 2 s to boot; the job takes none of its 1 s limit.
    with WorkerPool(1, timeout=1.0, preload=("tests.slow_boot",)) as pool:
        assert pool.submit(square, 9).result(timeout=60) == 81


def test_a_worker_that_ran_out_of_memory_is_replaced_before_the_next_job() -> None:
    # A heap that once hit the limit can fail the next job in odd ways (libxml2
    # then cannot parse a page it would have read): two identical jobs must fail alike.
    with WorkerPool(1, timeout=30, memory_limit=512 * 1024 * 1024) as pool:
        before = pool.submit(own_pid).result()
        outcomes = [pool.submit(allocate, 2048) for _ in range(2)]
        for future in outcomes:
            with pytest.raises(MemoryError):
                future.result()
        after = pool.submit(own_pid).result()
    assert after != before


def test_a_crash_says_how_the_worker_ended() -> None:
    with WorkerPool(1, timeout=30) as pool, pytest.raises(JobCrashed, match=r"died \(exit status 3\)"):
        pool.submit(die).result()


def test_what_a_worker_prints_on_stderr_goes_to_the_log_not_the_terminal(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aggregator.workers")
    with WorkerPool(1, timeout=30) as pool:
        pool.submit(complain_on_stderr, "Traceback (most recent call last):\nMemoryError\n").result()
    assert capfd.readouterr().err == ""
    logged = [r.getMessage() for r in caplog.records if r.name == "aggregator.workers"]
    assert any(m.endswith(": Traceback (most recent call last):") for m in logged), logged
    assert any(m.endswith(": MemoryError") for m in logged), logged

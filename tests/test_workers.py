"""The worker pool: hard time limits, memory limits, crashes cost one job."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

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


def test_a_pool_without_work_starts_no_process() -> None:
    pool = WorkerPool(2, timeout=30)
    assert pool._workers == []
    pool.close()

"""Worker counts from the CPUs the process may use: affinity and the cgroup's quota (fake cgroup files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator import cpus
from aggregator.app import make_app
from aggregator.config import Settings, load_config
from aggregator.errors import ConfigError
from tests import feedgen

HOST_CORES = set(range(64))


@pytest.fixture
def host64(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 64-core host: the scheduler lets the process run on every core."""
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: HOST_CORES)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii")
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({}, 64, id="no cgroup files: the affinity"),
        pytest.param(
            {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n"}, 64, id="v2 unlimited"
        ),
        pytest.param(
            {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "200000 100000\n"}, 2, id="v2 two CPUs"
        ),
        pytest.param(
            {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "150000 100000\n"}, 2, id="v2 1.5 up"
        ),
        pytest.param(
            {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "10000 100000\n"}, 1, id="v2 at least one"
        ),
        pytest.param(
            {
                "proc/self/cgroup": "0::/kubepods/pod1/c1\n",
                "sys/fs/cgroup/kubepods/pod1/c1/cpu.max": "max 100000\n",
                "sys/fs/cgroup/kubepods/pod1/cpu.max": "300000 100000\n",
                "sys/fs/cgroup/kubepods/cpu.max": "800000 100000\n",
            },
            3,
            id="v2 the tightest ancestor",
        ),
        pytest.param(
            {
                "proc/self/cgroup": "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n",
                "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "400000\n",
                "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
            },
            4,
            id="v1 quota at the container's mount",
        ),
        pytest.param(
            {
                "proc/self/cgroup": "3:cpu,cpuacct:/\n",
                "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
            },
            64,
            id="v1 unlimited",
        ),
        pytest.param(
            {
                "proc/self/cgroup": "3:cpu:/\n0::/\n",
                "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "600000\n",
                "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
                "sys/fs/cgroup/cpu.max": "500000 100000\n",
            },
            5,
            id="hybrid: the lower of v1 and v2",
        ),
        pytest.param(
            {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "lots 0\n"}, 64, id="malformed: no limit"
        ),
    ],
)
def test_usable_cpus_is_the_least_of_affinity_and_quota(
    host64: None, tmp_path: Path, files: dict[str, str], expected: int
) -> None:
    assert cpus.usable_cpus(write(tmp_path, files)) == expected


def test_affinity_bounds_the_count_without_any_quota(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: {3, 5})  # taskset -c 3,5
    assert cpus.usable_cpus(tmp_path) == 2
    write(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "800000 100000\n"})
    assert cpus.usable_cpus(tmp_path) == 2


def test_this_machine_has_at_least_one_usable_cpu() -> None:
    assert 1 <= cpus.usable_cpus() <= (cpus.os.cpu_count() or 1)


def test_aggregator_workers_overrides_the_cpu_count(host64: None) -> None:
    assert Settings(environ={"AGGREGATOR_WORKERS": "3"}).worker_count() == 3
    assert Settings(environ={"AGGREGATOR_WORKERS": "0"}).worker_count() == 0
    assert Settings(environ={}).worker_count() == cpus.usable_cpus()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "should be greater than or equal to 0, got '-1'"),
        ("many", "expected a whole number, got 'many'"),
        ("1.5", "expected a whole number, got '1.5'"),
        ("5000", "should be less than or equal to 1024, got '5000'"),
    ],
)
def test_a_bad_worker_count_is_one_line_naming_the_variable(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(environ={"AGGREGATOR_WORKERS": value})
    assert caught.value.problems == [f"environment: AGGREGATOR_WORKERS: {message} (change the value)"]


def test_make_app_takes_its_worker_count_from_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(feedgen.feeds_yaml([("alpha", "http://127.0.0.1:9/a.xml")]), encoding="utf-8")
    for environ, expected in (({"AGGREGATOR_WORKERS": "2"}, 2), ({"AGGREGATOR_WORKERS": "0"}, 0)):
        settings = Settings(environ={**environ, "AGGREGATOR_DATA_DIR": str(tmp_path / "data")})
        app = make_app(settings, load_config(path), config_path=path)
        try:
            assert app.parse_workers == expected
        finally:
            app.close()
    app = make_app(Settings(data_dir=tmp_path / "data"), load_config(path), config_path=path)
    try:
        assert app.parse_workers == cpus.usable_cpus()
    finally:
        app.close()

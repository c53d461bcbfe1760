"""Cgroup v1 and v2 logic against fake cgroup roots (plain directories), so it runs anywhere.

The fake roots show which control files get which values; the integration tests check the same
code against the real kernel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labcore.errors import SystemSetupError, UsageError
from labcore.runtime.cgroups import Cgroup, CgroupNotFoundError, cgroup_mode, remove_if_empty, validate_name
from labcore.runtime.cgroups_v1 import V1Cgroup
from labcore.runtime.cgroups_v2 import V2Cgroup, cpu_weight_from_shares
from labcore.runtime.spec import Resources

MiB = 1 << 20


@pytest.fixture
def v2_root(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    return root


@pytest.fixture
def v1_root(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup1"
    for controller in ("memory", "pids", "cpu", "cpuacct", "devices"):
        (root / controller).mkdir(parents=True)
    return root


def test_mode_is_detected_from_the_layout(v1_root: Path, v2_root: Path) -> None:
    assert cgroup_mode(v2_root) == "v2"
    assert cgroup_mode(v1_root) == "v1"
    unified = v1_root / "unified"
    unified.mkdir()
    (unified / "cgroup.controllers").write_text("\n")
    assert cgroup_mode(v1_root) == "hybrid"


def test_v2_limits_are_written_and_controllers_delegated(v2_root: Path) -> None:
    resources = Resources(memory=32 * MiB, pids=20, cpu_quota=50_000, cpu_period=100_000, cpu_shares=512)
    group = Cgroup.create("labcore/abc", resources, root=v2_root)
    assert isinstance(group, V2Cgroup)
    path = v2_root / "labcore" / "abc"
    assert (path / "memory.max").read_text() == str(32 * MiB)
    assert (path / "memory.swap.max").read_text() == "0"
    assert (path / "pids.max").read_text() == "20"
    assert (path / "cpu.max").read_text() == "50000 100000"
    assert (path / "cpu.weight").read_text() == str(cpu_weight_from_shares(512))
    for parent in (v2_root, v2_root / "labcore"):
        assert set((parent / "cgroup.subtree_control").read_text().split()) == {"+memory", "+pids", "+cpu"}
    assert group.procs_files() == (path / "cgroup.procs",)


def test_v2_without_limits_enables_nothing(v2_root: Path) -> None:
    Cgroup.create("labcore/plain", Resources(), root=v2_root)
    assert not (v2_root / "cgroup.subtree_control").exists()
    assert (v2_root / "labcore" / "plain").is_dir()


def test_v2_missing_controller_is_a_setup_error_and_creates_nothing(v2_root: Path) -> None:
    (v2_root / "cgroup.controllers").write_text("cpu io\n")
    with pytest.raises(SystemSetupError, match="memory, pids"):
        Cgroup.create("labcore/x", Resources(memory=MiB, pids=5), root=v2_root)
    assert not (v2_root / "labcore").exists()


def test_v2_stats_and_oom_come_from_the_control_files(v2_root: Path) -> None:
    group = Cgroup.create("labcore/s", Resources(memory=64 * MiB), root=v2_root)
    path = v2_root / "labcore" / "s"
    (path / "memory.current").write_text("12345\n")
    (path / "pids.current").write_text("3\n")
    (path / "cpu.stat").write_text("usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n")
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n")
    stats = group.stats()
    assert (stats.memory_bytes, stats.memory_limit, stats.pids, stats.cpu_usage_ns) == (
        12345,
        64 * MiB,
        3,
        2_500_000,
    )
    assert not group.oom_killed()
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    assert group.oom_killed()


def test_v2_unlimited_memory_reads_as_none(v2_root: Path) -> None:
    group = Cgroup.create("labcore/u", Resources(), root=v2_root)
    (v2_root / "labcore" / "u" / "memory.max").write_text("max\n")
    assert group.stats().memory_limit is None


def test_cpu_weight_conversion_matches_runc() -> None:
    assert cpu_weight_from_shares(2) == 1
    assert cpu_weight_from_shares(1024) == 39
    assert cpu_weight_from_shares(262144) == 10000


def test_v1_limits_are_written_per_controller(v1_root: Path) -> None:
    resources = Resources(memory=32 * MiB, pids=20, cpu_quota=25_000, cpu_period=50_000, cpu_shares=256)
    group = Cgroup.create("labcore/abc", resources, root=v1_root)
    assert isinstance(group, V1Cgroup)
    assert (v1_root / "memory/labcore/abc/memory.limit_in_bytes").read_text() == str(32 * MiB)
    assert (v1_root / "pids/labcore/abc/pids.max").read_text() == "20"
    assert (v1_root / "cpu/labcore/abc/cpu.cfs_quota_us").read_text() == "25000"
    assert (v1_root / "cpu/labcore/abc/cpu.cfs_period_us").read_text() == "50000"
    assert (v1_root / "cpu/labcore/abc/cpu.shares").read_text() == "256"
    assert not (v1_root / "devices/labcore").exists()  # only the controllers labcore uses
    assert len(group.procs_files()) == 4


def test_v1_oom_and_stats(v1_root: Path) -> None:
    group = Cgroup.create("labcore/o", Resources(memory=8 * MiB), root=v1_root)
    memory = v1_root / "memory/labcore/o"
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    (memory / "memory.usage_in_bytes").write_text("4096\n")
    (v1_root / "pids/labcore/o/pids.current").write_text("2\n")
    (v1_root / "cpuacct/labcore/o/cpuacct.usage").write_text("777\n")
    assert not group.oom_killed()
    stats = group.stats()
    assert (stats.memory_bytes, stats.memory_limit, stats.pids, stats.cpu_usage_ns) == (4096, 8 * MiB, 2, 777)
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    assert group.oom_killed()


def test_v1_missing_controller_for_a_limit_is_a_setup_error(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    with pytest.raises(SystemSetupError, match="'pids'"):
        Cgroup.create("labcore/p", Resources(pids=4), root=tmp_path)
    assert not (tmp_path / "memory" / "labcore").exists()


def test_destroy_removes_the_group_and_empty_parents_only(v2_root: Path) -> None:
    first = Cgroup.create("labcore/one", Resources(), root=v2_root)
    Cgroup.create("labcore/two", Resources(), root=v2_root)
    first.destroy()
    assert not (v2_root / "labcore" / "one").exists()
    assert (v2_root / "labcore" / "two").is_dir()
    Cgroup.open("labcore/two", root=v2_root).destroy()
    assert not (v2_root / "labcore").exists()


def test_open_of_a_missing_group_is_not_found(v1_root: Path, v2_root: Path) -> None:
    for root in (v1_root, v2_root):
        with pytest.raises(CgroupNotFoundError, match="labcore/none") as caught:
            Cgroup.open("labcore/none", root=root)
        assert isinstance(caught.value, FileNotFoundError)


@pytest.mark.parametrize("name", ["", "/abs", "a/../b", "a//b", ".", "labcore/.."])
def test_unsafe_group_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="invalid cgroup name"):
        validate_name(name)


@pytest.mark.parametrize("layout", ["v1", "v2"])
def test_containers_keep_their_parent_group_until_it_is_removed_when_empty(
    layout: str, v1_root: Path, v2_root: Path
) -> None:
    root = v1_root if layout == "v1" else v2_root
    controllers = ("memory", "pids", "cpu", "cpuacct")
    parents = [root / "labcore"] if layout == "v2" else [root / controller / "labcore" for controller in controllers]
    group = Cgroup.create("labcore/a", Resources(), root=root)
    other = Cgroup.create("labcore/b", Resources(), root=root)
    group.destroy(keep_parent=True)
    other.destroy(keep_parent=True)
    assert all(parent.is_dir() and not any(parent.iterdir()) for parent in parents)
    Cgroup.create("labcore/c", Resources(), root=root)
    assert not remove_if_empty("labcore", root=root)  # a group is still in it
    assert all(parent.is_dir() for parent in parents)
    Cgroup.open("labcore/c", root=root).destroy(keep_parent=True)
    assert remove_if_empty("labcore", root=root)
    assert not any(parent.exists() for parent in parents)

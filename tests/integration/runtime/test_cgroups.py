"""Container limits on the real kernel: OOM kill, pids limit, stats, and the files the limits land in.

On this project's hybrid hosts the container's group lives in the v1 memory/pids/cpu/cpuacct
hierarchies (plus the controller-less cgroup2 at /sys/fs/cgroup/unified); on a pure v2 host in the
unified hierarchy. The tests only use the public Cgroup interface, so they run on both.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from labcore.runtime.cgroups import CGROUP_ROOT, Cgroup, cgroup_mode
from labcore.runtime.process import InitProcess
from labcore.runtime.spec import Resources

from .conftest import Result, new_id

pytestmark = [pytest.mark.root, pytest.mark.integration]
Run = Callable[..., Result]
MiB = 1 << 20


def test_memory_hog_is_oom_killed_and_reported(run_container: Run) -> None:
    result = run_container(
        ["sh", "-c", "head -c 200m /dev/zero | tail"], resources=Resources(memory=32 * MiB)
    )
    assert result.code == 137
    assert result.oom_killed


def test_small_program_under_the_limit_is_not_oom_killed(run_container: Run) -> None:
    result = run_container(
        ["sh", "-c", "head -c 1m /dev/zero | tail | wc -c"], resources=Resources(memory=32 * MiB)
    )
    assert result.code == 0
    assert result.out.strip() == str(MiB)
    assert not result.oom_killed


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def test_fork_bomb_stops_at_the_pids_limit(run_container: Run, busybox_root: Path) -> None:
    if not (busybox_root / "bin" / "hostile").exists():
        pytest.skip("needs musl-gcc to build the fork bomb")
    limit = 24

    def while_bombing(init: InitProcess) -> tuple[int, int]:
        _wait_for(lambda: init.cgroup.stats().pids >= limit, "the bomb reaches the limit")
        time.sleep(0.2)  # give it the chance to overshoot, which it must not
        pids = init.cgroup.stats().pids
        # the host still forks fine
        host = subprocess.run(["true"], check=False).returncode
        init.cgroup.kill_all()
        return pids, host

    result = run_container(
        ["hostile", "forkbomb"],
        resources=Resources(pids=limit, memory=256 * MiB),
        during=while_bombing,
    )
    pids, host = result.extra["during"]
    assert pids == limit
    assert host == 0
    assert result.code == 137


def test_stats_report_usage_and_limit(run_container: Run) -> None:
    def stats(init: InitProcess) -> object:
        _wait_for(lambda: init.cgroup.stats().pids == 2, "sh and sleep run")
        seen = init.cgroup.stats()
        init.cgroup.kill_all()
        return seen

    result = run_container(
        ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 60 & wait"],
        resources=Resources(memory=64 * MiB),
        during=stats,
    )
    seen = result.extra["during"]
    assert seen.pids == 2
    assert seen.memory_limit == 64 * MiB
    assert 0 < seen.memory_bytes < 64 * MiB
    assert seen.cpu_usage_ns > 0


def test_cgroup_is_removed_after_destroy(run_container: Run) -> None:
    seen: list[str] = []
    run_container(["true"], during=lambda init: seen.append(init.cgroup.name))
    with pytest.raises(Exception, match="does not exist"):
        Cgroup.open(seen[0])


@pytest.mark.skipif(cgroup_mode() == "v2", reason="v1 control files: this host is pure cgroup v2")
def test_v1_limits_land_in_the_control_files() -> None:
    resources = Resources(memory=48 * MiB, pids=33, cpu_quota=50_000, cpu_period=100_000, cpu_shares=512)
    group = Cgroup.create(f"labcore-test/{new_id()}", resources)
    try:
        base = CGROUP_ROOT
        assert int((base / "memory" / group.name / "memory.limit_in_bytes").read_text()) == 48 * MiB
        memsw = base / "memory" / group.name / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            assert int(memsw.read_text()) == 48 * MiB
        assert (base / "pids" / group.name / "pids.max").read_text().strip() == "33"
        assert (base / "cpu" / group.name / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (base / "cpu" / group.name / "cpu.cfs_period_us").read_text().strip() == "100000"
        assert (base / "cpu" / group.name / "cpu.shares").read_text().strip() == "512"
    finally:
        group.destroy()
    assert not (CGROUP_ROOT / "memory" / "labcore-test").exists()


UNIFIED = CGROUP_ROOT / "unified" if cgroup_mode() == "hybrid" else CGROUP_ROOT


@pytest.mark.skipif(not (UNIFIED / "cgroup.controllers").exists(), reason="no cgroup2 hierarchy mounted")
def test_v2_group_on_the_real_cgroup2_tracks_and_kills_processes() -> None:
    # on hybrid hosts the cgroup2 has no controllers, but groups, cgroup.procs, cgroup.events
    # and cgroup.kill are real
    from labcore.runtime.cgroups_v2 import V2Cgroup

    group = Cgroup.create(f"labcore-test/{new_id()}", Resources(), root=UNIFIED)
    assert isinstance(group, V2Cgroup)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        group.add(sleeper.pid)
        assert group.pids() == [sleeper.pid]
        assert group.populated()
        group.kill_all()
        assert sleeper.wait() == -9
        assert not group.populated()
        assert group.pids() == []
    finally:
        sleeper.kill()
        sleeper.wait()
        group.destroy()
    assert not (UNIFIED / "labcore-test").exists()


@pytest.mark.skipif(cgroup_mode() != "hybrid", reason="only a hybrid host has a cgroup2 without controllers")
def test_v2_limit_without_the_controller_is_a_setup_error() -> None:
    from labcore.errors import SystemSetupError

    available = (UNIFIED / "cgroup.controllers").read_text().split()
    if "memory" in available:
        pytest.skip("the memory controller is on the cgroup2 here")
    with pytest.raises(SystemSetupError, match="memory"):
        Cgroup.create(f"labcore-test/{new_id()}", Resources(memory=MiB), root=UNIFIED)
    assert not (UNIFIED / "labcore-test").exists()


def test_destroy_kills_every_process_left(rootfs: Path) -> None:
    from labcore.runtime.process import create
    from labcore.runtime.spec import ContainerSpec, ProcessSpec

    spec = ContainerSpec(new_id(), rootfs, ProcessSpec(["sh", "-c", "sleep 60 & sleep 60 & wait"]))
    init = create(spec, (0, 1, 2))
    try:
        init.start()
        _wait_for(lambda: len(init.cgroup.pids()) == 3, "sh and two sleeps run")
        pids = init.cgroup.pids()
    finally:
        code = init.destroy()
    assert code == 137
    assert not any(
        os.path.exists(f"/proc/{pid}/status") and "zombie" not in Path(f"/proc/{pid}/status").read_text()
        for pid in pids
    )

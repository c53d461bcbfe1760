"""Cgroup v2: one unified hierarchy; controllers are enabled top-down through ``cgroup.subtree_control``."""

from __future__ import annotations

import contextlib
from pathlib import Path

from labcore.errors import SystemSetupError
from labcore.runtime.cgroups import (
    Cgroup,
    CgroupStats,
    kill_pids_until_empty,
    make_group_dir,
    read_int,
    read_keyed,
    remove_group_dir,
    write_control,
)
from labcore.runtime.spec import Resources

__all__ = ["V2Cgroup", "cpu_weight_from_shares"]


def cpu_weight_from_shares(shares: int) -> int:
    """Map v1 ``cpu.shares`` (2..262144) onto v2 ``cpu.weight`` (1..10000) the way runc does."""
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def _needed_controllers(resources: Resources) -> list[str]:
    needed = []
    if resources.memory is not None:
        needed.append("memory")
    if resources.pids is not None:
        needed.append("pids")
    if resources.cpu_quota is not None or resources.cpu_shares is not None:
        needed.append("cpu")
    return needed


class V2Cgroup(Cgroup):
    """A group in the unified hierarchy mounted at ``root``."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.path = root / name

    def _make_dirs(self, resources: Resources) -> None:
        self._enable_controllers(_needed_controllers(resources))
        make_group_dir(self.path)

    def _exists(self) -> bool:
        return self.path.is_dir()

    def _enable_controllers(self, controllers: list[str]) -> None:
        if not controllers:
            return
        available = (self.root / "cgroup.controllers").read_text().split()
        missing = [name for name in controllers if name not in available]
        if missing:
            raise SystemSetupError(
                f"cgroup v2 controller(s) {', '.join(missing)} not available in {self.root}",
                hint="the controller is bound to a v1 hierarchy or disabled; boot with "
                "systemd.unified_cgroup_hierarchy=1 or drop the limit",
            )
        # every ancestor of the group must delegate the controllers to its children
        enable = " ".join(f"+{name}" for name in controllers)
        ancestor = self.root
        for part in self.name.split("/")[:-1]:
            write_control(ancestor / "cgroup.subtree_control", enable)
            ancestor = ancestor / part
            make_group_dir(ancestor)
        write_control(ancestor / "cgroup.subtree_control", enable)

    def set_resources(self, resources: Resources) -> None:
        """Write ``memory.max`` (and swap 0), ``pids.max``, ``cpu.max`` and ``cpu.weight``."""
        if resources.memory is not None:
            write_control(self.path / "memory.max", str(resources.memory))
            # no swap accounting in this kernel means there is nothing to disable
            with contextlib.suppress(OSError):
                write_control(self.path / "memory.swap.max", "0")
        if resources.pids is not None:
            write_control(self.path / "pids.max", str(resources.pids))
        if resources.cpu_quota is not None:
            write_control(self.path / "cpu.max", f"{resources.cpu_quota} {resources.cpu_period}")
        if resources.cpu_shares is not None:
            write_control(self.path / "cpu.weight", str(cpu_weight_from_shares(resources.cpu_shares)))

    def procs_files(self) -> tuple[Path, ...]:
        """The group's one ``cgroup.procs``."""
        return (self.path / "cgroup.procs",)

    def stats(self) -> CgroupStats:
        """Usage from ``memory.current``, ``pids.current`` and ``cpu.stat`` ``usage_usec``."""
        limit_text = ""
        with contextlib.suppress(FileNotFoundError):
            limit_text = (self.path / "memory.max").read_text().strip()
        return CgroupStats(
            memory_bytes=read_int(self.path / "memory.current"),
            memory_limit=int(limit_text) if limit_text.isdigit() else None,
            pids=read_int(self.path / "pids.current", len(self.pids())),
            cpu_usage_ns=read_keyed(self.path / "cpu.stat").get("usage_usec", 0) * 1000,
        )

    def oom_killed(self) -> bool:
        """True once ``memory.events`` counts an ``oom_kill``."""
        return read_keyed(self.path / "memory.events").get("oom_kill", 0) > 0

    def populated(self) -> bool:
        """Whether any process is in the group or below (``cgroup.events``)."""
        return read_keyed(self.path / "cgroup.events").get("populated", 0) > 0

    def kill_all(self) -> None:
        """``cgroup.kill`` (Linux >= 5.14) if present, then SIGKILL every pid left until empty."""
        if (self.path / "cgroup.kill").exists():
            write_control(self.path / "cgroup.kill", "1")
        kill_pids_until_empty(self.pids)

    def remove_dirs(self, *, keep_parent: bool = False) -> None:
        """Remove the group, and the empty parents unless ``keep_parent``."""
        remove_group_dir(self.path, stop_at=self.path.parent if keep_parent else self.root)

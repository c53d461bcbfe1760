"""Cgroup v1 (one hierarchy per controller), plus the controller-less cgroup2 of hybrid hosts."""

from __future__ import annotations

import functools
from pathlib import Path

from labcore.errors import SystemSetupError
from labcore.runtime.cgroups import (
    CGROUP_ROOT,
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

__all__ = ["CONTROLLERS", "UNLIMITED_THRESHOLD", "V1Cgroup"]

#: the v1 controllers a container's group is created in (when the host mounts them)
CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")
#: v1 reports "no limit" as a huge page-aligned number (PAGE_COUNTER_MAX pages)
UNLIMITED_THRESHOLD = 1 << 62


def _find_layout(root: Path) -> tuple[dict[str, Path], Path | None]:
    """Controller name -> mounted hierarchy (``cpu`` may be ``cpu,cpuacct``), and the hybrid cgroup2."""
    found = {}
    for controller in CONTROLLERS:
        path = root / controller
        if path.is_dir():
            found[controller] = path.resolve()
    unified = root / "unified"
    return found, unified if (unified / "cgroup.controllers").exists() else None


@functools.cache
def _host_layout() -> tuple[dict[str, Path], Path | None]:
    return _find_layout(CGROUP_ROOT)


def _layout(root: Path) -> tuple[dict[str, Path], Path | None]:
    if root != CGROUP_ROOT:
        return _find_layout(root)
    hierarchies, unified = _host_layout()  # mounted at boot: looked up once per process
    return dict(hierarchies), unified


class V1Cgroup(Cgroup):
    """A group named the same in every v1 hierarchy (and the hybrid cgroup2, if present)."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.hierarchies, self.unified_base = _layout(root)
        self.dirs = {controller: base / name for controller, base in self.hierarchies.items()}
        self.unified = self.unified_base / name if self.unified_base else None

    def _make_dirs(self, resources: Resources) -> None:
        for path in self._all_dirs():
            make_group_dir(path)

    def _exists(self) -> bool:
        return any(path.is_dir() for path in self._all_dirs())

    def _all_dirs(self) -> list[Path]:
        unique = list(dict.fromkeys(self.dirs.values()))
        return [*unique, self.unified] if self.unified else unique

    def _dir(self, controller: str) -> Path:
        try:
            return self.dirs[controller]
        except KeyError:
            raise SystemSetupError(
                f"the cgroup v1 {controller!r} controller is not mounted under {self.root}",
                hint=f"mount it: mount -t cgroup -o {controller} cgroup {self.root / controller}",
            ) from None

    def set_resources(self, resources: Resources) -> None:
        """Write the memory, pids and cpu limits that are set."""
        if resources.memory is not None:
            memory = self._dir("memory")
            write_control(memory / "memory.limit_in_bytes", str(resources.memory))
            # memory+swap equal to memory: no swapping (only with swap accounting compiled in)
            if (memory / "memory.memsw.limit_in_bytes").exists():
                write_control(memory / "memory.memsw.limit_in_bytes", str(resources.memory))
        if resources.pids is not None:
            write_control(self._dir("pids") / "pids.max", str(resources.pids))
        if resources.cpu_quota is not None:
            cpu = self._dir("cpu")
            write_control(cpu / "cpu.cfs_period_us", str(resources.cpu_period))
            write_control(cpu / "cpu.cfs_quota_us", str(resources.cpu_quota))
        if resources.cpu_shares is not None:
            write_control(self._dir("cpu") / "cpu.shares", str(resources.cpu_shares))

    def procs_files(self) -> tuple[Path, ...]:
        """``cgroup.procs`` of the group in every hierarchy."""
        return tuple(path / "cgroup.procs" for path in self._all_dirs())

    def stats(self) -> CgroupStats:
        """Usage from ``memory.usage_in_bytes``, ``pids.current`` and ``cpuacct.usage``."""
        memory = self.dirs.get("memory")
        limit = read_int(memory / "memory.limit_in_bytes", UNLIMITED_THRESHOLD) if memory else None
        return CgroupStats(
            memory_bytes=read_int(memory / "memory.usage_in_bytes") if memory else 0,
            memory_limit=None if limit is None or limit >= UNLIMITED_THRESHOLD else limit,
            pids=read_int(self.dirs["pids"] / "pids.current") if "pids" in self.dirs else len(self.pids()),
            cpu_usage_ns=read_int(self.dirs["cpuacct"] / "cpuacct.usage") if "cpuacct" in self.dirs else 0,
        )

    def oom_killed(self) -> bool:
        """True once ``memory.oom_control`` counts an ``oom_kill`` (Linux >= 4.13)."""
        memory = self.dirs.get("memory")
        if memory is None:
            return False
        control = read_keyed(memory / "memory.oom_control")
        if "oom_kill" in control:
            return control["oom_kill"] > 0
        return control.get("under_oom", 0) > 0

    def kill_all(self) -> None:
        """``cgroup.kill`` on the hybrid cgroup2 group if available, then SIGKILL until empty."""
        if self.unified and (self.unified / "cgroup.kill").exists():
            write_control(self.unified / "cgroup.kill", "1")
        kill_pids_until_empty(self.pids)

    def remove_dirs(self, *, keep_parent: bool = False) -> None:
        """Remove the group from every hierarchy, and the empty parents unless ``keep_parent``."""
        for controller, path in self.dirs.items():
            remove_group_dir(path, stop_at=path.parent if keep_parent else self.hierarchies[controller])
        if self.unified and self.unified_base:
            remove_group_dir(self.unified, stop_at=self.unified.parent if keep_parent else self.unified_base)

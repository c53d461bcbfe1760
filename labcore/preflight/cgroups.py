"""Which cgroup limits work here, found by doing what a container does: make a group with the limit.

The probe goes through :class:`labcore.runtime.cgroups.Cgroup`, the same code containers use, so a
passing check means ``--memory``, ``--pids-limit`` and ``--cpus`` will work.
"""

from __future__ import annotations

import os
from pathlib import Path

from labcore.errors import LabcoreError
from labcore.runtime.cgroups import CGROUP_ROOT, Cgroup, CgroupMode, cgroup_mode
from labcore.runtime.spec import Resources

__all__ = ["CONTROLLERS", "describe_mode", "probe_controller"]

CONTROLLERS = ("memory", "pids", "cpu")
_LIMITS = {
    "memory": Resources(memory=512 << 20),
    "pids": Resources(pids=1000),
    "cpu": Resources(cpu_quota=50_000, cpu_shares=512),
}


def describe_mode(mode: CgroupMode, root: Path = CGROUP_ROOT) -> str:
    """One line for people: the mode and where the hierarchies are."""
    v1 = ", ".join(f"{name}: {root / name}" for name in CONTROLLERS if (root / name).is_dir())
    return {
        "v1": f"cgroup v1 ({v1})",
        "v2": f"cgroup v2 at {root}",
        "hybrid": f"hybrid: v1 controllers ({v1}) and cgroup2 at {root / 'unified'}",
    }[mode]


def probe_controller(controller: str, root: Path = CGROUP_ROOT) -> tuple[str, str]:
    """Make a scratch group with a ``controller`` limit; return (cgroup version used, error or "")."""
    version = "v2" if cgroup_mode(root) == "v2" else "v1"
    try:
        group = Cgroup.create(f"labcore-doctor-{os.getpid()}-{controller}", _LIMITS[controller], root)
    except (LabcoreError, OSError) as error:
        return version, f"cannot set a {controller} limit: {error}".splitlines()[0]
    group.destroy()
    return version, ""

"""Find out the cgroup layout of this host and which limits labcore can set."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from labcore.linux.mountinfo import mounts

__all__ = ["CgroupLayout", "detect_layout", "probe_controller"]

CONTROLLERS = ("memory", "pids", "cpu")
# A file each controller must accept a limit in, and a harmless value to write.
_V1_LIMIT = {"memory": ("memory.limit_in_bytes", "536870912"), "pids": ("pids.max", "1000"),
             "cpu": ("cpu.cfs_quota_us", "50000")}
_V2_LIMIT = {"memory": ("memory.max", "536870912"), "pids": ("pids.max", "1000"),
             "cpu": ("cpu.max", "50000 100000")}


@dataclass(frozen=True)
class CgroupLayout:
    """Where the cgroup hierarchies are mounted."""

    mode: Literal["v1", "v2", "hybrid", "none"]
    v1: dict[str, Path]
    v2: Path | None


def detect_layout() -> CgroupLayout:
    """Read the mount table: v1 controllers, the cgroup2 mount, and the resulting mode."""
    v1: dict[str, Path] = {}
    v2: Path | None = None
    for entry in mounts():
        if entry.fstype == "cgroup2" and v2 is None:
            v2 = Path(entry.target)
        elif entry.fstype == "cgroup":
            for option in entry.super_options.split(","):
                if option in CONTROLLERS:
                    v1.setdefault(option, Path(entry.target))
    if v1 and v2 is not None:
        mode: Literal["v1", "v2", "hybrid", "none"] = "hybrid"
    elif v1:
        mode = "v1"
    elif v2 is not None:
        mode = "v2"
    else:
        mode = "none"
    return CgroupLayout(mode, v1, v2)


def probe_controller(layout: CgroupLayout, controller: str) -> tuple[str, str]:
    """Try to set a ``controller`` limit in a scratch cgroup; return (version used, error or "")."""
    scratch = f"labcore-doctor-{os.getpid()}"
    if controller in layout.v1:
        file_name, value = _V1_LIMIT[controller]
        return "v1", _try_limit(layout.v1[controller] / scratch, file_name, value)
    if layout.v2 is not None:
        available = (layout.v2 / "cgroup.controllers").read_text().split()
        if controller not in available:
            return "v2", f"{controller} is not in {layout.v2}/cgroup.controllers"
        enabled = (layout.v2 / "cgroup.subtree_control").read_text().split()
        if controller not in enabled:
            try:
                (layout.v2 / "cgroup.subtree_control").write_text(f"+{controller}")
            except OSError as error:
                return "v2", f"cannot enable {controller} in {layout.v2}: {error.strerror}"
        file_name, value = _V2_LIMIT[controller]
        return "v2", _try_limit(layout.v2 / scratch, file_name, value)
    return "", f"no cgroup hierarchy has the {controller} controller"


def _try_limit(group: Path, file_name: str, value: str) -> str:
    try:
        group.mkdir()
    except OSError as error:
        return f"cannot create {group}: {error.strerror}"
    try:
        (group / file_name).write_text(value)
        return ""
    except OSError as error:
        return f"cannot write {group / file_name}: {error.strerror}"
    finally:
        with contextlib.suppress(OSError):
            group.rmdir()

"""Control groups for containers: pick the hierarchy the host has and hand out a :class:`Cgroup`.

Three host layouts exist: pure cgroup v2 (one unified hierarchy at ``/sys/fs/cgroup``), pure v1
(one hierarchy per controller at ``/sys/fs/cgroup/<controller>``) and hybrid (v1 controllers plus a
controller-less cgroup2 at ``/sys/fs/cgroup/unified``, used for process tracking). v1 and hybrid
hosts get :class:`labcore.runtime.cgroups_v1.V1Cgroup`; v2 hosts get
:class:`labcore.runtime.cgroups_v2.V2Cgroup`. Both share this module's interface.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import functools
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from labcore.errors import NotFoundError, UsageError
from labcore.runtime.spec import Resources

__all__ = [
    "CGROUP_ROOT",
    "Cgroup",
    "CgroupMode",
    "CgroupNotFoundError",
    "CgroupStats",
    "cgroup_mode",
    "remove_if_empty",
    "validate_name",
]

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP2_SUPER_MAGIC = 0x63677270

CgroupMode = Literal["v1", "v2", "hybrid"]


def cgroup_mode(root: Path = CGROUP_ROOT) -> CgroupMode:
    """How cgroups are mounted under ``root``: ``"v2"``, ``"hybrid"`` or ``"v1"``."""
    if (root / "cgroup.controllers").exists():
        return "v2"
    if (root / "unified" / "cgroup.controllers").exists():
        return "hybrid"
    return "v1"


def validate_name(name: str) -> str:
    """Return ``name`` if it is a safe relative cgroup path such as ``labcore/ID``."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise UsageError(
            f"invalid cgroup name {name!r}",
            hint="use a relative path of plain names, e.g. labcore/<container-id>",
        )
    return name


class CgroupNotFoundError(NotFoundError, FileNotFoundError):
    """The named cgroup does not exist (also a ``FileNotFoundError``, as a missing directory is)."""


@dataclass(frozen=True)
class CgroupStats:
    """A snapshot of a group's usage.

    ``memory_limit`` is ``None`` when unlimited; ``cpu_usage_ns`` is total CPU time consumed.
    """

    memory_bytes: int
    memory_limit: int | None
    pids: int
    cpu_usage_ns: int


def read_int(path: Path, default: int = 0) -> int:
    """The integer in a one-line control file, ``default`` when it is missing or empty."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return default
    return int(text) if text else default


def read_keyed(path: Path) -> dict[str, int]:
    """A flat keyed file (``key value`` lines, e.g. ``memory.events``) as a dict; empty when missing."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            found[key] = int(value)
    return found


def write_control(path: Path, value: str) -> None:
    """Write ``value`` to a control file; an error names the file and the value."""
    try:
        with open(path, "w", encoding="ascii") as file:
            file.write(value)
    except OSError as error:
        raise OSError(error.errno, f"{error.strerror} (writing {value!r})", str(path)) from None


def make_group_dir(path: Path) -> None:
    """Create a group directory and its parents; tolerate a parent racing away under us."""
    for _ in range(5):
        try:
            path.mkdir(parents=True, exist_ok=True)
            return
        except FileNotFoundError:  # another destroy() removed a shared parent meanwhile
            continue
    path.mkdir(parents=True, exist_ok=True)


def remove_group_dir(path: Path, stop_at: Path) -> None:
    """Remove an emptied group (retrying while the kernel lets go) and its now-empty parents."""
    for _ in range(200):
        try:
            path.rmdir()
            break
        except FileNotFoundError:
            break
        except OSError as error:
            if error.errno != errno.EBUSY:
                raise
            time.sleep(0.01)
    else:
        path.rmdir()
    parent = path.parent
    while parent != stop_at and stop_at in parent.parents:
        try:
            parent.rmdir()
        except OSError:  # still used by another container, or already gone
            return
        parent = parent.parent


def remove_if_empty(name: str, root: Path = CGROUP_ROOT) -> bool:
    """Remove group ``name`` (e.g. the containers' parent group) where it is empty; whether it is gone."""
    validate_name(name)
    gone = True
    for hierarchy in _group_hierarchies(root):
        try:
            (hierarchy / name).rmdir()
        except FileNotFoundError:
            continue
        except OSError:  # EBUSY: processes or child groups in it
            gone = False
    return gone


def _group_hierarchies(root: Path) -> list[Path]:
    """The directories under which a group can exist: each v1 hierarchy and the cgroup2 tree."""
    if (root / "cgroup.controllers").exists():
        return [root]
    return [path for path in root.iterdir() if path.is_dir() and not path.is_symlink()]


def kill_pids_until_empty(list_pids: Callable[[], list[int]]) -> None:
    """SIGKILL every pid ``list_pids`` returns, again and again, until it returns none."""
    for _ in range(1000):
        pids = list_pids()
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)
    raise TimeoutError(f"processes {list_pids()} survive SIGKILL")


class Cgroup(abc.ABC):
    """One container's control group, in every hierarchy the host uses."""

    #: the relative name, e.g. ``labcore/ID``
    name: str

    @abc.abstractmethod
    def __init__(self, root: Path, name: str) -> None:
        """The group ``name`` under ``root``, without touching the file system."""

    @staticmethod
    def create(name: str, resources: Resources, root: Path = CGROUP_ROOT) -> Cgroup:
        """Create group ``name`` under ``root`` with ``resources`` applied (v1 or v2 as the host has)."""
        group = _implementation(root)(root, validate_name(name))
        group._make_dirs(resources)
        try:
            group.set_resources(resources)
        except BaseException:
            group.remove_dirs()
            raise
        return group

    @staticmethod
    def open(name: str, root: Path = CGROUP_ROOT) -> Cgroup:
        """The existing group ``name`` (e.g. after a restart of the caller); ``CgroupNotFoundError`` if missing."""
        group = _implementation(root)(root, validate_name(name))
        if not group._exists():
            raise CgroupNotFoundError(
                f"cgroup {name!r} does not exist under {root}",
                hint="the container was removed, or never started",
            )
        return group

    @abc.abstractmethod
    def _make_dirs(self, resources: Resources) -> None:
        """Create the group's directories (and enable what ``resources`` need on the way down)."""

    @abc.abstractmethod
    def _exists(self) -> bool:
        """Whether any of the group's directories exists."""

    @abc.abstractmethod
    def set_resources(self, resources: Resources) -> None:
        """Apply (or change) the limits."""

    @abc.abstractmethod
    def procs_files(self) -> tuple[Path, ...]:
        """Every ``cgroup.procs`` a process must be written to in order to join the group."""

    def add(self, pid: int) -> None:
        """Move process ``pid`` (all its threads) into the group; 0 means the caller."""
        for procs in self.procs_files():
            write_control(procs, str(pid))

    def pids(self) -> list[int]:
        """The processes in the group, sorted."""
        found: set[int] = set()
        for procs in self.procs_files():
            found.update(_read_pids(procs))
        return sorted(found)

    @abc.abstractmethod
    def stats(self) -> CgroupStats:
        """Current memory, process and CPU usage."""

    @abc.abstractmethod
    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer has killed a process of this group."""

    @abc.abstractmethod
    def kill_all(self) -> None:
        """SIGKILL every process in the group and return once none is left."""

    @abc.abstractmethod
    def remove_dirs(self, *, keep_parent: bool = False) -> None:
        """Remove the (empty) group directories, and the empty parents unless ``keep_parent``."""

    def destroy(self, *, keep_parent: bool = False) -> None:
        """Kill what is left in the group and remove it (and its empty parents unless ``keep_parent``).

        Containers keep their parent group (``labcore``), as Docker keeps its ``docker`` group: the
        next container does not have to make it again in every hierarchy.
        """
        # usually none: the init's exit has ended its PID namespace. Every process of the group
        # joined all of its hierarchies, the first one first: looking at that one is enough.
        if _read_pids(self.procs_files()[0]):
            self.kill_all()
        self.remove_dirs(keep_parent=keep_parent)


@functools.cache
def _host_mode() -> CgroupMode:
    return cgroup_mode(CGROUP_ROOT)


def _read_pids(procs: Path) -> list[int]:
    try:
        with open(procs, "rb") as file:
            return [int(line) for line in file.read().split()]
    except FileNotFoundError:
        return []


def _implementation(root: Path) -> type[Cgroup]:
    # imported here: the version modules import this one for the shared helpers
    if (_host_mode() if root == CGROUP_ROOT else cgroup_mode(root)) == "v2":
        from labcore.runtime.cgroups_v2 import V2Cgroup

        return V2Cgroup
    from labcore.runtime.cgroups_v1 import V1Cgroup

    return V1Cgroup

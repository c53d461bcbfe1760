"""Snapshots of the host state a test could leak: mounts, netns, links, cgroups, processes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from labcore.runtime.spec import ContainerSpec

CGROUP_ROOT = Path("/sys/fs/cgroup")
NETNS_DIRS = (Path("/run/netns"), Path("/var/run/netns"))


def _mounts() -> frozenset[str]:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as file:
        return frozenset(" ".join((line.split()[4], line.split(" - ")[1].split()[0])) for line in file)


def _netns() -> frozenset[str]:
    names: set[str] = set()
    for directory in NETNS_DIRS:
        if directory.is_dir():
            names.update(entry.name for entry in directory.iterdir())
    return frozenset(names)


def _links() -> frozenset[str]:
    return frozenset(os.listdir("/sys/class/net"))


#: the containers' parent group, which labcore keeps between containers as Docker keeps ``docker``
#: (``labcore system prune`` removes it): not a leak, although the first container of a run makes it
PERMANENT_CGROUPS = (ContainerSpec.cgroup_parent,)


def _cgroups() -> frozenset[str]:
    found: set[str] = set()
    if not CGROUP_ROOT.is_dir():
        return frozenset()
    for hierarchy in CGROUP_ROOT.iterdir():
        if not hierarchy.is_dir() or hierarchy.is_symlink():
            continue
        for dirpath, dirnames, _ in os.walk(hierarchy):
            permanent = PERMANENT_CGROUPS if dirpath == str(hierarchy) else ()
            found.update(os.path.join(dirpath, name) for name in dirnames if name not in permanent)
    return frozenset(found)


def _descendants(root_pid: int) -> frozenset[str]:
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as file:
                stat = file.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        parents.setdefault(int(fields[1]), []).append((int(entry), name))
    found: set[str] = set()
    stack = [root_pid]
    while stack:
        for pid, name in parents.get(stack.pop(), []):
            found.add(f"{pid} ({name})")
            stack.append(pid)
    return frozenset(found)


@dataclass(frozen=True)
class HostState:
    """What the leak fixture compares before and after each test."""

    mounts: frozenset[str]
    netns: frozenset[str]
    links: frozenset[str]
    cgroups: frozenset[str]
    processes: frozenset[str]

    @classmethod
    def capture(cls) -> HostState:
        """Read the current state of this host."""
        return cls(_mounts(), _netns(), _links(), _cgroups(), _descendants(os.getpid()))

    def leaks_since(self, before: HostState) -> list[str]:
        """Human-readable lines for everything present now that was not there ``before``."""
        lines = []
        for field in ("mounts", "netns", "links", "cgroups", "processes"):
            added = sorted(getattr(self, field) - getattr(before, field))
            lines.extend(f"{field}: {item}" for item in added)
        return lines

"""Linux namespaces: create them (unshare), join them (setns) and read their identities."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from labcore.linux._libc import check, libc

__all__ = ["Namespace", "namespace_id", "setns", "unshare"]


class Namespace(enum.IntFlag):
    """Namespace types, as their ``CLONE_NEW*`` flags; ``.proc_name`` is the ``/proc/PID/ns`` name."""

    MNT = 0x00020000
    CGROUP = 0x02000000
    UTS = 0x04000000
    IPC = 0x08000000
    USER = 0x10000000
    PID = 0x20000000
    NET = 0x40000000

    @property
    def proc_name(self) -> str:
        """The entry's name under ``/proc/PID/ns``."""
        return _PROC_NAMES[self]


_PROC_NAMES = {
    Namespace.MNT: "mnt",
    Namespace.CGROUP: "cgroup",
    Namespace.UTS: "uts",
    Namespace.IPC: "ipc",
    Namespace.USER: "user",
    Namespace.PID: "pid",
    Namespace.NET: "net",
}


def unshare(flags: Namespace | int) -> None:
    """Move the calling thread into new namespaces of the given types (``unshare(2)``)."""
    check(libc().unshare(int(flags)), f"unshare({Namespace(flags)!r})")


def setns(fd: int, nstype: Namespace | int = 0) -> None:
    """Join the namespace open at ``fd`` (``setns(2)``); ``nstype`` 0 accepts any type."""
    check(libc().setns(fd, int(nstype)), f"setns(fd={fd})")


@dataclass(frozen=True)
class NamespaceId:
    """A namespace's identity: the device and inode of its ``/proc/PID/ns`` entry."""

    kind: str
    inode: int
    device: int

    def __str__(self) -> str:
        return f"{self.kind}:[{self.inode}]"


def namespace_id(kind: Namespace, pid: int | str = "self") -> NamespaceId:
    """The identity of process ``pid``'s namespace of type ``kind``."""
    path = f"/proc/{pid}/ns/{kind.proc_name}"
    st = os.stat(path)
    return NamespaceId(kind.proc_name, st.st_ino, st.st_dev)

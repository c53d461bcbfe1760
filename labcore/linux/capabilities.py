"""Linux capabilities: names and numbers, and capget/capset(2) on the calling thread."""

from __future__ import annotations

import ctypes
import errno
import functools
from dataclasses import dataclass

from labcore.linux._libc import check, libc

__all__ = ["CAPABILITIES", "CapSets", "bounding_set", "cap_number", "capget", "capset", "last_cap", "mask_of"]

#: Capability names (without ``CAP_``) by number, from ``linux/capability.h``.
CAPABILITIES: tuple[str, ...] = (
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
)

_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _Data(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


@dataclass(frozen=True)
class CapSets:
    """A thread's effective, permitted and inheritable sets as 64-bit masks."""

    effective: int
    permitted: int
    inheritable: int


def cap_number(name: str) -> int:
    """The number of capability ``name`` (``"CHOWN"`` or ``"CAP_CHOWN"``, any case).

    Raises ``KeyError`` naming the capability when it is unknown.
    """
    key = name.upper().removeprefix("CAP_")
    try:
        return CAPABILITIES.index(key)
    except ValueError:
        raise KeyError(name) from None


def mask_of(names: frozenset[str] | set[str]) -> int:
    """The bit mask of a set of capability names."""
    mask = 0
    for name in names:
        mask |= 1 << cap_number(name)
    return mask


@functools.cache
def last_cap() -> int:
    """The highest capability number the running kernel knows (fixed while it runs)."""
    with open("/proc/sys/kernel/cap_last_cap", "rb") as file:
        return int(file.read())


def bounding_set(pid: int | str = "self") -> int:
    """The capability bounding set of process ``pid`` as a bit mask (``CapBnd`` in its status)."""
    with open(f"/proc/{pid}/status", "rb") as file:
        for line in file:
            if line.startswith(b"CapBnd:"):
                return int(line.split()[1], 16)
    raise OSError(errno.ENOENT, "no CapBnd line", f"/proc/{pid}/status")


def capget(pid: int = 0) -> CapSets:
    """The capability sets of thread ``pid`` (0: the caller)."""
    header = _Header(_LINUX_CAPABILITY_VERSION_3, pid)
    data = (_Data * 2)()
    check(libc().capget(ctypes.byref(header), data), f"capget(pid={pid})")
    return CapSets(
        effective=data[0].effective | data[1].effective << 32,
        permitted=data[0].permitted | data[1].permitted << 32,
        inheritable=data[0].inheritable | data[1].inheritable << 32,
    )


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set the calling thread's capability sets from 64-bit masks."""
    header = _Header(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)()
    for index, shift in ((0, 0), (1, 32)):
        data[index].effective = (effective >> shift) & 0xFFFFFFFF
        data[index].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[index].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    check(libc().capset(ctypes.byref(header), data), "capset")

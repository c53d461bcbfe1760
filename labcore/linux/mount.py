"""mount(2), umount2(2) and pivot_root(2)."""

from __future__ import annotations

import enum
import errno
import os
import platform

from labcore.linux._libc import check, encode, libc

__all__ = ["MountFlag", "UmountFlag", "mount", "pivot_root", "umount"]

_PIVOT_ROOT_SYSCALL = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}


class MountFlag(enum.IntFlag):
    """``MS_*`` flags for :func:`mount`."""

    NONE = 0
    RDONLY = 1
    NOSUID = 2
    NODEV = 4
    NOEXEC = 8
    REMOUNT = 32
    NOATIME = 1024
    BIND = 4096
    MOVE = 8192
    REC = 16384
    PRIVATE = 1 << 18
    SLAVE = 1 << 19
    SHARED = 1 << 20
    STRICTATIME = 1 << 24


class UmountFlag(enum.IntFlag):
    """``MNT_*``/``UMOUNT_*`` flags for :func:`umount`."""

    NONE = 0
    FORCE = 1
    DETACH = 2
    NOFOLLOW = 8


def mount(
    source: str | os.PathLike[str] | None,
    target: str | os.PathLike[str],
    fstype: str | None = None,
    flags: MountFlag | int = 0,
    data: str | None = None,
) -> None:
    """Mount ``source`` on ``target``; raise ``OSError`` naming ``target`` on failure."""
    result = libc().mount(encode(source), encode(target), encode(fstype), int(flags), encode(data))
    check(result, target)


def umount(target: str | os.PathLike[str], flags: UmountFlag | int = 0) -> None:
    """Unmount ``target``."""
    check(libc().umount2(encode(target), int(flags)), target)


def pivot_root(new_root: str | os.PathLike[str], put_old: str | os.PathLike[str]) -> None:
    """Make ``new_root`` the root of the calling process's mount namespace."""
    # glibc has no pivot_root wrapper, so call it by number
    number = _PIVOT_ROOT_SYSCALL.get(platform.machine())
    if number is None:
        raise OSError(errno.ENOSYS, f"pivot_root: unknown syscall number on {platform.machine()}")
    check(libc().syscall(number, encode(new_root), encode(put_old)), new_root, os.fspath(put_old))

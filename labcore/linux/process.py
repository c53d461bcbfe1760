"""Process creation the standard library lacks: clone(2) with namespace and ``CLONE_PARENT`` flags."""

from __future__ import annotations

import ctypes
import errno
import platform
import signal

from labcore.linux._libc import check, libc

__all__ = ["CLONE_PARENT", "clone"]

CLONE_PARENT = 0x00008000
_CLONE_SYSCALL = {"x86_64": 56, "aarch64": 220, "riscv64": 220, "ppc64le": 120, "s390x": 120}


def clone(flags: int) -> int:
    """Fork-like ``clone(2)`` with extra ``flags`` (e.g. ``CLONE_NEW*``, :data:`CLONE_PARENT`).

    Like ``fork()`` it returns the child's pid in the caller and 0 in the child, which runs on a
    copy of the caller's stack. Call it only from a single-threaded process (e.g. right after
    ``os.fork()``): no fork handlers run, so locks held by other threads would stay locked.
    With ``CLONE_PARENT`` the child is a child of the caller's parent, which can then wait for it.
    """
    number = _CLONE_SYSCALL.get(platform.machine())
    if number is None:
        raise OSError(errno.ENOSYS, f"clone: unknown syscall number on {platform.machine()}")
    syscall = libc().syscall
    null = ctypes.c_void_p(0)
    # arguments after flags are (stack, parent_tid, child_tid, tls): none, so it behaves like fork
    result: int = syscall(
        ctypes.c_long(number), ctypes.c_ulong(flags | signal.SIGCHLD), null, null, null, null
    )
    return check(result, f"clone(flags={flags:#x})")

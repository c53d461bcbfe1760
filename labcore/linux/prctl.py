"""prctl(2): the per-process switches the runtime flips before exec."""

from __future__ import annotations

import ctypes

from labcore.linux._libc import check, libc

__all__ = [
    "ambient_clear_all",
    "ambient_raise",
    "capbset_drop",
    "capbset_read",
    "set_keepcaps",
    "set_name",
    "set_no_new_privs",
    "set_pdeathsig",
]

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4


def _prctl(option: int, arg2: int = 0, arg3: int = 0, what: str = "prctl") -> int:
    ulong = ctypes.c_ulong
    return check(libc().prctl(option, ulong(arg2), ulong(arg3), ulong(0), ulong(0)), what)


def set_no_new_privs() -> None:
    """Forbid this process and its children from gaining privileges through exec (setuid bits, file caps)."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")


def capbset_drop(cap: int) -> None:
    """Remove capability number ``cap`` from the bounding set (needs CAP_SETPCAP)."""
    _prctl(PR_CAPBSET_DROP, cap, what=f"prctl(PR_CAPBSET_DROP, {cap})")


def capbset_read(cap: int) -> bool:
    """Whether capability number ``cap`` is in the bounding set."""
    return _prctl(PR_CAPBSET_READ, cap, what=f"prctl(PR_CAPBSET_READ, {cap})") == 1


def ambient_raise(cap: int) -> None:
    """Add ``cap`` to the ambient set (it must be permitted and inheritable already)."""
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, what=f"prctl(PR_CAP_AMBIENT_RAISE, {cap})")


def ambient_clear_all() -> None:
    """Empty the ambient capability set."""
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, what="prctl(PR_CAP_AMBIENT_CLEAR_ALL)")


def set_keepcaps(keep: bool) -> None:
    """Keep permitted capabilities across a change from uid 0 to another uid (``PR_SET_KEEPCAPS``)."""
    _prctl(PR_SET_KEEPCAPS, int(keep), what="prctl(PR_SET_KEEPCAPS)")


def set_pdeathsig(signal_number: int) -> None:
    """Have the kernel send ``signal_number`` to this process when its parent thread dies."""
    _prctl(PR_SET_PDEATHSIG, signal_number, what="prctl(PR_SET_PDEATHSIG)")


def set_name(name: bytes) -> None:
    """Name this thread (its ``comm``, as ``ps`` and ``top`` show it; 15 bytes at most)."""
    buffer = ctypes.create_string_buffer(name[:15])
    ulong = ctypes.c_ulong
    check(libc().prctl(PR_SET_NAME, buffer, ulong(0), ulong(0), ulong(0)), "prctl(PR_SET_NAME)")

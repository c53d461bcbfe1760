"""Become a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), as container supervisors do.

Orphaned descendants of a subreaper are re-parented to it instead of to pid 1, so a supervisor can
``waitpid`` the container's init even when the runtime double-forked to create it.
"""

from __future__ import annotations

import ctypes

from labcore.linux._libc import check, libc

__all__ = ["is_child_subreaper", "set_child_subreaper"]

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37


def set_child_subreaper(enabled: bool = True) -> None:
    """Mark (or unmark) the calling process as a subreaper for its descendants."""
    check(libc().prctl(_PR_SET_CHILD_SUBREAPER, int(enabled), 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")


def is_child_subreaper() -> bool:
    """Whether the calling process is a child subreaper."""
    value = ctypes.c_int(0)
    check(
        libc().prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0), "prctl(PR_GET_CHILD_SUBREAPER)"
    )
    return bool(value.value)

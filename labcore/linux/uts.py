"""sethostname(2) for a UTS namespace."""

from __future__ import annotations

from labcore.linux._libc import check, libc

__all__ = ["sethostname"]


def sethostname(name: str) -> None:
    """Set the hostname of the calling process's UTS namespace."""
    raw = name.encode()
    check(libc().sethostname(raw, len(raw)), f"sethostname({name!r})")

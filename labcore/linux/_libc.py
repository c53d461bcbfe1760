"""Lazy access to the C library, with errno captured for every call."""

from __future__ import annotations

import ctypes
import functools
import os


@functools.cache
def libc() -> ctypes.CDLL:
    """The process's C library, loaded once with ``use_errno``."""
    try:
        # glibc's soname on every Linux labcore supports; find_library runs `ldconfig -p` (milliseconds)
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        from ctypes.util import find_library  # imports subprocess and tempfile: only when needed

        return ctypes.CDLL(find_library("c") or "libc.so.6", use_errno=True)


def check(result: int, what: str | os.PathLike[str] | None = None, what2: str | None = None) -> int:
    """Return ``result`` or raise ``OSError(errno, strerror, what)`` when it is -1."""
    if result == -1:
        err = ctypes.get_errno()
        if what2 is not None:
            raise OSError(err, os.strerror(err), os.fspath(what) if what else None, what2)
        raise OSError(err, os.strerror(err), os.fspath(what) if what is not None else None)
    return result


def encode(value: str | os.PathLike[str] | None) -> bytes | None:
    """A path or string as bytes for C, or None."""
    return None if value is None else os.fsencode(value)

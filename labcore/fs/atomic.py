"""Crash-safe file writes (temp file, fsync, rename, fsync the directory) and flock-based locks.

The one place labcore replaces files: image store, caches, credentials, notebooks, network and
container state all write through :func:`write_atomic` or :func:`write_json_atomic`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["fsync_directory", "locked", "open_lock_file", "write_atomic", "write_json_atomic"]

_temp_numbers = itertools.count()


def fsync_directory(directory: Path) -> None:
    """Flush a directory's entries (a rename) to disk."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True, make_parent: bool = False
) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a part.

    ``durable`` also syncs the file and its directory, so the new content survives a power loss.
    Volatile state (under the run directory, rewritten several times per container run) skips
    that, as runc's ``state.json`` does. ``make_parent`` creates the directory if it is missing.
    """
    try:
        fd, temp_name = _create_temp(path)
    except FileNotFoundError:
        if not make_parent:
            raise
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = _create_temp(path)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    if durable:
        fsync_directory(path.parent)


def _create_temp(path: Path) -> tuple[int, str]:
    """A new file beside ``path`` named after this process and a counter (cheaper than mkstemp)."""
    for _ in range(100):
        temp_name = f"{path.parent}/.{path.name}.{os.getpid()}-{next(_temp_numbers)}.tmp"
        try:
            return os.open(temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), temp_name
        except FileExistsError:  # left by a crashed process that had our pid
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))


def write_json_atomic(path: Path, data: Any, *, durable: bool = True, indent: int | None = 2) -> None:
    """:func:`write_atomic` of ``data`` as JSON (sorted keys, a final newline); creates the parent."""
    text = json.dumps(data, indent=indent, sort_keys=True) + "\n"
    write_atomic(path, text.encode("utf-8"), durable=durable, make_parent=True)


def open_lock_file(lock_path: Path, mode: int) -> int:
    """Open (creating it, and its directory, if missing) a file to ``flock``; the descriptor."""
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
    try:
        return os.open(lock_path, flags, mode)
    except FileNotFoundError:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(lock_path, flags, mode)


@contextlib.contextmanager
def locked(lock_path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an ``flock`` on ``lock_path`` (created if missing) for the ``with`` block.

    The kernel drops the lock when the process dies, so a killed writer never wedges the store.
    """
    fd = open_lock_file(lock_path, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)

"""Where network state lives on disk, and how it is written: atomically, under ``flock``.

Persistent state (networks, address leases, endpoints) is under ``settings().root / "networks"``
so that it survives restarts; generated files the containers bind-mount (``hosts``,
``resolv.conf``) are under ``settings().run / "networks"``. Host-wide resources that every
labcore root shares (the nftables table, ``ip_forward``) are guarded by locks in
:data:`HOST_STATE_DIR`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labcore.config import settings

__all__ = [
    "HOST_STATE_DIR",
    "containers_run_dir",
    "locked",
    "networks_dir",
    "read_json",
    "write_json_atomic",
]

#: Host-wide state shared by every labcore root: the firewall lock and the saved ``ip_forward``.
HOST_STATE_DIR = Path("/run/lock/labcore-network")


def networks_dir() -> Path:
    """The directory of persistent network state (created if missing)."""
    path = settings().root / "networks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def containers_run_dir() -> Path:
    """The directory of per-container generated files (``hosts``, ``resolv.conf``)."""
    path = settings().run / "networks" / "containers"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` for the ``with`` block.

    The kernel drops the lock when the holder dies, so a ``kill -9`` never wedges the state.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON: temp file, fsync, rename, fsync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2, sort_keys=True)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` when the file does not exist."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        return default

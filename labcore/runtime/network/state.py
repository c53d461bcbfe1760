"""Where network state lives on disk (written with :mod:`labcore.fs.atomic`, under ``flock``).

Persistent state (networks, address leases, endpoints) is under ``settings().root / "networks"``
so that it survives restarts; generated files the containers bind-mount (``hosts``,
``resolv.conf``) are under ``settings().run / "networks"``. Host-wide resources that every
labcore root shares (the nftables table, ``ip_forward``) are guarded by locks in
:data:`HOST_STATE_DIR`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labcore.config import settings

__all__ = [
    "HOST_STATE_DIR",
    "containers_run_dir",
    "networks_dir",
    "read_json",
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


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON in ``path``, or ``default`` when the file does not exist."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        return default

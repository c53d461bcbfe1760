"""Where labcore keeps its state, read from the environment each time it is asked.

``LABCORE_ROOT`` (default ``/var/lib/labcore``) holds persistent state: the image store, volumes,
the lab registry's storage. ``LABCORE_RUN`` holds runtime state (pid files, container state,
sockets); by default it is ``/run/labcore`` for the default root, and ``<root>.run`` beside any
other root, so that a temporary root used by a test has a temporary run dir too.
``LABCORE_REGISTRY`` is the lab registry's ``host:port`` (default ``127.0.0.1:5000``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_REGISTRY", "DEFAULT_ROOT", "DEFAULT_RUN", "Settings", "settings"]

DEFAULT_ROOT = Path("/var/lib/labcore")
DEFAULT_RUN = Path("/run/labcore")
DEFAULT_REGISTRY = "127.0.0.1:5000"


@dataclass(frozen=True)
class Settings:
    """Resolved locations of labcore's state."""

    root: Path
    run: Path
    registry: str

    @property
    def store(self) -> Path:
        """The OCI image layout that holds every image."""
        return self.root / "store"

    @property
    def snapshots(self) -> Path:
        """Unpacked layers, one directory per chain id."""
        return self.root / "snapshots"


def settings() -> Settings:
    """Read the current settings from the environment."""
    root = Path(os.environ.get("LABCORE_ROOT") or DEFAULT_ROOT)
    run_env = os.environ.get("LABCORE_RUN")
    if run_env:
        run = Path(run_env)
    elif root == DEFAULT_ROOT:
        run = DEFAULT_RUN
    else:
        run = root.with_name(root.name + ".run")
    registry = os.environ.get("LABCORE_REGISTRY") or DEFAULT_REGISTRY
    return Settings(root=root, run=run, registry=registry)

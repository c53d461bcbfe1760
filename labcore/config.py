"""Where labcore keeps its state, read from the environment each time it is asked.

``LABCORE_ROOT`` (default ``/var/lib/labcore``) holds persistent state: the image store, volumes,
the lab registry's storage. ``LABCORE_RUN`` holds runtime state (pid files, container state,
sockets); by default it is ``/run/labcore`` for the default root, and ``<root>.run`` beside any
other root, so that a temporary root used by a test has a temporary run dir too.
``LABCORE_REGISTRY`` is the lab registry's ``host:port`` (default ``127.0.0.1:5000``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_REGISTRY", "DEFAULT_ROOT", "DEFAULT_RUN", "Settings", "package_parent", "settings"]

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


def package_parent() -> str:
    """The directory that holds this ``labcore`` package: what ``sys.path`` needs to import it.

    In a checkout (editable install) it is the checkout itself.
    """
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def settings() -> Settings:
    """Read the current settings from the environment."""
    environ = os.environ
    return _settings_for(environ.get("LABCORE_ROOT"), environ.get("LABCORE_RUN"), environ.get("LABCORE_REGISTRY"))


@functools.lru_cache(maxsize=16)
def _settings_for(root_env: str | None, run_env: str | None, registry_env: str | None) -> Settings:
    root = Path(root_env or DEFAULT_ROOT)
    if run_env:
        run = Path(run_env)
    elif root == DEFAULT_ROOT:
        run = DEFAULT_RUN
    else:
        run = root.with_name(root.name + ".run")
    return Settings(root=root, run=run, registry=registry_env or DEFAULT_REGISTRY)

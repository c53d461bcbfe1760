"""Where slow-to-make base image inputs (debootstrap tarballs) are cached across labcore roots."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_CACHE", "cache_root"]

DEFAULT_CACHE = Path("/var/cache/labcore")


def cache_root() -> Path:
    """The shared cache directory: ``$LABCORE_CACHE`` or ``/var/cache/labcore``."""
    return Path(os.environ.get("LABCORE_CACHE") or DEFAULT_CACHE)

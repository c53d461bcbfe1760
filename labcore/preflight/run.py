"""Run every pre-flight check."""

from __future__ import annotations

from pathlib import Path

from labcore.config import settings
from labcore.preflight import checks
from labcore.preflight.report import Report

__all__ = ["doctor"]

DEFAULT_BUSYBOX = Path("/bin/busybox")


def doctor(
    *, root: Path | None = None, registry: str | None = None, busybox: Path = DEFAULT_BUSYBOX
) -> Report:
    """Check that this host can run the lab; see :class:`Report` for the results.

    ``root`` (the store's location) and ``registry`` (``host:port``) default to the current settings.
    """
    current = settings()
    root = root or current.root
    found = [checks.check_kernel(), checks.check_privileges()]
    found += checks.check_namespaces()
    found.append(checks.check_overlay(root))
    found += checks.check_cgroups()
    found.append(checks.check_propagation())
    found.append(checks.check_busybox(busybox))
    found.append(checks.check_registry(registry or current.registry))
    found.append(checks.check_disk(root))
    return Report(tuple(found))

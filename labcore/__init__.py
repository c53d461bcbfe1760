"""labcore: a container lab you can read.

OCI images and layers, overlayfs, namespaces and cgroups, volumes, networks, Dockerfile builds and
registries, done for real on a Linux kernel. The parts, low to high: :mod:`labcore.linux` (system
calls), :mod:`labcore.fs` (layers, overlays), :mod:`labcore.image` (the store),
:mod:`labcore.registry`, :mod:`labcore.runtime`, :mod:`labcore.container`, :mod:`labcore.build`.

``labcore.doctor()`` runs the pre-flight check. Submodules are imported on first use, so
``import labcore`` stays cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `import labcore` must not import typing (the launcher's path)
if TYPE_CHECKING:
    from typing import Any

    from labcore.preflight import Report

__all__ = ["__version__", "doctor"]

__version__ = "0.1.0"


def doctor(**options: Any) -> Report:
    """Check that this host can run the lab; see :func:`labcore.preflight.doctor`."""
    from labcore.preflight import doctor as run_doctor

    return run_doctor(**options)

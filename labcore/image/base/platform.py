"""The host's platform in the names OCI image configs use (GOARCH-style architectures)."""

from __future__ import annotations

import platform as _platform

from labcore.errors import SystemSetupError

__all__ = ["debian_architecture", "oci_architecture"]

_OCI_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
             "s390x": "s390x", "riscv64": "riscv64"}
_DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "i686": "i386",
                "ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64"}


def _lookup(table: dict[str, str]) -> str:
    machine = _platform.machine()
    try:
        return table[machine]
    except KeyError:
        raise SystemSetupError(
            f"unknown machine architecture {machine!r}",
            hint="labcore base images know x86_64, aarch64, armv7l, i686, ppc64le, s390x and riscv64",
        ) from None


def oci_architecture() -> str:
    """The host's architecture as an OCI config spells it (``amd64``, ``arm64``...)."""
    return _lookup(_OCI_ARCH)


def debian_architecture() -> str:
    """The host's architecture as Debian spells it (``amd64``, ``arm64``, ``armhf``...)."""
    return _lookup(_DEBIAN_ARCH)

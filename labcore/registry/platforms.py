"""Choose one image manifest from an index by platform (``linux/amd64``, ``linux/arm64/v8``)."""

from __future__ import annotations

from labcore.errors import UsageError
from labcore.image.base.platform import oci_architecture
from labcore.image.descriptor import Descriptor, Platform
from labcore.image.manifest import Index
from labcore.registry.errors import RegistryNotFoundError

__all__ = ["host_platform", "parse_platform", "select_manifest"]

# Variants that are implied when absent, as containerd's platform matcher treats them.
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}


def parse_platform(text: str) -> Platform:
    """Parse ``os/arch[/variant]``; raise :class:`UsageError` naming ``text`` when malformed."""
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(
            f"invalid platform {text!r}",
            hint="write OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64 or linux/arm64/v8",
        )
    return Platform(architecture=parts[1], os=parts[0], variant=parts[2] if len(parts) == 3 else None)


def host_platform() -> Platform:
    """The platform of this host (always ``linux``)."""
    return Platform(architecture=oci_architecture(), os="linux")


def _variant(platform: Platform) -> str | None:
    return platform.variant or _DEFAULT_VARIANT.get(platform.architecture)


def matches(wanted: Platform, offered: Platform) -> bool:
    """True when ``offered`` runs as ``wanted``; a wanted platform without a variant takes any."""
    if (wanted.os, wanted.architecture) != (offered.os, offered.architecture):
        return False
    return wanted.variant is None or _variant(wanted) == _variant(offered)


def select_manifest(index: Index, wanted: Platform, what: str) -> Descriptor:
    """The first manifest of ``index`` for ``wanted``; an error listing what is offered otherwise."""
    for descriptor in index.manifests:
        if descriptor.platform is not None and matches(wanted, descriptor.platform):
            return descriptor
    offered = sorted({str(d.platform) for d in index.manifests if d.platform is not None})
    raise RegistryNotFoundError(
        f"{what}: no image for platform {wanted} (offered: {', '.join(offered) or 'none'})",
        hint="choose one of the offered platforms with --platform OS/ARCH[/VARIANT]",
    )

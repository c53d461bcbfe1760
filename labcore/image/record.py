"""What the store knows about one image: its name, manifest and config, read and verified."""

from __future__ import annotations

from dataclasses import dataclass

from labcore.digest import Digest
from labcore.image.descriptor import Descriptor
from labcore.image.imageconfig import ImageConfig
from labcore.image.manifest import Manifest
from labcore.image.reference import Reference

__all__ = ["ImageRecord"]


@dataclass(frozen=True)
class ImageRecord:
    """One image in the store, as found through a name, a digest or an id.

    ``descriptor`` is the entry of ``index.json`` (its digest is what a registry calls the image
    digest, and may point to an index); ``manifest_descriptor`` is the platform manifest actually
    used. ``name`` is None for an image kept without a tag.
    """

    name: Reference | None
    descriptor: Descriptor
    manifest_descriptor: Descriptor
    manifest: Manifest
    config: ImageConfig

    @property
    def id(self) -> Digest:
        """The image id, as Docker defines it: the digest of the config blob."""
        return self.manifest.config.digest

    @property
    def digest(self) -> Digest:
        """The digest of the manifest (or index) the name points to, as in ``name@digest``."""
        return self.descriptor.digest

    @property
    def layers(self) -> tuple[Descriptor, ...]:
        """The layer descriptors, base first."""
        return self.manifest.layers

    @property
    def diff_ids(self) -> tuple[Digest, ...]:
        """The digests of the uncompressed layers, base first."""
        return self.config.diff_ids

    @property
    def chain_ids(self) -> list[Digest]:
        """The chain id of each layer, base first; the last one names the whole rootfs."""
        return self.config.chain_ids

    @property
    def size(self) -> int:
        """Bytes of content the image uses in the store: manifest, config and layer blobs."""
        return (
            self.manifest_descriptor.size
            + self.manifest.config.size
            + sum(layer.size for layer in self.manifest.layers)
        )

    @property
    def display_name(self) -> str:
        """``busybox:latest`` style, or ``<none>`` for an untagged image."""
        return self.name.familiar if self.name is not None else "<none>"

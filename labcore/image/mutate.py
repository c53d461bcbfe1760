"""Make a new image from an old one: add layers, change the config, record history.

This is the one place that writes layer blobs with their diff ids and assembles a config and a
manifest on top of a base image; importing a rootfs, base images, ``commit`` and Dockerfile builds
all go through it. Images are never edited in place: every call stores a new one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, cast

from labcore.digest import Digest, Hasher
from labcore.fs.compression import Compression, open_compressed
from labcore.image import mediatypes
from labcore.image.base.platform import oci_architecture
from labcore.image.descriptor import Descriptor
from labcore.image.imageconfig import ContainerConfig, HistoryEntry, ImageConfig
from labcore.image.manifest import Manifest
from labcore.image.record import ImageRecord
from labcore.image.reference import Reference
from labcore.image.store import Store

__all__ = ["Addition", "LayerSource", "new_image", "now_rfc3339", "write_layer"]

LayerSource = Callable[[BinaryIO], object]
"""Writes one uncompressed tar layer to the stream it is given."""

_LAYER_MEDIA_TYPE = {
    Compression.NONE: mediatypes.OCI_LAYER,
    Compression.GZIP: mediatypes.OCI_LAYER_GZIP,
    Compression.ZSTD: mediatypes.OCI_LAYER_ZSTD,
}


def now_rfc3339() -> str:
    """The current time as an RFC 3339 UTC timestamp, as configs record it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _DiffIdTee:
    """Hashes the uncompressed tar on its way into the compressor."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.hasher = Hasher()

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        return self.sink.write(data)

    def flush(self) -> None:
        self.sink.flush()


def write_layer(
    store: Store, source: LayerSource, compression: Compression = Compression.GZIP
) -> tuple[Descriptor, Digest]:
    """Stream the layer ``source`` writes into the store; return its descriptor and diff id.

    Call it inside ``store.writing()`` together with :func:`new_image`, so that garbage collection
    cannot remove the blob before an image refers to it.
    """
    with store.blob_writer() as blob:
        compressor = open_compressed(cast("BinaryIO", blob), compression)
        tee = _DiffIdTee(compressor)
        source(cast("BinaryIO", tee))
        compressor.close()
        digest, size = blob.commit()
    return Descriptor(_LAYER_MEDIA_TYPE[compression], digest, size), tee.hasher.digest()


@dataclass(frozen=True)
class Addition:
    """One history step; ``layer`` and ``diff_id`` are None for a step that changed only the config."""

    history: HistoryEntry
    layer: Descriptor | None = None
    diff_id: Digest | None = None


def new_image(
    store: Store,
    base: ImageRecord | None,
    additions: Sequence[Addition],
    container: ContainerConfig | None = None,
    *,
    names: Iterable[str | Reference] = (),
    created: str | None = None,
    author: str = "",
    keep: bool = True,
) -> ImageRecord:
    """Store a new image: ``base`` (None for scratch) plus ``additions``, with config ``container``.

    ``container`` defaults to the base's run settings. The result is tagged with ``names`` (or kept
    untagged without them) and returned. With ``keep=False`` (and no names) only the blobs are
    written and ``index.json`` is left alone: a build's intermediate images, which its cache
    refers to, live like that.
    """
    created = created or now_rfc3339()
    layers = list(base.layers) if base else []
    diff_ids = list(base.diff_ids) if base else []
    history = list(base.config.history) if base else []
    for addition in additions:
        entry = addition.history
        if entry.created is None:
            entry = dataclasses.replace(entry, created=created)
        if addition.layer is not None:
            if addition.diff_id is None:
                raise ValueError("an addition with a layer needs its diff id")
            layers.append(addition.layer)
            diff_ids.append(addition.diff_id)
            entry = dataclasses.replace(entry, empty_layer=False)
        else:
            entry = dataclasses.replace(entry, empty_layer=True)
        history.append(entry)
    config = ImageConfig(
        architecture=base.config.architecture if base else oci_architecture(),
        os="linux",
        diff_ids=tuple(diff_ids),
        config=container if container is not None else (base.config.config if base else ContainerConfig()),
        history=tuple(history),
        created=created,
        author=author,
        variant=base.config.variant if base else None,
    )
    names = list(names)
    with store.writing():
        config_descriptor = store.put_json(config)
        manifest = Manifest(config=config_descriptor, layers=tuple(layers))
        manifest_descriptor = store.put_json(manifest)
        if keep or names:
            return store.add_image(manifest_descriptor, names)[0]
    return ImageRecord(None, manifest_descriptor, manifest_descriptor, manifest, config)

"""Turn one layer, written by a recipe, into a tagged single-layer image in the store.

The layer is streamed once: the tar bytes are hashed (the diff id) on their way into a gzip
compressor that writes straight into a new blob, so no temporary copy of the layer is made.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import BinaryIO, cast

from labcore.digest import Hasher
from labcore.fs.compression import Compression, open_compressed
from labcore.image import mediatypes
from labcore.image.base.platform import oci_architecture
from labcore.image.blobs import BlobWriter
from labcore.image.descriptor import Descriptor
from labcore.image.imageconfig import ContainerConfig, HistoryEntry, ImageConfig
from labcore.image.manifest import Manifest
from labcore.image.record import ImageRecord
from labcore.image.store import Store

__all__ = ["DEFAULT_PATH_ENV", "LayerStep", "commit_single_layer", "rfc3339", "source_epoch"]

DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: A recipe that writes an uncompressed layer tarball into the stream it is given.
LayerStep = Callable[[BinaryIO], None]


def source_epoch(default: float) -> int:
    """``$SOURCE_DATE_EPOCH`` if set (reproducible builds), else ``default`` (an input's mtime)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else int(default)


def rfc3339(epoch: int) -> str:
    """``epoch`` as the UTC timestamp image configs use, e.g. ``2024-05-01T12:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class _DiffIdTee:
    """Hashes the uncompressed bytes and passes them on to the compressor."""

    def __init__(self, compressor: BinaryIO) -> None:
        self.hasher = Hasher()
        self._compressor = compressor

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self._compressor.write(data)
        return len(data)

    def flush(self) -> None:
        self._compressor.flush()


def _write_layer(blob: BlobWriter, step: LayerStep) -> tuple[Descriptor, Hasher]:
    compressor = open_compressed(cast("BinaryIO", blob), Compression.GZIP)
    tee = _DiffIdTee(compressor)
    step(cast("BinaryIO", tee))
    compressor.close()
    digest, size = blob.commit()
    return Descriptor(mediatypes.OCI_LAYER_GZIP, digest, size), tee.hasher


def commit_single_layer(
    store: Store,
    step: LayerStep,
    *,
    tag: str,
    created: int,
    layer_created_by: str,
    container: ContainerConfig,
    later_steps: Sequence[str] = (),
    comment: str = "",
) -> ImageRecord:
    """Write the layer ``step`` makes, a config and a manifest; tag the image ``tag`` and return it.

    ``layer_created_by`` describes the step that made the layer and each of ``later_steps``
    (``CMD [...]``...) becomes an ``empty_layer`` history entry, as Docker records a Dockerfile.
    """
    timestamp = rfc3339(created)
    with store.writing():
        with store.blob_writer() as blob:
            layer, diff_hasher = _write_layer(blob, step)
        history = [HistoryEntry(created=timestamp, created_by=layer_created_by, comment=comment)]
        history += [HistoryEntry(created=timestamp, created_by=later, comment=comment, empty_layer=True)
                    for later in later_steps]
        config = ImageConfig(
            architecture=oci_architecture(),
            os="linux",
            diff_ids=(diff_hasher.digest(),),
            config=container,
            history=tuple(history),
            created=timestamp,
        )
        config_descriptor = store.put_json(config)
        manifest = Manifest(config=config_descriptor, layers=(layer,))
        manifest_descriptor = store.put_json(manifest)
        return store.add_image(manifest_descriptor, [tag])[0]

"""Read a layer blob from the store as an uncompressed tar stream, verified against its digest."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import BinaryIO, cast

from labcore.digest import VerifyingReader
from labcore.fs.compression import from_media_type, open_decompressed
from labcore.image.descriptor import Descriptor
from labcore.image.store import Store

__all__ = ["open_layer"]


class _BlobReader:
    """A plain reader over a :class:`VerifyingReader`, with the no-op ``flush`` io wrappers call."""

    def __init__(self, blob: VerifyingReader) -> None:
        self._blob = blob

    def read(self, size: int = -1) -> bytes:
        return self._blob.read(size)

    def readable(self) -> bool:
        return True

    def flush(self) -> None:
        """Nothing to flush: this is a reader."""


@contextlib.contextmanager
def open_layer(store: Store, layer: Descriptor) -> Iterator[BinaryIO]:
    """The uncompressed tar of ``layer``; when the block ends normally the whole blob is verified.

    A decompressor may stop before the blob's last bytes, so the rest is read and the digest and
    size checked at the end, raising :class:`~labcore.errors.DigestError` on a mismatch.
    """
    compression = from_media_type(layer.media_type)
    with store.open_blob(layer.digest, layer.size) as blob:
        with open_decompressed(cast(BinaryIO, _BlobReader(blob)), compression) as tar:
            yield tar
        blob.verify_to_end()

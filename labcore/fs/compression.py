"""Layer compression: none, gzip and zstd, by media type or by the stream's magic bytes.

A layer blob is a tar archive, stored as is or compressed. Its media type says which
(``...tar``, ``...tar+gzip``, ``...tar+zstd``); :func:`detect` tells from the first bytes when the
media type is unknown or lies. :func:`open_decompressed` and :func:`open_compressed` wrap a binary
stream; both stream, so a layer never has to fit in memory.
"""

from __future__ import annotations

import enum
import gzip
import io
from typing import BinaryIO, cast

import zstandard

from labcore.errors import LayerError

__all__ = [
    "Compression",
    "UnsupportedCompressionError",
    "detect",
    "from_media_type",
    "open_compressed",
    "open_decompressed",
]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BUFFER = 1 << 20


class UnsupportedCompressionError(LayerError):
    """A media type or stream in a compression labcore cannot read."""

    default_hint = "labcore reads uncompressed, gzip and zstd layers"


class Compression(enum.Enum):
    """How a layer blob is compressed; ``.suffix`` is the media type suffix."""

    NONE = ""
    GZIP = "+gzip"
    ZSTD = "+zstd"

    @property
    def suffix(self) -> str:
        """The media type suffix: ``""``, ``"+gzip"`` or ``"+zstd"``."""
        return self.value


def from_media_type(media_type: str) -> Compression:
    """The compression a layer media type names (OCI and Docker types, incl. non-distributable).

    Raises :class:`UnsupportedCompressionError` for any other suffix.
    """
    base = media_type.split(";", 1)[0].strip()
    if base.endswith(".tar"):
        return Compression.NONE
    if base.endswith(("+gzip", ".tar.gzip")):
        return Compression.GZIP
    if base.endswith("+zstd"):
        return Compression.ZSTD
    raise UnsupportedCompressionError(f"layer media type {media_type!r} has an unknown compression")


def detect(head: bytes) -> Compression:
    """The compression of a stream whose first bytes are ``head`` (at least 4 bytes to be sure)."""
    if head.startswith(_GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(_ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


def open_decompressed(stream: BinaryIO, compression: Compression | None = None) -> BinaryIO:
    """A reader of the uncompressed bytes of ``stream``; ``None`` detects from the magic bytes.

    Detection needs to peek, so the stream is wrapped in a buffer when it cannot peek itself.
    Closing the result does not close ``stream``.
    """
    if compression is None:
        buffered = (
            stream
            if isinstance(stream, io.BufferedReader)
            else io.BufferedReader(cast("io.RawIOBase", _Unclosing(stream)), _BUFFER)
        )
        compression = detect(buffered.peek(4)[:4])
        stream = cast("BinaryIO", buffered)
    if compression is Compression.NONE:
        return cast("BinaryIO", _Unclosing(stream))
    if compression is Compression.GZIP:
        return cast("BinaryIO", gzip.GzipFile(fileobj=stream, mode="rb"))
    reader = zstandard.ZstdDecompressor().stream_reader(stream, read_size=_BUFFER, closefd=False)
    return cast("BinaryIO", reader)


def open_compressed(stream: BinaryIO, compression: Compression, *, level: int | None = None) -> BinaryIO:
    """A writer that compresses into ``stream``; close it to finish (``stream`` stays open).

    ``level`` defaults to gzip 6 (like Docker) and zstd 3.
    """
    if compression is Compression.NONE:
        return cast("BinaryIO", _Unclosing(stream))
    if compression is Compression.GZIP:
        # mtime=0 keeps the gzip header, hence the blob digest, reproducible
        return cast("BinaryIO", gzip.GzipFile(fileobj=stream, mode="wb", compresslevel=level or 6, mtime=0))
    compressor = zstandard.ZstdCompressor(level=level or 3)
    return cast("BinaryIO", compressor.stream_writer(stream, closefd=False))


class _Unclosing(io.RawIOBase):
    """A raw stream over another binary stream whose close() leaves the other open."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._inner.write(data)

    def flush(self) -> None:
        self._inner.flush()

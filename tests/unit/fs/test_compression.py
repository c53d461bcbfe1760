"""Layer compression: media types, magic-byte detection, streaming round trips with peer tools."""

from __future__ import annotations

import gzip
import io
import subprocess

import pytest
import zstandard

from labcore.fs.compression import (
    Compression,
    UnsupportedCompressionError,
    detect,
    from_media_type,
    open_compressed,
    open_decompressed,
)

PAYLOAD = bytes(range(256)) * 5000


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/vnd.oci.image.layer.v1.tar", Compression.NONE),
        ("application/vnd.oci.image.layer.v1.tar+gzip", Compression.GZIP),
        ("application/vnd.oci.image.layer.v1.tar+zstd", Compression.ZSTD),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression.GZIP),
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", Compression.GZIP),
        ("application/vnd.docker.image.rootfs.diff.tar", Compression.NONE),
    ],
)
def test_media_types(media_type: str, expected: Compression) -> None:
    assert from_media_type(media_type) is expected


def test_unknown_media_type_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedCompressionError, match="tar\\+bzip2"):
        from_media_type("application/vnd.oci.image.layer.v1.tar+bzip2")


def test_detect_from_magic_bytes() -> None:
    assert detect(gzip.compress(b"x")[:4]) is Compression.GZIP
    assert detect(zstandard.ZstdCompressor().compress(b"x")[:4]) is Compression.ZSTD
    assert detect(b"etc/") is Compression.NONE


@pytest.mark.parametrize("compression", list(Compression))
def test_round_trip_with_detection(compression: Compression) -> None:
    blob = io.BytesIO()
    with open_compressed(blob, compression) as writer:
        for start in range(0, len(PAYLOAD), 70_000):
            writer.write(PAYLOAD[start : start + 70_000])
    assert not blob.closed
    blob.seek(0)
    with open_decompressed(blob) as reader:
        assert reader.read() == PAYLOAD


def test_gzip_output_is_reproducible_and_readable_by_gzip_tool() -> None:
    blobs = []
    for _ in range(2):
        blob = io.BytesIO()
        with open_compressed(blob, Compression.GZIP) as writer:
            writer.write(PAYLOAD)
        blobs.append(blob.getvalue())
    assert blobs[0] == blobs[1]
    assert subprocess.run(["gzip", "-dc"], input=blobs[0], capture_output=True, check=True).stdout == PAYLOAD


def test_zstd_tool_output_is_read() -> None:
    blob = subprocess.run(["zstd", "-c", "-q"], input=PAYLOAD, capture_output=True, check=True).stdout
    with open_decompressed(io.BytesIO(blob), Compression.ZSTD) as reader:
        assert reader.read() == PAYLOAD

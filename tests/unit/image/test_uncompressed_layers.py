"""Uncompressed layers: the blob is the tar itself, so its digest is its diff id.

Chapter 05 imports the cached Debian rootfs this way (no gzip pass over 128 MB); writing through
the uncompressed path needs :meth:`BlobWriter.flush`, which the compressors call on close.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from labcore.fs.compression import Compression
from labcore.image import mediatypes
from labcore.image.importer import import_rootfs
from labcore.image.store import Store


def _tar_with(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        member = tarfile.TarInfo(name)
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def test_an_uncompressed_import_stores_the_tar_as_it_is(labcore_root: Path, tmp_path: Path) -> None:
    archive = tmp_path / "rootfs.tar"
    archive.write_bytes(_tar_with("etc/os-release", b"PRETTY_NAME=\"Lab\"\n"))
    image = import_rootfs(archive, "plain:1", changes=['CMD ["sh"]'], compression=Compression.NONE)
    (layer,) = image.layers
    assert layer.media_type == mediatypes.OCI_LAYER
    assert layer.digest == image.diff_ids[0]
    assert Store().read_blob(layer.digest) == archive.read_bytes()
    assert Store().resolve("plain:1").config.config.cmd == ("sh",)

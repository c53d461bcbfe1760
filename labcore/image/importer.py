"""``labcore import``: make a one-layer image from a rootfs directory or a tarball.

The layer is the whole tree, gzip-compressed by default; its diff id (the sha256 of the
uncompressed tar) is computed on the way into the store, so the input is read only once more
than needed to check that it is a tar archive at all. Like ``docker import``, ``--change``
instructions set the config and ``--message`` the history comment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, cast

from labcore.digest import Hasher
from labcore.errors import LayerError, NotFoundError
from labcore.fs.compression import Compression, open_compressed, open_decompressed
from labcore.fs.diff import tree_to_layer
from labcore.fs.tarstream import HashingReader, iter_entries
from labcore.image import mediatypes
from labcore.image.base.platform import oci_architecture
from labcore.image.blobs import BlobWriter
from labcore.image.changes import apply_changes
from labcore.image.descriptor import Descriptor
from labcore.image.imageconfig import ContainerConfig, HistoryEntry, ImageConfig
from labcore.image.manifest import Manifest
from labcore.image.record import ImageRecord
from labcore.image.reference import parse_reference
from labcore.image.store import Store

__all__ = ["import_rootfs", "now_rfc3339"]

_CHUNK = 1 << 20


def now_rfc3339() -> str:
    """The current UTC time as image configs write it: ``2024-05-01T12:00:00.123456Z``."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class _LayerSink:
    """Receives uncompressed tar bytes: hashes them (the diff id) and compresses them into a blob."""

    def __init__(self, writer: BlobWriter, compression: Compression) -> None:
        self.diff_hasher = Hasher()
        self._compressed = open_compressed(cast(BinaryIO, writer), compression)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.diff_hasher.update(bytes(data))
        self._compressed.write(data)
        return len(data)

    def close(self) -> None:
        self._compressed.close()


def _check_is_tar(path: Path) -> None:
    with path.open("rb") as raw, open_decompressed(raw) as tar:
        entries = 0
        for _ in iter_entries(HashingReader(tar)):
            entries += 1
    if entries == 0:
        raise LayerError(f"{path}: the archive is empty", hint="import a tar of a root filesystem")


@contextlib.contextmanager
def _spooled_stdin(temporary_dir: Path) -> Iterator[Path]:
    temporary_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=temporary_dir, prefix="import-") as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool, _CHUNK)
        spool.flush()
        yield Path(spool.name)


def _write_layer(store: Store, source: Path, compression: Compression) -> tuple[Descriptor, Descriptor]:
    """Store the layer blob; return its descriptor and a descriptor of its diff id (uncompressed)."""
    with store.blob_writer() as writer:
        sink = _LayerSink(writer, compression)
        if source.is_dir():
            tree_to_layer(source, cast(BinaryIO, sink))
        else:
            _check_is_tar(source)
            with source.open("rb") as raw, open_decompressed(raw) as tar:
                while chunk := tar.read(_CHUNK):
                    sink.write(chunk)
        sink.close()
        digest, size = writer.commit()
    layer = Descriptor(mediatypes.OCI_LAYER + compression.suffix, digest, size)
    diff = Descriptor(mediatypes.OCI_LAYER, sink.diff_hasher.digest(), sink.diff_hasher.size)
    return layer, diff


def import_rootfs(
    source: str | Path,
    name: str | None = None,
    *,
    changes: Sequence[str] = (),
    message: str = "",
    compression: Compression = Compression.GZIP,
    store: Store | None = None,
) -> ImageRecord:
    """Import ``source`` (a directory, a tar file, maybe compressed, or ``-`` for stdin) as an image.

    ``name`` (``NAME[:TAG]``) tags the result; without it the image is kept untagged. ``changes``
    are Dockerfile instructions (``CMD ["sh"]``, ``ENV A=b``...) applied to the config.
    """
    store = store or Store()
    config = apply_changes(ContainerConfig(), list(changes))  # bad input fails before any work
    if name:
        parse_reference(name)
    with contextlib.ExitStack() as stack:
        stack.enter_context(store.writing())  # before spooling: prune removes unleased temporary files
        if str(source) == "-":
            path = stack.enter_context(_spooled_stdin(store.blobs.temporary_dir))
            shown = "-"
        else:
            path = Path(source)
            shown = os.fspath(source)
            if not path.exists():
                raise NotFoundError(
                    f"import source {shown!r} does not exist", hint="give a directory or a tar file"
                )
        layer, diff = _write_layer(store, path, compression)
        created = now_rfc3339()
        image_config = ImageConfig(
            architecture=oci_architecture(),
            os="linux",
            diff_ids=(diff.digest,),
            config=config,
            history=(
                HistoryEntry(
                    created=created, created_by="labcore import", comment=message or f"Imported from {shown}"
                ),
            ),
            created=created,
        )
        manifest = Manifest(config=store.put_json(image_config), layers=(layer,))
        manifest_descriptor = store.put_json(manifest)
        return store.add_image(manifest_descriptor, [name] if name else [])[0]

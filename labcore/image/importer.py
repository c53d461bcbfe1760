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
from pathlib import Path
from typing import BinaryIO

from labcore.errors import LayerError, NotFoundError
from labcore.fs.compression import Compression, open_decompressed
from labcore.fs.diff import tree_to_layer
from labcore.fs.tarstream import HashingReader, iter_entries
from labcore.image.changes import apply_changes
from labcore.image.imageconfig import ContainerConfig, HistoryEntry
from labcore.image.mutate import Addition, LayerSource, new_image, write_layer
from labcore.image.record import ImageRecord
from labcore.image.reference import parse_reference
from labcore.image.store import Store

__all__ = ["import_rootfs"]

_CHUNK = 1 << 20


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


def _layer_source(source: Path) -> LayerSource:
    """What writes the uncompressed layer: the whole tree of a directory, or the tar's content."""
    if source.is_dir():
        return lambda out: tree_to_layer(source, out)
    _check_is_tar(source)

    def copy_tar(out: BinaryIO) -> None:
        with source.open("rb") as raw, open_decompressed(raw) as tar:
            while chunk := tar.read(_CHUNK):
                out.write(chunk)

    return copy_tar


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
        layer, diff_id = write_layer(store, _layer_source(path), compression)
        history = HistoryEntry(created_by="labcore import", comment=message or f"Imported from {shown}")
        return new_image(store, None, [Addition(history, layer, diff_id)], config, names=[name] if name else [])

"""``commit``: turn a container's writable layer into a new image (``docker commit``).

The overlay upper dir becomes one more layer on top of the container's image (0/0 character
devices and opaque directories become OCI whiteouts, see :func:`labcore.fs.diff.overlay_upper_to_layer`);
the new config starts from the container's own settings (Cmd, Entrypoint, Env, WorkingDir,
User, as Docker does), then each ``--change`` instruction is applied, and a history entry is added.
The container is not paused: commit a stopped container for an exact snapshot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, cast

from labcore.container.lookup import resolve
from labcore.container.state import ContainerPaths, now_rfc3339
from labcore.fs.compression import Compression, open_compressed
from labcore.fs.diff import overlay_upper_to_layer
from labcore.image import mediatypes
from labcore.image.changes import apply_changes
from labcore.image.descriptor import Descriptor
from labcore.image.imageconfig import HistoryEntry
from labcore.image.manifest import Manifest
from labcore.image.record import ImageRecord
from labcore.image.store import Store

if TYPE_CHECKING:
    from labcore.container.lifecycle import Container

__all__ = ["commit"]


def commit(
    container: str | Container,
    reference: str | None = None,
    *,
    changes: Sequence[str] = (),
    message: str = "",
    author: str = "",
) -> ImageRecord:
    """Store the container's changes as a new image, named ``reference`` (untagged if None)."""
    record = resolve(container)
    paths = ContainerPaths.of(record.id)
    store = Store()
    base = store.resolve(record.image_id)
    created = now_rfc3339().split(".")[0] + "Z"
    settings = dataclasses.replace(
        base.config.config,
        cmd=tuple(record.cmd) or None,
        entrypoint=tuple(record.entrypoint) or None,
        env=tuple(item for item in record.env if not item.startswith("HOSTNAME=")),
        working_dir="" if record.workdir == "/" and not base.config.config.working_dir else record.workdir,
        user=record.user,
    )
    settings = apply_changes(settings, list(changes))
    with store.writing():
        with store.blob_writer() as blob:
            compressor = open_compressed(cast("BinaryIO", blob), Compression.GZIP)
            stats = overlay_upper_to_layer(paths.upper_dir, compressor)
            compressor.close()
            digest, size = blob.commit()
        layer = Descriptor(mediatypes.OCI_LAYER_GZIP, digest, size)
        history = HistoryEntry(
            created=created,
            created_by=f"labcore commit {record.name}" + "".join(f" --change {line!r}" for line in changes),
            author=author,
            comment=message,
        )
        config = dataclasses.replace(
            base.config,
            diff_ids=(*base.config.diff_ids, stats.diff_id),
            config=settings,
            history=(*base.config.history, history),
            created=created,
            author=author or base.config.author,
        )
        manifest = Manifest(config=store.put_json(config), layers=(*base.layers, layer))
        manifest_descriptor = store.put_json(manifest)
        return store.add_image(manifest_descriptor, [reference] if reference else [])[0]

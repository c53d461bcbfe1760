"""An image's root filesystem: mounted as an overlay of its snapshots, or flattened into a directory.

:func:`mount_rootfs` stacks the image's snapshots (top layer first) as overlayfs ``lowerdir`` entries
under a fresh ``upper`` and ``work`` directory, so a container writes only to its upper dir and the
shared snapshots stay untouched. :func:`flatten` applies every layer onto a plain directory, as
``umoci unpack`` does; it needs no overlayfs and no snapshots.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from labcore.errors import LayerError
from labcore.fs.apply import ApplyResult, apply_layer
from labcore.fs.overlay import mount_overlay, unmount_overlay
from labcore.image.layerstream import open_layer
from labcore.image.record import ImageRecord
from labcore.image.snapshots import SnapshotStore, layer_stack
from labcore.image.store import Store

__all__ = ["RootfsMount", "flatten", "mount_rootfs"]


@dataclass
class RootfsMount:
    """A mounted rootfs: ``merged`` is the container's ``/``; changes land in ``upper``."""

    merged: Path
    upper: Path
    work: Path
    lowers: list[Path]
    mounted: bool = True

    def unmount(self) -> None:
        """Unmount ``merged`` (``upper`` keeps the changes); calling it twice is harmless."""
        if self.mounted:
            unmount_overlay(self.merged)
            self.mounted = False

    def __enter__(self) -> RootfsMount:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.unmount()


def mount_rootfs(
    image: ImageRecord,
    directory: Path,
    *,
    store: Store | None = None,
    snapshots: SnapshotStore | None = None,
) -> RootfsMount:
    """Mount ``image``'s rootfs at ``directory/merged`` with ``directory/upper`` and ``directory/work``.

    ``directory`` must not exist or be empty. Missing snapshots are unpacked first. Needs root.
    """
    snapshots = snapshots or SnapshotStore()
    lowers = snapshots.prepare(image, store)
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise LayerError(
            f"cannot mount a rootfs in {directory}: the directory is not empty",
            hint="give a new or empty directory",
        )
    merged, upper, work = directory / "merged", directory / "upper", directory / "work"
    for path in (merged, upper, work):
        path.mkdir(mode=0o755)
    if not lowers:
        # overlayfs needs a lower layer: an image from scratch with no layers gets an empty one
        empty = directory / "empty"
        empty.mkdir(mode=0o755)
        lowers = [empty]
    mount_overlay(list(reversed(lowers)), merged, upper=upper, work=work)
    return RootfsMount(merged=merged, upper=upper, work=work, lowers=lowers)


def flatten(image: ImageRecord, destination: Path, *, store: Store | None = None) -> list[ApplyResult]:
    """Apply every layer of ``image`` onto ``destination`` (created if missing), checking diff ids.

    On any error the partly written ``destination`` is removed if this call created it.
    """
    store = store or Store()
    created = not destination.exists()
    destination.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for layer, diff_id, _ in layer_stack(image):
            with open_layer(store, layer) as tar:
                results.append(apply_layer(tar, destination, expected_diff_id=diff_id))
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                shutil.rmtree(destination)
        raise
    return results

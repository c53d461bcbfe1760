"""Mount a container's root filesystem: the image's snapshots as overlay lower dirs, plus its own layer.

The container's writable layer (``upper``) and overlay's ``work`` dir live in the container's
persistent directory, so what a container wrote survives a stop and a start, and ``diff`` and
``commit`` can read it; the merged view is mounted at ``ContainerPaths.rootfs`` in the run dir.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from labcore.container.record import ContainerRecord
from labcore.container.state import ContainerPaths
from labcore.linux.mount import UmountFlag, mount, umount
from labcore.linux.mountinfo import mounts

__all__ = ["is_mounted", "lower_dirs", "mount_rootfs", "unmount_rootfs"]


def lower_dirs(image_id: str) -> list[Path]:
    """The unpacked layers of the image, base first (unpacking any that are missing)."""
    from labcore.image.snapshots import SnapshotStore
    from labcore.image.store import Store

    store = Store()
    return SnapshotStore().prepare(store.resolve(image_id), store)


def is_mounted(path: Path) -> bool:
    """Whether something is mounted exactly at ``path``."""
    target = str(path)
    return any(entry.target == target for entry in mounts())


def mount_rootfs(record: ContainerRecord, paths: ContainerPaths) -> Path:
    """Mount the overlay for ``record`` at ``paths.rootfs`` (if not already) and return that path."""
    target = paths.rootfs
    if is_mounted(target):
        return target
    lowers = [Path(path) for path in record.lower_dirs]
    if not lowers or not all(path.is_dir() for path in lowers):  # never recorded, or pruned meanwhile
        lowers = lower_dirs(record.image_id)
    if not lowers:  # an image without layers: overlay still wants one lower dir
        empty = paths.run_dir / "empty"
        empty.mkdir(parents=True, exist_ok=True)
        lowers = [empty]
    target.mkdir(parents=True, exist_ok=True)
    paths.upper_dir.mkdir(parents=True, exist_ok=True)
    paths.work_dir.mkdir(parents=True, exist_ok=True)
    # overlay lists the top layer first
    lowerdir = ":".join(str(path) for path in reversed(lowers))
    options = f"lowerdir={lowerdir},upperdir={paths.upper_dir},workdir={paths.work_dir}"
    mount("overlay", target, "overlay", 0, options)
    return target


def unmount_rootfs(paths: ContainerPaths) -> None:
    """Unmount the container's rootfs (lazily if busy) and remove the empty mount point."""
    target = paths.rootfs
    while is_mounted(target):
        try:
            umount(target)
        except OSError as error:
            if error.errno == errno.EINVAL:
                break
            if error.errno != errno.EBUSY:
                raise
            umount(target, UmountFlag.DETACH)
    for directory in (target, paths.run_dir / "empty"):
        with contextlib.suppress(OSError):
            os.rmdir(directory)

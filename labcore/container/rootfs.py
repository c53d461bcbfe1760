"""Mount a container's root filesystem: the image's snapshots as overlay lower dirs, plus its own layer.

The container's writable layer (``upper``) and overlay's ``work`` dir live in the container's
persistent directory, so what a container wrote survives a stop and a start, and ``diff`` and
``commit`` can read it; the merged view is mounted at ``ContainerPaths.rootfs`` in the run dir.

A container run with ``--rm`` is mounted ``volatile`` (as Podman does for ``--rm``): overlay then
skips every sync of the upper layer, including the one that makes an unmount wait for the disk.
Its files are deleted when it exits, so a crash cannot lose anything that was meant to last.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from labcore.container.record import ContainerRecord
from labcore.container.state import ContainerPaths
from labcore.linux.mount import MountFlag, UmountFlag, mount, umount

__all__ = ["is_mounted", "lower_dirs", "mount_rootfs", "unmount_rootfs"]


def lower_dirs(image_id: str) -> list[Path]:
    """The unpacked layers of the image, base first (unpacking any that are missing)."""
    from labcore.image.snapshots import SnapshotStore
    from labcore.image.store import Store

    store = Store()
    return SnapshotStore().prepare(store.resolve(image_id), store)


def is_mounted(path: Path) -> bool:
    """Whether the container's overlay (or any other filesystem) is mounted at ``path``.

    A mount point's device differs from its parent's; overlay always has a device of its own.
    """
    try:
        return os.stat(path).st_dev != os.stat(path.parent).st_dev
    except FileNotFoundError:
        return False


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
    # nodev as the container's init would remount it anyway (devices live in its own /dev)
    flags = 0 if record.privileged else MountFlag.NODEV
    if record.auto_remove:
        _forget_volatile_mount(paths)
        try:
            mount("overlay", target, "overlay", flags, options + ",volatile")
            return target
        except OSError as error:
            if error.errno != errno.EINVAL:  # EINVAL: a kernel before 5.10, without volatile
                raise
    mount("overlay", target, "overlay", flags, options)
    return target


def _forget_volatile_mount(paths: ContainerPaths) -> None:
    """Remove the marker of an earlier volatile mount, which makes overlay refuse any further mount.

    Overlay leaves ``work/incompat/volatile/dirty`` in its work dir so that an upper layer that may
    have missed a sync is never used again by accident; a ``--rm`` container's layer is throwaway.
    """
    marker = paths.work_dir / "work" / "incompat" / "volatile"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(marker / "dirty")
        os.rmdir(marker)
        os.rmdir(marker.parent)


def unmount_rootfs(paths: ContainerPaths) -> None:
    """Unmount the container's rootfs (lazily if busy) and remove the empty mount point."""
    target = paths.rootfs
    while True:  # until EINVAL: nothing (more) is mounted there; mounts may be stacked
        try:
            umount(target)
        except OSError as error:
            if error.errno in (errno.EINVAL, errno.ENOENT):
                break
            if error.errno != errno.EBUSY:
                raise
            umount(target, UmountFlag.DETACH)
    for directory in (target, paths.run_dir / "empty"):
        with contextlib.suppress(OSError):
            os.rmdir(directory)

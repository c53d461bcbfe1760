"""Delete a stopped container's files: its writable layer, config, log, state and volume uses."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from labcore.container.record import ContainerRecord
from labcore.container.state import ContainerPaths
from labcore.errors import ConflictError
from labcore.linux.mountinfo import mount_points_under
from labcore.runtime import volumes

__all__ = ["delete_container_files"]


def _mounted_below(directory: Path) -> list[str]:
    return mount_points_under(str(directory))


def delete_container_files(
    paths: ContainerPaths, record: ContainerRecord | None, *, remove_anonymous_volumes: bool = False
) -> None:
    """Remove the container's directories; refuse (ConflictError) while anything is mounted in them.

    Deleting a tree with a live mount inside would delete the mounted image or volume too.
    """
    for directory in (paths.run_dir, paths.config_dir):
        busy = _mounted_below(directory)
        if busy:
            raise ConflictError(
                f"container {paths.container_id[:12]} still has mounts: {', '.join(busy)}",
                hint="stop it first, or run `labcore system prune` to clean up after a crash",
            )
    if record is not None:
        for mount in record.mounts:
            if mount.type != "volume" or not mount.name:
                continue
            volumes.remove_user(mount.name, paths.container_id)
            if remove_anonymous_volumes:
                with contextlib.suppress(Exception):
                    volume = volumes.get_volume(mount.name)
                    if volume.anonymous and not volume.users:
                        volumes.remove_volume(mount.name)
    for directory in (paths.run_dir, paths.config_dir):
        if not directory.exists():
            continue
        # rename first: a half-deleted container must never look like a live one
        doomed = directory.with_name(f".deleting-{directory.name}-{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(directory, doomed)
            shutil.rmtree(doomed, ignore_errors=True)

"""Named volumes: directories under ``settings().root/volumes/<name>/_data`` that outlive containers.

Each volume directory also holds ``volume.json`` (creation time, labels, whether it is anonymous)
and ``users/<container-id>`` marker files, one per container that mounts it; a volume with users
cannot be removed. The container layer adds and drops users; this module never looks at containers.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labcore.config import settings
from labcore.errors import ConflictError, NotFoundError
from labcore.fs.atomic import write_json_atomic
from labcore.runtime.mountspec import validate_volume_name

__all__ = [
    "Volume",
    "VolumeInUseError",
    "VolumeNotFoundError",
    "add_user",
    "create_volume",
    "ensure_volume",
    "fill_from_image",
    "get_volume",
    "list_volumes",
    "prune_volumes",
    "remove_user",
    "remove_volume",
    "volumes_dir",
]


class VolumeNotFoundError(NotFoundError):
    """No volume has this name."""

    default_hint = "run `labcore volume ls` to list volumes"


class VolumeInUseError(ConflictError):
    """A volume that a container still uses cannot be removed."""

    default_hint = "remove those containers first with `labcore rm`"


@dataclass(frozen=True)
class Volume:
    """A named volume on disk."""

    name: str
    path: Path
    created_at: str
    anonymous: bool
    labels: dict[str, str]

    @property
    def data(self) -> Path:
        """The directory mounted into containers."""
        return self.path / "_data"

    @property
    def users(self) -> list[str]:
        """Ids of the containers that mount this volume."""
        users_dir = self.path / "users"
        return sorted(entry.name for entry in users_dir.iterdir()) if users_dir.is_dir() else []

    def inspect(self) -> dict[str, Any]:
        """Docker-like ``volume inspect`` JSON."""
        return {
            "Name": self.name,
            "Driver": "local",
            "Mountpoint": str(self.data),
            "CreatedAt": self.created_at,
            "Labels": dict(self.labels),
            "Scope": "local",
            "Options": {},
            "Anonymous": self.anonymous,
            "UsedBy": self.users,
        }


def volumes_dir() -> Path:
    """Where all volumes live under the current settings."""
    return settings().root / "volumes"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load(path: Path) -> Volume:
    with open(path / "volume.json", encoding="utf-8") as file:
        meta = json.load(file)
    return Volume(path.name, path, meta["created_at"], bool(meta.get("anonymous")), dict(meta.get("labels", {})))


def get_volume(name: str) -> Volume:
    """The volume called ``name``; raise VolumeNotFoundError if there is none."""
    path = volumes_dir() / validate_volume_name(name)
    if not (path / "volume.json").is_file():
        raise VolumeNotFoundError(f"no such volume: {name}")
    return _load(path)


def create_volume(name: str | None = None, labels: dict[str, str] | None = None) -> Volume:
    """Create a volume (a random 64-hex name makes it anonymous); an existing name is returned as is."""
    anonymous = name is None
    name = validate_volume_name(name) if name is not None else os.urandom(32).hex()
    path = volumes_dir() / name
    if (path / "volume.json").is_file():
        return _load(path)
    (path / "_data").mkdir(parents=True, exist_ok=True)
    (path / "users").mkdir(exist_ok=True)
    meta = {"created_at": _now(), "anonymous": anonymous, "labels": labels or {}}
    write_json_atomic(path / "volume.json", meta, indent=None)
    return _load(path)


def ensure_volume(name: str | None) -> tuple[Volume, bool]:
    """The volume ``name`` (created if missing, anonymous if None) and whether it was just created."""
    if name is not None:
        try:
            return get_volume(name), False
        except VolumeNotFoundError:
            pass
    return create_volume(name), True


def list_volumes() -> list[Volume]:
    """Every volume, sorted by name."""
    root = volumes_dir()
    if not root.is_dir():
        return []
    return [_load(path) for path in sorted(root.iterdir()) if (path / "volume.json").is_file()]


def add_user(volume: Volume, container_id: str) -> None:
    """Record that ``container_id`` mounts ``volume``."""
    (volume.path / "users").mkdir(exist_ok=True)
    (volume.path / "users" / container_id).touch()


def remove_user(volume_name: str, container_id: str) -> None:
    """Forget that ``container_id`` mounts the volume (no error if it did not)."""
    marker = volumes_dir() / volume_name / "users" / container_id
    marker.unlink(missing_ok=True)


def remove_volume(name: str, *, force: bool = False) -> None:
    """Delete the volume and its data; refused while containers use it (``force`` removes anyway)."""
    volume = get_volume(name)
    users = volume.users
    if users and not force:
        short = ", ".join(user[:12] for user in users)
        raise VolumeInUseError(f"volume {name} is in use by container(s) {short}")
    # rename first so a half-deleted volume is never mistaken for a live one
    doomed = volume.path.with_name(f".deleting-{name}-{os.urandom(4).hex()}")
    os.rename(volume.path, doomed)
    shutil.rmtree(doomed)


def prune_volumes(*, all_volumes: bool = False) -> list[str]:
    """Remove unused anonymous volumes (every unused volume with ``all_volumes``); return their names."""
    removed = []
    for volume in list_volumes():
        if volume.users or not (volume.anonymous or all_volumes):
            continue
        remove_volume(volume.name)
        removed.append(volume.name)
    return removed


def _inside(rootfs: Path, target: str) -> Path | None:
    """``rootfs/target`` if no component of it is a symlink (which could lead out of the root)."""
    current = rootfs
    for part in target.strip("/").split("/"):
        current = current / part
        try:
            if current.is_symlink():
                return None
        except OSError:
            return None
    return current


def fill_from_image(volume: Volume, rootfs: Path, target: str) -> bool:
    """Copy the image's content at ``target`` into an empty volume (Docker's copy-up); True if copied.

    Only a directory reached without symlinks is copied, with owners, modes and links kept.
    """
    if any(volume.data.iterdir()):
        return False
    source = _inside(rootfs, target)
    if source is None or not source.is_dir() or not any(source.iterdir()):
        return False
    subprocess.run(["cp", "-a", "--", f"{source}/.", str(volume.data)], check=True, capture_output=True)
    stat = source.stat()
    os.chown(volume.data, stat.st_uid, stat.st_gid)
    os.chmod(volume.data, stat.st_mode & 0o7777)
    return True

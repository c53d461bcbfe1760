"""``bundle``: write an OCI runtime bundle (``config.json`` + ``rootfs/``) for an image.

The bundle runs under any OCI runtime (``runc run -b DIR ID``, ``crun run -b DIR ID``) with the
same process settings a labcore container gets: the image's Entrypoint/Cmd, Env, WorkingDir and
User (resolved in the image's /etc/passwd), Docker's default capabilities, masked and read-only
paths, and the usual ``/proc``, ``/dev``, ``/dev/pts``, ``/dev/shm``, ``/dev/mqueue`` and ``/sys``
mounts. Layers are unpacked with labcore's own safe extractor.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from labcore.container.flags import merge_env, parse_env
from labcore.container.lifecycle import _command
from labcore.container.users import resolve_user
from labcore.errors import ConflictError
from labcore.fs.apply import apply_layer
from labcore.fs.atomic import write_atomic
from labcore.image.layerstream import open_layer
from labcore.image.store import Store
from labcore.runtime.spec import DEFAULT_CAPS, DEFAULT_ENV, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS

__all__ = ["OCI_VERSION", "bundle_config", "write_bundle"]

OCI_VERSION = "1.0.2"

_SAFE = ["nosuid", "noexec", "nodev"]
_MOUNTS: list[dict[str, Any]] = [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": [*_SAFE, "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": _SAFE},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [*_SAFE, "ro"]},
]  # fmt: skip


def bundle_config(
    args: Sequence[str],
    env: Sequence[str],
    cwd: str,
    uid: int,
    gid: int,
    additional_gids: Sequence[int] = (),
    hostname: str = "labcore",
) -> dict[str, Any]:
    """The ``config.json`` document for a process, with labcore's (Docker's) defaults."""
    capabilities = sorted(f"CAP_{name}" for name in DEFAULT_CAPS)
    user: dict[str, Any] = {"uid": uid, "gid": gid}
    if additional_gids:
        user["additionalGids"] = list(additional_gids)
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": user,
            "args": list(args),
            "env": list(env),
            "cwd": cwd,
            # Docker's sets: inheritable and ambient stay empty, as labcore's runtime leaves them
            "capabilities": {
                "bounding": capabilities,
                "effective": capabilities,
                "permitted": capabilities,
            },
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": hostname,
        "mounts": json.loads(json.dumps(_MOUNTS)),  # a deep copy
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": kind} for kind in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": list(DEFAULT_MASKED_PATHS),
            "readonlyPaths": list(DEFAULT_READONLY_PATHS),
        },
    }


def write_bundle(
    image: str,
    directory: str | os.PathLike[str],
    args: Sequence[str] | None = None,
    *,
    env: Sequence[str] = (),
    user: str | None = None,
    workdir: str | None = None,
    hostname: str = "labcore",
) -> Path:
    """Unpack ``image`` into ``directory/rootfs`` and write ``directory/config.json``; return the dir.

    ``directory`` must be missing or empty (ConflictError otherwise): a bundle is never merged
    into other files.
    """
    bundle = Path(directory)
    if bundle.exists() and any(bundle.iterdir()):
        raise ConflictError(f"bundle directory {bundle} is not empty", hint="give a new or empty directory")
    store = Store()
    record = store.resolve(image)
    defaults = record.config.config
    rootfs = bundle / "rootfs"
    rootfs.mkdir(parents=True)
    for layer, diff_id in zip(record.layers, record.diff_ids, strict=True):
        with open_layer(store, layer) as tar:
            apply_layer(tar, rootfs, expected_diff_id=diff_id)
    entrypoint, cmd = _command(defaults.entrypoint, defaults.cmd, None, args)
    resolved = resolve_user(user if user is not None else defaults.user, rootfs)
    base_env = list(defaults.env) or list(DEFAULT_ENV)
    final_env = merge_env(base_env, [f"HOSTNAME={hostname}", *parse_env(env)])
    if not any(item.startswith("HOME=") for item in final_env):
        final_env.append(f"HOME={resolved.home}")
    config = bundle_config(
        [*entrypoint, *cmd],
        final_env,
        workdir or defaults.working_dir or "/",
        resolved.uid,
        resolved.gid,
        resolved.additional_gids,
        hostname,
    )
    write_atomic(bundle / "config.json", (json.dumps(config, indent=2) + "\n").encode())  # keys in spec order
    return bundle

"""Turn ``-v``/``--mount``/``--tmpfs`` values into the mounts recorded for a container.

Bind sources are checked (or created, for ``-v``) and named volumes are created here, at create
time, as Docker does; filling an empty volume from the image happens when the rootfs is mounted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from labcore.container.record import MountRecord
from labcore.runtime import volumes
from labcore.runtime.mountspec import MountRequest, MountSpecError, parse_mount, parse_tmpfs, parse_volume

__all__ = ["resolve_mounts"]


def _record_for(request: MountRequest, spec: str) -> MountRecord:
    rw = not request.readonly
    if request.kind == "bind":
        assert request.source is not None
        source = Path(request.source)
        if not source.exists():
            if not request.create_source:
                raise MountSpecError(
                    f"invalid mount {spec!r}: bind source path does not exist: {source}",
                    hint="create the host path first, or use -v which creates a missing directory",
                )
            source.mkdir(parents=True)
        return MountRecord("bind", str(source.resolve()), request.target, rw)
    if request.kind == "volume":
        volume, created = volumes.ensure_volume(request.source)
        del created
        return MountRecord("volume", str(volume.data), request.target, rw, volume.name, copy_up=not request.nocopy)
    options = []
    if request.tmpfs_size is not None:
        options.append(f"size={request.tmpfs_size}")
    if request.tmpfs_mode is not None:
        options.append(f"mode={request.tmpfs_mode:o}")
    return MountRecord("tmpfs", "", request.target, rw, options=options)


def resolve_mounts(
    volume_specs: Sequence[str], mount_specs: Sequence[str], tmpfs_specs: Sequence[str]
) -> list[MountRecord]:
    """The mounts for ``-v``, ``--mount`` and ``--tmpfs`` values, in that order.

    Raise MountSpecError (a UsageError) naming the spec for bad syntax, a missing ``--mount``
    bind source, or two mounts on the same container path.
    """
    requests = [(parse_volume(spec), spec) for spec in volume_specs]
    requests += [(parse_mount(spec), spec) for spec in mount_specs]
    requests += [(parse_tmpfs(spec), spec) for spec in tmpfs_specs]
    seen: dict[str, str] = {}
    for request, spec in requests:
        if request.target in seen:
            raise MountSpecError(
                f"duplicate mount point {request.target}: {seen[request.target]!r} and {spec!r}",
                hint="mount only one thing on each container path",
            )
        seen[request.target] = spec
    return [_record_for(request, spec) for request, spec in requests]

"""Parse Docker's ``-v``, ``--mount`` and ``--tmpfs`` flags into :class:`MountRequest` values.

Syntax and meaning follow Docker:

* ``-v /host/dir:/in/container[:ro|rw]`` bind mount; a missing host directory is created.
* ``-v NAME:/in/container[:ro|rw|nocopy]`` named volume, created on first use and filled from the
  image's content at the mount point; ``-v /in/container`` an anonymous volume.
* ``--mount type=bind,source=/h,target=/c[,readonly]`` bind mount; a missing source is an error.
* ``--mount type=volume,source=NAME,target=/c[,readonly][,volume-nocopy]``.
* ``--mount type=tmpfs,target=/c[,tmpfs-size=64m][,tmpfs-mode=1770]`` and
  ``--tmpfs /c[:size=64m,mode=1770]``.

Bad specs raise :class:`MountSpecError` (a UsageError) naming the spec and what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from labcore.errors import UsageError

__all__ = [
    "MountKind",
    "MountRequest",
    "MountSpecError",
    "parse_mount",
    "parse_size",
    "parse_tmpfs",
    "parse_volume",
    "validate_volume_name",
]

MountKind = Literal["bind", "volume", "tmpfs"]
_VOLUME_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_SIZE_RE = re.compile(r"^(\d+)([bkmg]?)$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


class MountSpecError(UsageError):
    """A ``-v``, ``--mount`` or ``--tmpfs`` value that cannot be used."""


@dataclass(frozen=True)
class MountRequest:
    """One mount asked for on the command line, before volumes are created or paths checked.

    ``source`` is a host path (bind), a volume name (volume; None for an anonymous volume) or
    None (tmpfs). ``create_source`` is Docker's ``-v`` behaviour of creating a missing host dir.
    """

    kind: MountKind
    target: str
    source: str | None = None
    readonly: bool = False
    create_source: bool = False
    nocopy: bool = False
    tmpfs_size: int | None = None
    tmpfs_mode: int | None = None


def _check_target(target: str, spec: str) -> str:
    if not target.startswith("/"):
        raise MountSpecError(
            f"invalid mount {spec!r}: the container path {target!r} is not absolute",
            hint="container paths start with /, e.g. -v data:/data",
        )
    if target.rstrip("/") == "" or any(part == ".." for part in target.split("/")):
        raise MountSpecError(
            f"invalid mount {spec!r}: cannot mount on {target!r}",
            hint="choose a directory below /, without ..",
        )
    return "/" + "/".join(part for part in target.split("/") if part and part != ".")


def validate_volume_name(name: str, spec: str | None = None) -> str:
    """Return ``name`` if it is a valid volume name, else raise MountSpecError."""
    if not _VOLUME_NAME_RE.match(name):
        where = f" in {spec!r}" if spec else ""
        raise MountSpecError(
            f"invalid volume name {name!r}{where}",
            hint="volume names start with a letter or digit and contain only [a-zA-Z0-9_.-]; "
            "host paths must be absolute",
        )
    return name


def parse_size(value: str, spec: str) -> int:
    """Bytes for a tmpfs size such as ``64m``."""
    match = _SIZE_RE.match(value.strip())
    if match is None or int(match[1]) <= 0:
        raise MountSpecError(
            f"invalid size {value!r} in {spec!r}", hint="use a positive size such as 64m or 1g"
        )
    return int(match[1]) * _SIZE_UNITS[match[2].lower()]


def _parse_mode(value: str, spec: str) -> int:
    try:
        mode = int(value, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise MountSpecError(
            f"invalid mode {value!r} in {spec!r}", hint="use an octal mode such as 1777 or 755"
        )
    return mode


def parse_volume(spec: str) -> MountRequest:
    """Parse a ``-v``/``--volume`` value."""
    parts = spec.split(":")
    if not spec or len(parts) > 3 or any(not part for part in parts):
        raise MountSpecError(
            f"invalid volume spec {spec!r}",
            hint="use -v /host/path:/container/path[:ro] or -v NAME:/path[:ro]",
        )
    if len(parts) == 1:
        return MountRequest("volume", _check_target(parts[0], spec))
    source, target = parts[0], _check_target(parts[1], spec)
    options = parts[2].split(",") if len(parts) == 3 else []
    readonly, nocopy = False, False
    for option in options:
        if option in ("ro", "rw"):
            readonly = option == "ro"
        elif option == "nocopy":
            nocopy = True
        elif option in ("z", "Z", "rprivate", "private"):
            continue  # SELinux labels and the default propagation: nothing to do here
        else:
            raise MountSpecError(
                f"invalid volume spec {spec!r}: unknown option {option!r}",
                hint="options are ro, rw and nocopy",
            )
    if source.startswith("/"):
        if nocopy:
            raise MountSpecError(f"invalid volume spec {spec!r}: nocopy applies to named volumes only")
        return MountRequest("bind", target, source, readonly=readonly, create_source=True)
    return MountRequest(
        "volume", target, validate_volume_name(source, spec), readonly=readonly, nocopy=nocopy
    )


def _flag(value: str | None, key: str, spec: str) -> bool:
    if value is None or value.lower() in ("1", "true"):
        return True
    if value.lower() in ("0", "false"):
        return False
    raise MountSpecError(
        f"invalid value {value!r} for {key} in {spec!r}", hint=f"use {key}, {key}=true or =false"
    )


def parse_mount(spec: str) -> MountRequest:
    """Parse a ``--mount`` value (comma-separated ``key=value`` fields)."""
    fields: dict[str, str | None] = {}
    for item in spec.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not key:
            raise MountSpecError(
                f"invalid mount {spec!r}: empty field", hint="use type=...,source=...,target=..."
            )
        if key in fields:
            raise MountSpecError(f"invalid mount {spec!r}: field {key!r} given twice")
        fields[key] = value if sep else None
    kind = fields.pop("type", None) or "volume"
    if kind not in ("bind", "volume", "tmpfs"):
        raise MountSpecError(
            f"invalid mount {spec!r}: unknown type {kind!r}", hint="type is bind, volume or tmpfs"
        )
    source = None
    for key in ("source", "src"):
        if key in fields:
            source = fields.pop(key)
    target = None
    for key in ("target", "destination", "dst"):
        if key in fields:
            target = fields.pop(key)
    if not target:
        raise MountSpecError(
            f"invalid mount {spec!r}: target is required", hint="add target=/path/in/container"
        )
    target = _check_target(target, spec)
    readonly = False
    for key in ("readonly", "ro"):
        if key in fields:
            readonly = _flag(fields.pop(key), key, spec)
    request: MountRequest
    if kind == "bind":
        if not source or not source.startswith("/"):
            raise MountSpecError(
                f"invalid mount {spec!r}: a bind mount needs an absolute source", hint="add source=/host/path"
            )
        fields.pop("bind-propagation", None)
        request = MountRequest("bind", target, source, readonly=readonly)
    elif kind == "volume":
        nocopy = (
            _flag(fields.pop("volume-nocopy"), "volume-nocopy", spec) if "volume-nocopy" in fields else False
        )
        name = validate_volume_name(source, spec) if source else None
        request = MountRequest("volume", target, name, readonly=readonly, nocopy=nocopy)
    else:
        if source:
            raise MountSpecError(f"invalid mount {spec!r}: a tmpfs mount takes no source")
        size_text, mode_text = fields.pop("tmpfs-size", None), fields.pop("tmpfs-mode", None)
        size = parse_size(size_text, spec) if size_text else None
        mode = _parse_mode(mode_text, spec) if mode_text else None
        request = MountRequest("tmpfs", target, readonly=readonly, tmpfs_size=size, tmpfs_mode=mode)
    if fields:
        unknown = ", ".join(sorted(fields))
        raise MountSpecError(f"invalid mount {spec!r}: unknown field(s) {unknown} for type={kind}")
    return request


def parse_tmpfs(spec: str) -> MountRequest:
    """Parse a ``--tmpfs /path[:size=64m,mode=1777]`` value."""
    target, _, options = spec.partition(":")
    target = _check_target(target, spec)
    size = mode = None
    readonly = False
    for option in filter(None, options.split(",")):
        key, _, value = option.partition("=")
        if key == "size" and value:
            size = parse_size(value, spec)
        elif key == "mode" and value:
            mode = _parse_mode(value, spec)
        elif key in ("ro", "rw") and not value:
            readonly = key == "ro"
        elif key in ("nosuid", "nodev", "noexec", "exec", "suid", "dev") and not value:
            continue
        else:
            raise MountSpecError(
                f"invalid tmpfs spec {spec!r}: unknown option {option!r}",
                hint="use --tmpfs /path:size=64m,mode=1777",
            )
    return MountRequest("tmpfs", target, readonly=readonly, tmpfs_size=size, tmpfs_mode=mode)

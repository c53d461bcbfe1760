"""Resolve ``-u``/``User`` specs (``uid[:gid]`` or ``name[:group]``) against an image's passwd and group."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from labcore.errors import UsageError

__all__ = ["ResolvedUser", "parse_user_spec", "resolve_user"]


@dataclass(frozen=True)
class ResolvedUser:
    """Numeric identity for the container process, with supplementary groups."""

    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"


def parse_user_spec(spec: str) -> tuple[str, str | None]:
    """Split ``user[:group]``; raise UsageError for an empty part."""
    user, sep, group = spec.partition(":")
    if not user or (sep and not group):
        raise UsageError(f"invalid user {spec!r}", hint="use -u UID[:GID] or -u NAME[:GROUP], e.g. -u 1000:1000")
    return user, (group if sep else None)


def _read_table(rootfs: Path, relative: str) -> list[list[str]]:
    """Colon-separated rows of ``rootfs/relative``; a missing file is an empty table."""
    path = rootfs / relative
    try:
        # O_NOFOLLOW: an image's /etc/passwd that is a symlink must not make us read a host file
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as error:
        if error.errno == errno.ELOOP:
            return []
        raise
    with os.fdopen(fd, encoding="utf-8", errors="replace") as file:
        return [line.rstrip("\n").split(":") for line in file if line.strip() and not line.startswith("#")]


def resolve_user(spec: str | None, rootfs: Path) -> ResolvedUser:
    """Numeric uid/gid/groups for ``spec`` as Docker resolves them inside the image at ``rootfs``.

    Names are looked up in ``etc/passwd`` and ``etc/group``; a bare uid takes the primary group
    of the passwd entry that has it (or gid 0); supplementary groups are those listing the user.
    """
    if not spec:
        spec = "0"
    user, group = parse_user_spec(spec)
    passwd = [row for row in _read_table(rootfs, "etc/passwd") if len(row) >= 4]
    groups = [[*row, ""][:4] for row in _read_table(rootfs, "etc/group") if len(row) >= 3]
    entry = next((row for row in passwd if row[0] == user or (user.isdigit() and row[2] == user)), None)
    if user.isdigit():
        uid = int(user)
    elif entry is not None:
        uid = int(entry[2])
    else:
        raise UsageError(
            f"unable to find user {user!r}: no matching entry in the image's /etc/passwd",
            hint="use a numeric -u UID[:GID], or a user that exists in the image",
        )
    gid = int(entry[3]) if entry is not None and entry[3].isdigit() else 0
    if group is not None:
        if group.isdigit():
            gid = int(group)
        else:
            match = next((row for row in groups if row[0] == group), None)
            if match is None:
                raise UsageError(
                    f"unable to find group {group!r}: no matching entry in the image's /etc/group",
                    hint="use a numeric GID, or a group that exists in the image",
                )
            gid = int(match[2])
    name = entry[0] if entry is not None else None
    additional = tuple(
        sorted({int(row[2]) for row in groups if name and name in row[3].split(",") and row[2].isdigit()} - {gid})
        if name
        else ()
    )
    home = entry[5] if entry is not None and len(entry) > 5 and entry[5] else "/"
    return ResolvedUser(uid, gid, additional, home)

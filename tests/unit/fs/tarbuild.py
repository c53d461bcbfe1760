"""Build small tar layers in memory with Python's tarfile, for tests."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field

FIXED_MTIME = 1_700_000_000


@dataclass
class Member:
    name: str
    type: bytes = tarfile.REGTYPE
    data: bytes = b""
    linkname: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = FIXED_MTIME
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, str] = field(default_factory=dict)


def file(name: str, data: bytes = b"data", **kwargs: object) -> Member:
    return Member(name, tarfile.REGTYPE, data, **kwargs)  # type: ignore[arg-type]


def directory(name: str, mode: int = 0o755, **kwargs: object) -> Member:
    return Member(name, tarfile.DIRTYPE, mode=mode, **kwargs)  # type: ignore[arg-type]


def symlink(name: str, target: str) -> Member:
    return Member(name, tarfile.SYMTYPE, linkname=target, mode=0o777)


def hardlink(name: str, target: str) -> Member:
    return Member(name, tarfile.LNKTYPE, linkname=target)


def whiteout(name: str) -> Member:
    return Member(name, tarfile.REGTYPE, mode=0)


def build_tar(members: list[Member]) -> bytes:
    """A PAX tar holding ``members`` in order, names exactly as given (no sanitizing)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = member.type
            info.linkname = member.linkname
            info.mode = member.mode
            info.uid, info.gid = member.uid, member.gid
            info.mtime = member.mtime
            info.devmajor, info.devminor = member.devmajor, member.devminor
            info.pax_headers = {f"SCHILY.xattr.{key}": value for key, value in member.xattrs.items()}
            if member.type == tarfile.REGTYPE:
                info.size = len(member.data)
                archive.addfile(info, io.BytesIO(member.data))
            else:
                archive.addfile(info)
    return buffer.getvalue()

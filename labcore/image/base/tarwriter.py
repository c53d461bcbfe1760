"""A deterministic writer for layer tarballs built from scratch, entry by entry.

Base images are assembled from a recipe rather than diffed from a directory, so that building the
same image twice gives the same bytes and therefore the same digests. Every entry gets the same
modification time, numeric owners and no user or group names.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import BinaryIO

from labcore.errors import UsageError

__all__ = ["LayerWriter"]


class LayerWriter:
    """Writes an uncompressed layer tarball to ``fileobj``, in order, never seeking back.

    Paths are relative to the image root. Parent directories must be added before their
    children; a path may appear only once.
    """

    def __init__(self, fileobj: BinaryIO, *, mtime: int) -> None:
        self._tar = tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self._mtime = mtime
        self._seen: set[str] = set()

    def _entry(self, path: str, kind: bytes, mode: int, uid: int, gid: int) -> tarfile.TarInfo:
        name = path.strip("/")
        if not name or name in self._seen or ".." in name.split("/"):
            raise UsageError(f"layer entry {path!r} is empty, repeated or leaves the root")
        parent = name.rpartition("/")[0]
        if parent and parent not in self._seen:
            raise UsageError(f"layer entry {path!r} comes before its parent directory {parent!r}")
        self._seen.add(name)
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.uid, info.gid = uid, gid
        info.uname = info.gname = ""
        info.mtime = self._mtime
        return info

    def directory(self, path: str, mode: int = 0o755, *, uid: int = 0, gid: int = 0) -> None:
        """Add a directory."""
        self._tar.addfile(self._entry(path, tarfile.DIRTYPE, mode, uid, gid))

    def file_bytes(self, path: str, data: bytes, mode: int = 0o644, *, uid: int = 0, gid: int = 0) -> None:
        """Add a regular file holding ``data``."""
        info = self._entry(path, tarfile.REGTYPE, mode, uid, gid)
        info.size = len(data)
        self._tar.addfile(info, io.BytesIO(data))

    def file_copy(self, path: str, source: Path, mode: int, *, uid: int = 0, gid: int = 0) -> None:
        """Add a regular file whose content is streamed from the host file ``source``."""
        info = self._entry(path, tarfile.REGTYPE, mode, uid, gid)
        with source.open("rb") as stream:
            info.size = os.fstat(stream.fileno()).st_size
            self._tar.addfile(info, stream)

    def symlink(self, path: str, target: str, *, uid: int = 0, gid: int = 0) -> None:
        """Add a symbolic link to ``target`` (kept verbatim, absolute or relative)."""
        info = self._entry(path, tarfile.SYMTYPE, 0o777, uid, gid)
        info.linkname = target
        self._tar.addfile(info)

    def close(self) -> None:
        """Write the end-of-archive blocks; the underlying file stays open."""
        self._tar.close()

    def __enter__(self) -> LayerWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Random access to the members of an image archive (a tar written by ``docker save`` or an OCI tool).

Members are looked up by normalized name (``./`` and duplicate slashes removed); links inside the
archive are followed, since old ``docker save`` writes a layer shared by two images once and links
the second copy to it. Contents are streamed, never read whole, except for small JSON files.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from pathlib import Path
from typing import Any, BinaryIO, cast

from labcore.errors import LabcoreError

__all__ = ["MAX_JSON_SIZE", "ArchiveError", "ArchiveReader"]

MAX_JSON_SIZE = 16 << 20
_MAX_LINK_HOPS = 16


class ArchiveError(LabcoreError):
    """An image archive that is not a tar, lacks a member or holds a broken one."""

    default_hint = "make the archive again with `labcore save`, `docker save` or `skopeo copy`"


def _normalize(name: str) -> str:
    normalized = posixpath.normpath("/" + name).lstrip("/")
    return "" if normalized == "." else normalized


class ArchiveReader:
    """The members of one tar archive, by name; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by close()
        except (tarfile.TarError, EOFError):
            raise ArchiveError(f"{path} is not a tar archive (plain, gzip, bzip2 or xz)") from None
        try:
            self._members: dict[str, tarfile.TarInfo] = {}
            for member in self._tar:
                self._members[_normalize(member.name)] = member
        except (tarfile.TarError, EOFError) as error:
            self._tar.close()
            raise ArchiveError(f"{path} is truncated or corrupt: {error}") from None

    def names(self) -> list[str]:
        """Every member name, normalized, in archive order."""
        return list(self._members)

    def has(self, name: str) -> bool:
        """True when the archive has a member called ``name`` (a file or a link to one)."""
        return _normalize(name) in self._members

    def _resolve(self, name: str) -> tarfile.TarInfo:
        current = _normalize(name)
        for _ in range(_MAX_LINK_HOPS):
            member = self._members.get(current)
            if member is None:
                raise ArchiveError(f"{self.path}: member {name!r} is missing")
            if member.issym():
                current = _normalize(posixpath.join(posixpath.dirname(current), member.linkname))
            elif member.islnk():
                current = _normalize(member.linkname)
            elif member.isreg():
                return member
            else:
                raise ArchiveError(f"{self.path}: member {name!r} is not a regular file")
        raise ArchiveError(f"{self.path}: member {name!r} is a loop of links")

    def size(self, name: str) -> int:
        """Size in bytes of the member (after following links)."""
        return self._resolve(name).size

    def open(self, name: str) -> BinaryIO:
        """A stream of the member's content."""
        stream = self._tar.extractfile(self._resolve(name))
        if stream is None:  # pragma: no cover - _resolve only returns regular files
            raise ArchiveError(f"{self.path}: member {name!r} cannot be read")
        return cast("BinaryIO", stream)

    def read_json(self, name: str) -> Any:
        """Parse a small JSON member; an :class:`ArchiveError` names it when it is too big or invalid."""
        if self.size(name) > MAX_JSON_SIZE:
            raise ArchiveError(f"{self.path}: member {name!r} is too big for a JSON document")
        with self.open(name) as stream:
            data = stream.read()
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as error:
            raise ArchiveError(f"{self.path}: member {name!r} is not valid JSON: {error}") from None

    def read_bytes(self, name: str) -> bytes:
        """The whole content of a small member (a manifest or config)."""
        if self.size(name) > MAX_JSON_SIZE:
            raise ArchiveError(f"{self.path}: member {name!r} is too big for a JSON document")
        with self.open(name) as stream:
            return stream.read()

    def close(self) -> None:
        """Close the archive file."""
        self._tar.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

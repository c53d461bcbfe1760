"""Write an image archive (a tar file) atomically: all of it appears under its name, or nothing.

The tar is written to a temporary file beside the destination, fsynced and renamed into place;
if anything fails on the way the temporary file is removed and an existing file is left alone.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from labcore.fs.atomic import fsync_directory

__all__ = ["ArchiveWriter"]


class ArchiveWriter:
    """A tar archive being written to ``path``; call :meth:`commit` at the end of the ``with`` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self._temp = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self._mtime = int(time.time())
        self._names: set[str] = set()
        self._done = False

    def _info(self, name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, self._mtime
        info.uname = info.gname = "root"
        return info

    def has(self, name: str) -> bool:
        """True when ``name`` was already written."""
        return name in self._names

    def add_directory(self, name: str) -> None:
        """Add a directory entry (once)."""
        if name not in self._names:
            self._names.add(name)
            self._tar.addfile(self._info(name, tarfile.DIRTYPE, 0o755))

    def add_bytes(self, name: str, data: bytes) -> None:
        """Add a small file holding ``data``."""
        self.add_stream(name, io.BytesIO(data), len(data))

    def add_stream(self, name: str, stream: BinaryIO, size: int) -> None:
        """Add a file of ``size`` bytes read from ``stream`` as it is copied."""
        self._names.add(name)
        info = self._info(name, tarfile.REGTYPE, 0o644)
        info.size = size
        self._tar.addfile(info, stream)

    def commit(self) -> None:
        """Finish the archive and move it to its name."""
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp, self.path)
        fsync_directory(self.path.parent)
        self._done = True

    def abort(self) -> None:
        """Throw the partial archive away."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self._tar.close()
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.abort()

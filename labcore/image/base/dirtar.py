"""Write a directory tree (a debootstrap result) as one layer tarball, in a stable order.

Entries are sorted by path, owners are numeric, hard links stay hard links (``tarfile`` tracks
inodes), and the contents of excluded directories are left out while the directories stay.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["write_directory_tar"]


def _walk(root: Path, relative: str, skip_contents: Callable[[str], bool]) -> Iterator[str]:
    with os.scandir(root / relative if relative else root) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        path = f"{relative}/{name}" if relative else name
        yield path
        if stat.S_ISDIR(os.lstat(root / path).st_mode) and not skip_contents(path):
            yield from _walk(root, path, skip_contents)


def write_directory_tar(root: Path, fileobj: BinaryIO, skip_contents: Callable[[str], bool]) -> int:
    """Write every entry under ``root`` to ``fileobj`` as an uncompressed tar; return the entry count.

    ``skip_contents(path)`` is asked for each directory (path relative to ``root``, no leading
    slash); when it returns true, the directory is written but nothing below it.
    """
    count = 0
    with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for path in _walk(root, "", skip_contents):
            full = root / path
            info = tar.gettarinfo(str(full), arcname=path)
            info.uname = info.gname = ""
            if info.isreg():
                with full.open("rb") as stream:
                    tar.addfile(info, stream)
            else:
                tar.addfile(info)
            count += 1
    return count

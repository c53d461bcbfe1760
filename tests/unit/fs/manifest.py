"""A comparable description of a directory tree, for layer round-trip tests."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path
from typing import NamedTuple


class Entry(NamedTuple):
    kind: str
    mode: int
    uid: int
    gid: int
    size: int
    sha256: str
    link: str
    mtime: int
    rdev: int
    xattrs: tuple[tuple[str, bytes], ...]


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "dir"),
        (stat.S_ISREG, "file"),
        (stat.S_ISLNK, "symlink"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISCHR, "chr"),
        (stat.S_ISBLK, "blk"),
    ):
        if test(mode):
            return name
    return "other"


def _xattrs(path: Path) -> tuple[tuple[str, bytes], ...]:
    names = [
        name
        for name in os.listxattr(path, follow_symlinks=False)
        if not name.startswith(("security.selinux", "system.", "trusted.overlay.", "user.overlay."))
    ]
    return tuple(sorted((name, os.getxattr(path, name, follow_symlinks=False)) for name in names))


def manifest(root: Path, *, dir_mtimes: bool = True) -> dict[str, Entry]:
    """Every entry below ``root`` (not ``root`` itself) with its metadata; mtimes in whole seconds."""
    found: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            kind = _kind(st.st_mode)
            digest = ""
            if kind == "file":
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[path.relative_to(root).as_posix()] = Entry(
                kind=kind,
                mode=stat.S_IMODE(st.st_mode) if kind != "symlink" else 0,
                uid=st.st_uid,
                gid=st.st_gid,
                size=st.st_size if kind in ("file", "symlink") else 0,
                sha256=digest,
                link=os.readlink(path) if kind == "symlink" else "",
                mtime=st.st_mtime_ns // 1_000_000_000 if (kind != "dir" or dir_mtimes) else 0,
                rdev=st.st_rdev if kind in ("chr", "blk") else 0,
                xattrs=_xattrs(path),
            )
    return found


def link_groups(root: Path) -> set[frozenset[str]]:
    """The sets of names (two or more) that share one inode below ``root``."""
    by_inode: dict[tuple[int, int], set[str]] = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            if st.st_nlink > 1:
                by_inode.setdefault((st.st_dev, st.st_ino), set()).add(path.relative_to(root).as_posix())
    return {frozenset(names) for names in by_inode.values() if len(names) > 1}


def snapshot_outside(directory: Path) -> dict[str, tuple[int, int, int, str]]:
    """(mode, size, mtime_ns, content digest or link) of everything in ``directory``, itself included."""
    found: dict[str, tuple[int, int, int, str]] = {}
    for path in [directory, *directory.rglob("*")]:
        st = path.lstat()
        detail = ""
        if stat.S_ISREG(st.st_mode):
            detail = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            detail = os.readlink(path)
        found[str(path)] = (st.st_mode, st.st_size, st.st_mtime_ns, detail)
    return found


def clone_tree(source: Path, destination: Path) -> Path:
    """Copy a tree with GNU ``cp -a`` (keeps owners, modes, mtimes, xattrs, hard links, fifos)."""
    subprocess.run(["cp", "-a", "--", str(source), str(destination)], check=True)
    return destination

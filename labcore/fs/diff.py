"""Turn directory trees into layer tarballs: a whole tree, a lower/upper pair, an overlay upper dir.

All three write an uncompressed tar stream to a binary writer and return its :class:`LayerStats`
(the ``diff_id`` is computed while writing). The output is deterministic, so the same tree gives
the same digest on any machine:

* entries come depth first, siblings sorted by their bytes, whiteouts of a directory first;
* headers are PAX, with numeric owners only (no user or group names), device numbers only on
  devices, mtimes truncated to whole seconds (as Docker does), no atime/ctime;
* a file with several hard links is written once and the other names become hard link entries;
* xattrs are kept as ``SCHILY.xattr.*`` records, except host-specific ones: ``security.*`` other
  than ``security.capability`` (SELinux/AppArmor labels belong to the host), ``system.*`` (ACLs)
  and overlayfs' own ``trusted.overlay.*``/``user.overlay.*``.

Sockets cannot be stored in tar and are skipped (counted in :attr:`LayerStats.skipped`).
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import tarfile
from dataclasses import dataclass
from typing import BinaryIO

from labcore.digest import Digest
from labcore.errors import LayerError
from labcore.fs.hashing import BackgroundHasher
from labcore.fs.tarheader import encode_header
from labcore.fs.whiteout import (
    OPAQUE_MARKER,
    OVERLAY_XATTR_PREFIXES,
    is_opaque_dir,
    is_overlay_whiteout,
    whiteout_name,
)

__all__ = ["LayerStats", "diff_trees", "overlay_upper_to_layer", "tree_to_layer"]

_COPY_BUFFER = 1 << 20
_SMALL_FILE = 256 << 10
_ZEROS = bytes(512)
BLOCK = 512
_SINK_BUFFER = 1 << 20
_XATTR_PREFIX = "SCHILY.xattr."
_KEPT_SECURITY_XATTRS = ("security.capability",)
_UNSUPPORTED_OVERLAY_XATTRS = (
    "trusted.overlay.redirect",
    "trusted.overlay.metacopy",
    "user.overlay.redirect",
    "user.overlay.metacopy",
)
_NO_XATTR_ERRNOS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENODATA)


@dataclass(frozen=True)
class LayerStats:
    """What a layer writer produced."""

    diff_id: Digest
    """sha256 of the uncompressed tar written."""
    size: int
    """Bytes written."""
    entries: int
    """Files, directories, links and devices written (not whiteouts)."""
    whiteouts: int
    """Whiteout and opaque markers written."""
    skipped: int = 0
    """Sockets left out, which tar cannot represent."""


def tree_to_layer(root: str | os.PathLike[str], out: BinaryIO) -> LayerStats:
    """Write every entry below ``root`` (not ``root`` itself) as one full layer to ``out``."""
    with _LayerWriter(out) as writer:
        writer.add_children("", os.fspath(root))
        return writer.close()


def diff_trees(
    lower: str | os.PathLike[str],
    upper: str | os.PathLike[str],
    out: BinaryIO,
    *,
    compare_content: bool = True,
) -> LayerStats:
    """Write the layer that turns the tree ``lower`` into the tree ``upper``.

    New and changed entries are written in full, deleted ones become ``.wh.`` whiteouts, and a
    directory none of whose lower entries survive gets the opaque marker instead of one whiteout
    per entry. An entry counts as changed when its type, mode, owner, size, mtime, xattrs, link
    target, device number or hard-link count differ, or (``compare_content``) when its bytes
    differ. A new name of an unchanged hard-linked file is written as a link to it. The
    directories around each change are written too, so their mtimes come out right.
    """
    with _LayerWriter(out) as writer:
        _DiffWalker(writer, compare_content).compare_dir("", os.fspath(lower), os.fspath(upper))
        return writer.close()


def overlay_upper_to_layer(upper: str | os.PathLike[str], out: BinaryIO) -> LayerStats:
    """Write the layer an overlayfs upper directory stands for.

    A 0/0 character device becomes ``.wh.<name>``, a directory with the opaque xattr gets
    ``.wh..wh..opq`` after its own entry, everything else is written in full. Upper dirs made
    with ``redirect_dir`` or ``metacopy`` raise :class:`~labcore.errors.LayerError`, because
    their files do not hold their own contents; mount with those features off.
    """
    with _LayerWriter(out) as writer:
        writer.add_overlay_children("", os.fspath(upper))
        return writer.close()


class _Sink:
    """Buffers small writes to ``out`` and hashes everything written (on a second thread)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._pending = bytearray()
        self._hash = BackgroundHasher()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Buffer ``data`` (copied), writing and hashing a megabyte at a time."""
        self.size += len(data)
        self._pending += data
        if len(self._pending) >= _SINK_BUFFER:
            self.flush()

    def write_owned(self, chunk: bytes) -> None:
        """Write a large ``chunk`` nobody else holds, without copying it."""
        self.flush()
        self.size += len(chunk)
        self._hash.update(chunk)
        self._out.write(chunk)

    def flush(self) -> None:
        if self._pending:
            chunk, self._pending = self._pending, bytearray()
            # the old buffer is never touched again, so the hashing thread may read it as is
            self._hash.update(chunk)
            self._out.write(chunk)

    def digest(self) -> Digest:
        return self._hash.digest()

    def close(self) -> None:
        self._hash.close()


class _LayerWriter:
    """Writes tar entries for host paths, tracking hard links across the whole layer."""

    def __init__(self, out: BinaryIO) -> None:
        self.sink = _Sink(out)
        self.links: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> first name written
        self.entries = 0
        self.whiteouts = 0
        self.skipped = 0

    def __enter__(self) -> _LayerWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sink.close()  # stops the hashing thread, also when writing failed

    # -- whole trees ----------------------------------------------------------------------

    def add_children(self, rel: str, host: str) -> None:
        """Write every entry below the directory ``host``, named below ``rel``."""
        for entry in _sorted_entries(host):
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            self.add(child_rel, entry.path, st)
            if stat.S_ISDIR(st.st_mode):
                self.add_children(child_rel, entry.path)

    def add_overlay_children(self, rel: str, host: str) -> None:
        """Like :meth:`add_children`, translating overlayfs whiteouts and opaque dirs."""
        for entry in _sorted_entries(host):
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if is_overlay_whiteout(st):
                self.add_whiteout(rel, entry.name)
                continue
            self.add(child_rel, entry.path, st, overlay=True)
            if stat.S_ISDIR(st.st_mode):
                if is_opaque_dir(entry.path):
                    self.add_opaque(child_rel)
                self.add_overlay_children(child_rel, entry.path)

    # -- single entries -------------------------------------------------------------------

    def add(self, rel: str, host: str, st: os.stat_result, *, overlay: bool = False) -> None:
        """Write one entry (without a directory's contents)."""
        mode = st.st_mode
        if stat.S_ISSOCK(mode):
            self.skipped += 1
            return
        xattrs = _portable_xattrs(host, overlay=overlay)
        header = functools.partial(
            encode_header, mode=stat.S_IMODE(mode), uid=st.st_uid, gid=st.st_gid, mtime=int(st.st_mtime), xattrs=xattrs
        )
        self.entries += 1
        if not stat.S_ISDIR(mode) and st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            first = self.links.get(key)
            if first is not None:
                self.sink.write(header(rel, tarfile.LNKTYPE, linkname=first))
                return
            self.links[key] = rel
        if stat.S_ISREG(mode):
            self._write_file(host, header(rel, tarfile.REGTYPE, size=st.st_size), st.st_size, rel)
        elif stat.S_ISDIR(mode):
            self.sink.write(header(rel, tarfile.DIRTYPE))
        elif stat.S_ISLNK(mode):
            target = os.readlink(host)
            self.sink.write(header(rel, tarfile.SYMTYPE, linkname=target))
        elif stat.S_ISFIFO(mode):
            self.sink.write(header(rel, tarfile.FIFOTYPE))
        else:
            kind = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
            self.sink.write(header(rel, kind, devmajor=major, devminor=minor))

    def remember(self, rel: str, st: os.stat_result) -> None:
        """Note an unchanged hard-linked file, so later names of its inode can link to it."""
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            self.links.setdefault((st.st_dev, st.st_ino), rel)

    def add_whiteout(self, dir_rel: str, name: str) -> None:
        """Write ``dir_rel/.wh.name``: ``name`` is deleted."""
        self._add_marker(f"{dir_rel}/{whiteout_name(name)}" if dir_rel else whiteout_name(name))

    def add_opaque(self, dir_rel: str) -> None:
        """Write ``dir_rel/.wh..wh..opq``: the lower contents of ``dir_rel`` are hidden."""
        self._add_marker(f"{dir_rel}/{OPAQUE_MARKER}" if dir_rel else OPAQUE_MARKER)

    def _add_marker(self, name: str) -> None:
        self.sink.write(encode_header(name, tarfile.REGTYPE))
        self.whiteouts += 1

    def _write_file(self, host: str, header: bytes, size: int, rel: str) -> None:
        fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            self.sink.write(header)
            remaining = size
            while remaining:
                # os.read returns fresh bytes: small files go through the buffer, big chunks
                # straight to the output and the hasher without another copy
                chunk = os.read(fd, min(remaining, _COPY_BUFFER))
                self._check_complete(len(chunk), min(remaining, 1), rel)
                if len(chunk) >= _SMALL_FILE:
                    self.sink.write_owned(chunk)
                else:
                    self.sink.write(chunk)
                remaining -= len(chunk)
        finally:
            os.close(fd)
        if size % BLOCK:
            self.sink.write(_ZEROS[: -size % BLOCK])

    @staticmethod
    def _check_complete(got: int, wanted: int, rel: str) -> None:
        if got < wanted:
            raise LayerError(
                f"{rel!r} shrank while it was being written to the layer",
                hint="do not change a tree while a layer is made from it",
            )

    def close(self) -> LayerStats:
        """Write the end-of-archive marker, flush, and report."""
        self.sink.write(bytes(2 * BLOCK))
        self.sink.flush()
        return LayerStats(
            diff_id=self.sink.digest(),
            size=self.sink.size,
            entries=self.entries,
            whiteouts=self.whiteouts,
            skipped=self.skipped,
        )


class _DiffWalker:
    """Compares a lower and an upper tree, writing what changed."""

    def __init__(self, writer: _LayerWriter, compare_content: bool) -> None:
        self.writer = writer
        self.compare_content = compare_content
        # unchanged directories around the current position, not written yet: they are written
        # just before the first change inside them, so that applying the layer restores their
        # mtime after it changed their contents
        self.unwritten_parents: list[tuple[str, str, os.stat_result]] = []

    def compare_dir(self, rel: str, lower: str, upper: str) -> None:
        lower_entries = {entry.name: entry for entry in _sorted_entries(lower)}
        upper_entries = _sorted_entries(upper)
        upper_names = {entry.name for entry in upper_entries}
        if lower_entries and not upper_names & lower_entries.keys():
            self._write_parents()
            self.writer.add_opaque(rel)
        else:
            for name in lower_entries:
                if name not in upper_names:
                    self._write_parents()
                    self.writer.add_whiteout(rel, name)
        for entry in upper_entries:
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            upper_stat = entry.stat(follow_symlinks=False)
            upper_path = entry.path
            lower_entry = lower_entries.get(entry.name)
            if lower_entry is None:
                self._write_tree(child_rel, upper_path, upper_stat)
                continue
            lower_stat = lower_entry.stat(follow_symlinks=False)
            lower_path = lower_entry.path
            same = self._same(lower_path, lower_stat, upper_path, upper_stat)
            if stat.S_ISDIR(upper_stat.st_mode) and stat.S_ISDIR(lower_stat.st_mode):
                if same:
                    self.unwritten_parents.append((child_rel, upper_path, upper_stat))
                else:
                    self._write_parents()
                    self.writer.add(child_rel, upper_path, upper_stat)
                self.compare_dir(child_rel, lower_path, upper_path)
                if self.unwritten_parents and self.unwritten_parents[-1][0] == child_rel:
                    self.unwritten_parents.pop()
            elif same:
                self.writer.remember(child_rel, upper_stat)
            else:
                self._write_tree(child_rel, upper_path, upper_stat)

    def _write_tree(self, rel: str, path: str, st: os.stat_result) -> None:
        self._write_parents()
        self.writer.add(rel, path, st)
        if stat.S_ISDIR(st.st_mode):
            self.writer.add_children(rel, path)

    def _write_parents(self) -> None:
        for rel, path, st in self.unwritten_parents:
            self.writer.add(rel, path, st)
        self.unwritten_parents.clear()

    def _same(self, lower: str, lower_stat: os.stat_result, upper: str, upper_stat: os.stat_result) -> bool:
        if (
            lower_stat.st_mode != upper_stat.st_mode
            or lower_stat.st_uid != upper_stat.st_uid
            or lower_stat.st_gid != upper_stat.st_gid
            or lower_stat.st_mtime_ns != upper_stat.st_mtime_ns
        ):
            return False
        mode = upper_stat.st_mode
        # a changed link count means the hard-link structure changed: rewrite the name
        if not stat.S_ISDIR(mode) and (
            lower_stat.st_size != upper_stat.st_size or lower_stat.st_nlink != upper_stat.st_nlink
        ):
            return False
        if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and lower_stat.st_rdev != upper_stat.st_rdev:
            return False
        if stat.S_ISLNK(mode) and os.readlink(lower) != os.readlink(upper):
            return False
        if _portable_xattrs(lower, overlay=False) != _portable_xattrs(upper, overlay=False):
            return False
        if stat.S_ISREG(mode) and self.compare_content:
            return _same_bytes(lower, upper)
        return True


def _sorted_entries(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as entries:
        return sorted(entries, key=lambda entry: os.fsencode(entry.name))


def _portable_xattrs(path: str, *, overlay: bool) -> dict[str, bytes]:
    """The xattrs of ``path`` that belong in a layer (see the module docstring)."""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as error:
        if error.errno in _NO_XATTR_ERRNOS:
            return {}
        raise
    kept: dict[str, bytes] = {}
    for name in sorted(names):
        if overlay and name in _UNSUPPORTED_OVERLAY_XATTRS:
            raise LayerError(
                f"overlay upper entry {path!r} has {name}, so it does not hold its own data",
                hint="mount the overlay with redirect_dir=off,metacopy=off to make layers from it",
            )
        if name.startswith(OVERLAY_XATTR_PREFIXES) or name.startswith("system."):
            continue
        if name.startswith("security.") and name not in _KEPT_SECURITY_XATTRS:
            continue
        try:
            kept[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError as error:
            if error.errno != errno.ENODATA:  # removed meanwhile
                raise
    return kept


def _same_bytes(first: str, second: str) -> bool:
    with open(first, "rb", buffering=0) as one, open(second, "rb", buffering=0) as two:
        while True:
            chunk = one.read(_COPY_BUFFER)
            if chunk != two.read(_COPY_BUFFER):
                return False
            if not chunk:
                return True

"""Apply a layer tarball onto a root filesystem directory with OCI semantics.

:func:`apply_layer` reads an uncompressed tar stream once, front to back, and makes the tree
under ``root`` look like the layers below plus this one:

* ``dir/.wh.name`` removes ``dir/name`` as the lower layers left it; ``dir/.wh..wh..opq`` removes
  everything the lower layers left in ``dir``. Neither touches what this same layer writes, in
  whichever order the entries come (the layer's own paths are remembered).
* Regular files, directories, symlinks, hard links, fifos and (when allowed) device nodes are
  created with their numeric owner, mode (setuid, setgid and sticky bits too), xattrs and mtimes.
  Directory modes and mtimes are set last, after their contents were written.
* The sha256 of the stream is computed while reading: the result's ``diff_id``.

Hostile layers are refused with :class:`~labcore.errors.UnsafeLayerError` naming the entry.
Entry names are cleaned like Docker does: a leading ``/`` is dropped, and a ``..`` that climbs
above the root is refused. Parent directories are resolved inside ``root`` (symlinks included,
absolute targets meaning ``root``'s ``/``), and a symlink whose target would leave ``root`` is
refused when an entry is extracted *through* it; writing the symlink itself is always fine, it
only means something inside the container. The last component is never followed: an existing
symlink there is replaced, not written through. Hard link targets resolve inside ``root`` too.

Extraction is not atomic: extract into a fresh directory and rename it into place on success.
Overlay xattrs (``trusted.overlay.*``, ``user.overlay.*``) in a layer are ignored, because they
would change how overlayfs reads the extracted tree.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from labcore.digest import Digest
from labcore.errors import DigestError, LayerError, UnsafeLayerError
from labcore.fs.safepath import PathEscapeError, clean_relative, resolve_in_root
from labcore.fs.tarstream import HashingReader, TarEntry, TarFormatError, iter_entries
from labcore.fs.whiteout import (
    OPAQUE_MARKER,
    OPAQUE_XATTRS,
    OVERLAY_XATTR_PREFIXES,
    is_opaque_marker,
    is_whiteout_name,
    whited_out_name,
)

__all__ = ["ApplyResult", "apply_layer"]

_UNSETTABLE_XATTR_ERRNOS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# host-managed xattrs (LSM labels, ACLs, overlay state) are never removed from an existing directory
_KEPT_XATTR_PREFIXES = ("security.", "system.", *OVERLAY_XATTR_PREFIXES)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class ApplyResult:
    """What :func:`apply_layer` read and did."""

    diff_id: Digest
    """sha256 of the uncompressed stream: compare with the image config's ``rootfs.diff_ids``."""
    size: int
    """Bytes of uncompressed tar read."""
    entries: int
    """Tar members created (whiteouts not counted)."""
    whiteouts: int
    """Whiteout and opaque markers processed."""
    skipped_xattrs: tuple[str, ...] = field(default=())
    """``path: name`` of xattrs the filesystem refused (e.g. ``trusted.*`` without root)."""


def apply_layer(
    tar_stream: BinaryIO,
    root: str | os.PathLike[str],
    *,
    allow_devices: bool = True,
    same_owner: bool | None = None,
    expected_diff_id: Digest | None = None,
    overlay_whiteouts: bool = False,
) -> ApplyResult:
    """Extract the uncompressed layer ``tar_stream`` onto the directory ``root`` (see module doc).

    ``allow_devices`` false refuses character and block devices with :class:`UnsafeLayerError`.
    ``same_owner`` (default: when running as root) applies the entries' numeric uid/gid.
    ``expected_diff_id``, when given, is checked after the whole stream was read and a mismatch
    raises :class:`~labcore.errors.DigestError` (the tree is then damaged: discard it).
    ``overlay_whiteouts`` stores whiteouts the way overlayfs does (``.wh.name`` becomes a 0/0
    character device, ``.wh..wh..opq`` the ``trusted.overlay.opaque=y`` xattr) instead of
    deleting lower files: use it to unpack each layer into its own overlay lower directory
    (needs root).
    Raises :class:`~labcore.errors.LayerError` for a broken archive and ``OSError`` for failed
    system calls.
    """
    root_path = Path(root).absolute()
    if not root_path.is_dir() or root_path.is_symlink():
        raise LayerError(
            f"cannot apply a layer onto {os.fspath(root)!r}: not a directory",
            hint="create the root directory first",
        )
    owners = os.geteuid() == 0 if same_owner is None else same_owner
    applier = _Applier(root_path, allow_devices, owners, overlay_whiteouts)
    with HashingReader(tar_stream, background=True) as reader:
        for entry in iter_entries(reader):
            try:
                applier.apply(entry, reader)
            except PathEscapeError as error:
                raise UnsafeLayerError(f"layer entry {entry.name!r} refused: {error.message}") from error
        reader.drain()
        applier.finish()
    result = ApplyResult(
        diff_id=reader.digest(),
        size=reader.size,
        entries=applier.entries,
        whiteouts=applier.whiteouts,
        skipped_xattrs=tuple(applier.skipped_xattrs),
    )
    if expected_diff_id is not None and result.diff_id != expected_diff_id:
        raise DigestError(f"layer diff_id is {result.diff_id}, the image config expects {expected_diff_id}")
    return result


class _Applier:
    """The state of one extraction: paths written, resolved directories, deferred metadata.

    Paths are plain strings here: this runs once per tar member, and pathlib costs too much.
    """

    def __init__(self, root: Path, allow_devices: bool, same_owner: bool, overlay_whiteouts: bool) -> None:
        self.root = os.fspath(root).rstrip("/") or "/"
        self.root_prefix = self.root.rstrip("/") + "/"
        self.allow_devices = allow_devices
        self.same_owner = same_owner
        self.overlay_whiteouts = overlay_whiteouts
        self.entries = 0
        self.whiteouts = 0
        self.skipped_xattrs: list[str] = []
        self.written: set[str] = set()  # canonical relative paths this layer created
        self.written_parents: set[str] = {""}  # their ancestors
        self.overlay_deleted: set[str] = set()  # canonical paths given a 0/0 whiteout device
        self.dir_cache: dict[str, str] = {}  # relative dir -> host path known to be a real directory
        self.generation = 0  # bumped whenever dir_cache is cleared
        # canonical relative dir -> (host path, generation it was resolved in, mode, mtime_ns)
        self.deferred_dirs: dict[str, tuple[str, int, int, int]] = {}
        # canonical relative dir -> (host path, generation, atime_ns, mtime_ns) before this layer
        # changed its entries: restored unless the layer describes the directory itself
        self.kept_dir_times: dict[str, tuple[str, int, int, int] | None] = {}

    # -- entry dispatch -------------------------------------------------------------------

    def apply(self, entry: TarEntry, reader: HashingReader) -> None:
        rel = clean_relative(entry.name)
        parent_rel, _, base = rel.rpartition("/")
        if is_whiteout_name(base):
            self._apply_whiteout(entry, parent_rel, base)
            return
        if rel == "":
            if not entry.is_dir:
                raise UnsafeLayerError(f"layer entry {entry.name!r} would replace the root with a non-directory")
            self._apply_dir_metadata(self.root, rel, entry, existing_dir=True)
            self.entries += 1
            return
        if entry.type in (tarfile.CHRTYPE, tarfile.BLKTYPE) and not self.allow_devices:
            raise UnsafeLayerError(
                f"layer entry {entry.name!r} is a device node, and devices are not allowed here",
                hint="device nodes in images are only honoured for trusted images, run as root",
            )
        host = self._host_path(rel, create_parents=True)
        canonical = self._canonical(host)  # the name with symlinked parents resolved
        self._keep_dir_time(os.path.dirname(host), canonical.rpartition("/")[0])
        try:
            # most paths are new: try first, look at what is in the way only when something is
            self._create(entry, host, canonical, reader, rel)
        except FileExistsError:
            existing = os.lstat(host)
            if entry.is_dir and stat.S_ISDIR(existing.st_mode):
                self._apply_dir_metadata(host, canonical, entry, existing_dir=True)
                self.dir_cache[rel] = host
            elif entry.type == tarfile.LNKTYPE and self._link_target(entry) == host:
                return  # a hard link to itself: nothing to do
            else:
                self._remove(host, existing)
                self.deferred_dirs.pop(canonical, None)
                self._create(entry, host, canonical, reader, rel)
        if entry.is_dir and canonical in self.overlay_deleted:
            # deleted and made again in this layer: the new directory must hide the lower one's content
            os.setxattr(host, OPAQUE_XATTRS[0], b"y", follow_symlinks=False)
        self._mark_written(canonical)
        self.entries += 1

    def _create(self, entry: TarEntry, host: str, rel: str, reader: HashingReader, entry_rel: str) -> None:
        """Create ``host`` (canonically ``rel``, named ``entry_rel`` in the layer) for ``entry``.

        Raises FileExistsError before consuming anything when the name is taken.
        """
        if entry.is_regular:
            self._create_file(entry, host, reader)
        elif entry.is_dir:
            os.mkdir(host, 0o700)
            self._apply_dir_metadata(host, rel, entry, existing_dir=False)
            self.dir_cache[entry_rel] = host  # entries below it need no more resolving
        elif entry.type == tarfile.SYMTYPE:
            os.symlink(entry.linkname, host)
            self._apply_metadata(host, entry, set_mode=False)
        elif entry.type == tarfile.LNKTYPE:
            target = self._link_target(entry)
            target_stat = _lstat_or_none(target)
            if target_stat is None or stat.S_ISDIR(target_stat.st_mode):
                raise LayerError(
                    f"layer entry {entry.name!r} is a hard link to {entry.linkname!r}, "
                    + ("which does not exist" if target_stat is None else "a directory"),
                    hint="the layer is broken or depends on a different parent layer",
                )
            os.link(target, host, follow_symlinks=False)
        elif entry.type == tarfile.FIFOTYPE:
            os.mkfifo(host, 0o600)
            self._apply_metadata(host, entry)
        else:
            kind = stat.S_IFCHR if entry.type == tarfile.CHRTYPE else stat.S_IFBLK
            os.mknod(host, kind | 0o600, os.makedev(entry.devmajor, entry.devminor))
            self._apply_metadata(host, entry)

    def _create_file(self, entry: TarEntry, host: str, reader: HashingReader) -> None:
        fd = os.open(host, _FILE_FLAGS, 0o600)
        try:
            if reader.copy_to_fd(fd, entry.size) < entry.size:
                raise TarFormatError(f"layer stream ends inside the data of {entry.name!r}")
            if self.same_owner:
                os.fchown(fd, entry.uid, entry.gid)
            os.fchmod(fd, entry.mode & 0o7777)  # after chown, which clears setuid/setgid
            if entry.xattrs:
                self._set_xattrs(fd, entry, host)
            os.utime(fd, ns=(entry.mtime_ns, entry.mtime_ns))
        finally:
            os.close(fd)

    # -- whiteouts ------------------------------------------------------------------------

    def _apply_whiteout(self, entry: TarEntry, parent_rel: str, base: str) -> None:
        if is_opaque_marker(base):
            self.whiteouts += 1
            self._make_opaque(parent_rel)
            return
        name = whited_out_name(base)
        if name is None:
            return  # other AUFS bookkeeping (.wh..wh.plnk...) carries no meaning for us
        if name in ("", ".", ".."):
            raise UnsafeLayerError(f"layer entry {entry.name!r} is a whiteout of {name!r}, which is not a name")
        self.whiteouts += 1
        rel = f"{parent_rel}/{name}" if parent_rel else name
        host = self._host_path(rel, create_parents=self.overlay_whiteouts)
        canonical = self._canonical(host)
        if canonical in self.written or canonical in self.written_parents:
            # this layer itself provides the path, so only the lower contents below it go: for an
            # overlay lower dir, that is an opaque directory (a file hides the lower one anyway)
            if _is_real_dir(host):
                if self.overlay_whiteouts:
                    os.setxattr(host, OPAQUE_XATTRS[0], b"y", follow_symlinks=False)
                else:
                    self._prune_lower(canonical, host)
            return
        existing = _lstat_or_none(host)
        if existing is not None or self.overlay_whiteouts:
            self._keep_dir_time(os.path.dirname(host), canonical.rpartition("/")[0])
        if existing is not None:
            self._remove(host, existing)
        if self.overlay_whiteouts:
            os.mknod(host, stat.S_IFCHR | 0o600, os.makedev(0, 0))
            self.overlay_deleted.add(canonical)

    def _make_opaque(self, dir_rel: str) -> None:
        # resolve the directory as the marker's parent, so a symlinked directory is followed inside
        # the root (and refused when it leads out), as for any other entry in it
        marker = self._host_path(f"{dir_rel}/{OPAQUE_MARKER}" if dir_rel else OPAQUE_MARKER, create_parents=True)
        host = os.path.dirname(marker)
        self._keep_dir_time(host, self._canonical(host))
        if self.overlay_whiteouts:
            os.setxattr(host, OPAQUE_XATTRS[0], b"y", follow_symlinks=False)
        else:
            self._prune_lower(self._canonical(host), host)

    def _prune_lower(self, dir_rel: str, host: str) -> None:
        """Remove everything below ``host`` (named ``dir_rel``) that this layer did not write."""
        with os.scandir(host) as children:
            for child in children:
                child_rel = f"{dir_rel}/{child.name}" if dir_rel else child.name
                if child_rel in self.written or child_rel in self.written_parents:
                    if child.is_dir(follow_symlinks=False):
                        self._prune_lower(child_rel, child.path)
                    continue
                self._remove(child.path, child.stat(follow_symlinks=False))

    # -- helpers --------------------------------------------------------------------------

    def _host_path(self, rel: str, *, create_parents: bool) -> str:
        parent_rel, _, base = rel.rpartition("/")
        parent = self.dir_cache.get(parent_rel)
        if parent is not None:
            return f"{parent}/{base}"
        host = os.fspath(resolve_in_root(self.root, rel))
        if create_parents:
            parent = os.path.dirname(host)
            try:
                os.makedirs(parent, 0o755, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as error:
                raise LayerError(
                    f"layer path {rel!r} needs {parent_rel!r} to be a directory, but it is not",
                    hint="the layer is broken or depends on a different parent layer",
                ) from error
            self.dir_cache[parent_rel] = parent
        return host

    def _canonical(self, host: str) -> str:
        """``host`` relative to the root: the entry's name with its symlinked parents resolved."""
        return host[len(self.root_prefix) :] if host != self.root else ""

    def _link_target(self, entry: TarEntry) -> str:
        target_rel = clean_relative(entry.linkname)
        if target_rel == "":
            raise UnsafeLayerError(f"layer entry {entry.name!r} is a hard link to the root")
        return self._host_path(target_rel, create_parents=False)

    def _remove(self, host: str, existing: os.stat_result) -> None:
        if stat.S_ISDIR(existing.st_mode):
            shutil.rmtree(host)
        else:
            os.unlink(host)
        if stat.S_ISDIR(existing.st_mode) or stat.S_ISLNK(existing.st_mode):
            # a cached parent may have lived below or behind what was removed
            self.dir_cache.clear()
            self.generation += 1

    def _keep_dir_time(self, host: str, rel: str) -> None:
        """Remember directory ``rel``'s times before the layer changes its entries (as umoci does).

        Adding or removing an entry sets a directory's mtime to now; a layer that does not list
        the directory itself (a whiteout, a new file in an old directory) must not change it.
        """
        if rel in self.kept_dir_times:
            return
        try:
            found = os.lstat(host)
        except FileNotFoundError:
            found = None
        if found is None or not stat.S_ISDIR(found.st_mode):
            self.kept_dir_times[rel] = None
            return
        self.kept_dir_times[rel] = (host, self.generation, found.st_atime_ns, found.st_mtime_ns)

    def _mark_written(self, rel: str) -> None:
        self.written.add(rel)
        parent = rel.rpartition("/")[0]
        while parent not in self.written_parents:
            self.written_parents.add(parent)
            parent = parent.rpartition("/")[0]

    def _apply_dir_metadata(self, host: str, rel: str, entry: TarEntry, *, existing_dir: bool) -> None:
        if self.same_owner:
            os.chown(host, entry.uid, entry.gid, follow_symlinks=False)
        if existing_dir:
            self._drop_stale_xattrs(host, entry)
        if entry.xattrs:
            self._set_xattrs(host, entry, host)
        self.deferred_dirs[rel] = (host, self.generation, entry.mode & 0o7777, entry.mtime_ns)

    def _apply_metadata(self, host: str, entry: TarEntry, *, set_mode: bool = True) -> None:
        if self.same_owner:
            os.chown(host, entry.uid, entry.gid, follow_symlinks=False)
        if set_mode:
            # only for fifos and devices this function just created, never a symlink
            os.chmod(host, entry.mode & 0o7777)
        if entry.xattrs:
            self._set_xattrs(host, entry, host)
        os.utime(host, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=False)

    def _set_xattrs(self, target: int | str, entry: TarEntry, shown: str) -> None:
        for name, value in entry.xattrs.items():
            if name.startswith(OVERLAY_XATTR_PREFIXES):
                continue
            try:
                if isinstance(target, int):
                    os.setxattr(target, name, value)
                else:
                    os.setxattr(target, name, value, follow_symlinks=False)
            except OSError as error:
                if error.errno not in _UNSETTABLE_XATTR_ERRNOS:
                    raise
                self.skipped_xattrs.append(f"{shown}: {name}")

    def _drop_stale_xattrs(self, host: str, entry: TarEntry) -> None:
        """A layer entry describes the whole inode, so xattrs of the lower version go."""
        for name in os.listxattr(host, follow_symlinks=False):
            if name in entry.xattrs or name.startswith(_KEPT_XATTR_PREFIXES):
                continue
            try:
                os.removexattr(host, name, follow_symlinks=False)
            except OSError as error:
                if error.errno not in _UNSETTABLE_XATTR_ERRNOS:
                    raise

    def finish(self) -> None:
        """Set directory modes and mtimes, deepest first, now that nothing more is written.

        Directories the layer lists get the layer's mode and mtime; directories whose entries it
        only changed get back the times they had before it.
        """
        listed = self.deferred_dirs
        kept = {rel: times for rel, times in self.kept_dir_times.items() if times is not None and rel not in listed}
        for rel in sorted([*self.deferred_dirs, *kept], key=lambda path: path.count("/"), reverse=True):
            if rel in kept:
                host, generation, atime_ns, mtime_ns = kept[rel]
                mode = None
            else:
                host, generation, mode, mtime_ns = self.deferred_dirs[rel]
                atime_ns = mtime_ns
            fd = self._open_dir(rel, host, generation)
            if fd is None:
                continue
            try:
                if mode is not None:
                    os.fchmod(fd, mode)
                os.utime(fd, ns=(atime_ns, mtime_ns))
            finally:
                os.close(fd)

    def _open_dir(self, rel: str, host: str, generation: int) -> int | None:
        """The directory ``rel`` opened without following a symlink; None if it is gone or replaced."""
        try:
            if generation != self.generation:
                # something was replaced since: resolve again rather than trust the old path
                host = os.fspath(resolve_in_root(self.root, rel)) if rel else self.root
            return os.open(host, _DIR_FLAGS)
        except (FileNotFoundError, NotADirectoryError, PathEscapeError):
            return None  # replaced later in the layer
        except OSError as error:
            if error.errno == errno.ELOOP:
                return None  # replaced by a symlink later in the layer: never follow it
            raise


def _lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _is_real_dir(path: str) -> bool:
    found = _lstat_or_none(path)
    return found is not None and stat.S_ISDIR(found.st_mode)

"""Turn a layer's OCI whiteouts into overlayfs whiteouts inside its unpacked snapshot.

A snapshot holds one layer's diff, to be stacked with overlayfs, so it must keep the layer's
deletions. :func:`labcore.fs.apply.apply_layer` applies whiteouts to the tree it extracts onto
(an empty directory here, where they remove nothing), so this module reads the layer's entries
once more and writes what overlayfs understands: a 0/0 character device for a deleted name and
``trusted.overlay.opaque=y`` on an opaque directory. Both need root (CAP_MKNOD, trusted xattrs).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from labcore.errors import UnsafeLayerError
from labcore.fs.safepath import clean_relative, resolve_in_root
from labcore.fs.tarstream import HashingReader, iter_entries
from labcore.fs.whiteout import is_opaque_marker, is_whiteout_name, whited_out_name

__all__ = ["LayerWhiteouts", "read_whiteouts", "write_overlay_whiteouts"]

_OPAQUE_XATTR = "trusted.overlay.opaque"


@dataclass
class LayerWhiteouts:
    """The deletions a layer makes: names it removes and directories it makes opaque."""

    removed: list[str] = field(default_factory=list)
    opaque_dirs: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)


def read_whiteouts(tar_stream: BinaryIO) -> LayerWhiteouts:
    """Collect the whiteouts of the uncompressed layer ``tar_stream`` (paths relative to its root)."""
    found = LayerWhiteouts()
    for entry in iter_entries(HashingReader(tar_stream)):
        rel = clean_relative(entry.name)
        parent, _, base = rel.rpartition("/")
        if not is_whiteout_name(base):
            found.written.add(rel)
        elif is_opaque_marker(base):
            found.opaque_dirs.append(parent)
        else:
            name = whited_out_name(base)
            if name in ("", ".", ".."):
                raise UnsafeLayerError(
                    f"layer entry {entry.name!r} is a whiteout of {name!r}, which is not a name"
                )
            if name is not None:
                found.removed.append(f"{parent}/{name}" if parent else name)
    return found


def write_overlay_whiteouts(root: Path, whiteouts: LayerWhiteouts) -> None:
    """Write ``whiteouts`` into the unpacked layer at ``root`` in overlayfs form."""
    for rel in whiteouts.removed:
        host = resolve_in_root(root, rel)
        if rel in whiteouts.written:
            # the layer replaces the lower version with its own: a new directory must hide the old
            # one's contents, a file or link hides the lower entry by itself
            if stat.S_ISDIR(os.lstat(host).st_mode):
                os.setxattr(host, _OPAQUE_XATTR, b"y", follow_symlinks=False)
            continue
        os.makedirs(host.parent, 0o755, exist_ok=True)
        try:
            existing = os.lstat(host)
        except FileNotFoundError:
            parent = os.lstat(host.parent)
            os.mknod(host, stat.S_IFCHR | 0o000, os.makedev(0, 0))
            # keep the directory's mtime as the layer set it
            os.utime(host.parent, ns=(parent.st_atime_ns, parent.st_mtime_ns), follow_symlinks=False)
            continue
        if not stat.S_ISDIR(existing.st_mode):
            raise UnsafeLayerError(f"layer whiteout for {rel!r} clashes with a file of the same layer")
    for rel in whiteouts.opaque_dirs:
        host = resolve_in_root(root, rel) if rel else root
        os.makedirs(host, 0o755, exist_ok=True)
        os.setxattr(host, _OPAQUE_XATTR, b"y", follow_symlinks=False)

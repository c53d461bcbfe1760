"""Whiteouts: how a layer says "this path from the layers below is gone".

In a layer tarball (OCI image spec, inherited from AUFS) a deleted ``dir/name`` is an empty file
``dir/.wh.name``, and a directory whose lower contents are all hidden holds ``dir/.wh..wh..opq``.
In an overlayfs upper directory the same facts look different: a deleted name is a character
device with device number 0/0, and an opaque directory carries the xattr
``trusted.overlay.opaque=y`` (``user.overlay.opaque`` when mounted with ``userxattr``).
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = [
    "OPAQUE_MARKER",
    "OPAQUE_XATTRS",
    "OVERLAY_XATTR_PREFIXES",
    "WHITEOUT_META_PREFIX",
    "WHITEOUT_PREFIX",
    "is_opaque_dir",
    "is_opaque_marker",
    "is_overlay_whiteout",
    "is_whiteout_name",
    "whited_out_name",
    "whiteout_name",
]

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."  # AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs); the opaque marker
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
OVERLAY_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.")


def whiteout_name(name: str) -> str:
    """The tar member basename that deletes ``name``: ``.wh.<name>``."""
    return WHITEOUT_PREFIX + name


def is_whiteout_name(basename: str) -> bool:
    """True if ``basename`` is any ``.wh.`` entry (a whiteout, the opaque marker or AUFS metadata)."""
    return basename.startswith(WHITEOUT_PREFIX)


def is_opaque_marker(basename: str) -> bool:
    """True if ``basename`` is the opaque-directory marker ``.wh..wh..opq``."""
    return basename == OPAQUE_MARKER


def whited_out_name(basename: str) -> str | None:
    """The name a plain whiteout deletes (``.wh.foo`` → ``foo``), or None for a ``.wh..wh.`` entry.

    The result may be empty, ``.`` or ``..``; callers must refuse those.
    """
    if basename.startswith(WHITEOUT_META_PREFIX) or not basename.startswith(WHITEOUT_PREFIX):
        return None
    return basename[len(WHITEOUT_PREFIX) :]


def is_overlay_whiteout(st: os.stat_result) -> bool:
    """True if ``st`` describes an overlayfs whiteout: a character device numbered 0/0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque_dir(path: str | os.PathLike[str]) -> bool:
    """True if the directory at ``path`` carries an overlayfs opaque xattr set to ``y``."""
    for attribute in OPAQUE_XATTRS:
        try:
            if os.getxattr(path, attribute, follow_symlinks=False) == b"y":
                return True
        except OSError as error:
            if error.errno not in (errno.ENODATA, errno.ENOTSUP, errno.EPERM):
                raise
    return False

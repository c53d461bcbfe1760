"""Resolve paths inside a root directory as if that root were ``/``, never leaving it.

A layer or a container rootfs is a directory tree whose symlinks were written for the container's
view of the filesystem: ``/lib -> usr/lib`` or ``/etc/localtime -> /usr/share/zoneinfo/UTC``. When
labcore writes into such a tree from the host it must resolve those links inside the tree, or a
hostile image could make it write to the host's ``/etc``. :func:`resolve_in_root` does that: it
walks the path one component at a time, expands symlinks in the *parent* directories relative to
the root, and never follows the last component (the caller creates, replaces or removes exactly
that name).

Two policies exist for a ``..`` that would climb above the root. ``clamp`` does what the kernel
does inside a container (``/..`` is ``/``), like the securejoin library. ``refuse`` raises
:class:`PathEscapeError`: layer extraction uses it, because a legitimate image never needs that.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from labcore.errors import UnsafeLayerError

__all__ = ["MAX_SYMLINK_HOPS", "PathEscapeError", "clean_relative", "resolve_in_root"]

MAX_SYMLINK_HOPS = 40  # the kernel's own limit (MAXSYMLINKS)


class PathEscapeError(UnsafeLayerError):
    """A path that climbs above its root, or loops through too many symlinks."""


def clean_relative(name: str) -> str:
    """Normalize ``name`` lexically to a path relative to the root, or ``""`` for the root itself.

    Leading ``/`` and ``./`` are dropped (as tar and Docker do), repeated slashes and ``.`` collapse,
    and ``..`` removes the previous component. A ``..`` that would climb above the root raises
    :class:`PathEscapeError`, because a name like ``../../etc/passwd`` only exists to escape.
    """
    if not name.startswith("/") and "//" not in name and "/." not in "/" + name and not name.endswith("/"):
        return name  # already clean: the common case, kept fast
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathEscapeError(
                    f"path {name!r} climbs above the root",
                    hint="names inside a layer or rootfs must stay below its top directory",
                )
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def resolve_in_root(root: str | os.PathLike[str], name: str, *, clamp: bool = False) -> Path:
    """The host path for ``name`` inside ``root``, with symlinked parents resolved inside ``root``.

    The parents of the result are real directories below ``root`` (or do not exist yet); the last
    component is returned as is, never followed, whatever it is. Absolute symlink targets are
    taken relative to ``root``. A ``..`` climbing above ``root`` is clamped at ``root`` when
    ``clamp`` is true and raises :class:`PathEscapeError` otherwise; more than
    :data:`MAX_SYMLINK_HOPS` links also raise it. Other ``OSError`` from ``lstat`` propagate.
    """
    root_text = os.fspath(root)
    prefix = root_text.rstrip("/")  # "" for "/", so that joining below never doubles the slash
    pending = _split(name)
    if not pending:
        return Path(root_text)
    last = pending.pop()
    if last == "..":
        # ".." as the final component names a parent directory, so it must be resolved too
        pending.append(last)
        last = ""
    resolved: list[str] = []
    hops = 0
    missing = False  # once a component does not exist, nothing below it can be a symlink
    pending.reverse()  # a stack: the next component to resolve is at the end
    while pending:
        part = pending.pop()
        if part == "..":
            if resolved:
                resolved.pop()
            elif not clamp:
                raise PathEscapeError(
                    f"path {name!r} climbs above the root {root_text!r} through a symlink",
                    hint="the tree holds a symlink whose target leaves it; do not use this tree",
                )
            missing = False  # back in a directory that exists: its entries may be symlinks again
            continue
        if missing:
            resolved.append(part)
            continue
        resolved.append(part)
        candidate = prefix + "/" + "/".join(resolved)
        try:
            mode = os.lstat(candidate).st_mode
        except (FileNotFoundError, NotADirectoryError):
            missing = True
            continue
        if stat.S_ISLNK(mode):
            resolved.pop()
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                raise PathEscapeError(
                    f"path {name!r} goes through more than {MAX_SYMLINK_HOPS} symlinks",
                    hint="the tree holds a symlink loop; do not use this tree",
                )
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending.extend(reversed(_split(target)))
    if last:
        resolved.append(last)
    return Path(prefix + "/" + "/".join(resolved)) if resolved else Path(root_text)


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]

"""Mount an overlayfs from unpacked layers, and look at its lower, upper and merged views.

An overlay stacks read-only *lower* directories (the image's layers, the top one first) under
one writable *upper* directory; the kernel needs an empty *work* directory on the upper's
filesystem for its bookkeeping. The merged view appears at the mount target. Changes land in
the upper directory: new and modified files as copies, deletions as 0/0 character devices
(whiteouts), replaced directories marked opaque by an xattr.

mount(2) passes its options in one page (4096 bytes), and the lower directories are listed there
in full. :func:`overlay_options` computes the string and raises
:class:`~labcore.errors.LayerError` when it does not fit, saying how many layers would; the cure
is to flatten (squash) the image. Newer kernels accept ``lowerdir+=`` one layer at a time through
fsconfig(2), which labcore does not use.

Overlays are mounted with ``redirect_dir=off,metacopy=off`` so that every upper file holds its
own data and a renamed directory is copied: that keeps the upper directory a valid layer diff.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from labcore.errors import LayerError
from labcore.fs.whiteout import is_opaque_dir, is_overlay_whiteout
from labcore.linux.mount import UmountFlag, mount, umount

__all__ = [
    "MOUNT_OPTIONS_LIMIT",
    "OverlayMount",
    "OverlayView",
    "mount_overlay",
    "overlay_mounted",
    "overlay_options",
    "overlay_view",
    "unmount_overlay",
]

MOUNT_OPTIONS_LIMIT = 4095  # one page, less the terminating NUL
_FEATURE_OPTIONS = "redirect_dir=off,metacopy=off"


@dataclass(frozen=True)
class OverlayMount:
    """A mounted overlay: where it is and what it is made of (lowers top first)."""

    target: Path
    lowers: tuple[Path, ...]
    upper: Path | None
    work: Path | None


def overlay_options(
    lowers: Sequence[str | os.PathLike[str]],
    upper: str | os.PathLike[str] | None = None,
    work: str | os.PathLike[str] | None = None,
) -> str:
    """The mount data string for an overlay of ``lowers`` (top first) with optional upper/work.

    Raises :class:`LayerError` if a path holds a comma, or the string exceeds
    :data:`MOUNT_OPTIONS_LIMIT` bytes (the message says how many lower layers fit).
    """
    if not lowers:
        raise LayerError("an overlay needs at least one lower directory", hint="pass the image's layers")
    if (upper is None) != (work is None):
        raise LayerError(
            "an overlay needs both an upper and a work directory, or neither",
            hint="pass upper= and work= together",
        )
    escaped = [_escape(lower) for lower in lowers]
    tail = ""
    if upper is not None and work is not None:
        tail = f",upperdir={_escape(upper)},workdir={_escape(work)},{_FEATURE_OPTIONS}"
    options = "lowerdir=" + ":".join(escaped) + tail
    if len(options.encode()) <= MOUNT_OPTIONS_LIMIT:
        return options
    used = len(("lowerdir=" + tail).encode())
    fitting = 0
    for path in escaped:
        used += len(path.encode()) + (1 if fitting else 0)
        if used > MOUNT_OPTIONS_LIMIT:
            break
        fitting += 1
    raise LayerError(
        f"an overlay of {len(lowers)} layers needs {len(options.encode())} bytes of mount options, "
        f"more than the {MOUNT_OPTIONS_LIMIT} mount(2) accepts; only {fitting} of these layers fit",
        hint="flatten (squash) the image into fewer layers, or keep layer directories at shorter paths",
    )


def mount_overlay(
    lowers: Sequence[str | os.PathLike[str]],
    target: str | os.PathLike[str],
    *,
    upper: str | os.PathLike[str] | None = None,
    work: str | os.PathLike[str] | None = None,
) -> OverlayMount:
    """Mount an overlay of ``lowers`` (top first) at ``target``; read-only when ``upper`` is None.

    ``upper`` and ``work`` are created when missing; they must be on the same filesystem.
    Raises ``OSError`` when mount(2) fails (the kernel log says why) and :class:`LayerError`
    for options that cannot be expressed.
    """
    lower_paths = tuple(Path(lower) for lower in lowers)
    for lower in lower_paths:
        if not lower.is_dir():
            raise LayerError(
                f"overlay lower directory {os.fspath(lower)!r} does not exist",
                hint="unpack the layer before mounting it",
            )
    upper_path = Path(upper) if upper is not None else None
    work_path = Path(work) if work is not None else None
    options = overlay_options(lower_paths, upper_path, work_path)
    for directory in (upper_path, work_path):
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
    mount("overlay", target, "overlay", 0, options)
    return OverlayMount(Path(target), lower_paths, upper_path, work_path)


def unmount_overlay(overlay: OverlayMount | str | os.PathLike[str], *, lazy: bool = False) -> None:
    """Unmount an overlay (``lazy`` detaches it even while busy)."""
    target = overlay.target if isinstance(overlay, OverlayMount) else Path(overlay)
    umount(target, UmountFlag.DETACH if lazy else UmountFlag.NONE)


@contextmanager
def overlay_mounted(
    lowers: Sequence[str | os.PathLike[str]],
    target: str | os.PathLike[str],
    *,
    upper: str | os.PathLike[str] | None = None,
    work: str | os.PathLike[str] | None = None,
) -> Iterator[OverlayMount]:
    """:func:`mount_overlay` for the duration of a ``with`` block; always unmounts."""
    overlay = mount_overlay(lowers, target, upper=upper, work=work)
    try:
        yield overlay
    finally:
        unmount_overlay(overlay)


@dataclass(frozen=True)
class OverlayView:
    """The entries of each part of an overlay, as sorted relative paths.

    Directories end in ``/``, symlinks show their target (``name -> target``); in the upper
    listing whiteouts show as ``name (whiteout)`` and opaque directories as ``name/ (opaque)``.
    """

    lowers: tuple[tuple[str, ...], ...]
    upper: tuple[str, ...]
    merged: tuple[str, ...]

    def render(self) -> str:
        """A plain-text table of the views, top (merged) to bottom (lowest layer)."""
        sections = [("merged", self.merged), ("upper", self.upper)]
        sections += [(f"lower {index}", entries) for index, entries in enumerate(self.lowers)]
        lines: list[str] = []
        for title, entries in sections:
            lines.append(f"{title}:")
            lines.extend(f"  {entry}" for entry in entries or ("(empty)",))
        return "\n".join(lines)


def overlay_view(overlay: OverlayMount, subdir: str = "") -> OverlayView:
    """List what the merged, upper and each lower directory hold below ``subdir``."""
    lowers = tuple(tuple(_listing(lower / subdir)) for lower in overlay.lowers)
    upper = tuple(_listing(overlay.upper / subdir, overlay=True)) if overlay.upper is not None else ()
    return OverlayView(lowers=lowers, upper=upper, merged=tuple(_listing(overlay.target / subdir)))


def _listing(top: Path, *, overlay: bool = False) -> list[str]:
    found: list[str] = []
    if not top.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = base / name
            rel = path.relative_to(top).as_posix()
            st = path.lstat()
            if stat.S_ISDIR(st.st_mode):
                found.append(f"{rel}/ (opaque)" if overlay and is_opaque_dir(path) else f"{rel}/")
            elif stat.S_ISLNK(st.st_mode):
                found.append(f"{rel} -> {os.readlink(path)}")
            elif overlay and is_overlay_whiteout(st):
                found.append(f"{rel} (whiteout)")
            else:
                found.append(rel)
    return sorted(found)


def _escape(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    if "," in text:
        raise LayerError(
            f"overlay path {text!r} contains a comma, which mount options cannot carry",
            hint="use directories without commas in their names",
        )
    return text.replace("\\", "\\\\").replace(":", "\\:")

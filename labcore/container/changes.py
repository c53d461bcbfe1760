"""``diff``: what a container changed, read from its overlay upper dir (like ``docker diff``).

``A`` added, ``C`` changed, ``D`` deleted. Overlayfs records a deletion as a 0/0 character device
(a whiteout) and a directory whose lower content was replaced as "opaque" (an xattr).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from labcore.container.lookup import resolve
from labcore.container.rootfs import lower_dirs
from labcore.container.state import ContainerPaths

if TYPE_CHECKING:
    from labcore.container.lifecycle import Container

__all__ = ["Change", "diff"]

Change = tuple[str, str]


def _is_whiteout(mode: int, rdev: int) -> bool:
    return stat.S_ISCHR(mode) and rdev == 0


def _in_lower(lowers: list[Path], relative: str) -> bool:
    """Whether the image (the lower layers, top first) has ``relative``."""
    for lower in lowers:
        candidate = lower / relative
        try:
            info = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            continue
        return not _is_whiteout(info.st_mode, info.st_rdev)
    return False


def diff(container: str | Container) -> list[Change]:
    """``(kind, path)`` pairs, sorted by path, for everything the container changed."""
    record = resolve(container)
    upper = ContainerPaths.of(record.id).upper_dir
    lowers = list(reversed(lower_dirs(record.image_id)))
    changes: list[Change] = []
    for directory, dirnames, filenames in os.walk(upper):
        dirnames.sort()
        for name in sorted([*dirnames, *filenames]):
            path = Path(directory) / name
            relative = str(path.relative_to(upper))
            info = os.lstat(path)
            if _is_whiteout(info.st_mode, info.st_rdev):
                changes.append(("D", "/" + relative))
            elif _in_lower(lowers, relative):
                changes.append(("C", "/" + relative))
            else:
                changes.append(("A", "/" + relative))
    return sorted(changes, key=lambda change: change[1])

"""The build context: which files a ``COPY``/``ADD`` selects, their cache hash, and copying them.

Sources are paths relative to the context (or to another stage's root with ``--from``); globs follow
Docker's rules; ``.dockerignore`` leaves files out; nothing outside the root can be named.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from labcore.build.dockerignore import IgnoreRules, glob_regex
from labcore.build.errors import BuildError
from labcore.fs.safepath import resolve_in_root

__all__ = ["Ownership", "SourceRoot", "copy_into", "hash_sources"]

_GLOB_CHARS = frozenset("*?[\\")


@dataclass(frozen=True)
class SourceRoot:
    """A tree that COPY reads from: the context (with its ignore rules) or a stage's rootfs."""

    root: Path
    ignore: IgnoreRules
    what: str = "build context"

    def select(self, pattern: str, location: str) -> list[str]:
        """Relative paths that ``pattern`` names, sorted; an error naming it when there are none."""
        cleaned = posixpath.normpath("/" + pattern).lstrip("/")
        if posixpath.normpath(pattern).startswith("..") or ".." in cleaned.split("/"):
            raise BuildError(location, f"{pattern!r} is outside the {self.what}",
                             hint="COPY can only read files inside the build context")
        if cleaned in ("", "."):
            return [""]
        matches = [path for path in self._expand(cleaned.split("/"), location)
                   if not self.ignore.excludes(path)]
        if not matches:
            excluded = " (it is excluded by .dockerignore)" if self._exists(cleaned) else ""
            raise BuildError(location, f"{pattern!r} not found in the {self.what}{excluded}",
                             hint="check the path, relative to the context directory")
        return sorted(matches)

    def _exists(self, relative: str) -> bool:
        return os.path.lexists(self.root / relative)

    def _expand(self, parts: list[str], location: str) -> list[str]:
        found = [""]
        for part in parts:
            following = []
            for prefix in found:
                directory = self.root / prefix if prefix else self.root
                if not any(char in _GLOB_CHARS for char in part):
                    candidate = posixpath.join(prefix, part) if prefix else part
                    if os.path.lexists(self.root / candidate):
                        following.append(candidate)
                    continue
                regex = glob_regex(part, location)
                try:
                    names = sorted(os.listdir(directory))
                except (NotADirectoryError, FileNotFoundError):
                    continue
                following.extend(posixpath.join(prefix, name) if prefix else name
                                 for name in names if regex.match(name))
            found = following
        return found

    def walk(self, relative: str) -> list[str]:
        """``relative`` and everything below it that ``.dockerignore`` keeps, sorted."""
        out = [relative]
        top = self.root / relative if relative else self.root
        if top.is_symlink() or not top.is_dir():
            return out
        for directory, dirnames, filenames in os.walk(top):
            dirnames.sort()
            rel_dir = os.path.relpath(directory, self.root)
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in sorted(dirnames + filenames):
                path = posixpath.join(rel_dir, name) if rel_dir else name
                if not self.ignore.excludes(path):
                    out.append(path)
        return out


def hash_sources(source: SourceRoot, paths: list[str]) -> str:
    """A digest of what COPY would copy: names, types, modes and contents (not times or owners).

    Docker's builder keys its cache on content; owners come from ``--chown`` (part of the
    instruction) and files copied from the context are owned by root either way.
    """
    digest = hashlib.sha256()
    for top in paths:
        for relative in source.walk(top):
            path = source.root / relative
            info = os.lstat(path)
            digest.update(f"{relative}\0{stat.S_IFMT(info.st_mode)}\0{stat.S_IMODE(info.st_mode):o}\0".encode())
            if stat.S_ISLNK(info.st_mode):
                digest.update(os.readlink(path).encode())
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as file:
                    while chunk := file.read(1 << 20):
                        digest.update(chunk)
            digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class Ownership:
    """``--chown`` and ``--chmod`` of a COPY: None keeps the default (root:root, the file's mode)."""

    uid: int = 0
    gid: int = 0
    mode: int | None = None


def copy_into(source: SourceRoot, top: str, root: Path, destination: str, owner: Ownership) -> None:
    """Copy ``top`` (and what is below it) to ``destination``, a path inside the rootfs ``root``.

    For a directory ``top``, its contents land in ``destination`` (COPY copies a directory's
    contents, never the directory itself). Every target is resolved inside ``root``, so symlinks
    in the image cannot lead outside it.
    """
    base = source.root / top if top else source.root
    for relative in source.walk(top):
        host = source.root / relative if relative else source.root
        inner = os.path.relpath(host, base)
        target_name = destination if inner == "." else posixpath.join(destination, inner)
        _copy_one(host, resolve_in_root(root, target_name, clamp=True), owner)


def _copy_one(host: Path, target: Path, owner: Ownership) -> None:
    info = os.lstat(host)
    mode = owner.mode if owner.mode is not None else stat.S_IMODE(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            target.unlink()
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        if stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(host), target)
            os.lchown(target, owner.uid, owner.gid)
            return
        if not stat.S_ISREG(info.st_mode):
            return  # sockets, fifos and devices are not copied from a context
        shutil.copyfile(host, target, follow_symlinks=False)
    os.chown(target, owner.uid, owner.gid)
    os.chmod(target, mode)
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))

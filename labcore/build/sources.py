"""COPY and ADD: what they copy, where it lands, and the inputs their cache key depends on."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import urlparse

from labcore.build.context import Ownership, SourceRoot, copy_into, hash_sources
from labcore.build.errors import BuildError
from labcore.build.expand import expand
from labcore.build.parse import Instruction
from labcore.config import settings
from labcore.container.users import resolve_user
from labcore.fs.apply import apply_layer
from labcore.fs.safepath import resolve_in_root
from labcore.image.record import ImageRecord
from labcore.image.store import Store

__all__ = ["CopyPlan", "plan_copy", "pull_image"]

_ARCHIVE_MAGIC: list[tuple[bytes, Callable[[BinaryIO], BinaryIO]]] = [
    (b"\x1f\x8b", lambda raw: cast("BinaryIO", gzip.GzipFile(fileobj=raw))),
    (b"BZh", lambda raw: cast("BinaryIO", bz2.BZ2File(raw))),
    (b"\xfd7zXZ\x00", lambda raw: cast("BinaryIO", lzma.LZMAFile(raw))),  # noqa: SIM115 - caller closes
]


def _is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def _archive_opener(path: Path) -> Callable[[BinaryIO], BinaryIO] | None:
    """How to open ``path`` as an uncompressed tar stream, or None when it is not a tar archive."""
    with open(path, "rb") as file:
        head = file.read(512)
    for magic, opener in _ARCHIVE_MAGIC:
        if head.startswith(magic):
            return opener
    if len(head) >= 262 and head[257:262] == b"ustar":
        return lambda raw: raw
    return None


@dataclass
class CopyPlan:
    """One COPY or ADD, resolved: sources, destination, ownership, and downloaded files."""

    instruction: Instruction
    source: SourceRoot
    paths: list[str]
    destination: str
    chown: str | None
    chmod: int | None
    downloads: list[tuple[str, Path]] = field(default_factory=list)

    def describe(self) -> str:
        """The instruction as it affects the result (for the cache key)."""
        return (f"{self.instruction.cmd} chown={self.chown} chmod={self.chmod} "
                f"{self.paths} {[url for url, _ in self.downloads]} -> {self.destination}")

    def inputs_hash(self) -> str:
        """A digest of everything copied: local sources and downloaded content."""
        digest = hashlib.sha256(hash_sources(self.source, self.paths).encode())
        for _, path in self.downloads:
            with open(path, "rb") as file:
                while chunk := file.read(1 << 20):
                    digest.update(chunk)
        return digest.hexdigest()

    def _is_directory_destination(self, root: Path) -> bool:
        if self.destination.endswith("/") or len(self.paths) + len(self.downloads) > 1:
            return True
        target = resolve_in_root(root, self.destination, clamp=True)
        return target.is_dir() and not target.is_symlink()

    def apply(self, root: Path) -> None:
        """Copy into the mounted rootfs ``root``."""
        owner = self._owner(root)
        into_directory = self._is_directory_destination(root)
        for relative in self.paths:
            host = self.source.root / relative if relative else self.source.root
            if self.instruction.cmd == "ADD" and host.is_file() and not host.is_symlink():
                opener = _archive_opener(host)
                if opener is not None:
                    self._extract(host, opener, root)
                    continue
            if host.is_dir() and not host.is_symlink():
                target = self.destination
            elif into_directory:
                target = posixpath.join(self.destination, posixpath.basename(relative))
            else:
                target = self.destination
            copy_into(self.source, relative, root, target, owner)
        for url, path in self.downloads:
            name = posixpath.basename(urlparse(url).path) or "index.html"
            target = posixpath.join(self.destination, name) if into_directory else self.destination
            resolved = resolve_in_root(root, target, clamp=True)
            resolved.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, resolved)
            os.chown(resolved, owner.uid, owner.gid)
            os.chmod(resolved, owner.mode if owner.mode is not None else 0o600)

    def cleanup(self) -> None:
        """Remove the files ADD downloaded."""
        for _, path in self.downloads:
            path.unlink(missing_ok=True)

    def _owner(self, root: Path) -> Ownership:
        if self.chown is None:
            return Ownership(mode=self.chmod)
        user = resolve_user(self.chown, root)
        return Ownership(user.uid, user.gid, self.chmod)

    def _extract(self, archive: Path, opener: Callable[[BinaryIO], BinaryIO], root: Path) -> None:
        target = resolve_in_root(root, self.destination, clamp=True)
        target.mkdir(parents=True, exist_ok=True)
        with open(archive, "rb") as raw:
            apply_layer(opener(raw), target)


def _flags(instruction: Instruction, variables: dict[str, str]) -> tuple[str | None, int | None]:
    allowed = {"from", "chown", "chmod", "link", "keep-git-dir", "checksum", "parents", "exclude"}
    for flag in instruction.flags:
        name = flag[2:].split("=", 1)[0]
        if name not in allowed:
            raise BuildError(instruction.location, f"unknown flag {flag!r} for {instruction.cmd}",
                             hint="COPY takes --from, --chown and --chmod")
    chown = instruction.flag("chown")
    chmod_text = instruction.flag("chmod")
    chmod = None
    if chmod_text is not None:
        try:
            chmod = int(expand(chmod_text, variables), 8)
        except ValueError:
            raise BuildError(instruction.location, f"--chmod={chmod_text} is not an octal mode",
                             hint="e.g. --chmod=755") from None
    return (expand(chown, variables) if chown else None), chmod


def _download(url: str, instruction: Instruction) -> Path:
    import httpx

    directory = settings().run / "build" / "downloads"
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory)
    try:
        with os.fdopen(handle, "wb") as file, httpx.stream("GET", url, follow_redirects=True, timeout=30) as answer:
            if answer.status_code != 200:
                raise BuildError(instruction.location, f"ADD {url}: the server answered {answer.status_code}",
                                 hint="check the URL")
            for chunk in answer.iter_bytes():
                file.write(chunk)
    except httpx.HTTPError as error:
        Path(name).unlink(missing_ok=True)
        raise BuildError(instruction.location, f"ADD {url}: cannot fetch it: {error}",
                         hint="ADD of a URL needs network access; without it, download the file into "
                         "the build context and COPY it") from None
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def plan_copy(
    instruction: Instruction, source: SourceRoot, variables: dict[str, str], workdir: str
) -> CopyPlan:
    """Resolve a COPY/ADD's sources and destination; errors name the Dockerfile line."""
    words = [expand(word, variables) for word in instruction.value]
    if instruction.heredocs:
        raise BuildError(instruction.location, f"{instruction.cmd} with a heredoc is not supported",
                         hint="write the file into the build context and COPY it")
    if len(words) < 2:
        raise BuildError(instruction.location,
                         f"{instruction.cmd} wants at least one source and a destination",
                         hint=f"e.g. {instruction.cmd} app.py /app/")
    *sources, destination = words
    if not destination.startswith("/"):
        destination = posixpath.join(workdir or "/", destination) + ("/" if destination.endswith("/") else "")
    chown, chmod = _flags(instruction, variables)
    paths: list[str] = []
    downloads: list[tuple[str, Path]] = []
    for item in sources:
        if _is_url(item):
            if instruction.cmd != "ADD":
                raise BuildError(instruction.location, f"COPY cannot fetch {item}", hint="use ADD for URLs")
            downloads.append((item, _download(item, instruction)))
        else:
            paths.extend(source.select(item, instruction.location))
    if len(paths) + len(downloads) > 1 and not destination.endswith("/"):
        raise BuildError(instruction.location,
                         f"{instruction.cmd} with more than one source needs a directory "
                         "destination ending in /",
                         hint=f"write the destination as {destination}/")
    return CopyPlan(instruction, source, paths, destination, chown, chmod, downloads)


def pull_image(name: str, store: Store) -> ImageRecord:
    """Pull ``name`` from its registry into ``store`` (for a FROM image that is not local)."""
    from labcore.registry.pull import pull_image as pull

    pull(name, store=store)
    return store.resolve(name)

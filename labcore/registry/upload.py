"""Push one blob, one protocol step per function: HEAD exists → POST initiate → PATCH stream → PUT commit.

Three ways to send the bytes: ``stream`` (one PATCH with the whole blob, then PUT; what Docker
does), ``chunked`` (several PATCHes of ``chunk_size`` bytes, then PUT) and ``monolithic`` (the
whole blob in the final PUT). When the blob already sits in another repository of the same
registry, a cross-repository mount (``POST ?mount=&from=``) avoids the upload entirely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from labcore.digest import Digest
from labcore.image.descriptor import Descriptor
from labcore.registry.client import RegistryClient
from labcore.registry.progress import Progress

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FileSlice",
    "UploadMode",
    "blob_exists",
    "commit",
    "initiate",
    "patch_stream",
    "upload_blob",
]

UploadMode = Literal["stream", "chunked", "monolithic"]
DEFAULT_CHUNK_SIZE = 8 << 20
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class FileSlice:
    """``length`` bytes of a file from ``offset``, iterable again for every retry of a request."""

    path: Path
    offset: int
    length: int
    on_read: Callable[[int], None] = lambda count: None

    def __iter__(self) -> Iterator[bytes]:
        left = self.length
        with self.path.open("rb") as file:
            file.seek(self.offset)
            while left > 0:
                data = file.read(min(_READ_SIZE, left))
                if not data:
                    raise OSError(f"{self.path}: ended {left} bytes early")
                left -= len(data)
                self.on_read(len(data))
                yield data


def blob_exists(client: RegistryClient, repository: str, blob: Descriptor) -> bool:
    """Step 1, ``HEAD``: True when the registry already has the blob in ``repository``."""
    return client.blob_size(repository, blob.digest) is not None


def initiate(client: RegistryClient, repository: str, blob: Descriptor, mount_from: str | None) -> str | None:
    """Step 2, ``POST``: the upload location, or ``None`` when the registry mounted the blob."""
    return client.start_upload(repository, blob.digest if mount_from else None, mount_from)


def patch_stream(
    client: RegistryClient, repository: str, location: str, source: FileSlice, chunk_size: int | None
) -> str:
    """Step 3, ``PATCH``: send ``source`` in one request or in chunks; returns the final location."""
    step = chunk_size or source.length
    offset = 0
    while offset < source.length:
        size = min(step, source.length - offset)
        part = FileSlice(source.path, source.offset + offset, size, source.on_read)
        location = client.patch_upload(repository, location, part, offset, size)
        offset += size
    return location


def commit(
    client: RegistryClient, repository: str, location: str, digest: Digest, body: FileSlice | None
) -> None:
    """Step 4, ``PUT ?digest=``: finish the upload (carrying the whole blob when monolithic)."""
    if body is None:
        client.commit_upload(repository, location, digest)
    else:
        client.commit_upload(repository, location, digest, body, body.length)


def upload_blob(
    client: RegistryClient,
    repository: str,
    blob: Descriptor,
    path: Path,
    progress: Progress,
    *,
    mount_from: str | None = None,
    mode: UploadMode = "stream",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> str:
    """Make the registry hold ``blob`` (read from ``path``); return ``exists``, ``mounted`` or ``done``."""
    key = str(blob.digest)
    progress.start(key, blob.digest.short, blob.size)
    try:
        status = _upload(client, repository, blob, path, progress, mount_from, mode, chunk_size)
    except BaseException:
        progress.finish(key, "failed")
        raise
    if status != "done":
        progress.advance(key, blob.size)
    progress.finish(key, status)
    return status


def _upload(
    client: RegistryClient,
    repository: str,
    blob: Descriptor,
    path: Path,
    progress: Progress,
    mount_from: str | None,
    mode: UploadMode,
    chunk_size: int,
) -> str:
    if blob_exists(client, repository, blob):
        return "exists"
    location = initiate(client, repository, blob, mount_from)
    if location is None:
        return "mounted"
    source = FileSlice(path, 0, blob.size, lambda count: progress.advance(str(blob.digest), count))
    if mode == "monolithic":
        commit(client, repository, location, blob.digest, source)
    else:
        step = chunk_size if mode == "chunked" else None
        location = patch_stream(client, repository, location, source, step)
        commit(client, repository, location, blob.digest, None)
    return "done"

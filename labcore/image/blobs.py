"""The ``blobs/`` directory of an OCI image layout: content-addressed, written atomically.

A blob is streamed into a temporary file under ``.labcore/tmp`` inside the layout, hashed on the
way, fsynced, checked against the expected digest and size, and only then renamed to
``blobs/<algorithm>/<hex>``. A writer killed midway leaves only a temporary file, which
:meth:`BlobStore.remove_temporary` deletes during garbage collection.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from labcore.digest import Digest, Hasher, VerifyingReader
from labcore.errors import DigestError, NotFoundError
from labcore.fs.atomic import fsync_directory

__all__ = ["BlobNotFoundError", "BlobStore", "BlobWriter"]

_CHUNK = 1 << 20


class BlobNotFoundError(NotFoundError):
    """A blob named by digest is not in the store."""

    default_hint = "pull or import the image again; `labcore system prune` may have removed it"


class BlobWriter:
    """Streams one blob into the store; use as a context manager and call :meth:`commit`.

    Leaving the ``with`` block without committing (or with an exception) discards the data.
    """

    def __init__(
        self,
        store: BlobStore,
        expected_digest: Digest | None = None,
        expected_size: int | None = None,
        algorithm: str = "sha256",
    ) -> None:
        self._store = store
        self._expected_digest = expected_digest
        self._expected_size = expected_size
        self._hasher = Hasher(expected_digest.algorithm if expected_digest else algorithm)
        store.temporary_dir.mkdir(parents=True, exist_ok=True)
        # a shared lease on the gc lock: prune (exclusive) waits until this blob is in place
        self._lease = os.open(store.gc_lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._lease, fcntl.LOCK_SH)
        fd, name = tempfile.mkstemp(prefix="blob-", dir=store.temporary_dir)
        self._file = os.fdopen(fd, "wb")
        self._temp_path = Path(name)
        self._done = False

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._hasher.size

    def write(self, data: bytes) -> int:
        """Append ``data``; raise :class:`DigestError` as soon as the expected size is exceeded."""
        self._hasher.update(data)
        if self._expected_size is not None and self._hasher.size > self._expected_size:
            raise DigestError(
                f"blob {self._expected_digest}: more than the expected {self._expected_size} bytes"
            )
        self._file.write(data)
        return len(data)

    def flush(self) -> None:
        """Push buffered bytes to the temporary file (uncompressed layer writers call it)."""
        self._file.flush()

    def copy_from(self, stream: BinaryIO) -> None:
        """Write everything left in ``stream``."""
        while chunk := stream.read(_CHUNK):
            self.write(chunk)

    def commit(self) -> tuple[Digest, int]:
        """Verify, flush and move the blob into place; return its digest and size."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest, size = self._hasher.digest(), self._hasher.size
        if self._expected_size is not None and size != self._expected_size:
            raise DigestError(
                f"blob {self._expected_digest or digest}: got {size} bytes, expected {self._expected_size}"
            )
        if self._expected_digest is not None and digest != self._expected_digest:
            raise DigestError(f"blob digest is {digest}, expected {self._expected_digest}")
        target = self._store.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self._temp_path, 0o644)
        # same content, same name: replacing an existing blob with an identical one is harmless
        os.replace(self._temp_path, target)
        fsync_directory(target.parent)
        self._finish()
        return digest, size

    def _finish(self) -> None:
        self._done = True
        os.close(self._lease)

    def abort(self) -> None:
        """Discard what was written."""
        if self._done:
            return
        self._finish()
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._temp_path.unlink()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.abort()


class BlobStore:
    """The blobs of one OCI image layout directory."""

    def __init__(self, layout: Path) -> None:
        self.layout = layout
        self.temporary_dir = layout / ".labcore" / "tmp"
        self.gc_lock_path = layout / ".labcore" / "gc.lock"

    def path(self, digest: Digest) -> Path:
        """Where the blob with ``digest`` lives (whether or not it exists)."""
        return self.layout / "blobs" / digest.algorithm / digest.encoded

    def has(self, digest: Digest) -> bool:
        """True when the blob is present."""
        return self.path(digest).is_file()

    def size(self, digest: Digest) -> int:
        """The blob's size in bytes; :class:`BlobNotFoundError` when absent."""
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise BlobNotFoundError(f"blob {digest} is not in the store") from None

    def open(self, digest: Digest, size: int | None = None) -> VerifyingReader:
        """A reader that raises :class:`DigestError` at end of file if the content was altered."""
        try:
            raw = self.path(digest).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError(f"blob {digest} is not in the store") from None
        return VerifyingReader(raw, digest, size, name=f"blob {digest}")

    def read(self, digest: Digest, size: int | None = None) -> bytes:
        """The whole (verified) content of a small blob such as a manifest or config."""
        with self.open(digest, size) as reader:
            return reader.read()

    def writer(self, expected_digest: Digest | None = None, expected_size: int | None = None) -> BlobWriter:
        """A :class:`BlobWriter` for a new blob."""
        return BlobWriter(self, expected_digest, expected_size)

    def put(
        self, stream: BinaryIO, expected_digest: Digest | None = None, expected_size: int | None = None
    ) -> tuple[Digest, int]:
        """Store everything in ``stream``; return digest and size."""
        with self.writer(expected_digest, expected_size) as writer:
            writer.copy_from(stream)
            return writer.commit()

    def put_bytes(self, data: bytes, expected_digest: Digest | None = None) -> tuple[Digest, int]:
        """Store ``data``; return digest and size."""
        with self.writer(expected_digest, None) as writer:
            writer.write(data)
            return writer.commit()

    def digests(self) -> Iterator[Digest]:
        """Every blob present, in no particular order."""
        blobs = self.layout / "blobs"
        if not blobs.is_dir():
            return
        for algorithm_dir in blobs.iterdir():
            if algorithm_dir.is_dir():
                for entry in algorithm_dir.iterdir():
                    yield Digest(algorithm_dir.name, entry.name)

    def remove(self, digest: Digest) -> int:
        """Delete a blob; return the bytes freed (0 if it was already gone)."""
        path = self.path(digest)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def remove_temporary(self) -> int:
        """Delete leftovers of interrupted writes; only call while no writer can be active."""
        freed = 0
        if self.temporary_dir.is_dir():
            for entry in self.temporary_dir.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    freed += entry.stat().st_size
                    entry.unlink()
        return freed

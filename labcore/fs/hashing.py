"""sha256 on a second thread, so that hashing a layer overlaps with reading or writing it.

hashlib releases the GIL while it hashes large buffers, so a layer's digest comes almost for free
on a machine with two cores. Chunks are queued (at most :data:`QUEUE_DEPTH` of them, to bound
memory) and must not change once given; :meth:`BackgroundHasher.digest` waits for the queue to
drain. Always :meth:`~BackgroundHasher.close` it (or use ``with``) so the thread ends.
"""

from __future__ import annotations

import hashlib
import queue
import threading

from labcore.digest import Digest

__all__ = ["QUEUE_DEPTH", "BackgroundHasher"]

QUEUE_DEPTH = 16
_SMALL = 64 << 10  # below this, queueing costs more than hashing right here


class BackgroundHasher:
    """Feeds ``bytes`` chunks to sha256 on a worker thread, in order."""

    def __init__(self, *, threaded: bool = True) -> None:
        self._threaded = threaded  # False: hash inline, no thread (nothing to close)
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | bytearray | None] = queue.Queue(QUEUE_DEPTH)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def update(self, chunk: bytes | bytearray) -> None:
        """Hash ``chunk`` after everything given before; a bytearray must not change afterwards."""
        if not self._threaded or (len(chunk) < _SMALL and self._thread is None):
            self._hash.update(chunk)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="labcore-sha256", daemon=True)
            self._thread.start()
        self._queue.put(chunk)

    def _run(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                self._hash.update(chunk)
        except BaseException as error:  # pragma: no cover - hashlib does not fail on bytes
            self._error = error
            while self._queue.get() is not None:
                pass

    def close(self) -> None:
        """Stop the worker thread (waiting for the chunks already queued)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error

    def digest(self) -> Digest:
        """The sha256 of every chunk given so far."""
        self.close()
        return Digest("sha256", self._hash.hexdigest())

    def __enter__(self) -> BackgroundHasher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

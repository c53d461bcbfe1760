"""Move one blob from a registry into the store, verified on the way; several at once in threads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import BinaryIO, TypeVar, cast

from labcore.digest import VerifyingReader
from labcore.image.descriptor import Descriptor
from labcore.image.store import Store
from labcore.registry.client import RegistryClient
from labcore.registry.progress import Progress

__all__ = ["ResponseReader", "fetch_blob", "run_parallel", "unique"]

_CHUNK = 1 << 20
T = TypeVar("T")


class ResponseReader:
    """A ``read(n)`` file interface over an iterator of byte chunks, reporting progress."""

    def __init__(self, chunks: Iterator[bytes], on_read: Callable[[int], None]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (everything left when negative); ``b""`` at the end."""
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        self._on_read(len(data))
        return data

    def readable(self) -> bool:
        """Always true: this is a reader."""
        return True


def fetch_blob(
    client: RegistryClient, repository: str, descriptor: Descriptor, store: Store, progress: Progress
) -> bool:
    """Download ``descriptor``'s blob into ``store`` unless it is there; True when it was fetched.

    The bytes pass through a :class:`~labcore.digest.VerifyingReader` and the store's verifying
    writer; a wrong size or digest raises :class:`~labcore.errors.DigestError` and nothing is kept.
    """
    key = str(descriptor.digest)
    progress.start(key, descriptor.digest.short, descriptor.size)
    if store.has_blob(descriptor.digest) and store.blobs.size(descriptor.digest) == descriptor.size:
        progress.advance(key, descriptor.size)
        progress.finish(key, "reused")
        return False
    try:
        with client.open_blob(repository, descriptor.digest) as response:
            raw = ResponseReader(response.iter_bytes(_CHUNK), lambda count: progress.advance(key, count))
            reader = VerifyingReader(
                cast(BinaryIO, raw),
                descriptor.digest,
                descriptor.size,
                name=f"blob {descriptor.digest} from {client.registry}/{repository}",
            )
            store.put_blob(cast(BinaryIO, reader), descriptor.digest, descriptor.size, descriptor.media_type)
    except BaseException:
        progress.finish(key, "failed")
        raise
    progress.finish(key, "done")
    return True


def run_parallel(work: Callable[[T], bool], items: Sequence[T], jobs: int) -> int:
    """Run ``work`` on every item in up to ``jobs`` threads; return how many returned True.

    The first exception cancels the items not yet started and is re-raised once the running ones end.
    """
    if not items:
        return 0
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(items)))) as pool:
        futures = [pool.submit(work, item) for item in items]
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        wait(pending)
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return sum(1 for future in futures if future.result())


def unique(descriptors: Iterable[Descriptor]) -> list[Descriptor]:
    """Descriptors with duplicate digests dropped, order kept."""
    seen: set[str] = set()
    found = []
    for descriptor in descriptors:
        if str(descriptor.digest) not in seen:
            seen.add(str(descriptor.digest))
            found.append(descriptor)
    return found

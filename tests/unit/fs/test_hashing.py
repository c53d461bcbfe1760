"""BackgroundHasher and HashingReader: same digests as hashlib, and no thread left behind."""

from __future__ import annotations

import hashlib
import io
import os
import threading

import pytest

from labcore.fs.hashing import BackgroundHasher
from labcore.fs.tarstream import HashingReader

CHUNKS = [os.urandom(size) for size in (10, 100_000, 1 << 20, 7, 300_000)]
EXPECTED = "sha256:" + hashlib.sha256(b"".join(CHUNKS)).hexdigest()


@pytest.mark.parametrize("threaded", [True, False])
def test_digest_matches_hashlib_and_thread_ends(threaded: bool) -> None:
    before = threading.active_count()
    with BackgroundHasher(threaded=threaded) as hasher:
        for chunk in CHUNKS:
            hasher.update(chunk)
        assert str(hasher.digest()) == EXPECTED
    assert threading.active_count() == before


@pytest.mark.parametrize("background", [True, False])
def test_hashing_reader_digest_counts_everything(background: bool) -> None:
    before = threading.active_count()
    data = b"".join(CHUNKS)
    with HashingReader(io.BytesIO(data), background=background) as reader:
        assert reader.read_exact(5) == data[:5]
        reader.skip(200_000)
        reader.drain()
        assert reader.size == len(data)
        assert str(reader.digest()) == EXPECTED
    assert threading.active_count() == before

"""Content digests (``sha256:<hex>``) and a reader that verifies them as it streams.

Every blob labcore reads from disk or a registry goes through :class:`VerifyingReader`, which
hashes what passes through and raises :class:`~labcore.errors.DigestError` at end of file when the
size or digest differ from what was expected.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import BinaryIO

from labcore.errors import DigestError, InvalidReferenceError

__all__ = ["Digest", "Hasher", "VerifyingReader", "sha256_bytes", "sha256_file"]

_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<encoded>[a-zA-Z0-9=_-]+)$")
_CHUNK = 1 << 20


@dataclass(frozen=True, order=True)
class Digest:
    """A validated content digest such as ``sha256:e3b0c4...``."""

    algorithm: str
    encoded: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse and validate ``algorithm:hex``; raise :class:`InvalidReferenceError` if malformed."""
        match = _DIGEST_RE.match(text)
        if match is None:
            raise InvalidReferenceError(
                f"invalid digest {text!r}", hint="a digest looks like sha256: followed by 64 hex digits"
            )
        algorithm, encoded = match["algorithm"], match["encoded"]
        expected_length = _HEX_LENGTH.get(algorithm)
        if expected_length is None:
            raise InvalidReferenceError(
                f"unsupported digest algorithm {algorithm!r} in {text!r}", hint="use sha256 or sha512"
            )
        if len(encoded) != expected_length or not re.fullmatch(r"[0-9a-f]+", encoded):
            raise InvalidReferenceError(
                f"invalid digest {text!r}",
                hint=f"{algorithm} wants {expected_length} lowercase hex digits",
            )
        return cls(algorithm, encoded)

    @classmethod
    def of_bytes(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """Digest of ``data``."""
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @property
    def short(self) -> str:
        """The first 12 hex digits, as Docker shows image ids."""
        return self.encoded[:12]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"


def sha256_bytes(data: bytes) -> Digest:
    """sha256 digest of ``data``."""
    return Digest.of_bytes(data)


def sha256_file(path: str) -> Digest:
    """sha256 digest of the file at ``path``, read in chunks."""
    hasher = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            hasher.update(chunk)
    return Digest("sha256", hasher.hexdigest())


class Hasher:
    """Counts and hashes bytes as they are written somewhere else."""

    def __init__(self, algorithm: str = "sha256") -> None:
        self._hash = hashlib.new(algorithm)
        self.algorithm = algorithm
        self.size = 0

    def update(self, data: bytes) -> None:
        """Account for ``data``."""
        self._hash.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
        """The digest of everything seen so far."""
        return Digest(self.algorithm, self._hash.hexdigest())


class VerifyingReader:
    """A binary reader that checks size and digest of the stream it wraps.

    It raises :class:`DigestError` as soon as more than ``size`` bytes arrive, and at end of
    file when fewer arrived or the digest differs. ``name`` is used in error messages.
    """

    def __init__(self, raw: BinaryIO, expected: Digest, size: int | None = None, name: str = "") -> None:
        self._raw = raw
        self._expected = expected
        self._size = size
        self._hasher = Hasher(expected.algorithm)
        self._name = name or str(expected)
        self._verified = False

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all when negative), verifying at end of file."""
        data = self._raw.read(n) if n is not None and n >= 0 else self._raw.read()
        if data:
            self._hasher.update(data)
            if self._size is not None and self._hasher.size > self._size:
                raise DigestError(
                    f"{self._name}: more than the expected {self._size} bytes",
                )
        if not data or n is None or n < 0:
            self._verify()
        return data

    def readable(self) -> bool:
        """Always true: this is a reader."""
        return True

    def _verify(self) -> None:
        if self._verified:
            return
        if self._size is not None and self._hasher.size != self._size:
            raise DigestError(f"{self._name}: got {self._hasher.size} bytes, expected {self._size}")
        actual = self._hasher.digest()
        if actual != self._expected:
            raise DigestError(f"{self._name}: digest is {actual}, expected {self._expected}")
        self._verified = True

    def verify_to_end(self) -> None:
        """Drain what is left of the stream and verify it."""
        while self.read(_CHUNK):
            pass
        self._verify()

    def close(self) -> None:
        """Close the wrapped stream."""
        self._raw.close()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

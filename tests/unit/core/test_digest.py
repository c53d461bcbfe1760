import io
from pathlib import Path

import pytest

from labcore.digest import Digest, VerifyingReader, sha256_bytes, sha256_file
from labcore.errors import DigestError, InvalidReferenceError

EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_parse_round_trip() -> None:
    digest = Digest.parse(EMPTY)
    assert str(digest) == EMPTY
    assert digest.short == "e3b0c44298fc"
    assert sha256_bytes(b"") == digest


@pytest.mark.parametrize("text", ["sha256:abc", "md5:" + "0" * 32, "sha256" + "0" * 64,
                                  "sha256:" + "G" * 64, "SHA256:" + "0" * 64])
def test_malformed_digests_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(InvalidReferenceError) as error:
        Digest.parse(text)
    assert text in str(error.value)


def test_reader_passes_matching_content() -> None:
    data = b"hello layer" * 1000
    reader = VerifyingReader(io.BytesIO(data), sha256_bytes(data), len(data))
    chunks = []
    while chunk := reader.read(4096):
        chunks.append(chunk)
    assert b"".join(chunks) == data


def test_reader_refuses_wrong_digest_at_eof() -> None:
    reader = VerifyingReader(io.BytesIO(b"evil"), sha256_bytes(b"good"), name="blob X")
    assert reader.read(2) == b"ev"
    with pytest.raises(DigestError, match="blob X: digest is"):
        reader.read(10)
        reader.read(10)


def test_reader_refuses_truncated_and_oversized_streams() -> None:
    data = b"0123456789"
    with pytest.raises(DigestError, match="got 5 bytes, expected 10"):
        VerifyingReader(io.BytesIO(data[:5]), sha256_bytes(data), 10).verify_to_end()
    with pytest.raises(DigestError, match="more than the expected 4 bytes"):
        VerifyingReader(io.BytesIO(data), sha256_bytes(data), 4).read()


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 3_000_000)
    assert sha256_file(str(path)) == sha256_bytes(b"x" * 3_000_000)

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from labcore.errors import UsageError
from labcore.image.base.tarwriter import LayerWriter


def _write(build: object) -> bytes:
    buffer = io.BytesIO()
    with LayerWriter(buffer, mtime=1234) as writer:
        build(writer)  # type: ignore[operator]
    return buffer.getvalue()


def test_entries_have_fixed_time_numeric_owner_and_given_modes(tmp_path: Path) -> None:
    source = tmp_path / "tool"
    source.write_bytes(b"#!/bin/sh\n")

    def build(writer: LayerWriter) -> None:
        writer.directory("bin")
        writer.directory("tmp", 0o1777)
        writer.file_copy("bin/tool", source, 0o755)
        writer.file_bytes("bin/data", b"hello", 0o600, uid=1000, gid=100)
        writer.symlink("bin/alias", "/bin/tool")

    with tarfile.open(fileobj=io.BytesIO(_write(build))) as tar:
        members = {member.name: member for member in tar.getmembers()}
        assert list(members) == ["bin", "tmp", "bin/tool", "bin/data", "bin/alias"]
        assert {member.mtime for member in members.values()} == {1234}
        assert {member.uname for member in members.values()} == {""}
        assert members["tmp"].mode == 0o1777 and members["tmp"].isdir()
        assert members["bin/tool"].mode == 0o755
        assert tar.extractfile("bin/tool").read() == b"#!/bin/sh\n"  # type: ignore[union-attr]
        data = members["bin/data"]
        assert (data.uid, data.gid, data.mode) == (1000, 100, 0o600)
        assert members["bin/alias"].issym() and members["bin/alias"].linkname == "/bin/tool"


def test_same_recipe_gives_same_bytes() -> None:
    def build(writer: LayerWriter) -> None:
        writer.directory("etc")
        writer.file_bytes("etc/hostname", b"lab\n")

    assert _write(build) == _write(build)


@pytest.mark.parametrize("path", ["", "etc", "../escape", "missing/child"])
def test_refuses_empty_repeated_escaping_or_orphan_entries(path: str) -> None:
    buffer = io.BytesIO()
    writer = LayerWriter(buffer, mtime=0)
    writer.directory("etc")
    with pytest.raises(UsageError, match="layer entry"):
        writer.file_bytes(path, b"")

"""encode_header: what Python's tarfile and GNU tar read back from our headers."""

from __future__ import annotations

import io
import subprocess
import tarfile

import pytest

from labcore.fs.tarheader import encode_header

CASES = {
    "plain": ("etc/hosts", {}),
    "long_name": ("d/" * 80 + "file", {}),
    "non_ascii_name": ("données/é", {}),
    "non_utf8_name": ("bad-\udcff-byte", {}),
    "big_owner": ("owned", {"uid": 3_000_000, "gid": 70_000_000}),
    "big_mtime": ("future", {"mtime": 10_000_000_000}),
    "setuid_mode": ("suid", {"mode": 0o104755}),
    "xattrs": ("x", {"xattrs": {"user.a": b"\xff\x00binary", "security.capability": b"\x01"}}),
}


def archive(*headers: bytes) -> bytes:
    return b"".join(headers) + bytes(1024)


@pytest.mark.parametrize("case", list(CASES))
def test_tarfile_reads_back_every_field(case: str) -> None:
    name, fields = CASES[case]
    data = archive(encode_header(name, tarfile.REGTYPE, **fields))  # type: ignore[arg-type]
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:", encoding="utf-8", errors="surrogateescape") as tar:
        (member,) = tar.getmembers()
    assert member.name == name
    assert member.uid == fields.get("uid", 0) and member.gid == fields.get("gid", 0)
    assert member.mtime == fields.get("mtime", 0)
    assert member.mode == fields.get("mode", 0) & 0o7777  # type: ignore[operator]
    assert member.uname == "" and member.gname == ""
    for key, value in fields.get("xattrs", {}).items():  # type: ignore[attr-defined]
        assert member.pax_headers[f"SCHILY.xattr.{key}"].encode("utf-8", "surrogateescape") == value


def test_links_devices_and_dirs() -> None:
    data = archive(
        encode_header("dir", tarfile.DIRTYPE, mode=0o755),
        encode_header("dir/link", tarfile.SYMTYPE, linkname="t" * 150),
        encode_header("dir/hard", tarfile.LNKTYPE, linkname="dir/link"),
        encode_header("null", tarfile.CHRTYPE, devmajor=1, devminor=3),
    )
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert members["dir"].isdir()
    assert members["dir/link"].linkname == "t" * 150
    assert members["dir/hard"].islnk() and members["dir/hard"].linkname == "dir/link"
    assert (members["null"].devmajor, members["null"].devminor) == (1, 3)


def test_same_input_same_bytes() -> None:
    assert encode_header("a", tarfile.REGTYPE, size=5, xattrs={"user.b": b"1", "user.a": b"2"}) == encode_header(
        "a", tarfile.REGTYPE, size=5, xattrs={"user.a": b"2", "user.b": b"1"}
    )


def test_gnu_tar_lists_pax_entries() -> None:
    data = archive(
        encode_header("d/" * 80 + "file", tarfile.REGTYPE, uid=3_000_000),
        encode_header("données", tarfile.REGTYPE, mtime=1_700_000_000),
    )
    listing = subprocess.run(
        ["tar", "--numeric-owner", "-tvf", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert "3000000/0" in listing
    assert "d/d/d/" in listing and "donn" in listing

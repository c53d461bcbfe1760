"""tree_to_layer, diff_trees and overlay_upper_to_layer: content, order, determinism, whiteouts."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import tarfile
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.errors import LayerError
from labcore.fs.apply import apply_layer
from labcore.fs.diff import diff_trees, overlay_upper_to_layer, tree_to_layer
from tests.unit.fs.manifest import clone_tree, link_groups, manifest

MTIME = 1_650_000_000


def make_tree(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/hosts").write_bytes(b"127.0.0.1 localhost\n")
    (root / "etc/big").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "bin").mkdir()
    (root / "bin/tool").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "bin/tool", 0o4755)
    os.link(root / "bin/tool", root / "bin/alias")
    os.symlink("../etc/hosts", root / "bin/hosts-link")
    os.mkfifo(root / "fifo")
    os.setxattr(root / "etc/hosts", "user.note", b"\xff binary")
    for path in [*root.rglob("*"), root]:
        os.utime(path, (MTIME, MTIME), follow_symlinks=False)
    return root


def layer_bytes(write: object, *args: object) -> tuple[bytes, object]:
    out = io.BytesIO()
    stats = write(*args, out)  # type: ignore[operator]
    return out.getvalue(), stats


def members(layer: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:") as archive:
        return archive.getmembers()


def test_tree_to_layer_round_trips_through_apply(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "source")
    layer, stats = layer_bytes(tree_to_layer, source)
    target = tmp_path / "target"
    target.mkdir()
    result = apply_layer(io.BytesIO(layer), target)
    assert manifest(target) == manifest(source)
    assert link_groups(target) == {frozenset({"bin/tool", "bin/alias"})}
    assert result.diff_id == stats.diff_id == Digest("sha256", hashlib.sha256(layer).hexdigest())  # type: ignore[attr-defined]


def test_entries_are_sorted_depth_first_with_normalized_headers(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "source")
    layer, _ = layer_bytes(tree_to_layer, source)
    listed = members(layer)
    assert [member.name for member in listed] == [
        "bin",
        "bin/alias",
        "bin/hosts-link",
        "bin/tool",
        "etc",
        "etc/big",
        "etc/hosts",
        "fifo",
    ]
    assert all(member.uname == "" and member.gname == "" for member in listed)
    assert all(member.devmajor == 0 and member.devminor == 0 for member in listed)
    by_name = {member.name: member for member in listed}
    assert by_name["bin/tool"].islnk() and by_name["bin/tool"].linkname == "bin/alias"
    assert by_name["etc/hosts"].pax_headers["SCHILY.xattr.user.note"].encode("utf-8", "surrogateescape") == (
        b"\xff binary"
    )


def test_same_tree_gives_the_same_digest_wherever_it_lives(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "one")
    second = clone_tree(first, tmp_path / "two")
    assert os.lstat(second / "bin/tool").st_ino != os.lstat(first / "bin/tool").st_ino
    _, one = layer_bytes(tree_to_layer, first)
    _, two = layer_bytes(tree_to_layer, second)
    assert one.diff_id == two.diff_id  # type: ignore[attr-defined]


def test_sockets_are_skipped(tmp_path: Path) -> None:
    source = tmp_path / "s"
    source.mkdir()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(source / "sock"))
        layer, stats = layer_bytes(tree_to_layer, source)
    assert stats.skipped == 1  # type: ignore[attr-defined]
    assert members(layer) == []


def test_diff_trees_writes_changes_and_whiteouts(tmp_path: Path) -> None:
    lower = make_tree(tmp_path / "lower")
    upper = tmp_path / "upper"
    clone_tree(lower, upper)
    (upper / "etc/hosts").write_bytes(b"changed\n")
    (upper / "etc/big").unlink()
    (upper / "new").write_bytes(b"new")
    layer, stats = layer_bytes(diff_trees, lower, upper)
    listed = {member.name for member in members(layer)}
    assert "etc/.wh.big" in listed and "etc/hosts" in listed and "new" in listed
    assert "bin/tool" not in listed  # unchanged
    assert stats.whiteouts == 1  # type: ignore[attr-defined]
    result = tmp_path / "result"
    clone_tree(lower, result)
    apply_layer(io.BytesIO(layer), result)
    assert manifest(result) == manifest(upper)


def test_directory_with_all_lower_entries_gone_becomes_opaque(tmp_path: Path) -> None:
    lower = make_tree(tmp_path / "lower")
    upper = tmp_path / "upper"
    clone_tree(lower, upper)
    shutil.rmtree(upper / "etc")
    (upper / "etc").mkdir()
    (upper / "etc/fresh").write_bytes(b"f")
    layer, _ = layer_bytes(diff_trees, lower, upper)
    listed = [member.name for member in members(layer)]
    assert "etc/.wh..wh..opq" in listed
    assert not any(name.startswith("etc/.wh.") and name != "etc/.wh..wh..opq" for name in listed)
    result = tmp_path / "result"
    clone_tree(lower, result)
    apply_layer(io.BytesIO(layer), result)
    assert manifest(result) == manifest(upper)


def test_same_size_and_mtime_but_different_bytes_is_a_change(tmp_path: Path) -> None:
    lower = make_tree(tmp_path / "lower")
    upper = tmp_path / "upper"
    clone_tree(lower, upper)
    (upper / "bin/hosts-link").unlink()
    (upper / "etc/hosts").write_bytes(b"127.0.0.2 localhost\n")
    os.utime(upper / "etc/hosts", (MTIME, MTIME))
    layer, _ = layer_bytes(diff_trees, lower, upper)
    assert "etc/hosts" in {member.name for member in members(layer)}
    quick, _ = layer_bytes(lambda lo, up, out: diff_trees(lo, up, out, compare_content=False), lower, upper)
    assert "etc/hosts" not in {member.name for member in members(quick)}


def test_overlay_upper_whiteouts_and_opaque_dirs_are_translated(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making 0/0 character devices needs root")
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc/new").write_bytes(b"n")
    os.mknod(upper / "etc/gone", 0o600 | 0o020000, os.makedev(0, 0))
    os.setxattr(upper / "etc", "trusted.overlay.opaque", b"y")
    os.setxattr(upper / "etc/new", "trusted.overlay.origin", b"junk")
    layer, stats = layer_bytes(overlay_upper_to_layer, upper)
    listed = members(layer)
    assert [member.name for member in listed] == ["etc", "etc/.wh..wh..opq", "etc/.wh.gone", "etc/new"]
    assert all(not key.startswith("SCHILY.xattr.trusted.overlay") for m in listed for key in m.pax_headers)
    assert stats.whiteouts == 2  # type: ignore[attr-defined]


def test_overlay_upper_with_redirect_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("trusted xattrs need root")
    upper = tmp_path / "upper"
    (upper / "moved").mkdir(parents=True)
    os.setxattr(upper / "moved", "trusted.overlay.redirect", b"/old")
    with pytest.raises(LayerError, match="redirect_dir=off"):
        overlay_upper_to_layer(upper, io.BytesIO())


def test_gnu_tar_lists_and_extracts_our_layer(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "source")
    layer_path = tmp_path / "layer.tar"
    with layer_path.open("wb") as out:
        tree_to_layer(source, out)
    listing = subprocess.run(["tar", "-tvf", str(layer_path)], check=True, capture_output=True, text=True).stdout
    assert "bin/alias" in listing and "bin/tool link to bin/alias" in listing
    extracted = tmp_path / "extracted"
    extracted.mkdir()
    subprocess.run(
        [
            "tar",
            "--xattrs",
            "--xattrs-include=*",
            "--same-owner",
            "-xpf",
            str(layer_path),
            "-C",
            str(extracted),
        ],
        check=True,
    )
    assert manifest(extracted) == manifest(source)

"""A real overlayfs: modify the merged view, turn the upper dir into a layer, replay it on the lower.

Applying the layer made from the upper directory onto a copy of the lower directory must give
exactly the merged view, and GNU tar must accept the layer too.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcore.fs.apply import apply_layer
from labcore.fs.diff import diff_trees, overlay_upper_to_layer, tree_to_layer
from labcore.fs.overlay import OverlayMount, mount_overlay, overlay_mounted, overlay_view, unmount_overlay
from tests.unit.fs.manifest import clone_tree, manifest

pytestmark = [pytest.mark.root, pytest.mark.integration]


def make_lower(root: Path) -> Path:
    (root / "etc/ssl").mkdir(parents=True)
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    (root / "etc/motd").write_text("welcome\n")
    (root / "etc/ssl/a.pem").write_text("a")
    (root / "etc/ssl/b.pem").write_text("b")
    (root / "var/log").mkdir(parents=True)
    (root / "var/log/old.log").write_text("old")
    (root / "bin").mkdir()
    (root / "bin/sh").write_text("#!")
    os.chmod(root / "bin/sh", 0o755)
    os.symlink("sh", root / "bin/ash")
    os.chown(root / "var/log", 0, 4)
    return root


@pytest.fixture
def overlay(tmp_path: Path) -> Iterator[OverlayMount]:
    lower = make_lower(tmp_path / "lower")
    merged = tmp_path / "merged"
    merged.mkdir()
    mounted = mount_overlay([lower], merged, upper=tmp_path / "upper", work=tmp_path / "work")
    try:
        yield mounted
    finally:
        unmount_overlay(mounted)


def modify(merged: Path) -> None:
    (merged / "etc/hosts").write_text("10.0.0.1 changed\n")  # change
    (merged / "etc/new.conf").write_text("added\n")  # add
    (merged / "etc/motd").unlink()  # delete
    os.chmod(merged / "bin/sh", 0o4755)  # metadata only
    shutil.rmtree(merged / "etc/ssl")  # replace a directory ...
    (merged / "etc/ssl").mkdir()
    (merged / "etc/ssl/c.pem").write_text("c")  # ... with new contents: opaque
    shutil.rmtree(merged / "var/log")  # delete a directory
    (merged / "bin/ash").unlink()
    (merged / "bin/ash").mkdir()  # symlink replaced by a directory
    (merged / "bin/ash/inside").write_text("x")


def test_upper_dir_layer_replayed_on_the_lower_gives_the_merged_view(overlay: OverlayMount, tmp_path: Path) -> None:
    modify(overlay.target)
    assert overlay.upper is not None
    layer = io.BytesIO()
    stats = overlay_upper_to_layer(overlay.upper, layer)
    assert stats.whiteouts >= 3  # motd, var/log and the opaque etc/ssl
    replay = clone_tree(overlay.lowers[0], tmp_path / "replay")
    result = apply_layer(io.BytesIO(layer.getvalue()), replay)
    assert result.diff_id == stats.diff_id
    assert manifest(replay) == manifest(overlay.target)


def test_overlay_view_shows_whiteouts_and_opaque_dirs(overlay: OverlayMount) -> None:
    modify(overlay.target)
    view = overlay_view(overlay, "etc")
    assert "motd (whiteout)" in view.upper
    assert "ssl/ (opaque)" in view.upper
    assert "motd" in view.lowers[0] and "motd" not in view.merged
    assert view.merged == ("hosts", "new.conf", "ssl/", "ssl/c.pem")
    assert "merged:" in view.render()


def test_stacked_lowers_from_applied_layers(tmp_path: Path) -> None:
    base = make_lower(tmp_path / "base")
    first = io.BytesIO()
    tree_to_layer(base, first)
    layer_dirs = [tmp_path / "layer0", tmp_path / "layer1"]
    for directory in layer_dirs:
        directory.mkdir()
    apply_layer(io.BytesIO(first.getvalue()), layer_dirs[0])
    (layer_dirs[1] / "etc").mkdir()
    (layer_dirs[1] / "etc/added").write_text("top")
    merged = tmp_path / "merged"
    merged.mkdir()
    with overlay_mounted(list(reversed(layer_dirs)), merged) as mounted:
        assert (mounted.target / "etc/added").read_text() == "top"
        assert (mounted.target / "etc/hosts").read_text() == "127.0.0.1 localhost\n"
        with pytest.raises(OSError):
            (mounted.target / "etc/nope").write_text("read-only")


def test_gnu_tar_extracts_the_upper_layer_like_we_do(overlay: OverlayMount, tmp_path: Path) -> None:
    modify(overlay.target)
    assert overlay.upper is not None
    layer_path = tmp_path / "upper.tar"
    with layer_path.open("wb") as out:
        overlay_upper_to_layer(overlay.upper, out)
    listing = subprocess.run(["tar", "-tvf", str(layer_path)], check=True, capture_output=True, text=True)
    assert "etc/.wh.motd" in listing.stdout and "etc/ssl/.wh..wh..opq" in listing.stdout
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    with layer_path.open("rb") as stream:
        apply_layer(stream, ours)
    subprocess.run(["tar", "--xattrs", "--same-owner", "-xpf", str(layer_path), "-C", str(theirs)], check=True)
    # GNU tar knows no whiteouts: it writes the markers as empty files, where we obey them
    theirs_without_markers = {
        name: entry for name, entry in manifest(theirs).items() if not name.rpartition("/")[2].startswith(".wh.")
    }
    assert len(theirs_without_markers) < len(manifest(theirs))
    assert manifest(ours) == theirs_without_markers


def test_layers_unpacked_with_overlay_whiteouts_stack_as_lowers(tmp_path: Path) -> None:
    base = make_lower(tmp_path / "base")
    change = tmp_path / "change"
    clone_tree(base, change)
    (change / "etc/motd").unlink()
    shutil.rmtree(change / "etc/ssl")
    (change / "etc/ssl").mkdir()
    (change / "etc/ssl/new.pem").write_text("new")
    diff = io.BytesIO()
    diff_trees(base, change, diff)
    top = tmp_path / "top"
    top.mkdir()
    result = apply_layer(io.BytesIO(diff.getvalue()), top, overlay_whiteouts=True)
    assert result.whiteouts == 2
    motd = os.lstat(top / "etc/motd")
    assert motd.st_rdev == 0 and (motd.st_mode & 0o170000) == 0o020000
    assert os.getxattr(top / "etc/ssl", "trusted.overlay.opaque") == b"y"
    merged = tmp_path / "merged"
    merged.mkdir()
    with overlay_mounted([top, base], merged) as mounted:
        assert manifest(mounted.target) == manifest(change)


@pytest.mark.parametrize("whiteout_first", [True, False])
def test_a_directory_deleted_and_made_again_in_one_layer_is_opaque_in_either_order(
    tmp_path: Path, whiteout_first: bool
) -> None:
    base = tmp_path / "base"
    (base / "conf").mkdir(parents=True)
    (base / "conf/old").write_text("old")
    entries = [("conf", tarfile.DIRTYPE), ("conf/new", tarfile.REGTYPE)]
    whiteout = (".wh.conf", tarfile.REGTYPE)
    entries = [whiteout, *entries] if whiteout_first else [*entries, whiteout]
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            data = b"new" if name == "conf/new" else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    top = tmp_path / "top"
    top.mkdir()
    apply_layer(io.BytesIO(layer.getvalue()), top, overlay_whiteouts=True)
    assert os.getxattr(top / "conf", "trusted.overlay.opaque") == b"y"
    merged = tmp_path / "merged"
    merged.mkdir()
    with overlay_mounted([top, base], merged) as mounted:
        assert sorted(os.listdir(mounted.target / "conf")) == ["new"]

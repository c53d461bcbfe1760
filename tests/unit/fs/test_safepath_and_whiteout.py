"""resolve_in_root and clean_relative on hand-picked trees; whiteout name helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labcore.fs.safepath import PathEscapeError, clean_relative, resolve_in_root
from labcore.fs.whiteout import (
    OPAQUE_MARKER,
    WHITEOUT_PREFIX,
    is_opaque_dir,
    is_opaque_marker,
    whited_out_name,
    whiteout_name,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    top = tmp_path / "root"
    (top / "usr/lib").mkdir(parents=True)
    os.symlink("usr/lib", top / "lib")  # relative, like Debian's merged /usr
    os.symlink("/usr/lib", top / "abslib")  # absolute: means the root's /usr/lib
    os.symlink("../../..", top / "usr/lib/up")  # climbs above the root
    os.symlink("loop", top / "loop")
    return top


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("etc/passwd", "etc/passwd"),
        ("/etc//passwd", "etc/passwd"),
        ("./a/./b/", "a/b"),
        ("a/../b", "b"),
        ("", ""),
        (".", ""),
    ],
)
def test_clean_relative(name: str, expected: str) -> None:
    assert clean_relative(name) == expected


@pytest.mark.parametrize("name", ["..", "../x", "a/../../x", "/.."])
def test_clean_relative_refuses_climbing(name: str) -> None:
    with pytest.raises(PathEscapeError, match="climbs above"):
        clean_relative(name)


def test_parents_are_resolved_inside_the_root(root: Path) -> None:
    assert resolve_in_root(root, "lib/libc.so") == root / "usr/lib/libc.so"
    assert resolve_in_root(root, "abslib/libc.so") == root / "usr/lib/libc.so"
    assert resolve_in_root(root, "/abslib/x/y") == root / "usr/lib/x/y"


def test_last_component_is_never_followed(root: Path) -> None:
    assert resolve_in_root(root, "lib") == root / "lib"
    assert resolve_in_root(root, "usr/lib/up") == root / "usr/lib/up"


def test_escaping_symlink_is_refused_or_clamped(root: Path) -> None:
    with pytest.raises(PathEscapeError, match="lib/up/etc"):
        resolve_in_root(root, "lib/up/etc")
    assert resolve_in_root(root, "lib/up/etc", clamp=True) == root / "etc"


def test_symlink_loop_is_refused(root: Path) -> None:
    with pytest.raises(PathEscapeError, match="symlinks"):
        resolve_in_root(root, "loop/x", clamp=True)


def test_whiteout_names() -> None:
    assert whiteout_name("passwd") == WHITEOUT_PREFIX + "passwd" == ".wh.passwd"
    assert whited_out_name(".wh.passwd") == "passwd"
    assert whited_out_name(OPAQUE_MARKER) is None
    assert whited_out_name(".wh..wh.plnk") is None
    assert whited_out_name("passwd") is None
    assert whited_out_name(".wh.") == ""
    assert is_opaque_marker(".wh..wh..opq")


def test_user_overlay_opaque_xattr_is_recognized(tmp_path: Path) -> None:
    assert not is_opaque_dir(tmp_path)
    os.setxattr(tmp_path, "user.overlay.opaque", b"y")
    assert is_opaque_dir(tmp_path)

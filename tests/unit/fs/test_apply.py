"""apply_layer: OCI whiteout semantics, metadata, links, devices, digests and broken streams."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import stat
import tarfile
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.errors import DigestError, LayerError
from labcore.fs.apply import apply_layer
from labcore.fs.tarstream import TarFormatError
from tests.unit.fs.tarbuild import (
    FIXED_MTIME,
    Member,
    build_tar,
    directory,
    file,
    hardlink,
    symlink,
    whiteout,
)


def apply(members: list[Member], root: Path, **kwargs: object) -> None:
    apply_layer(io.BytesIO(build_tar(members)), root, **kwargs)  # type: ignore[arg-type]


def names(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*")}


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    root.mkdir()
    apply(
        [
            directory("etc"),
            file("etc/passwd", b"root:x:0:0"),
            file("etc/hosts", b"127.0.0.1"),
            directory("etc/ssl"),
            file("etc/ssl/cert", b"cert"),
            directory("var"),
            directory("var/cache"),
            file("var/cache/a", b"a"),
            file("var/cache/b", b"b"),
        ],
        root,
    )
    return root


def test_files_dirs_and_symlinks_are_created_with_their_content(tmp_path: Path) -> None:
    apply([directory("a"), file("a/f", b"hello"), symlink("a/l", "f"), symlink("abs", "/a/f")], tmp_path)
    assert (tmp_path / "a/f").read_bytes() == b"hello"
    assert os.readlink(tmp_path / "a/l") == "f"
    assert os.readlink(tmp_path / "abs") == "/a/f"


def test_missing_parent_directories_are_created(tmp_path: Path) -> None:
    apply([file("deep/er/file", b"x")], tmp_path)
    assert (tmp_path / "deep/er/file").read_bytes() == b"x"


def test_leading_slash_and_dot_slash_are_stripped(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    apply([file("/abs", b"1"), file("./dot", b"2")], root)
    assert names(root) == {"abs", "dot"}


def test_whiteout_removes_lower_file_and_directory(rootfs: Path) -> None:
    apply([whiteout("etc/.wh.hosts"), whiteout(".wh.var")], rootfs)
    assert not (rootfs / "etc/hosts").exists()
    assert not (rootfs / "var").exists()
    assert (rootfs / "etc/passwd").exists()


def test_whiteout_of_missing_path_is_harmless(rootfs: Path) -> None:
    apply([whiteout("etc/.wh.nothing")], rootfs)
    assert "etc/passwd" in names(rootfs)


@pytest.mark.parametrize("overlay_whiteouts", [False, True])
def test_directories_the_layer_does_not_list_keep_their_times(rootfs: Path, overlay_whiteouts: bool) -> None:
    # as umoci: a whiteout or a new file changes a directory's entries, not its recorded mtime
    for directory_name in ("etc", "var/cache"):
        os.utime(rootfs / directory_name, ns=(1_000_000_000, 2_000_000_000))
    apply(
        [whiteout("etc/.wh.hosts"), file("etc/new", b"n"), whiteout("var/cache/.wh..wh..opq")],
        rootfs,
        overlay_whiteouts=overlay_whiteouts,
    )
    for directory_name in ("etc", "var/cache"):
        found = (rootfs / directory_name).stat()
        assert (found.st_atime_ns, found.st_mtime_ns) == (1_000_000_000, 2_000_000_000), directory_name


def test_a_directory_the_layer_lists_gets_the_layers_mtime(rootfs: Path) -> None:
    os.utime(rootfs / "etc", ns=(1_000_000_000, 2_000_000_000))
    apply([whiteout("etc/.wh.hosts"), directory("etc")], rootfs)
    assert (rootfs / "etc").stat().st_mtime == FIXED_MTIME


@pytest.mark.parametrize("marker_first", [True, False])
def test_opaque_clears_lower_contents_but_keeps_this_layers(rootfs: Path, marker_first: bool) -> None:
    marker = [whiteout("etc/.wh..wh..opq")]
    own = [directory("etc"), file("etc/hosts", b"new"), directory("etc/ssl"), file("etc/ssl/mine", b"m")]
    apply(marker + own if marker_first else own + marker, rootfs)
    etc = {name for name in names(rootfs) if name.startswith("etc")}
    assert etc == {"etc", "etc/hosts", "etc/ssl", "etc/ssl/mine"}
    assert (rootfs / "etc/hosts").read_bytes() == b"new"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_whiteout_and_same_layer_file_in_any_order(rootfs: Path, order: tuple[int, ...]) -> None:
    members = [whiteout("etc/.wh.ssl"), directory("etc/ssl"), file("etc/ssl/new", b"n")]
    apply([members[index] for index in order], rootfs)
    assert sorted(name for name in names(rootfs) if name.startswith("etc/ssl")) == ["etc/ssl", "etc/ssl/new"]


def test_opaque_at_the_top_clears_the_whole_lower_tree(rootfs: Path) -> None:
    apply([file("only", b"1"), whiteout(".wh..wh..opq")], rootfs)
    assert names(rootfs) == {"only"}


def test_aufs_metadata_entries_are_ignored(rootfs: Path) -> None:
    apply([whiteout(".wh..wh.plnk"), directory(".wh..wh.orph")], rootfs)
    assert not any(name.startswith(".wh.") for name in names(rootfs))
    assert "etc/passwd" in names(rootfs)


def test_hard_links_share_an_inode(tmp_path: Path) -> None:
    apply([file("a", b"same"), hardlink("b", "a"), directory("d"), hardlink("d/c", "/a")], tmp_path)
    inodes = {os.lstat(tmp_path / name).st_ino for name in ("a", "b", "d/c")}
    assert len(inodes) == 1
    assert os.lstat(tmp_path / "a").st_nlink == 3


def test_hard_link_to_missing_target_is_a_layer_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="'b' is a hard link to 'nowhere'"):
        apply([hardlink("b", "nowhere")], tmp_path)


def test_modes_including_setuid_setgid_sticky_are_kept(tmp_path: Path) -> None:
    apply(
        [
            file("suid", mode=0o4755),
            file("sgid", mode=0o2711),
            directory("tmp", mode=0o1777),
            directory("locked", mode=0o500),
            file("locked/inner", b"in"),
        ],
        tmp_path,
    )
    assert stat.S_IMODE(os.lstat(tmp_path / "suid").st_mode) == 0o4755
    assert stat.S_IMODE(os.lstat(tmp_path / "sgid").st_mode) == 0o2711
    assert stat.S_IMODE(os.lstat(tmp_path / "tmp").st_mode) == 0o1777
    assert stat.S_IMODE(os.lstat(tmp_path / "locked").st_mode) == 0o500
    assert (tmp_path / "locked/inner").read_bytes() == b"in"


def test_mtimes_are_kept_and_directory_mtimes_survive_their_contents(tmp_path: Path) -> None:
    apply([directory("d", mtime=1_000_000_000), file("d/f", mtime=1_100_000_000), symlink("d/l", "f")], tmp_path)
    assert os.lstat(tmp_path / "d").st_mtime == 1_000_000_000
    assert os.lstat(tmp_path / "d/f").st_mtime == 1_100_000_000
    assert os.lstat(tmp_path / "d/l").st_mtime == FIXED_MTIME


def test_subsecond_pax_mtime_is_kept(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("f")
        info.mtime = 1_600_000_000.25  # type: ignore[assignment]
        archive.addfile(info, io.BytesIO(b""))
    apply_layer(io.BytesIO(buffer.getvalue()), tmp_path)
    assert os.lstat(tmp_path / "f").st_mtime_ns == 1_600_000_000_250_000_000


def test_user_xattrs_are_set_and_overlay_xattrs_dropped(tmp_path: Path) -> None:
    apply(
        [
            file("f", xattrs={"user.colour": "blue"}),
            directory("d", xattrs={"user.overlay.opaque": "y", "user.kept": "1"}),
        ],
        tmp_path,
    )
    assert os.getxattr(tmp_path / "f", "user.colour") == b"blue"
    assert os.listxattr(tmp_path / "d") == ["user.kept"]


def test_existing_directory_loses_xattrs_its_new_entry_lacks(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.setxattr(tmp_path / "d", "user.old", b"1")
    apply([directory("d", xattrs={"user.new": "2"})], tmp_path)
    assert os.listxattr(tmp_path / "d") == ["user.new"]


def test_file_replaces_directory_and_directory_replaces_file(rootfs: Path) -> None:
    apply([file("var", b"now a file"), directory("etc/passwd")], rootfs)
    assert (rootfs / "var").read_bytes() == b"now a file"
    assert (rootfs / "etc/passwd").is_dir()


def test_later_duplicate_entry_wins(tmp_path: Path) -> None:
    apply([file("f", b"first"), file("f", b"second")], tmp_path)
    assert (tmp_path / "f").read_bytes() == b"second"


def test_fifo_is_created(tmp_path: Path) -> None:
    apply([Member("pipe", tarfile.FIFOTYPE, mode=0o640)], tmp_path)
    st = os.lstat(tmp_path / "pipe")
    assert stat.S_ISFIFO(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o640


@pytest.mark.root
def test_devices_and_owners_are_created_as_root(tmp_path: Path) -> None:
    apply(
        [
            Member("null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3),
            Member("loop", tarfile.BLKTYPE, mode=0o660, devmajor=7, devminor=0, gid=6),
            file("owned", uid=1234, gid=5678, mode=0o4750),
            symlink("link", "owned"),
            directory("dir", uid=42, gid=43),
        ],
        tmp_path,
    )
    null = os.lstat(tmp_path / "null")
    assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3)
    assert stat.S_ISBLK(os.lstat(tmp_path / "loop").st_mode)
    owned = os.lstat(tmp_path / "owned")
    assert (owned.st_uid, owned.st_gid, stat.S_IMODE(owned.st_mode)) == (1234, 5678, 0o4750)
    assert (os.lstat(tmp_path / "dir").st_uid, os.lstat(tmp_path / "dir").st_gid) == (42, 43)


@pytest.mark.root
def test_trusted_xattrs_are_set_as_root(tmp_path: Path) -> None:
    apply([file("f", xattrs={"trusted.labcore": "t"})], tmp_path)
    assert os.getxattr(tmp_path / "f", "trusted.labcore") == b"t"


def test_same_owner_false_keeps_the_callers_owner(tmp_path: Path) -> None:
    apply_layer(io.BytesIO(build_tar([file("f", uid=1234, gid=5678)])), tmp_path, same_owner=False)
    assert os.lstat(tmp_path / "f").st_uid == os.geteuid()


def test_diff_id_is_the_sha256_of_the_whole_stream(tmp_path: Path) -> None:
    layer = build_tar([file("f", b"x" * 5000), directory("d")])
    result = apply_layer(io.BytesIO(layer), tmp_path)
    assert result.diff_id == Digest("sha256", hashlib.sha256(layer).hexdigest())
    assert result.size == len(layer)
    assert result.entries == 2


def test_expected_diff_id_mismatch_raises(tmp_path: Path) -> None:
    wrong = Digest("sha256", "0" * 64)
    with pytest.raises(DigestError, match="diff_id"):
        apply_layer(io.BytesIO(build_tar([file("f")])), tmp_path, expected_diff_id=wrong)


def test_root_entry_sets_root_metadata(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    apply([directory(".", mode=0o711, mtime=1_234_567_890), file("f")], root)
    st = os.lstat(root)
    assert stat.S_IMODE(st.st_mode) == 0o711
    assert st.st_mtime == 1_234_567_890


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda data: data[:700], "ends inside the data"),
        (lambda data: data[:100], "ends inside a tar header"),
        (lambda data: b"", "empty"),
        (lambda data: b"\x1f\x8b" + b"\x00" * 1022, "bad tar header"),
    ],
    ids=["truncated_data", "truncated_header", "empty", "not_tar"],
)
def test_broken_streams_raise_tar_format_error(tmp_path: Path, mangle: object, message: str) -> None:
    layer = build_tar([file("f", b"x" * 2000)])
    with pytest.raises(TarFormatError, match=message):
        apply_layer(io.BytesIO(mangle(layer)), tmp_path)  # type: ignore[operator]


def test_long_names_and_links_round_trip(tmp_path: Path) -> None:
    long_dir = "/".join(["directory-name-of-some-length"] * 6)
    apply(
        [file(f"{long_dir}/file", b"deep"), symlink("l", "x" * 300), hardlink("h", f"{long_dir}/file")],
        tmp_path,
    )
    assert (tmp_path / long_dir / "file").read_bytes() == b"deep"
    assert os.readlink(tmp_path / "l") == "x" * 300
    assert (tmp_path / "h").read_bytes() == b"deep"

"""Property tests: random trees survive diff → apply, and path resolution never leaves its root.

Trees hold files, directories, symlinks, hard links and fifos with random modes (setuid, setgid
and sticky bits included), owners (some beyond ustar's 7 octal digits, forcing PAX records),
mtimes and user xattrs. Owners need root, so the tests that set them are marked ``root``.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labcore.fs.apply import apply_layer
from labcore.fs.diff import diff_trees, tree_to_layer
from labcore.fs.safepath import PathEscapeError, resolve_in_root
from tests.unit.fs.manifest import clone_tree, link_groups, manifest

NAMES = ["a", "b", "dir", "é", "x y", ".hidden", "n" * 120]
SYMLINK_TARGETS = ["a", "../b", "/etc/passwd", "dir/a", "t" * 200, "/", "."]
FILE_MODES = [0o644, 0o755, 0o4755, 0o2755, 0o600, 0o444, 0o1644, 0o000]
DIR_MODES = [0o755, 0o700, 0o1777, 0o2775, 0o555, 0o000]
OWNERS = [0, 1, 1000, 65534, 3_000_000]
DEFAULT_MTIME = 1_500_000_000
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@dataclass(frozen=True)
class Spec:
    """One entry to create in a random tree."""

    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    mtime: int
    content: bytes
    xattrs: tuple[tuple[str, bytes], ...]


specs = st.builds(
    Spec,
    path=st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join),
    kind=st.sampled_from(["file", "file", "dir", "dir", "symlink", "hardlink", "fifo"]),
    mode=st.integers(0, 7),
    uid=st.sampled_from(OWNERS),
    gid=st.sampled_from(OWNERS),
    mtime=st.integers(0, 4_000_000_000),
    content=st.binary(max_size=600),
    xattrs=st.lists(
        st.tuples(st.sampled_from(["user.a", "user.b"]), st.binary(min_size=1, max_size=16)),
        max_size=2,
        unique_by=lambda item: item[0],
    ).map(tuple),
)
trees = st.lists(specs, max_size=25)


def _blocked(root: Path, directory: Path) -> bool:
    """True if some ancestor of ``directory`` below ``root`` exists but is not a real directory."""
    while directory != root:
        if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
            return True
        directory = directory.parent
    return False


def build(root: Path, entries: list[Spec], *, owners: bool) -> Path:
    """Create ``entries`` below ``root``, skipping those whose path is taken or blocked."""
    root.mkdir()
    files: list[str] = []
    created: dict[str, Spec] = {}
    for spec in entries:
        path = root / spec.path
        parent = path.parent
        if _blocked(root, parent):
            continue
        if os.path.lexists(path):
            continue
        parent.mkdir(parents=True, exist_ok=True)
        if spec.kind == "file":
            path.write_bytes(spec.content)
            files.append(spec.path)
        elif spec.kind == "dir":
            path.mkdir()
        elif spec.kind == "symlink":
            os.symlink(SYMLINK_TARGETS[spec.mode % len(SYMLINK_TARGETS)], path)
        elif spec.kind == "fifo":
            os.mkfifo(path)
        elif files:
            os.link(root / files[len(spec.content) % len(files)], path)
            continue  # a hard link shares the metadata of its target
        else:
            continue
        created[spec.path] = spec
    for rel, spec in created.items():
        path = root / rel
        if owners:
            os.chown(path, spec.uid, spec.gid, follow_symlinks=False)
        if spec.kind in ("file", "dir", "fifo"):
            modes = DIR_MODES if spec.kind == "dir" else FILE_MODES
            os.chmod(path, modes[spec.mode % len(modes)])
        if spec.kind in ("file", "dir"):
            for name, value in spec.xattrs:
                os.setxattr(path, name, value)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            spec = created.get(path.relative_to(root).as_posix())
            mtime = spec.mtime if spec is not None else DEFAULT_MTIME
            os.utime(path, (mtime, mtime), follow_symlinks=False)
    return root


def layer_of(write: object, *trees_: Path) -> bytes:
    out = io.BytesIO()
    write(*trees_, out)  # type: ignore[operator]
    return out.getvalue()


def mutate(entries: list[Spec], keep: list[bool], changes: list[bytes]) -> list[Spec]:
    """A variant of ``entries``: some dropped, some files with new content or mode."""
    varied = []
    for spec, kept, change in zip(entries, keep, changes, strict=False):
        if not kept:
            continue
        if change and spec.kind == "file":
            # odd-length changes keep size and mtime but flip every byte: only content differs
            content = bytes(byte ^ 0xFF for byte in spec.content) if len(change) % 2 else change
            mode = spec.mode if len(change) % 3 else (spec.mode + 1) % 8
            spec = Spec(spec.path, spec.kind, mode, spec.uid, spec.gid, spec.mtime, content, spec.xattrs)
        elif change and spec.kind == "dir":
            spec = Spec(spec.path, "file", spec.mode, spec.uid, spec.gid, spec.mtime, change, ())
        varied.append(spec)
    return varied


def _round_trip(entries: list[Spec], owners: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        source = build(Path(scratch) / "source", entries, owners=owners)
        layer = layer_of(tree_to_layer, source)
        assert layer_of(tree_to_layer, source) == layer, "the same tree must give the same bytes"
        target = Path(scratch) / "target"
        target.mkdir()
        apply_layer(io.BytesIO(layer), target, same_owner=owners)
        assert manifest(target) == manifest(source)
        assert link_groups(target) == link_groups(source)


def _lower_upper(lower_entries: list[Spec], upper_entries: list[Spec], owners: bool) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        lower = build(Path(scratch) / "lower", lower_entries, owners=owners)
        upper = build(Path(scratch) / "upper", upper_entries, owners=owners)
        layer = layer_of(diff_trees, lower, upper)
        result = clone_tree(lower, Path(scratch) / "result")
        apply_layer(io.BytesIO(layer), result, same_owner=owners)
        assert manifest(result) == manifest(upper)


@given(entries=trees)
@PROPERTY_SETTINGS
def test_tree_to_layer_then_apply_gives_the_same_tree(entries: list[Spec]) -> None:
    _round_trip(entries, owners=False)


@pytest.mark.root
@given(entries=trees)
@PROPERTY_SETTINGS
def test_tree_to_layer_then_apply_keeps_owners(entries: list[Spec]) -> None:
    _round_trip(entries, owners=True)


@given(
    lower_entries=trees,
    keep=st.lists(st.booleans(), max_size=25),
    changes=st.lists(st.binary(max_size=40), max_size=25),
    extra=trees,
)
@PROPERTY_SETTINGS
def test_diff_then_apply_onto_lower_gives_upper(
    lower_entries: list[Spec], keep: list[bool], changes: list[bytes], extra: list[Spec]
) -> None:
    _lower_upper(lower_entries, mutate(lower_entries, keep, changes) + extra, owners=False)


@pytest.mark.root
@given(
    lower_entries=trees,
    keep=st.lists(st.booleans(), max_size=25),
    changes=st.lists(st.binary(max_size=40), max_size=25),
    extra=trees,
)
@PROPERTY_SETTINGS
def test_diff_then_apply_onto_lower_gives_upper_with_owners(
    lower_entries: list[Spec], keep: list[bool], changes: list[bytes], extra: list[Spec]
) -> None:
    _lower_upper(lower_entries, mutate(lower_entries, keep, changes) + extra, owners=True)


@given(
    links=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c/d"]),
            st.sampled_from(["..", "../..", "/", "a", "/c", "b/..", "c"]),
        ),
        max_size=5,
    ),
    query=st.lists(st.sampled_from(["a", "b", "c", "d", "..", "."]), max_size=6).map("/".join),
)
@settings(max_examples=200, deadline=None)
def test_resolve_in_root_never_leaves_the_root(links: list[tuple[str, str]], query: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "root"
        (root / "c").mkdir(parents=True)
        for name, target in links:
            if not os.path.lexists(root / name):
                os.symlink(target, root / name)
        for clamp in (True, False):
            try:
                resolved = resolve_in_root(root, query, clamp=clamp)
            except PathEscapeError as error:
                # clamping only gives up on symlink loops
                assert not clamp or "symlinks" in error.message
                continue
            assert resolved == root or root in resolved.parents
            parent = resolved.parent if resolved != root else root
            # every existing ancestor of the result below the root is a real directory
            for ancestor in [parent, *parent.parents]:
                if ancestor == root or root not in ancestor.parents:
                    break
                if os.path.lexists(ancestor):
                    assert stat.S_ISDIR(os.lstat(ancestor).st_mode)

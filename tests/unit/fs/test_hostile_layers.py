"""Hostile layer tarballs: each attack must be refused or neutralized, and nothing outside changes.

Every test builds its attack with Python's tarfile, applies it onto ``sandbox/root`` next to a
``sandbox/outside`` directory holding a victim file, and checks that ``outside`` is byte-for-byte
and mode-for-mode unchanged afterwards, whatever the outcome.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from labcore.errors import LayerError, UnsafeLayerError
from labcore.fs.apply import apply_layer
from tests.unit.fs.manifest import snapshot_outside
from tests.unit.fs.tarbuild import Member, build_tar, directory, file, hardlink, symlink, whiteout


@dataclass
class Sandbox:
    root: Path
    outside: Path


@dataclass
class Attack:
    """A hostile layer: its members, an optional lower state, and the error it must raise."""

    members: Callable[[Sandbox], list[Member]]
    expect: type[Exception] | None = UnsafeLayerError
    names: str | None = None  # text the error message must contain (the offending entry)
    lower: Callable[[Sandbox], None] | None = None
    allow_devices: bool = True
    check: Callable[[Sandbox], None] | None = None


def _lower_symlink(name: str, target: Callable[[Sandbox], str]) -> Callable[[Sandbox], None]:
    def make(box: Sandbox) -> None:
        os.symlink(target(box), box.root / name)

    return make


def _inside(box: Sandbox, host_path: Path) -> Path:
    """Where an absolute host path lands when it is taken relative to the root."""
    return box.root / str(host_path).lstrip("/")


def _assert_regular(path_of: Callable[[Sandbox], Path]) -> Callable[[Sandbox], None]:
    def check(box: Sandbox) -> None:
        path = path_of(box)
        assert path.is_file() and not path.is_symlink(), f"{path} should be a regular file inside the root"

    return check


ATTACKS: dict[str, Attack] = {
    "dotdot_traversal": Attack(lambda box: [file("../outside/evil")], names="../outside/evil"),
    "dotdot_in_the_middle": Attack(lambda box: [file("a/../../outside/evil")], names="a/../../outside/evil"),
    "dotdot_only": Attack(lambda box: [directory("..")], names=".."),
    "absolute_name_stays_inside": Attack(
        lambda box: [file(str(box.outside / "evil"))],
        expect=None,
        check=_assert_regular(lambda box: _inside(box, box.outside / "evil")),
    ),
    "symlink_up_then_file_through_it": Attack(
        lambda box: [symlink("escape", "../outside"), file("escape/evil")], names="escape/evil"
    ),
    "symlink_absolute_host_path_then_file_through_it": Attack(
        lambda box: [symlink("escape", str(box.outside)), file("escape/evil")],
        expect=None,
        check=_assert_regular(lambda box: _inside(box, box.outside / "evil")),
    ),
    "symlink_chain_up_then_file": Attack(
        lambda box: [symlink("a", "b"), symlink("b", "../../outside"), file("a/evil")], names="a/evil"
    ),
    "symlink_deep_dotdot_then_file": Attack(
        lambda box: [directory("d"), symlink("d/up", "../../outside"), file("d/up/evil")], names="d/up/evil"
    ),
    "symlink_absolute_dotdot_then_file": Attack(
        lambda box: [symlink("escape", "/../outside"), file("escape/evil")], names="escape/evil"
    ),
    "symlink_through_missing_dir_dotdot_then_file": Attack(
        lambda box: [
            symlink("escape", "../outside"),
            symlink("a", "missing/../escape"),
            file("a/evil"),
        ],
        names="a/evil",
    ),
    "symlink_loop_then_file": Attack(
        lambda box: [symlink("a", "b"), symlink("b", "a"), file("a/evil")], names="a/evil"
    ),
    "lower_layer_symlink_then_file": Attack(
        lambda box: [file("lib/evil")],
        names="lib/evil",
        lower=_lower_symlink("lib", lambda box: "../outside"),
    ),
    "file_replaces_symlink_instead_of_writing_through": Attack(
        lambda box: [file("victim", b"overwritten")],
        expect=None,
        lower=_lower_symlink("victim", lambda box: str(box.outside / "victim.txt")),
        check=_assert_regular(lambda box: box.root / "victim"),
    ),
    "relative_symlink_replaced_by_file": Attack(
        lambda box: [file("victim", b"overwritten")],
        expect=None,
        lower=_lower_symlink("victim", lambda box: "../outside/victim.txt"),
        check=_assert_regular(lambda box: box.root / "victim"),
    ),
    "directory_replaces_lower_symlink": Attack(
        lambda box: [directory("d"), file("d/evil")],
        expect=None,
        lower=_lower_symlink("d", lambda box: "../outside"),
        check=_assert_regular(lambda box: box.root / "d" / "evil"),
    ),
    "dir_then_symlink_same_name_escapes_deferred_chmod": Attack(
        lambda box: [directory("d", mode=0o777), symlink("d", "../outside")], expect=None
    ),
    "hardlink_dotdot": Attack(lambda box: [hardlink("h", "../outside/victim.txt")], names="h"),
    "hardlink_absolute_host_path": Attack(
        lambda box: [hardlink("h", str(box.outside / "victim.txt"))], expect=LayerError, names="h"
    ),
    "hardlink_through_symlink_up": Attack(
        lambda box: [symlink("escape", "../outside"), hardlink("h", "escape/victim.txt")], names="h"
    ),
    "hardlink_to_outward_symlink_then_overwrite": Attack(
        lambda box: [symlink("s", "../outside/victim.txt"), hardlink("h", "s"), file("h", b"overwritten")],
        expect=None,
        check=_assert_regular(lambda box: box.root / "h"),
    ),
    "hardlink_to_root": Attack(lambda box: [hardlink("h", ".")], names="h"),
    "device_not_allowed": Attack(
        lambda box: [Member("dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1)],
        names="dev/mem",
        allow_devices=False,
    ),
    "block_device_not_allowed": Attack(
        lambda box: [Member("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)],
        names="dev/sda",
        allow_devices=False,
    ),
    "whiteout_of_dot": Attack(lambda box: [whiteout(".wh..")], names=".wh.."),
    "whiteout_of_dotdot": Attack(lambda box: [whiteout("sub/.wh...")], names="sub/.wh..."),
    "whiteout_empty_name": Attack(lambda box: [whiteout(".wh.")], names=".wh."),
    "whiteout_dotdot_path": Attack(lambda box: [whiteout("../.wh.outside")], names="../.wh.outside"),
    "whiteout_through_symlink_up": Attack(
        lambda box: [symlink("escape", "../outside"), whiteout("escape/.wh.victim.txt")],
        names="escape/.wh.victim.txt",
    ),
    "opaque_through_symlink_up": Attack(
        lambda box: [symlink("escape", "../outside"), whiteout("escape/.wh..wh..opq")],
        names="escape/.wh..wh..opq",
    ),
    "opaque_through_lower_symlink": Attack(
        lambda box: [whiteout("lib/.wh..wh..opq")],
        names="lib/.wh..wh..opq",
        lower=_lower_symlink("lib", lambda box: "../outside"),
    ),
    "root_replaced_by_file": Attack(lambda box: [file(".", b"x")], names="'.'"),
    "root_replaced_by_symlink": Attack(lambda box: [symlink("./", "../outside")], names="./"),
    "root_replaced_by_empty_name": Attack(lambda box: [file("")], names="''"),
}


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"precious")
    (outside / "sub").mkdir()
    os.chmod(outside, 0o755)
    return Sandbox(root=root, outside=outside)


@pytest.mark.parametrize("attack_name", list(ATTACKS))
def test_hostile_layer(attack_name: str, sandbox: Sandbox) -> None:
    attack = ATTACKS[attack_name]
    if attack.lower is not None:
        attack.lower(sandbox)
    layer = build_tar(attack.members(sandbox))
    before = snapshot_outside(sandbox.outside)
    try:
        if attack.expect is None:
            apply_layer(io.BytesIO(layer), sandbox.root, allow_devices=attack.allow_devices)
        else:
            with pytest.raises(attack.expect) as raised:
                apply_layer(io.BytesIO(layer), sandbox.root, allow_devices=attack.allow_devices)
            if attack.names is not None:
                assert attack.names in str(raised.value)
    finally:
        assert snapshot_outside(sandbox.outside) == before, "the layer changed something outside the root"
    if attack.check is not None:
        attack.check(sandbox)

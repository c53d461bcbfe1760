"""The mount plan for a container's root, and mount destinations resolved inside the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcore.linux.mount import MountFlag
from labcore.runtime.rootfs import MountSpecError, MountStep, plan_rootfs, resolve_mountpoint
from labcore.runtime.spec import DEFAULT_MASKED_PATHS, ContainerSpec, MountSpec, ProcessSpec


def _spec(root: Path, **fields: object) -> ContainerSpec:
    return ContainerSpec(id="c1", rootfs=root, process=ProcessSpec(["true"]), **fields)  # type: ignore[arg-type]


def _mounts_at(steps: tuple[MountStep, ...], target: Path) -> list[MountStep]:
    return [step for step in steps if step.target == str(target) and step.kind in ("mount", "remount")]


def test_default_plan_is_dockers_layout(tmp_path: Path) -> None:
    steps = plan_rootfs(_spec(tmp_path), new_netns=True, userns=False, console=None)
    assert steps[0] == MountStep("mount", str(tmp_path), str(tmp_path), None, MountFlag.BIND | MountFlag.REC)
    assert steps[1] == MountStep("remount", str(tmp_path), flags=MountFlag.NODEV)
    proc = _mounts_at(steps, tmp_path / "proc")[0]
    assert (proc.fstype, proc.flags) == ("proc", MountFlag.NOSUID | MountFlag.NODEV | MountFlag.NOEXEC)
    dev = _mounts_at(steps, tmp_path / "dev")[0]
    assert dev.fstype == "tmpfs" and dev.flags & MountFlag.NODEV
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        assert _mounts_at(steps, tmp_path / "dev" / name) == [
            MountStep("mount", str(tmp_path / "dev" / name), f"/dev/{name}", None, MountFlag.BIND)
        ]
    pts = _mounts_at(steps, tmp_path / "dev/pts")[0]
    assert (
        pts.fstype == "devpts" and "newinstance" in (pts.data or "") and "ptmxmode=0666" in (pts.data or "")
    )
    links = {step.target: step.source for step in steps if step.kind == "symlink"}
    assert links[str(tmp_path / "dev/ptmx")] == "pts/ptmx"
    assert links[str(tmp_path / "dev/fd")] == "/proc/self/fd"
    sysfs = _mounts_at(steps, tmp_path / "sys")[0]
    assert sysfs.fstype == "sysfs" and sysfs.flags & MountFlag.RDONLY
    masked = [step.target for step in steps if step.kind == "mask"]
    assert masked == [str(tmp_path) + path for path in DEFAULT_MASKED_PATHS]
    assert str(tmp_path / "proc/sysrq-trigger") in [step.target for step in steps if step.kind == "readonly"]


def test_without_a_new_netns_sys_is_bound_read_only(tmp_path: Path) -> None:
    steps = plan_rootfs(_spec(tmp_path), new_netns=False, userns=False, console=None)
    bind, remount = _mounts_at(steps, tmp_path / "sys")
    assert (bind.source, bind.flags & MountFlag.BIND) == ("/sys", MountFlag.BIND)
    assert remount.kind == "remount" and remount.flags & MountFlag.RDONLY


def test_privileged_plan_has_no_masks_and_keeps_devices_usable(tmp_path: Path) -> None:
    steps = plan_rootfs(_spec(tmp_path, privileged=True), new_netns=True, userns=False, console=None)
    assert not [step for step in steps if step.kind in ("mask", "readonly")]
    assert steps[1].flags == 0
    assert not _mounts_at(steps, tmp_path / "dev")[0].flags & MountFlag.NODEV
    assert not _mounts_at(steps, tmp_path / "sys")[0].flags & MountFlag.RDONLY


def test_console_is_bound_when_given(tmp_path: Path) -> None:
    steps = plan_rootfs(_spec(tmp_path), new_netns=True, userns=True, console="/dev/pts/7")
    assert _mounts_at(steps, tmp_path / "dev/console")[0].source == "/dev/pts/7"
    pts = _mounts_at(steps, tmp_path / "dev/pts")[0]
    assert "gid=5" not in (pts.data or "")  # gid 5 may not be mapped in a user namespace


def test_user_bind_mount_gets_its_flags_and_nodev(tmp_path: Path) -> None:
    root, source = tmp_path / "root", tmp_path / "src"
    root.mkdir()
    source.mkdir()
    spec = _spec(root, mounts=(MountSpec("/data", "bind", str(source), ("rbind", "ro", "noexec")),))
    steps = plan_rootfs(spec, new_netns=True, userns=False, console=None)
    mkdir, bind, remount = [step for step in steps if step.target == str(root / "data")]
    assert mkdir.kind == "mkdir"
    assert bind.flags == MountFlag.BIND | MountFlag.REC
    assert remount.flags == MountFlag.RDONLY | MountFlag.NOEXEC | MountFlag.NODEV


def test_user_tmpfs_options_become_data(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path, mounts=(MountSpec("/scratch", "tmpfs", "tmpfs", ("nosuid", "size=1m", "mode=1777")),)
    )
    steps = plan_rootfs(spec, new_netns=True, userns=False, console=None)
    mount = _mounts_at(steps, tmp_path / "scratch")[0]
    assert (mount.fstype, mount.data) == ("tmpfs", "size=1m,mode=1777")
    assert mount.flags == MountFlag.NOSUID | MountFlag.NODEV


def test_bad_bind_mounts_name_the_offender(tmp_path: Path) -> None:
    missing = _spec(tmp_path, mounts=(MountSpec("/data", "bind", str(tmp_path / "gone")),))
    with pytest.raises(MountSpecError, match="gone"):
        plan_rootfs(missing, new_netns=True, userns=False, console=None)
    odd = _spec(tmp_path, mounts=(MountSpec("/data", "bind", str(tmp_path), ("size=1m",)),))
    with pytest.raises(MountSpecError, match="size=1m"):
        plan_rootfs(odd, new_netns=True, userns=False, console=None)
    relative = _spec(tmp_path, mounts=(MountSpec("data", "tmpfs", "tmpfs"),))
    with pytest.raises(MountSpecError, match="'data'"):
        plan_rootfs(relative, new_netns=True, userns=False, console=None)


def test_mountpoint_symlinks_are_resolved_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "abs").symlink_to("/real")
    (root / "up").symlink_to("../../../../etc")
    (root / "last").symlink_to("/../../outside")
    assert resolve_mountpoint(root, "/abs/x") == root / "real" / "x"
    assert resolve_mountpoint(root, "/up/passwd") == root / "etc" / "passwd"
    assert resolve_mountpoint(root, "/last") == root / "outside"
    assert resolve_mountpoint(root, "/abs") == root / "real"


def test_mountpoint_symlink_loops_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(Exception, match="symlinks"):
        resolve_mountpoint(tmp_path, "/a")


def test_read_only_root_is_remounted_after_every_mount_point_exists(tmp_path: Path) -> None:
    spec = _spec(tmp_path, readonly_rootfs=True, mounts=(MountSpec("/scratch", "tmpfs", "tmpfs"),))
    steps = plan_rootfs(spec, new_netns=True, userns=False, console=None)
    remounts = [
        index
        for index, step in enumerate(steps)
        if step == MountStep("remount", str(tmp_path), flags=MountFlag.RDONLY)
    ]
    creations = [index for index, step in enumerate(steps) if step.kind in ("mkdir", "mkfile", "symlink")]
    assert len(remounts) == 1
    assert remounts[0] > max(creations)

"""Plan the container's mount table: computed in the runtime before fork, replayed by the init.

:func:`plan_rootfs` returns a tuple of :class:`MountStep` records (all paths are host paths inside
the rootfs, already resolved so that symlinks in the image cannot point them outside). The init
(:mod:`labcore.runtime.init`) executes them in order in its new mount namespace, then pivots into
the root. Planning in the parent keeps the forked child's work to bare system calls.

The layout follows Docker's: ``/proc`` (a new procfs for the new PID namespace), a tmpfs ``/dev``
with host device nodes bound into it, ``/dev/pts`` (a private devpts instance), ``/dev/shm``,
``/dev/mqueue``, ``/sys`` read-only, then the user's mounts, masked paths and read-only paths.
Unless the container is privileged, the root and ``/dev`` are ``nodev``: a device node created
inside the container (``mknod``) cannot be opened, which does the job of Docker's device cgroup.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from labcore.errors import UsageError
from labcore.fs.safepath import MAX_SYMLINK_HOPS, resolve_in_root
from labcore.linux.mount import MountFlag
from labcore.runtime.spec import ContainerSpec, MountSpec

__all__ = ["DEVICE_NODES", "DEV_SYMLINKS", "MountSpecError", "MountStep", "plan_rootfs", "resolve_mountpoint"]

#: Character devices every container gets, bound from the host's ``/dev``.
DEVICE_NODES = ("null", "zero", "full", "random", "urandom", "tty")
#: Symlinks Docker puts into ``/dev``.
DEV_SYMLINKS = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("core", "/proc/kcore"),
    ("ptmx", "pts/ptmx"),
)

_SAFE = MountFlag.NOSUID | MountFlag.NODEV | MountFlag.NOEXEC
_FLAG_OPTIONS = {
    "ro": MountFlag.RDONLY,
    "nosuid": MountFlag.NOSUID,
    "nodev": MountFlag.NODEV,
    "noexec": MountFlag.NOEXEC,
    "noatime": MountFlag.NOATIME,
    "strictatime": MountFlag.STRICTATIME,
}
_IGNORED_OPTIONS = frozenset({"rw", "bind", "rbind", "suid", "dev", "exec", "rprivate", "private"})


class MountSpecError(UsageError):
    """A mount of the container spec that cannot be set up."""


class MountStep(NamedTuple):
    """One action of the init's mount setup.

    ``kind`` is ``mount`` (mount(2) with the fields), ``remount`` (bind-remount ``target`` adding
    ``flags`` to the flags it has), ``mkdir``, ``mkfile`` (an empty file to bind a file onto),
    ``symlink`` (``target`` -> ``source``), ``mask`` (hide ``target``: ``/dev/null`` over a file, a
    read-only tmpfs over a directory; nothing if missing) or ``readonly`` (bind ``target`` onto
    itself read-only; nothing if missing).
    """

    kind: str
    target: str
    source: str | None = None
    fstype: str | None = None
    flags: int = 0
    data: str | None = None


def resolve_mountpoint(rootfs: Path, destination: str) -> Path:
    """The host path of ``destination`` inside ``rootfs``, following its symlinks inside the root."""
    if not destination.startswith("/"):
        raise MountSpecError(
            f"mount destination {destination!r} is not an absolute path",
            hint="give the path inside the container, e.g. /data",
        )
    name = destination
    for _ in range(MAX_SYMLINK_HOPS):
        path = resolve_in_root(rootfs, name, clamp=True)
        if not path.is_symlink():
            return path
        target = os.readlink(path)
        inside = "/" + os.path.relpath(path, rootfs)
        name = target if target.startswith("/") else os.path.join(os.path.dirname(inside), target)
    raise MountSpecError(
        f"mount destination {destination!r} goes through too many symlinks",
        hint="the image holds a symlink loop at this path",
    )


def _split_options(mount: MountSpec) -> tuple[int, list[str]]:
    flags = 0
    data = []
    for option in mount.options:
        if option in _FLAG_OPTIONS:
            flags |= _FLAG_OPTIONS[option]
        elif option not in _IGNORED_OPTIONS:
            data.append(option)
    return flags, data


def _user_mount_steps(spec: ContainerSpec, mount: MountSpec) -> list[MountStep]:
    target = str(resolve_mountpoint(spec.rootfs, mount.destination))
    flags, data = _split_options(mount)
    if not spec.privileged:
        flags |= MountFlag.NODEV
    if mount.type == "bind":
        try:
            is_dir = stat.S_ISDIR(os.stat(mount.source).st_mode)
        except FileNotFoundError:
            raise MountSpecError(
                f"bind mount source {mount.source!r} (for {mount.destination}) does not exist",
                hint="create the host path first, or fix the path",
            ) from None
        if data:
            raise MountSpecError(
                f"bind mount of {mount.source!r} has unknown options {', '.join(data)}",
                hint="use rbind, ro, rw, nosuid, nodev or noexec",
            )
        recursive = MountFlag.REC if "rbind" in mount.options else 0
        return [
            MountStep("mkdir" if is_dir else "mkfile", target),
            MountStep("mount", target, mount.source, None, MountFlag.BIND | recursive),
            MountStep("remount", target, flags=flags),
        ]
    return [
        MountStep("mkdir", target),
        MountStep("mount", target, mount.source, mount.type, flags, ",".join(data) or None),
    ]


def plan_rootfs(
    spec: ContainerSpec, *, new_netns: bool, userns: bool, console: str | None
) -> tuple[MountStep, ...]:
    """Every mount step for ``spec``, in order; ``console`` is the tty to bind at ``/dev/console``."""
    root = spec.rootfs
    top = str(root)
    dev = f"{top}/dev"  # strings, not Paths: this runs for every container
    nodev = 0 if spec.privileged else MountFlag.NODEV
    steps: list[MountStep] = []
    # pivot_root needs a mount point: an overlay already is one, except that in a new user
    # namespace the mounts copied from the host are locked, and pivot_root refuses a locked root
    if userns or not os.path.ismount(root):
        steps.append(MountStep("mount", top, top, None, MountFlag.BIND | MountFlag.REC))
    steps += [
        MountStep("remount", top, flags=nodev),
        MountStep("mkdir", f"{top}/proc"),
        MountStep("mount", f"{top}/proc", "proc", "proc", _SAFE),
        MountStep("mkdir", dev),
        MountStep(
            "mount",
            dev,
            "tmpfs",
            "tmpfs",
            MountFlag.NOSUID | MountFlag.STRICTATIME | nodev,
            "mode=755,size=65536k",
        ),
    ]
    for name in DEVICE_NODES:
        steps.append(MountStep("mkfile", f"{dev}/{name}"))
        steps.append(MountStep("mount", f"{dev}/{name}", f"/dev/{name}", None, MountFlag.BIND))
    if console is not None:
        steps.append(MountStep("mkfile", f"{dev}/console"))
        steps.append(MountStep("mount", f"{dev}/console", console, None, MountFlag.BIND))
    pts_options = "newinstance,ptmxmode=0666,mode=0620" + ("" if userns else ",gid=5")
    steps += [
        MountStep("mkdir", f"{dev}/pts"),
        MountStep(
            "mount", f"{dev}/pts", "devpts", "devpts", MountFlag.NOSUID | MountFlag.NOEXEC, pts_options
        ),
        MountStep("mkdir", f"{dev}/shm"),
        MountStep("mount", f"{dev}/shm", "shm", "tmpfs", _SAFE, "mode=1777,size=65536k"),
        MountStep("mkdir", f"{dev}/mqueue"),
        MountStep("mount", f"{dev}/mqueue", "mqueue", "mqueue", _SAFE),
    ]
    steps += [MountStep("symlink", f"{dev}/{name}", target) for name, target in DEV_SYMLINKS]
    read_only = 0 if spec.privileged else MountFlag.RDONLY
    steps.append(MountStep("mkdir", f"{top}/sys"))
    if new_netns:
        steps.append(MountStep("mount", f"{top}/sys", "sysfs", "sysfs", _SAFE | read_only))
    else:
        # a fresh sysfs is only allowed in a network namespace we own: bind the host's instead
        steps.append(MountStep("mount", f"{top}/sys", "/sys", None, MountFlag.BIND | MountFlag.REC))
        steps.append(MountStep("remount", f"{top}/sys", flags=_SAFE | read_only))
    for mount in spec.mounts:
        steps += _user_mount_steps(spec, mount)
    if spec.readonly_rootfs:
        steps.append(MountStep("remount", top, flags=MountFlag.RDONLY))
    if not spec.privileged:
        steps += [MountStep("mask", top + path) for path in spec.masked_paths]
        steps += [MountStep("readonly", top + path) for path in spec.readonly_paths]
    return tuple(steps)

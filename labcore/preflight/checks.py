"""The individual pre-flight checks; each returns one or more :class:`Check`."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from pathlib import Path

from labcore.image.base.elf import is_static_executable
from labcore.linux.mount import MountFlag, mount, umount
from labcore.linux.mountinfo import propagation_of
from labcore.linux.namespaces import Namespace, unshare
from labcore.preflight.cgroups import CONTROLLERS, describe_mode, probe_controller
from labcore.preflight.probe import run_in_child
from labcore.preflight.report import Check, Status
from labcore.runtime.cgroups import cgroup_mode

MIN_KERNEL = (5, 10)
MIN_FREE_BYTES = 2 << 30
WARN_FREE_BYTES = 10 << 30
_GIB = 1 << 30


def kernel_version(release: str | None = None) -> tuple[int, int]:
    """Major and minor version from a release string such as ``6.1.0-18-amd64``."""
    release = release or platform.release()
    numbers = release.split("-")[0].split(".")
    return int(numbers[0]), int(numbers[1]) if len(numbers) > 1 and numbers[1].isdigit() else 0


def check_kernel(release: str | None = None) -> Check:
    """The kernel is at least 5.10 (overlayfs features, cgroup2, pidfd)."""
    release = release or platform.release()
    version = kernel_version(release)
    if version >= MIN_KERNEL:
        return Check("kernel", Status.OK, f"Linux {release}", facts={"release": release})
    return Check(
        "kernel", Status.FAIL, f"Linux {release} is older than 5.10",
        hint="upgrade the kernel (Debian 12 ships 6.1), or use the lab VM: `vagrant up`",
        facts={"release": release},
    )


def check_privileges() -> Check:
    """Root, or unprivileged user namespaces as a fallback."""
    if os.geteuid() == 0:
        return Check("privileges", Status.OK, "running as root")
    max_userns = Path("/proc/sys/user/max_user_namespaces")
    if max_userns.exists() and int(max_userns.read_text()) > 0:
        return Check("privileges", Status.WARN, "not root; user namespaces are available",
                     hint="most lab exercises need root: run the lab with `sudo ./lab up`")
    return Check("privileges", Status.FAIL, "not root and user namespaces are disabled",
                 hint="run as root (`sudo ./lab up`) or set user.max_user_namespaces > 0")


def check_namespaces() -> list[Check]:
    """Each namespace type can be created (in a throwaway child)."""
    checks = []
    for kind in (Namespace.MNT, Namespace.PID, Namespace.UTS, Namespace.IPC,
                 Namespace.NET, Namespace.USER, Namespace.CGROUP):
        errno, message = run_in_child(lambda kind=kind: unshare(kind))  # type: ignore[misc]
        name = f"namespace:{kind.proc_name}"
        if errno == 0:
            checks.append(Check(name, Status.OK, f"can create a {kind.proc_name} namespace"))
        else:
            checks.append(Check(
                name, Status.FAIL, f"unshare({kind.proc_name}) failed: {message}",
                hint="run as root; inside a container, run the lab in a VM instead (`vagrant up`)"
                if kind is not Namespace.USER else
                "enable user namespaces: sysctl -w user.max_user_namespaces=15000",
            ))
    return checks


def _overlay_mount_in_private_namespace(base: Path) -> None:
    unshare(Namespace.MNT)
    mount(None, "/", None, MountFlag.REC | MountFlag.PRIVATE)
    for name in ("lower", "upper", "work", "merged"):
        (base / name).mkdir()
    (base / "lower" / "file").write_text("lower\n")
    options = f"lowerdir={base / 'lower'},upperdir={base / 'upper'},workdir={base / 'work'}"
    mount("overlay", base / "merged", "overlay", 0, options)
    (base / "merged" / "file").write_text("upper\n")
    umount(base / "merged")


def check_overlay(root: Path) -> Check:
    """An overlay mount works on the filesystem that holds the store."""
    root.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=".doctor-overlay-", dir=root))
    try:
        errno, message = run_in_child(lambda: _overlay_mount_in_private_namespace(base))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if errno == 0:
        return Check("overlayfs", Status.OK, f"overlay mounts work under {root}")
    return Check(
        "overlayfs", Status.FAIL, f"overlay mount under {root} failed: {message}",
        hint="load the module (`modprobe overlay`), and keep LABCORE_ROOT on ext4 or xfs, not on "
        "overlayfs, tmpfs in a container, or a network filesystem",
    )


def check_cgroups() -> list[Check]:
    """The cgroup mode, and whether memory, pids and cpu limits can be set."""
    mode = cgroup_mode()
    checks = [Check("cgroups", Status.OK, describe_mode(mode), facts={"mode": mode})]
    for controller in CONTROLLERS:
        version, error = probe_controller(controller)
        name = f"cgroup:{controller}"
        if not error:
            checks.append(Check(name, Status.OK, f"{controller} limits usable (cgroup {version})",
                                facts={"version": version}))
        else:
            checks.append(Check(
                name, Status.FAIL, error, facts={"version": version},
                hint=f"enable the {controller} controller (v2: add +{controller} to cgroup.subtree_control; "
                "on Debian boot with systemd.unified_cgroup_hierarchy=1) and run as root",
            ))
    return checks


def check_propagation() -> Check:
    """How mounts propagate from ``/``: labcore makes container mounts private either way."""
    propagation = propagation_of("/")
    return Check("mount-propagation", Status.OK, f"/ is {propagation}", required=False,
                 facts={"propagation": propagation})


def check_busybox(path: Path) -> Check:
    """busybox-static is installed: the busybox base image is built from it."""
    if not path.exists():
        return Check("busybox", Status.FAIL, f"{path} not found",
                     hint="install it: apt-get install busybox-static")
    if not is_static_executable(path):
        return Check("busybox", Status.FAIL, f"{path} is dynamically linked",
                     hint="install the static build: apt-get install busybox-static")
    return Check("busybox", Status.OK, f"{path} is a static binary")


def check_registry(address: str, timeout: float = 2.0) -> Check:
    """The lab registry answers the distribution API's ``/v2/`` ping."""
    import httpx

    url = f"http://{address}/v2/"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as error:
        return Check("registry", Status.FAIL, f"{url} did not answer: {error}", required=False,
                     hint="start the lab's registry with `sudo ./lab up`, or set LABCORE_REGISTRY")
    if response.status_code in (200, 401):
        return Check("registry", Status.OK, f"{url} answers ({response.status_code})", required=False)
    return Check("registry", Status.FAIL, f"{url} answered {response.status_code}", required=False,
                 hint="this is not a registry (distribution API v2); check LABCORE_REGISTRY")


def check_disk(root: Path) -> Check:
    """Free space where the store lives."""
    probe = root if root.exists() else next(p for p in root.parents if p.exists())
    usage = shutil.disk_usage(probe)
    detail = f"{usage.free / _GIB:.1f} GiB free under {probe}"
    facts = {"free_bytes": usage.free}
    if usage.free < MIN_FREE_BYTES:
        return Check("disk", Status.FAIL, detail, facts=facts,
                     hint="free some space (`labcore system prune`) or set LABCORE_ROOT elsewhere")
    if usage.free < WARN_FREE_BYTES:
        return Check("disk", Status.WARN, detail, facts=facts,
                     hint="the Debian base image and builds want several GiB")
    return Check("disk", Status.OK, detail, facts=facts)

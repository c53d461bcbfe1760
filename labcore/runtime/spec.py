"""What a container is made of: the plain data the runtime turns into namespaces, mounts and cgroups.

These dataclasses play the role of the OCI runtime spec (``config.json``), trimmed to what labcore
uses. They hold no behaviour; :mod:`labcore.runtime.process` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labcore.linux.namespaces import Namespace

__all__ = [
    "DEFAULT_CAPS",
    "DEFAULT_ENV",
    "DEFAULT_MASKED_PATHS",
    "DEFAULT_NAMESPACES",
    "DEFAULT_READONLY_PATHS",
    "ContainerSpec",
    "IdMapping",
    "MountSpec",
    "ProcessSpec",
    "Resources",
    "User",
]

#: Docker's default capability set (moby ``oci/caps/defaults.go``), names without ``CAP_``.
DEFAULT_CAPS: frozenset[str] = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "FSETID",
        "FOWNER",
        "MKNOD",
        "NET_RAW",
        "SETGID",
        "SETUID",
        "SETFCAP",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "KILL",
        "AUDIT_WRITE",
    }
)

#: Docker's default ``PATH`` when the image sets none.
DEFAULT_ENV: tuple[str, ...] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)

#: Every namespace a default container gets (user namespaces are opt-in).
DEFAULT_NAMESPACES: frozenset[Namespace] = frozenset(
    {Namespace.MNT, Namespace.PID, Namespace.UTS, Namespace.IPC, Namespace.NET, Namespace.CGROUP}
)

#: Paths hidden from the container (files get ``/dev/null`` bound over them, directories an empty
#: read-only tmpfs), as Docker does.
DEFAULT_MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)

#: Paths bound read-only over themselves, as Docker does.
DEFAULT_READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)


@dataclass(frozen=True)
class User:
    """The numeric identity the container's process runs as."""

    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ProcessSpec:
    """The command to run inside the container and how.

    ``args[0]`` without a ``/`` is looked up in the ``PATH`` of ``env`` inside the container's root.
    ``capabilities`` are names without ``CAP_`` (e.g. ``"CHOWN"``); ``None`` keeps every capability
    (privileged). They form the bounding set, and the effective and permitted sets of a root
    process; a non-root process starts with none, and the inheritable and ambient sets are empty,
    as Docker does it.
    """

    args: tuple[str, ...] | list[str]
    env: tuple[str, ...] | list[str] = DEFAULT_ENV
    cwd: str = "/"
    user: User = field(default_factory=User)
    terminal: bool = False
    no_new_privileges: bool = True
    capabilities: frozenset[str] | None = DEFAULT_CAPS


@dataclass(frozen=True)
class MountSpec:
    """One extra mount inside the container.

    ``type`` is ``"bind"`` (``source`` a host path; options ``rbind``, ``ro``, ``rw``, ``nosuid``,
    ``nodev``, ``noexec``), ``"tmpfs"`` (options such as ``size=64m``, ``mode=1777`` are passed as
    data) or any filesystem type the kernel knows (``"proc"``, ``"sysfs"``, ``"mqueue"``...).
    ``destination`` is an absolute path inside the container; it is resolved inside the root
    (symlinks cannot point it outside) and created if missing.
    """

    destination: str
    type: str
    source: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resources:
    """Cgroup limits; ``None`` means no limit.

    ``memory`` is in bytes (swap is disabled for the group). ``cpu_quota``/``cpu_period`` are in
    microseconds (``--cpus 0.5`` is quota 50000 of period 100000). ``cpu_shares`` is the v1 weight
    (2..262144, default 1024), converted to ``cpu.weight`` on cgroup v2 as runc does.
    """

    memory: int | None = None
    pids: int | None = None
    cpu_quota: int | None = None
    cpu_period: int = 100_000
    cpu_shares: int | None = None


@dataclass(frozen=True)
class IdMapping:
    """One line of a user namespace's ``uid_map``/``gid_map``."""

    container_id: int
    host_id: int
    size: int


@dataclass(frozen=True)
class ContainerSpec:
    """Everything the runtime needs to create one container.

    ``rootfs`` is an already-mounted directory (e.g. an overlay's merged dir); the runtime never
    unmounts it. ``netns_path`` joins an existing network namespace (e.g. ``/run/netns/NAME``)
    instead of creating one. ``uid_mappings``/``gid_mappings`` apply only when
    ``Namespace.USER`` is in ``namespaces``; empty means the identity mapping of all ids.
    ``privileged`` keeps every capability, skips masked and read-only paths, mounts ``/sys``
    read-write and leaves device nodes usable everywhere. ``readonly_rootfs`` makes the root
    read-only once every mount point exists (``docker run --read-only``).
    """

    id: str
    rootfs: Path
    process: ProcessSpec
    hostname: str = ""
    namespaces: frozenset[Namespace] = DEFAULT_NAMESPACES
    netns_path: str | None = None
    mounts: tuple[MountSpec, ...] = ()
    resources: Resources = field(default_factory=Resources)
    privileged: bool = False
    masked_paths: tuple[str, ...] = DEFAULT_MASKED_PATHS
    readonly_paths: tuple[str, ...] = DEFAULT_READONLY_PATHS
    uid_mappings: tuple[IdMapping, ...] = ()
    gid_mappings: tuple[IdMapping, ...] = ()
    cgroup_parent: str = "labcore"
    readonly_rootfs: bool = False

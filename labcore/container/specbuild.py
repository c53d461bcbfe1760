"""Turn a :class:`ContainerRecord` into the runtime's :class:`ContainerSpec`."""

from __future__ import annotations

from labcore.container.flags import cpu_quota
from labcore.container.record import ContainerRecord, MountRecord
from labcore.container.state import ContainerPaths
from labcore.linux.namespaces import Namespace
from labcore.runtime.spec import (
    DEFAULT_CAPS,
    DEFAULT_NAMESPACES,
    ContainerSpec,
    MountSpec,
    ProcessSpec,
    Resources,
    User,
)

__all__ = ["build_spec", "runtime_mount"]


def runtime_mount(mount: MountRecord) -> MountSpec:
    """The runtime mount for one recorded mount."""
    access = "rw" if mount.rw else "ro"
    if mount.type == "tmpfs":
        return MountSpec(mount.destination, "tmpfs", "tmpfs", ("nosuid", "nodev", access, *mount.options))
    return MountSpec(mount.destination, "bind", mount.source, ("rbind", access, *mount.options))


def build_spec(
    record: ContainerRecord,
    paths: ContainerPaths,
    *,
    netns_path: str | None = None,
    extra_mounts: tuple[MountSpec, ...] = (),
) -> ContainerSpec:
    """The spec that runs ``record``'s command on the rootfs mounted at ``paths.rootfs``.

    ``netns_path`` joins a prepared network namespace (bridge networks); ``extra_mounts`` come
    before the user's mounts (e.g. the network's /etc/hosts and /etc/resolv.conf).
    """
    namespaces = set(DEFAULT_NAMESPACES)
    if record.network == "host":
        namespaces.discard(Namespace.NET)
    process = ProcessSpec(
        args=list(record.args),
        env=list(record.env),
        cwd=record.workdir or "/",
        user=User(record.uid, record.gid, tuple(record.additional_gids)),
        terminal=record.tty,
        capabilities=None if record.privileged else DEFAULT_CAPS,
    )
    resources = Resources(
        memory=record.memory,
        pids=record.pids_limit,
        cpu_quota=cpu_quota(record.nano_cpus) if record.nano_cpus else None,
    )
    return ContainerSpec(
        id=record.id,
        rootfs=paths.rootfs,
        process=process,
        hostname=record.hostname,
        namespaces=frozenset(namespaces),
        netns_path=netns_path,
        mounts=(*extra_mounts, *(runtime_mount(mount) for mount in record.mounts)),
        resources=resources,
        privileged=record.privileged,
    )

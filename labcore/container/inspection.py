"""``inspect`` (Docker-like JSON) and ``stats`` (cgroup usage) of one container."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labcore.container.lookup import resolve
from labcore.container.record import ContainerRecord
from labcore.container.state import ContainerPaths, Status, derive_status, load_state

if TYPE_CHECKING:
    from labcore.container.lifecycle import Container

__all__ = ["ContainerStats", "inspect", "stats"]

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _state_json(record: ContainerRecord, paths: ContainerPaths) -> dict[str, Any]:
    state = load_state(paths)
    status = derive_status(state)
    running = status is Status.RUNNING
    return {
        "Status": status.docker_name,
        "Running": running,
        "Paused": False,
        "Pid": state.pid if running and state is not None and state.pid else 0,
        "ExitCode": state.exit_code if state is not None and state.exit_code is not None else 0,
        "OOMKilled": bool(state.oom_killed) if state is not None else False,
        "Error": (state.error or "") if state is not None else "",
        "StartedAt": (state.started_at if state is not None else None) or _ZERO_TIME,
        "FinishedAt": (state.finished_at if state is not None else None) or _ZERO_TIME,
    }


def _network_settings(record: ContainerRecord) -> dict[str, Any]:
    """Docker-like ``NetworkSettings``: address and published ports on each bridge network."""
    if record.network in ("none", "host"):
        return {"Networks": {record.network: {}}, "Ports": {}}
    from labcore.runtime import network as networking

    networks: dict[str, Any] = {}
    ports: dict[str, list[dict[str, str]]] = {}
    for endpoint in networking.container_endpoints(record.id):
        networks[endpoint.network] = {"IPAddress": endpoint.ip, "IPPrefixLen": endpoint.prefixlen}
        for port in endpoint.ports:
            ports.setdefault(f"{port.container_port}/{port.protocol}", []).append(
                {"HostIp": port.host_ip or "0.0.0.0", "HostPort": str(port.host_port)}
            )
    return {"Networks": networks, "Ports": ports}


def inspect(container: str | Container) -> dict[str, Any]:
    """Docker-like ``inspect`` JSON: Id, Name, State, Config, HostConfig, Mounts, GraphDriver."""
    record = resolve(container)
    paths = ContainerPaths.of(record.id)
    return {
        "Id": record.id,
        "Name": "/" + record.name,
        "Created": record.created,
        "Path": record.args[0] if record.args else "",
        "Args": record.args[1:],
        "State": _state_json(record, paths),
        "Image": record.image_id,
        "LogPath": str(paths.log_file),
        "Config": {
            "Hostname": record.hostname,
            "User": record.user,
            "Tty": record.tty,
            "OpenStdin": record.interactive,
            "Env": list(record.env),
            "Cmd": list(record.cmd),
            "Entrypoint": list(record.entrypoint) or None,
            "Image": record.image,
            "WorkingDir": record.workdir,
            "Labels": dict(record.labels),
            "StopSignal": record.stop_signal,
        },
        "HostConfig": {
            "Memory": record.memory or 0,
            "PidsLimit": record.pids_limit,
            "NanoCpus": record.nano_cpus or 0,
            "NetworkMode": record.network,
            "Privileged": record.privileged,
            "AutoRemove": record.auto_remove,
            "Binds": [f"{m.source}:{m.destination}{'' if m.rw else ':ro'}" for m in record.mounts if m.type == "bind"],
        },
        "Mounts": [mount.inspect() for mount in record.mounts],
        "NetworkSettings": _network_settings(record),
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {
                "UpperDir": str(paths.upper_dir),
                "WorkDir": str(paths.work_dir),
                "MergedDir": str(paths.rootfs),
            },
        },
    }


@dataclass(frozen=True)
class ContainerStats:
    """One sample of a running container's resource use, for ``stats`` and the notebooks' plots."""

    id: str
    name: str
    time: float  # time.monotonic() when sampled
    memory_bytes: int
    memory_limit: int | None
    pids: int
    cpu_usage_ns: int

    def cpu_percent(self, earlier: ContainerStats) -> float:
        """CPU use between ``earlier`` and this sample, in percent of one CPU (as docker shows)."""
        elapsed = self.time - earlier.time
        if elapsed <= 0:
            return 0.0
        return 100.0 * (self.cpu_usage_ns - earlier.cpu_usage_ns) / (elapsed * 1e9)


def stats(container: str | Container) -> ContainerStats:
    """A sample of memory, process count and CPU time from the container's cgroup (running only)."""
    from labcore.container.errors import IllegalStateError
    from labcore.runtime.cgroups import Cgroup

    record = resolve(container)
    paths = ContainerPaths.of(record.id)
    state = load_state(paths)
    status = derive_status(state)
    if not status.can_exec:  # the same rule as exec: only a running container has usage to read
        raise IllegalStateError(f"cannot read stats of container {record.name}: it is {status.docker_name}",
                                hint="start it first; `labcore ps -a` shows its state")
    assert state is not None and state.cgroup is not None
    usage = Cgroup.open(state.cgroup).stats()
    return ContainerStats(
        record.id,
        record.name,
        time.monotonic(),
        usage.memory_bytes,
        usage.memory_limit,
        usage.pids,
        usage.cpu_usage_ns,
    )

"""The ``/etc/hosts`` and ``/etc/resolv.conf`` each container bind-mounts.

They live in ``settings().run / "networks" / "containers" / <id>/``, one pair per container (a
container on two networks still has one ``/etc/hosts``). On user-defined networks containers find
each other by name through ``/etc/hosts``: whenever a container joins or leaves a network, the
hosts file of every container on it is rewritten. The rewrite is *in place* (same inode), because a
file bind mount keeps pointing at the inode it was made from and would never see a renamed
replacement. The default network ``bridge`` has no name resolution between containers, as in Docker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from labcore.fs.atomic import write_json_atomic
from labcore.runtime.network.endpoint_store import network_endpoints
from labcore.runtime.network.networks import list_networks
from labcore.runtime.network.records import DEFAULT_NETWORK, Endpoint
from labcore.runtime.network.state import containers_run_dir, read_json

__all__ = [
    "forget_container",
    "hosts_content",
    "hosts_file",
    "refresh_hosts",
    "resolv_conf",
    "resolv_content",
]

HOST_RESOLV_CONF = Path("/etc/resolv.conf")
FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")
_LOCALHOST = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"


def _directory(container_id: str) -> Path:
    return containers_run_dir() / container_id


def _identity(container_id: str) -> dict[str, str]:
    data: dict[str, str] = read_json(_directory(container_id) / "identity.json", {})
    return data


#: Every endpoint of every network, by network id, read once for a batch of rewrites.
EndpointCache = dict[str, list[Endpoint]]


def _load_all() -> EndpointCache:
    return {network.id: network_endpoints(network) for network in list_networks()}


def hosts_content(container_id: str, hostname: str = "", cache: EndpointCache | None = None) -> str:
    """What the container's ``/etc/hosts`` says now: localhost, itself, and its peers by name.

    ``cache`` (see :data:`EndpointCache`) saves re-reading the records when many files are rewritten.
    """
    everything = _load_all() if cache is None else cache
    lines = [_LOCALHOST]
    endpoints = [ep for eps in everything.values() for ep in eps if ep.container_id == container_id]
    endpoints.sort(key=lambda endpoint: endpoint.interface)
    for endpoint in endpoints:
        names = [name for name in (hostname, endpoint.name, *endpoint.aliases) if name]
        if names:
            lines.append(f"{endpoint.ip}\t{' '.join(dict.fromkeys(names))}\n")
    for endpoint in endpoints:
        if endpoint.network == DEFAULT_NETWORK:
            continue
        for peer in everything.get(endpoint.network_id, []):
            if peer.container_id == container_id:
                continue
            names = [name for name in (peer.name, *peer.aliases, peer.container_id[:12]) if name]
            lines.append(f"{peer.ip}\t{' '.join(dict.fromkeys(names))}\n")
    return "".join(lines)


def _rewrite_in_place(path: Path, content: str) -> None:
    """Overwrite ``path`` keeping its inode: write, then cut to length.

    No fsync: the file is derived from the endpoint records and rewritten on every change.
    """
    data = content.encode()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if os.pread(fd, len(data) + 1, 0) == data:
            return
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def hosts_file(container_id: str, *, hostname: str | None = None, cache: EndpointCache | None = None) -> Path:
    """Write the container's hosts file and return its path, for the container to bind-mount.

    ``hostname`` (remembered for later rewrites) is listed with the container's own addresses.
    """
    directory = _directory(container_id)
    directory.mkdir(parents=True, exist_ok=True)
    identity = _identity(container_id)
    if hostname is not None and identity.get("hostname") != hostname:
        identity["hostname"] = hostname
        write_json_atomic(directory / "identity.json", identity)
    path = directory / "hosts"
    _rewrite_in_place(path, hosts_content(container_id, identity.get("hostname", ""), cache))
    return path


def refresh_hosts(container_ids: list[str]) -> None:
    """Rewrite the hosts files of these containers (those that have one)."""
    cache = _load_all()
    for container_id in container_ids:
        if (_directory(container_id) / "hosts").exists():
            hosts_file(container_id, cache=cache)


def resolv_content(host_resolv: Path = HOST_RESOLV_CONF) -> str:
    """The host's ``resolv.conf`` minus loopback name servers, which a container cannot reach.

    When no name server is left, Google's public ones are used, as Docker does.
    """
    try:
        lines = host_resolv.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    kept = []
    servers = 0
    for line in lines:
        fields = line.split()
        if fields[:1] == ["nameserver"] and len(fields) > 1:
            if fields[1].startswith("127.") or fields[1] == "::1":
                continue
            servers += 1
        kept.append(line)
    if servers == 0:
        kept.extend(f"nameserver {server}" for server in FALLBACK_NAMESERVERS)
    return "\n".join(kept) + "\n"


def resolv_conf(container_id: str) -> Path:
    """Write the container's ``resolv.conf`` and return its path, for the container to bind-mount."""
    directory = _directory(container_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "resolv.conf"
    _rewrite_in_place(path, resolv_content())
    return path


def forget_container(container_id: str) -> None:
    """Delete the container's generated files (after it is gone)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(_directory(container_id))

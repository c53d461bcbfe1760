"""A container's network sandbox: a named netns made for it, attached to its network, in one call.

This is what the container code calls for ``--network bridge|NAME``::

    sandbox = create_sandbox(container_id, "bridge", name="web", ports=[parse_publish("8080:80")])
    # ContainerSpec(netns_path=sandbox.netns_path, mounts=(... sandbox.hosts ..., ... sandbox.resolv_conf ...))
    ...
    cleanup(container_id)   # detaches, frees the lease, drops the rules, removes the netns

The namespace is ``/run/netns/labcore-<first 16 hex of the id>``, so :func:`cleanup` finds it
again even after the container's supervisor was killed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labcore.runtime.network.endpoints import attach
from labcore.runtime.network.hostfiles import hosts_file, resolv_conf
from labcore.runtime.network.netns import create_netns, netns_path, remove_netns, sandbox_netns_name
from labcore.runtime.network.records import Endpoint, Network, PortMapping

__all__ = ["Sandbox", "create_sandbox", "remove_sandbox_netns", "sandbox_netns_name"]


@dataclass(frozen=True)
class Sandbox:
    """A prepared network namespace: where it is, its endpoint, and the files to bind-mount."""

    netns_path: str
    endpoint: Endpoint
    hosts: Path
    resolv_conf: Path


def create_sandbox(
    container_id: str,
    network: str | Network,
    *,
    name: str = "",
    hostname: str | None = None,
    aliases: Iterable[str] = (),
    ports: Sequence[PortMapping] = (),
) -> Sandbox:
    """Create the container's netns and attach it to ``network``; undone by :func:`cleanup`."""
    netns_name = sandbox_netns_name(container_id)
    path = create_netns(netns_name)
    try:
        endpoint = attach(network, container_id, path, name=name, hostname=hostname, aliases=aliases, ports=ports)
    except BaseException:
        remove_netns(netns_name)
        raise
    return Sandbox(path, endpoint, hosts_file(container_id), resolv_conf(container_id))


def remove_sandbox_netns(container_id: str) -> bool:
    """Remove the container's netns if it exists; whether it did."""
    name = sandbox_netns_name(container_id)
    existed = Path(netns_path(name)).exists()
    remove_netns(name)
    return existed

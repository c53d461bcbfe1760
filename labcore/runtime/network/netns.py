"""Named network namespaces (``/run/netns/NAME``, as ``ip netns`` makes them), through pyroute2."""

from __future__ import annotations

import os

from pyroute2 import netns as pyroute2_netns

__all__ = ["NETNS_DIR", "create_netns", "netns_path", "remove_netns", "sandbox_netns_name"]

NETNS_DIR = "/run/netns"


def netns_path(name: str) -> str:
    """The path of the named namespace ``name``."""
    return f"{NETNS_DIR}/{name}"


def create_netns(name: str) -> str:
    """Create network namespace ``name`` (only ``lo``, down) and return its path."""
    pyroute2_netns.create(name)
    return netns_path(name)


def remove_netns(name: str) -> None:
    """Remove the named namespace; the kernel destroys it (and its veth ends) once unused."""
    if os.path.exists(netns_path(name)):
        pyroute2_netns.remove(name)


def sandbox_netns_name(container_id: str) -> str:
    """The name of the network namespace made for ``container_id`` (see ``create_sandbox``)."""
    return f"labcore-{container_id[:16]}"

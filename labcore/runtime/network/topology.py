"""What the network looks like right now, for notebooks to draw: bridges, veths, namespaces."""

from __future__ import annotations

import os
import socket
from typing import Any

from pyroute2 import IPRoute

from labcore.runtime.network.endpoint_store import network_endpoints
from labcore.runtime.network.netlink import outside_event_loop
from labcore.runtime.network.networks import list_networks

__all__ = ["topology"]


@outside_event_loop
def _namespace_view(netns_path: str) -> list[dict[str, Any]]:
    """The interfaces inside a namespace with their IPv4 addresses (empty if it is gone)."""
    if not os.path.exists(netns_path):
        return []
    with IPRoute(netns=netns_path, flags=0) as ns:
        addresses: dict[int, list[str]] = {}
        for address in ns.get_addr(family=socket.AF_INET):
            addresses.setdefault(address["index"], []).append(f"{address.get('address')}/{address['prefixlen']}")
        return [
            {
                "name": link.get("ifname"),
                "mac": link.get("address"),
                "state": link.get("operstate"),
                "addresses": addresses.get(link["index"], []),
            }
            for link in ns.get_links()
        ]


@outside_event_loop
def topology() -> dict[str, Any]:
    """Bridges (with their ports), veth pairs and container namespaces, as plain JSON-able data.

    ``{"bridges": [{name, network, subnet, gateway, up, ports}], "veths": [{host, bridge,
    container, interface, ip, mac, namespace}], "namespaces": [{path, container, interfaces}]}``
    """
    with IPRoute() as ipr:
        live = {link["index"]: link for link in ipr.get_links()}
    by_name = {link.get("ifname"): link for link in live.values()}
    bridges: list[dict[str, Any]] = []
    veths: list[dict[str, Any]] = []
    namespaces: dict[str, dict[str, Any]] = {}
    for network in list_networks():
        bridge = by_name.get(network.bridge)
        ports = []
        if bridge is not None:
            ports = sorted(str(link.get("ifname")) for link in live.values() if link.get("master") == bridge["index"])
        bridges.append(
            {
                "name": network.bridge,
                "network": network.name,
                "subnet": network.subnet,
                "gateway": network.gateway,
                "up": bridge is not None and bridge.get("operstate") != "DOWN",
                "ports": ports,
            }
        )
        for endpoint in network_endpoints(network):
            veths.append(
                {
                    "host": endpoint.veth_host,
                    "bridge": network.bridge,
                    "container": endpoint.container_id,
                    "interface": endpoint.interface,
                    "ip": endpoint.ip,
                    "mac": endpoint.mac,
                    "namespace": endpoint.netns_path,
                    "present": endpoint.veth_host in by_name,
                }
            )
            if endpoint.netns_path not in namespaces:
                namespaces[endpoint.netns_path] = {
                    "path": endpoint.netns_path,
                    "container": endpoint.container_id,
                    "interfaces": _namespace_view(endpoint.netns_path),
                }
    return {"bridges": bridges, "veths": veths, "namespaces": list(namespaces.values())}

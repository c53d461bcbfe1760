"""Container networking: bridge networks, veth pairs, address leases, names and published ports.

All netlink work goes through pyroute2 (``IPRoute``); firewall rules live in nftables'
``table ip labcore``. Typical use by the container code::

    from labcore.runtime import network

    sandbox = network.create_sandbox(container_id, "bridge", name="web",
                                     ports=[network.parse_publish("8080:80")])
    # run the container with ContainerSpec(netns_path=sandbox.netns_path, ...) and bind-mount
    # sandbox.hosts on /etc/hosts and sandbox.resolv_conf on /etc/resolv.conf
    ...
    network.cleanup(container_id)   # detach from every network, free leases, drop rules, rm netns

``attach(network, container_id, netns_path)`` joins any existing namespace (``/proc/PID/ns/net``
of a running container, or ``create_netns(name)``) instead.
"""

from __future__ import annotations

from labcore.runtime.network.endpoint_store import all_endpoints, container_endpoints, network_endpoints
from labcore.runtime.network.endpoints import (
    attach,
    cleanup,
    connect,
    container_ports,
    detach,
    disconnect,
    veth_names,
)
from labcore.runtime.network.errors import (
    FirewallError,
    NetworkInUseError,
    NetworkNotFoundError,
    PortInUseError,
    PortSpecError,
    SubnetFullError,
    SubnetOverlapError,
)
from labcore.runtime.network.hostfiles import hosts_file, resolv_conf
from labcore.runtime.network.ipam import leases
from labcore.runtime.network.netns import create_netns, netns_path, remove_netns
from labcore.runtime.network.networks import (
    PSEUDO_NETWORKS,
    create_network,
    ensure_default_network,
    get_network,
    list_networks,
    prune_networks,
    remove_network,
)
from labcore.runtime.network.ports import parse_publish, publish_all
from labcore.runtime.network.records import DEFAULT_BRIDGE, DEFAULT_NETWORK, Endpoint, Network, PortMapping
from labcore.runtime.network.sandbox import Sandbox, create_sandbox, remove_sandbox_netns, sandbox_netns_name
from labcore.runtime.network.topology import topology

__all__ = [
    "DEFAULT_BRIDGE",
    "DEFAULT_NETWORK",
    "PSEUDO_NETWORKS",
    "Endpoint",
    "FirewallError",
    "Network",
    "NetworkInUseError",
    "NetworkNotFoundError",
    "PortInUseError",
    "PortMapping",
    "PortSpecError",
    "Sandbox",
    "SubnetFullError",
    "SubnetOverlapError",
    "all_endpoints",
    "attach",
    "cleanup",
    "connect",
    "container_endpoints",
    "container_ports",
    "create_netns",
    "create_network",
    "create_sandbox",
    "detach",
    "disconnect",
    "ensure_default_network",
    "get_network",
    "hosts_file",
    "leases",
    "list_networks",
    "netns_path",
    "network_endpoints",
    "parse_publish",
    "prune_networks",
    "publish_all",
    "remove_netns",
    "remove_network",
    "remove_sandbox_netns",
    "resolv_conf",
    "sandbox_netns_name",
    "topology",
    "veth_names",
]

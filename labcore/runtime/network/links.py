"""The netlink half of networking, through pyroute2: bridges, veth pairs, addresses, routes."""

from __future__ import annotations

import errno
import os
import socket

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from labcore.runtime.network.netlink import outside_event_loop

__all__ = [
    "bridge_ports",
    "configure_container_end",
    "create_veth",
    "delete_link",
    "ensure_bridge",
    "link_exists",
    "netns_links",
]


def link_exists(name: str) -> bool:
    """Whether the host has a network interface called ``name``."""
    return os.path.exists(f"/sys/class/net/{name}")


@outside_event_loop
def ensure_bridge(name: str, gateway: str, prefixlen: int) -> None:
    """Create bridge ``name`` (or adopt a leftover one) with address ``gateway/prefixlen``, up."""
    with IPRoute() as ipr:
        if not ipr.link_lookup(ifname=name):
            ipr.link("add", ifname=name, kind="bridge")
        index = ipr.link_lookup(ifname=name)[0]
        present = {
            (address.get("address"), address["prefixlen"])
            for address in ipr.get_addr(family=socket.AF_INET, index=index)
        }
        if (gateway, prefixlen) not in present:
            ipr.addr("add", index=index, address=gateway, prefixlen=prefixlen)
        ipr.link("set", index=index, state="up")


def bridge_ports(name: str) -> list[str]:
    """The interfaces enslaved to bridge ``name`` (empty when it does not exist)."""
    try:
        return sorted(os.listdir(f"/sys/class/net/{name}/brif"))
    except FileNotFoundError:
        return []


@outside_event_loop
def delete_link(name: str) -> bool:
    """Delete interface ``name`` (a veth's peer goes with it); False when it was already gone."""
    with IPRoute() as ipr:
        try:
            ipr.link("del", ifname=name)
        except NetlinkError as error:
            if error.code == errno.ENODEV:
                return False
            raise
        return True


@outside_event_loop
def create_veth(host_name: str, peer_name: str, bridge: str, netns_path: str) -> None:
    """A veth pair: ``host_name`` up on ``bridge``, ``peer_name`` created inside ``netns_path``."""
    fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with IPRoute() as ipr:
            bridge_index = ipr.link_lookup(ifname=bridge)[0]
            ipr.link("add", ifname=host_name, kind="veth", peer={"ifname": peer_name, "net_ns_fd": fd})
            try:
                host_index = ipr.link_lookup(ifname=host_name)[0]
                ipr.link("set", index=host_index, master=bridge_index, state="up")
            except BaseException:
                ipr.link("del", ifname=host_name)
                raise
    finally:
        os.close(fd)


@outside_event_loop
def netns_links(netns_path: str) -> list[str]:
    """The interface names inside the network namespace at ``netns_path``."""
    with IPRoute(netns=netns_path, flags=0) as ns:
        return sorted(str(link.get("ifname")) for link in ns.get_links())


@outside_event_loop
def configure_container_end(
    netns_path: str,
    peer_name: str,
    *,
    mac: str,
    ip: str,
    prefixlen: int,
    gateway: str,
) -> str:
    """Inside the namespace: rename the veth end, set its MAC and address, bring it and ``lo`` up.

    The new name is the first free of ``eth0``, ``eth1``... and is returned. A default route via
    ``gateway`` is added unless the namespace already has one (a container connected to a second
    network keeps the first network's default route, as in Docker).
    """
    with IPRoute(netns=netns_path, flags=0) as ns:
        indexes = {str(link.get("ifname")): int(link["index"]) for link in ns.get_links()}
        interface = next(f"eth{number}" for number in range(len(indexes) + 1) if f"eth{number}" not in indexes)
        index = indexes[peer_name]
        ns.link("set", index=index, ifname=interface, address=mac)
        ns.addr("add", index=index, address=ip, prefixlen=prefixlen)
        ns.link("set", index=index, state="up")
        ns.link("set", index=indexes["lo"], state="up")
        # a namespace with only lo and this veth (the usual case) cannot have a default route yet
        has_default = len(indexes) > 2 and any(
            route["dst_len"] == 0 for route in ns.get_routes(family=socket.AF_INET, table=254)
        )
        if not has_default:
            ns.route("add", dst="0.0.0.0/0", gateway=gateway)
    return interface

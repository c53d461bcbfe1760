"""Subnets: parse them, find the host's own, refuse overlaps and allocate from a pool."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable

from pyroute2 import IPRoute

from labcore.errors import UsageError
from labcore.runtime.network.errors import SubnetFullError, SubnetOverlapError
from labcore.runtime.network.netlink import outside_event_loop

__all__ = [
    "DEFAULT_SUBNET",
    "USER_POOL",
    "allocate_subnet",
    "check_no_overlap",
    "default_subnet",
    "host_networks",
    "parse_subnet",
]

#: The default network's subnet, unless ``LABCORE_BRIDGE_SUBNET`` says otherwise.
DEFAULT_SUBNET = "10.88.0.0/16"
#: User-defined networks get a /24 from this pool when no ``--subnet`` is given.
USER_POOL = ipaddress.IPv4Network("10.89.0.0/16")
POOL_PREFIX = 24


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    """The IPv4 network ``text`` (``10.90.0.0/24``), refusing host bits and subnets with no room."""
    try:
        subnet = ipaddress.IPv4Network(text.strip(), strict=True)
    except ValueError as error:
        raise UsageError(
            f"invalid subnet {text!r}: {error}",
            hint="give an IPv4 network in CIDR form with no host bits, e.g. 10.90.0.0/24",
        ) from None
    if subnet.prefixlen > 30:
        raise SubnetFullError(
            f"subnet {subnet} has no room for a gateway and a container",
            hint="use a prefix of /30 or shorter, e.g. /24",
        )
    return subnet


def default_subnet() -> ipaddress.IPv4Network:
    """The default network's subnet: ``LABCORE_BRIDGE_SUBNET`` or :data:`DEFAULT_SUBNET`."""
    return parse_subnet(os.environ.get("LABCORE_BRIDGE_SUBNET") or DEFAULT_SUBNET)


@outside_event_loop
def host_networks(exclude_links: Iterable[str] = ()) -> list[tuple[ipaddress.IPv4Network, str]]:
    """The host's IPv4 networks in use, with where each comes from (``route via eth0``...).

    These are the main table's routes (except the default route) and the networks of the
    addresses on every interface except those named in ``exclude_links`` and loopback.
    """
    excluded = set(exclude_links)
    found: list[tuple[ipaddress.IPv4Network, str]] = []
    with IPRoute() as ipr:
        names = {link["index"]: link.get("ifname") for link in ipr.get_links()}
        for route in ipr.get_routes(family=socket.AF_INET, table=254):
            if route["dst_len"] == 0:
                continue
            device = names.get(route.get("oif"), "?")
            if device in excluded:
                continue
            network = ipaddress.IPv4Network(f"{route.get('dst')}/{route['dst_len']}", strict=False)
            found.append((network, f"host route {network} on {device}"))
        for address in ipr.get_addr(family=socket.AF_INET):
            device = names.get(address["index"], "?")
            if device in excluded or device == "lo":
                continue
            network = ipaddress.IPv4Network(f"{address.get('address')}/{address['prefixlen']}", strict=False)
            found.append((network, f"address {address.get('address')}/{address['prefixlen']} on {device}"))
    return found


def check_no_overlap(
    subnet: ipaddress.IPv4Network,
    taken: Iterable[tuple[ipaddress.IPv4Network, str]],
) -> None:
    """Raise :class:`SubnetOverlapError` when ``subnet`` overlaps any network in ``taken``."""
    for network, source in taken:
        if subnet.overlaps(network):
            raise SubnetOverlapError(f"subnet {subnet} overlaps {source}")


def allocate_subnet(taken: Iterable[tuple[ipaddress.IPv4Network, str]]) -> ipaddress.IPv4Network:
    """The first /24 of :data:`USER_POOL` that overlaps nothing in ``taken``."""
    used = [network for network, _ in taken]
    for candidate in USER_POOL.subnets(new_prefix=POOL_PREFIX):
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    raise SubnetFullError(
        f"the address pool {USER_POOL} has no free /{POOL_PREFIX} left",
        hint="remove unused networks (`labcore network prune`) or give --subnet explicitly",
    )

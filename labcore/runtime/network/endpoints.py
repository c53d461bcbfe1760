"""Attach containers to networks and detach them: veth pair, address, routes, ports, hosts files.

Each attachment is serialised by its network's lock; a failure part-way undoes what was done, so
an endpoint is either fully there (record, lease, veth, rules) or not at all. :func:`cleanup`
removes everything a container left behind, even when it was killed without a chance to detach.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from labcore.errors import ConflictError
from labcore.fs.atomic import locked
from labcore.runtime.network import firewall, ipam, links
from labcore.runtime.network.endpoint_store import (
    all_endpoints,
    container_endpoints,
    delete_endpoint,
    network_endpoints,
    save_endpoint,
)
from labcore.runtime.network.errors import PortInUseError
from labcore.runtime.network.hostfiles import forget_container, hosts_file, refresh_hosts, resolv_conf
from labcore.runtime.network.netns import remove_netns, sandbox_netns_name
from labcore.runtime.network.networks import bridge_lock, ensure_up, get_network, list_networks, network_lock
from labcore.runtime.network.ports import check_host_port_free, pick_host_port
from labcore.runtime.network.records import Endpoint, Network, PortMapping
from labcore.runtime.network.state import networks_dir

__all__ = ["attach", "cleanup", "connect", "container_ports", "detach", "disconnect", "veth_names"]


def veth_names(network: Network, container_id: str) -> tuple[str, str]:
    """The host and (temporary) container names of the veth pair joining a container to a network.

    They derive from the network and container ids, so a crashed attachment can be found again.
    """
    digest = hashlib.sha256(f"{network.id}:{container_id}".encode()).hexdigest()[:12]
    return f"lcv{digest}", f"lcp{digest}"


def _resolve(network: str | Network, *, create_default: bool = True) -> Network:
    return network if isinstance(network, Network) else get_network(network, create_default=create_default)


def _overlaps(a: PortMapping, b: PortMapping) -> bool:
    same_address = not a.host_ip or not b.host_ip or a.host_ip == b.host_ip
    return a.protocol == b.protocol and a.host_port == b.host_port and same_address


def _assign_host_ports(requested: Sequence[PortMapping]) -> tuple[PortMapping, ...]:
    """Fill in random host ports and refuse ports labcore or a host program already uses."""
    published = [
        (port, endpoint.name or endpoint.container_id[:12]) for endpoint in all_endpoints() for port in endpoint.ports
    ]
    # the nftables table is host-wide: it also shows ports published from another labcore root
    elsewhere = firewall.published_ports()
    taken = {(port.host_port, port.protocol) for port, _ in published} | elsewhere
    assigned: list[PortMapping] = []
    for mapping in requested:
        if mapping.host_port == 0:
            port = pick_host_port(mapping, taken)
            mapping = PortMapping(mapping.container_port, port, mapping.host_ip, mapping.protocol)
        else:
            for other, owner in (*published, *((port, "this container") for port in assigned)):
                if _overlaps(mapping, other):
                    raise PortInUseError(
                        f"host port {mapping.host_ip or '0.0.0.0'}:{mapping.host_port}/{mapping.protocol} "
                        f"is already published by {owner} ({other})"
                    )
            if (mapping.host_port, mapping.protocol) in elsewhere:
                raise PortInUseError(
                    f"host port {mapping.host_port}/{mapping.protocol} is already published by another labcore root"
                )
            check_host_port_free(mapping)
        taken.add((mapping.host_port, mapping.protocol))
        assigned.append(mapping)
    return tuple(assigned)


def attach(
    network: str | Network,
    container_id: str,
    netns_path: str,
    *,
    name: str = "",
    aliases: Iterable[str] = (),
    ports: Sequence[PortMapping] = (),
    hostname: str | None = None,
) -> Endpoint:
    """Join the network namespace at ``netns_path`` to ``network``; the new :class:`Endpoint`.

    A veth pair gets its host end on the network's bridge and its other end, renamed ``eth0``
    (``eth1``... when the namespace is already on a network), inside the namespace, with a leased
    address, a MAC derived from it, ``lo`` up and a default route via the gateway. ``ports`` are
    published (a host port of 0 gets a free one). ``name`` and ``aliases`` are how other
    containers on a user-defined network find this one; the container's hosts file and
    ``resolv.conf`` (see :func:`hosts_file`, :func:`resolv_conf`) are written.
    """
    net = _resolve(network)
    host_end, peer_end = veth_names(net, container_id)
    with locked(network_lock(net)):
        if any(endpoint.container_id == container_id for endpoint in network_endpoints(net)):
            raise ConflictError(
                f"container {container_id[:12]} is already attached to network {net.name!r}",
                hint="disconnect it first",
            )
        address = ipam.allocate(net, container_id)
        unit = firewall.endpoint_unit(net, container_id)
        try:
            with bridge_lock(net):  # once the veth is on it, nobody deletes the bridge
                ensure_up(net)
                links.create_veth(host_end, peer_end, net.bridge, netns_path)
            mac = ipam.mac_for(address)
            interface = links.configure_container_end(
                netns_path,
                peer_end,
                mac=mac,
                ip=address,
                prefixlen=net.prefixlen,
                gateway=net.gateway,
            )
            with locked(networks_dir() / "ports.lock"):
                published = _assign_host_ports(ports)
                endpoint = Endpoint(
                    network=net.name,
                    network_id=net.id,
                    container_id=container_id,
                    name=name,
                    ip=address,
                    prefixlen=net.prefixlen,
                    mac=mac,
                    gateway=net.gateway,
                    veth_host=host_end,
                    interface=interface,
                    netns_path=netns_path,
                    aliases=tuple(aliases),
                    ports=published,
                )
                firewall.add_unit(unit, firewall.endpoint_rules(address, published))
                save_endpoint(net, endpoint)
        except BaseException:
            firewall.remove_unit(unit)
            links.delete_link(host_end)
            ipam.release(net, container_id)
            raise
        hosts_file(container_id, hostname=hostname)
        resolv_conf(container_id)
        if not net.is_default:
            refresh_hosts([peer.container_id for peer in network_endpoints(net)])
    return endpoint


def detach(network: str | Network, container_id: str) -> bool:
    """Undo :func:`attach`: delete the veth pair, the port rules, the lease and the record.

    Works on leftovers too (a killed container, a half-done attach); False when there was nothing.
    """
    net = _resolve(network, create_default=False)
    host_end, _ = veth_names(net, container_id)
    with locked(network_lock(net)):
        record = next((ep for ep in network_endpoints(net) if ep.container_id == container_id), None)
        had_record = record is not None
        # rules exist only for published ports, or as leftovers of an attach that died before its record
        removed_rules = 0
        if record is None or record.ports:
            removed_rules = firewall.remove_unit(firewall.endpoint_unit(net, container_id))
        removed_link = links.delete_link(host_end)
        freed = ipam.release(net, container_id)
        delete_endpoint(net, container_id)
        if not net.is_default:
            refresh_hosts([peer.container_id for peer in network_endpoints(net)])
        refresh_hosts([container_id])
    return bool(had_record or removed_rules or removed_link or freed)


def connect(
    network: str | Network,
    container_id: str,
    netns_path: str,
    *,
    name: str = "",
    aliases: Iterable[str] = (),
) -> Endpoint:
    """Connect a running container to one more network (``labcore network connect``)."""
    return attach(network, container_id, netns_path, name=name, aliases=aliases)


def disconnect(network: str | Network, container_id: str) -> bool:
    """Disconnect a running container from a network (``labcore network disconnect``)."""
    return detach(network, container_id)


def cleanup(container_id: str) -> list[str]:
    """Remove every trace of ``container_id`` on every network; the networks it was cleaned from.

    This is what the reaper calls for a container that died without detaching (``kill -9``). The
    netns :func:`~labcore.runtime.network.sandbox.create_sandbox` made for it is removed too.
    """
    cleaned = [net.name for net in list_networks() if detach(net, container_id)]
    forget_container(container_id)
    remove_netns(sandbox_netns_name(container_id))
    return cleaned


def container_ports(container_id: str) -> list[PortMapping]:
    """The ports ``container_id`` publishes, on all its networks."""
    return [port for endpoint in container_endpoints(container_id) for port in endpoint.ports]

"""Networks: create, find, list and remove bridge networks (and the default network ``bridge``)."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import secrets
import shutil
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from labcore.errors import ConflictError, UsageError
from labcore.fs.atomic import locked, write_json_atomic
from labcore.runtime.network import firewall, links, sysctl
from labcore.runtime.network.errors import NetworkInUseError, NetworkNotFoundError, SubnetOverlapError
from labcore.runtime.network.records import DEFAULT_BRIDGE, DEFAULT_NETWORK, Network
from labcore.runtime.network.state import HOST_STATE_DIR, networks_dir, read_json
from labcore.runtime.network.subnets import (
    allocate_subnet,
    check_no_overlap,
    default_subnet,
    host_networks,
    parse_subnet,
)

__all__ = [
    "PSEUDO_NETWORKS",
    "bridge_lock",
    "create_network",
    "endpoint_dir",
    "ensure_default_network",
    "ensure_up",
    "get_network",
    "list_networks",
    "network_lock",
    "prune_networks",
    "remove_network",
]

#: Network modes that are not bridge networks: ``host`` shares the host's netns, ``none`` has ``lo`` only.
PSEUDO_NETWORKS = ("host", "none")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$")


def _registry_lock() -> Path:
    return networks_dir() / "networks.lock"


def network_lock(network: Network) -> Path:
    """The lock serialising attach/detach on ``network``."""
    return networks_dir() / network.id / "endpoints.lock"


def endpoint_dir(network: Network) -> Path:
    """The directory holding one JSON record per container attached to ``network``."""
    return networks_dir() / network.id / "endpoints"


def list_networks() -> list[Network]:
    """Every bridge network of this labcore root, the default one first if it exists."""
    found = []
    for record in sorted(networks_dir().glob("*/network.json")):
        data = read_json(record)
        if data is not None:
            found.append(Network.from_json(data))
    return sorted(found, key=lambda network: (not network.is_default, network.name))


def get_network(name_or_id: str, *, create_default: bool = True) -> Network:
    """The network called ``name_or_id``, or whose id starts with it.

    ``bridge``, the default network, is created on first use unless ``create_default`` is False.
    """
    networks = list_networks()
    for network in networks:
        if network.name == name_or_id or network.id == name_or_id:
            return network
    matches = [network for network in networks if len(name_or_id) >= 3 and network.id.startswith(name_or_id)]
    if len(matches) == 1:
        return matches[0]
    if name_or_id == DEFAULT_NETWORK and create_default:
        return ensure_default_network()
    if name_or_id in PSEUDO_NETWORKS:
        raise UsageError(
            f"network {name_or_id!r} is not a bridge network",
            hint="--network host and --network none need no attachment",
        )
    raise NetworkNotFoundError(f"no such network: {name_or_id!r}")


def _taken(exclude_links: tuple[str, ...] = ()) -> list[tuple[ipaddress.IPv4Network, str]]:
    # labcore's own networks first, so that an overlap names the network rather than its bridge route
    taken = [
        (ipaddress.IPv4Network(network.subnet), f"network {network.name!r} ({network.bridge})")
        for network in list_networks()
    ]
    taken.extend(host_networks(exclude_links=exclude_links))
    return taken


def bridge_lock(network: Network) -> AbstractContextManager[None]:
    """The host-wide lock on a network's bridge.

    It is held while the bridge is created or re-created, while a container's veth is put on it,
    and while it is checked for ports and deleted, so that one labcore root never deletes the
    shared ``labcore0`` under another root's attach. Taken after any root or network lock.
    """
    return locked(HOST_STATE_DIR / f"{network.bridge}.lock")


def _bring_up(network: Network) -> None:
    links.ensure_bridge(network.bridge, network.gateway, network.prefixlen)
    sysctl.enable_route_localnet(network.bridge)
    sysctl.enable_forwarding()
    firewall.remove_unit(firewall.network_unit(network))
    firewall.add_unit(firewall.network_unit(network), firewall.network_rules(network))


def _save(network: Network) -> None:
    (networks_dir() / network.id / "endpoints").mkdir(parents=True, exist_ok=True)
    write_json_atomic(networks_dir() / network.id / "network.json", network.to_json())


def _new_network(name: str, bridge: str, subnet: ipaddress.IPv4Network, network_id: str) -> Network:
    gateway = str(next(subnet.hosts()))
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return Network(network_id, name, bridge, str(subnet), gateway, created)


def create_network(name: str, subnet: str | None = None) -> Network:
    """Create user-defined network ``name``: bridge ``lc-<short id>``, its own subnet, gateway ``.1``.

    Without ``subnet`` a free /24 is taken from 10.89.0.0/16. A subnet overlapping a host route,
    a host address or another network is refused.
    """
    if not _NAME.match(name):
        raise UsageError(
            f"invalid network name {name!r}",
            hint="use letters, digits, '_', '.', '-', starting with a letter or digit (at most 64)",
        )
    if name in (DEFAULT_NETWORK, *PSEUDO_NETWORKS):
        raise ConflictError(f"network name {name!r} is reserved", hint="pick another name")
    with locked(_registry_lock()):
        if any(network.name == name for network in list_networks()):
            raise ConflictError(f"network {name!r} already exists", hint="pick another name, or remove it first")
        taken = _taken()
        if subnet is None:
            chosen = allocate_subnet(taken)
        else:
            chosen = parse_subnet(subnet)
            check_no_overlap(chosen, taken)
        network_id = secrets.token_hex(32)
        network = _new_network(name, f"lc-{network_id[:12]}", chosen, network_id)
        _save(network)
        try:
            with bridge_lock(network):
                _bring_up(network)
        except BaseException:
            _tear_down(network)
            raise
    return network


def ensure_default_network() -> Network:
    """The default network ``bridge`` (bridge ``labcore0``), created and brought up when needed."""
    with locked(_registry_lock()):
        for network in list_networks():
            if network.is_default:
                with bridge_lock(network):
                    ensure_up(network)
                return network
        subnet = default_subnet()
        # a leftover labcore0 (e.g. after a crash) is adopted, so its own routes do not count
        try:
            check_no_overlap(subnet, _taken(exclude_links=(DEFAULT_BRIDGE,)))
        except SubnetOverlapError as error:
            raise SubnetOverlapError(
                f"the default network's {error.message}",
                hint="set LABCORE_BRIDGE_SUBNET to a free subnet, e.g. LABCORE_BRIDGE_SUBNET=172.31.0.0/16",
            ) from None
        network = _new_network(DEFAULT_NETWORK, DEFAULT_BRIDGE, subnet, secrets.token_hex(32))
        _save(network)
        try:
            with bridge_lock(network):
                _bring_up(network)
        except BaseException:
            _tear_down(network)
            raise
        return network


def ensure_up(network: Network) -> None:
    """Re-create a network's bridge and rules when they are gone (after a reboot, say).

    The caller holds :func:`bridge_lock` for ``network``.
    """
    if not links.link_exists(network.bridge):
        _bring_up(network)


def _attached(network: Network) -> list[str]:
    return sorted(path.stem for path in endpoint_dir(network).glob("*.json"))


def _tear_down(network: Network) -> None:
    firewall.remove_unit(firewall.network_unit(network))
    with bridge_lock(network):
        # the default bridge may still carry another labcore root's containers: then it stays
        if not network.is_default:
            links.delete_link(network.bridge)
        elif not links.bridge_ports(network.bridge):
            # its host-wide leases stay: another root may hold one it is about to use
            links.delete_link(network.bridge)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(networks_dir() / network.id)
    sysctl.restore_forwarding()


def remove_network(name_or_id: str, *, allow_default: bool = False) -> Network:
    """Remove a network that no container uses: its rules, its bridge and its state.

    The default network is only removed with ``allow_default`` (it is re-created on demand).
    """
    if name_or_id == DEFAULT_NETWORK and not allow_default:
        raise ConflictError(
            "the default network 'bridge' cannot be removed",
            hint="it is labcore's pre-defined network; `labcore network prune --all` removes it when unused",
        )
    network = _find_existing(name_or_id)
    if network.is_default and not allow_default:
        raise ConflictError(
            "the default network 'bridge' cannot be removed",
            hint="it is labcore's pre-defined network; `labcore network prune --all` removes it when unused",
        )
    with locked(_registry_lock()), locked(network_lock(network)):
        attached = _attached(network)
        if attached:
            raise NetworkInUseError(
                f"network {network.name!r} is in use by {len(attached)} container(s): "
                + ", ".join(container[:12] for container in attached)
            )
        _tear_down(network)
    return network


def _find_existing(name_or_id: str) -> Network:
    for network in list_networks():
        if name_or_id in (network.name, network.id) or (len(name_or_id) >= 3 and network.id.startswith(name_or_id)):
            return network
    raise NetworkNotFoundError(f"no such network: {name_or_id!r}")


def prune_networks(*, include_default: bool = False) -> list[str]:
    """Remove every network without containers; the names removed."""
    removed = []
    for network in list_networks():
        if network.is_default and not include_default:
            continue
        with contextlib.suppress(NetworkInUseError, NetworkNotFoundError):
            remove_network(network.id, allow_default=include_default)
            removed.append(network.name)
    return removed

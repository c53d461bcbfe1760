"""Address management: a lease file per network, changed only under ``flock``.

``leases.json`` maps each leased address to the container holding it. It lives beside the
network's record, except for the default network's: ``labcore0`` is shared by every labcore root
on the host, so its leases are host-wide, in ``/run/lock/labcore-network/labcore0/``. Allocation takes the
lowest free host address after the gateway (``.1``); since every change happens under the lock
and is written atomically before the address is used, no address is ever handed out twice, and
leases survive restarts until :func:`release` frees them.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from labcore.fs.atomic import locked, write_json_atomic
from labcore.runtime.network.errors import SubnetFullError
from labcore.runtime.network.records import Network
from labcore.runtime.network.state import HOST_STATE_DIR, networks_dir, read_json

__all__ = ["allocate", "leases", "mac_for", "release"]


def _lease_dir(network: Network) -> Path:
    # labcore0 is one bridge for the whole host, so its addresses are leased host-wide (and vanish
    # with it at reboot); a user-defined network's bridge belongs to one labcore root
    return HOST_STATE_DIR / network.bridge if network.is_default else networks_dir() / network.id


def _lease_file(network: Network) -> Path:
    return _lease_dir(network) / "leases.json"


def _lease_lock(network: Network) -> Path:
    return _lease_dir(network) / "leases.lock"


def leases(network: Network) -> dict[str, str]:
    """The current leases of ``network``: address → container id."""
    data: dict[str, str] = read_json(_lease_file(network), {})
    return data


def allocate(network: Network, container_id: str) -> str:
    """Lease an address of ``network`` to ``container_id`` (its existing lease, if it has one)."""
    with locked(_lease_lock(network)):
        current = leases(network)
        for address, holder in current.items():
            if holder == container_id:
                return address
        subnet = ipaddress.IPv4Network(network.subnet)
        reserved = {network.gateway}
        for host in subnet.hosts():
            address = str(host)
            if address not in current and address not in reserved:
                current[address] = container_id
                write_json_atomic(_lease_file(network), current)
                return address
    raise SubnetFullError(f"network {network.name!r} ({network.subnet}) has no free address")


def release(network: Network, container_id: str) -> list[str]:
    """Free every address ``container_id`` holds on ``network``; the addresses freed."""
    with locked(_lease_lock(network)):
        current = leases(network)
        freed = [address for address, holder in current.items() if holder == container_id]
        if freed:
            for address in freed:
                del current[address]
            write_json_atomic(_lease_file(network), current)
    return freed


def mac_for(address: str) -> str:
    """A locally administered MAC derived from the address, as Docker does (``02:42:`` + IPv4)."""
    octets = ipaddress.IPv4Address(address).packed
    return "02:42:" + ":".join(f"{octet:02x}" for octet in octets)

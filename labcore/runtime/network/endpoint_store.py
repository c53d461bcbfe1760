"""Endpoint records on disk: one JSON file per container per network."""

from __future__ import annotations

import contextlib

from labcore.fs.atomic import write_json_atomic
from labcore.runtime.network.networks import endpoint_dir, list_networks
from labcore.runtime.network.records import Endpoint, Network
from labcore.runtime.network.state import read_json

__all__ = ["all_endpoints", "container_endpoints", "delete_endpoint", "network_endpoints", "save_endpoint"]


def save_endpoint(network: Network, endpoint: Endpoint) -> None:
    """Write ``endpoint``'s record atomically."""
    write_json_atomic(endpoint_dir(network) / f"{endpoint.container_id}.json", endpoint.to_json())


def delete_endpoint(network: Network, container_id: str) -> None:
    """Remove the record of ``container_id`` on ``network`` (if any)."""
    with contextlib.suppress(FileNotFoundError):
        (endpoint_dir(network) / f"{container_id}.json").unlink()


def network_endpoints(network: Network) -> list[Endpoint]:
    """Every endpoint on ``network``, sorted by address."""
    found = []
    for path in endpoint_dir(network).glob("*.json"):
        data = read_json(path)
        if data is not None:
            found.append(Endpoint.from_json(data))
    return sorted(found, key=lambda endpoint: tuple(int(part) for part in endpoint.ip.split(".")))


def all_endpoints() -> list[Endpoint]:
    """Every endpoint on every network of this labcore root."""
    return [endpoint for network in list_networks() for endpoint in network_endpoints(network)]


def container_endpoints(container_id: str) -> list[Endpoint]:
    """The endpoints of ``container_id`` (one per network it is on), by interface name."""
    found = [endpoint for endpoint in all_endpoints() if endpoint.container_id == container_id]
    return sorted(found, key=lambda endpoint: endpoint.interface)

"""Check credentials against a registry before they are saved."""

from __future__ import annotations

import httpx

from labcore.registry.client import RegistryClient
from labcore.registry.credentials import Credentials
from labcore.registry.hosts import RegistryHosts, load_hosts

__all__ = ["check_credentials"]


def check_credentials(
    registry: str,
    credentials: Credentials,
    *,
    hosts: RegistryHosts | None = None,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """``GET /v2/`` with ``credentials`` (through Basic or a token); raise when they are refused."""
    hosts = hosts or load_hosts()
    with RegistryClient(
        registry, hosts.origin(registry), credentials=credentials, transport=transport
    ) as client:
        client.ping()

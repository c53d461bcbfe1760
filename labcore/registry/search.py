"""``search``: list a registry's repositories (``/v2/_catalog``) and their tags.

``_catalog`` is an extension of Docker's registry, not part of the OCI distribution spec: many
public registries switch it off, and then only ``tags/list`` of a known name works.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from labcore.config import settings
from labcore.registry.client import RegistryClient
from labcore.registry.hosts import RegistryHosts, load_hosts

__all__ = ["SearchHit", "search_registry"]


@dataclass(frozen=True)
class SearchHit:
    """One repository of a registry and its tags (sorted)."""

    repository: str
    tags: tuple[str, ...]


def search_registry(
    term: str = "",
    registry: str | None = None,
    *,
    with_tags: bool = True,
    hosts: RegistryHosts | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[SearchHit]:
    """Repositories of ``registry`` (default: the lab registry) whose name contains ``term``."""
    registry = registry or settings().registry
    hosts = hosts or load_hosts()
    with RegistryClient(registry, hosts.origin(registry), transport=transport) as client:
        names = sorted(name for name in client.catalog() if term in name)
        if with_tags:
            client.auth.want_scopes(f"repository:{name}:pull" for name in names)
        return [SearchHit(name, tuple(sorted(client.tags(name))) if with_tags else ()) for name in names]

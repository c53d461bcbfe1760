"""Where to send requests for a registry name: mirrors, the origin, and plain HTTP or TLS.

The settings live in ``$LABCORE_ROOT/registries.json``::

    {"mirrors": {"docker.io": ["http://127.0.0.1:5000"]},
     "insecure": ["localhost", "127.0.0.1"]}

Mirrors are tried first, for pulls only, and the origin last. A registry speaks plain HTTP only when
its host (or ``host:port``) is listed as insecure. Without the file, the lab's defaults apply:
``docker.io`` is mirrored by the lab registry, and loopback registries are insecure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from labcore.config import settings
from labcore.errors import UsageError

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_ORIGIN",
    "Endpoint",
    "RegistryHosts",
    "hosts_file",
    "load_hosts",
]

DOCKER_HUB = "docker.io"
DOCKER_HUB_ORIGIN = "registry-1.docker.io"
_ALWAYS_INSECURE = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Endpoint:
    """One base URL to try for a registry, such as ``http://127.0.0.1:5000``."""

    base_url: str
    mirror: bool = False

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (which starts with ``/v2/``) on this endpoint."""
        return self.base_url.rstrip("/") + path


def hosts_file() -> Path:
    """The registries.json of the current LABCORE_ROOT."""
    return settings().root / "registries.json"


@dataclass(frozen=True)
class RegistryHosts:
    """Mirrors and insecure registries, as read from registries.json."""

    mirrors: dict[str, list[str]] = field(default_factory=dict)
    insecure: frozenset[str] = frozenset(_ALWAYS_INSECURE)

    def is_insecure(self, registry: str) -> bool:
        """True when ``registry`` (``host`` or ``host:port``) may be spoken to over plain HTTP."""
        host = _host_of(registry)
        return registry in self.insecure or host in self.insecure

    def origin(self, registry: str) -> Endpoint:
        """The registry's own endpoint (Docker Hub's name maps to its API host)."""
        host = DOCKER_HUB_ORIGIN if registry == DOCKER_HUB else registry
        scheme = "http" if self.is_insecure(registry) else "https"
        return Endpoint(f"{scheme}://{host}")

    def pull_endpoints(self, registry: str) -> list[Endpoint]:
        """Mirrors of ``registry`` first, then its origin."""
        mirrors = [Endpoint(url.rstrip("/"), mirror=True) for url in self.mirrors.get(registry, [])]
        return [*mirrors, self.origin(registry)]

    def push_endpoint(self, registry: str) -> Endpoint:
        """Pushes always go to the origin, as Docker does."""
        return self.origin(registry)


def _host_of(registry: str) -> str:
    if registry.startswith("["):
        return registry[1 : registry.index("]")]
    return registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry


def default_hosts() -> RegistryHosts:
    """The lab's defaults: the lab registry mirrors docker.io and loopback is insecure."""
    lab = settings().registry
    return RegistryHosts(
        mirrors={DOCKER_HUB: [f"http://{lab}"]},
        insecure=frozenset((*_ALWAYS_INSECURE, lab)),
    )


def load_hosts(path: Path | None = None) -> RegistryHosts:
    """Read registries.json (``path`` or the default one); the lab defaults when it is absent."""
    path = path or hosts_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default_hosts()
    hint = 'write {"mirrors": {"docker.io": ["http://127.0.0.1:5000"]}, "insecure": ["localhost"]}'
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})", hint=hint) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the top level must be an object", hint=hint)
    mirrors = data.get("mirrors", {})
    if not isinstance(mirrors, dict) or not all(
        isinstance(urls, list) and all(isinstance(url, str) and "://" in url for url in urls)
        for urls in mirrors.values()
    ):
        raise UsageError(f"{path}: \"mirrors\" must map a registry name to a list of URLs", hint=hint)
    insecure = data.get("insecure", [])
    if not isinstance(insecure, list) or not all(isinstance(name, str) for name in insecure):
        raise UsageError(f"{path}: \"insecure\" must be a list of host names", hint=hint)
    return RegistryHosts(
        mirrors={str(name): list(urls) for name, urls in mirrors.items()},
        insecure=frozenset((*_ALWAYS_INSECURE, *insecure)),
    )

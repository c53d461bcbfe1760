"""The plain data of networking: networks, published ports and endpoints, as stored in JSON."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DEFAULT_BRIDGE", "DEFAULT_NETWORK", "Endpoint", "Network", "PortMapping"]

#: The name of the default network and of its Linux bridge.
DEFAULT_NETWORK = "bridge"
DEFAULT_BRIDGE = "labcore0"


@dataclass(frozen=True)
class Network:
    """A bridge network: a Linux bridge whose address is the gateway of ``subnet``."""

    id: str
    name: str
    bridge: str
    subnet: str
    gateway: str
    created: str

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id, as ``network ls`` shows it."""
        return self.id[:12]

    @property
    def is_default(self) -> bool:
        """Whether this is the default network ``bridge`` (no name resolution between containers)."""
        return self.name == DEFAULT_NETWORK

    @property
    def prefixlen(self) -> int:
        """The subnet's prefix length."""
        return ipaddress.IPv4Network(self.subnet).prefixlen

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Network:
        """The record stored as ``data``."""
        return cls(**{key: data[key] for key in ("id", "name", "bridge", "subnet", "gateway", "created")})


@dataclass(frozen=True)
class PortMapping:
    """One published port: ``host_ip:host_port`` on the host forwards to ``container_port``.

    ``host_ip`` ``""`` means every host address (Docker's ``0.0.0.0``); ``host_port`` 0 means
    "pick a free port" until the port is published.
    """

    container_port: int
    host_port: int = 0
    host_ip: str = ""
    protocol: str = "tcp"

    def __str__(self) -> str:
        """``80/tcp -> 0.0.0.0:8080``, as ``docker port`` prints it."""
        return f"{self.container_port}/{self.protocol} -> {self.host_ip or '0.0.0.0'}:{self.host_port}"

    def to_json(self) -> dict[str, Any]:
        """The mapping as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PortMapping:
        """The mapping stored as ``data``."""
        return cls(int(data["container_port"]), int(data["host_port"]), str(data["host_ip"]), str(data["protocol"]))


@dataclass(frozen=True)
class Endpoint:
    """A container's attachment to one network.

    ``veth_host`` is the host end of the veth pair (a port of the network's bridge); ``interface``
    is the other end's name inside the container's network namespace (``eth0``, ``eth1``...).
    """

    network: str
    network_id: str
    container_id: str
    name: str
    ip: str
    prefixlen: int
    mac: str
    gateway: str
    veth_host: str
    interface: str
    netns_path: str
    aliases: tuple[str, ...] = ()
    ports: tuple[PortMapping, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """The endpoint as a JSON object."""
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        data["ports"] = [port.to_json() for port in self.ports]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Endpoint:
        """The endpoint stored as ``data``."""
        values = dict(data)
        values["aliases"] = tuple(data.get("aliases", ()))
        values["ports"] = tuple(PortMapping.from_json(port) for port in data.get("ports", ()))
        return cls(**values)

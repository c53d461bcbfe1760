"""Published ports: parse ``-p``/``-P``, and pick or check host ports."""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable

from labcore.runtime.network.errors import PortInUseError, PortSpecError
from labcore.runtime.network.records import PortMapping

__all__ = ["check_host_port_free", "parse_exposed", "parse_publish", "pick_host_port", "publish_all"]

PROTOCOLS = ("tcp", "udp")


def _port(text: str, what: str, spec: str, *, allow_zero: bool = False) -> int:
    if not text.isdigit():
        raise PortSpecError(f"invalid {what} {text!r} in publish spec {spec!r}: not a number")
    number = int(text)
    if not (allow_zero and number == 0) and not 1 <= number <= 65535:
        raise PortSpecError(f"invalid {what} {number} in publish spec {spec!r}: must be 1-65535")
    return number


def parse_publish(spec: str) -> PortMapping:
    """One ``-p`` spec: ``CPORT``, ``HPORT:CPORT``, ``IP:HPORT:CPORT`` or ``IP::CPORT``, ``/tcp|udp``.

    A missing host port is 0 ("pick a free one"); a missing IP is every host address.
    """
    text = spec.strip()
    if not text:
        raise PortSpecError("empty publish spec")
    body, slash, protocol = text.partition("/")
    protocol = protocol.lower() if slash else "tcp"
    if protocol not in PROTOCOLS:
        raise PortSpecError(f"invalid protocol {protocol!r} in publish spec {spec!r}: use tcp or udp")
    if "-" in body:
        raise PortSpecError(f"port ranges are not supported in publish spec {spec!r}")
    parts = body.rsplit(":", 2)
    host_ip = ""
    host_port = "0"
    if len(parts) == 1:
        container_port = parts[0]
    elif len(parts) == 2:
        host_port, container_port = parts
    else:
        host_ip, host_port, container_port = parts
        host_port = host_port or "0"
        try:
            address = ipaddress.IPv4Address(host_ip)
        except ValueError:
            raise PortSpecError(f"invalid host IP {host_ip!r} in publish spec {spec!r}: need IPv4") from None
        host_ip = "" if address.is_unspecified else str(address)
    return PortMapping(
        container_port=_port(container_port, "container port", spec),
        host_port=_port(host_port, "host port", spec, allow_zero=True),
        host_ip=host_ip,
        protocol=protocol,
    )


def parse_exposed(text: str) -> tuple[int, str]:
    """An image's ``ExposedPorts`` key (``80/tcp``, ``53/udp``, ``8080``) as ``(port, protocol)``."""
    port, _, protocol = text.partition("/")
    protocol = (protocol or "tcp").lower()
    if protocol not in PROTOCOLS:
        raise PortSpecError(f"invalid protocol {protocol!r} in exposed port {text!r}: use tcp or udp")
    return _port(port, "exposed port", text), protocol


def publish_all(exposed: Iterable[str]) -> list[PortMapping]:
    """``-P``: each exposed port published on a free host port of every address."""
    return [PortMapping(container_port=port, protocol=protocol) for port, protocol in map(parse_exposed, exposed)]


def _socket_type(protocol: str) -> socket.SocketKind:
    return socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM


def check_host_port_free(mapping: PortMapping) -> None:
    """Raise :class:`PortInUseError` when a host program has bound ``mapping``'s host port."""
    with socket.socket(socket.AF_INET, _socket_type(mapping.protocol)) as probe:
        try:
            probe.bind((mapping.host_ip or "0.0.0.0", mapping.host_port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"host port {mapping.host_ip or '0.0.0.0'}:{mapping.host_port}/{mapping.protocol} "
                    "is already in use by a program on the host"
                ) from None
            raise


def pick_host_port(mapping: PortMapping, taken: set[tuple[int, str]]) -> int:
    """A free ephemeral host port for ``mapping`` that labcore has not published either."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, _socket_type(mapping.protocol)) as probe:
            probe.bind((mapping.host_ip or "0.0.0.0", 0))
            port = int(probe.getsockname()[1])
        if (port, mapping.protocol) not in taken:
            return port
    raise PortInUseError(f"found no free host port for {mapping.container_port}/{mapping.protocol}")

"""Network interface flags through ioctl(2): enough to bring up a new namespace's loopback.

A new network namespace has a loopback device that is down; Docker's ``--network none``
containers get it up (with 127.0.0.1 and ::1, which the kernel adds itself once it is up). This
is two ioctls on any socket of the namespace, much cheaper than a netlink conversation.
"""

from __future__ import annotations

import fcntl
import socket
import struct

__all__ = ["IFF_UP", "interface_flags", "set_interface_up"]

IFF_UP = 0x1
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFNAMSIZ = 16
_IFREQ = struct.Struct(f"{_IFNAMSIZ}sH22x")  # struct ifreq: name, then ifr_flags in the union


def _request(name: str, flags: int = 0) -> bytes:
    raw = name.encode()
    if not raw or len(raw) >= _IFNAMSIZ:
        raise ValueError(f"interface name {name!r} must have 1 to {_IFNAMSIZ - 1} bytes")
    return _IFREQ.pack(raw, flags)


def _flags(sock: socket.socket, name: str) -> int:
    return int(_IFREQ.unpack(fcntl.ioctl(sock, _SIOCGIFFLAGS, _request(name)))[1])


def _control_socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)


def interface_flags(name: str) -> int:
    """The ``IFF_*`` flags of interface ``name`` in the caller's network namespace."""
    with _control_socket() as sock:
        try:
            return _flags(sock, name)
        except OSError as error:
            raise OSError(error.errno, error.strerror, name) from None


def set_interface_up(name: str) -> None:
    """Bring interface ``name`` up in the caller's network namespace (needs CAP_NET_ADMIN there)."""
    with _control_socket() as sock:
        try:
            current = _flags(sock, name)
            if not current & IFF_UP:
                fcntl.ioctl(sock, _SIOCSIFFLAGS, _request(name, current | IFF_UP))
        except OSError as error:
            raise OSError(error.errno, error.strerror, name) from None

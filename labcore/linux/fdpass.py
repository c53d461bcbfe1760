"""Length-framed messages with file descriptors attached (``SCM_RIGHTS``) over Unix stream sockets.

A message is a 4-byte big-endian length and that many bytes; descriptors travel with its first
part. Used between the command server, its spare worker and the launcher's requests, and
between a process and its fork server.
"""

from __future__ import annotations

import array
import os
import socket
import struct
from collections.abc import Sequence

__all__ = ["receive_message", "send_message"]

_HEADER = struct.Struct("!I")
_INT_SIZE = array.array("i").itemsize


def send_message(sock: socket.socket, body: bytes, fds: Sequence[int] = ()) -> None:
    """Send ``body`` framed by its length, with ``fds`` attached to the first part."""
    data = _HEADER.pack(len(body)) + body
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sent = sock.sendmsg([data], ancillary)
    if sent < len(data):
        sock.sendall(data[sent:])


def receive_message(sock: socket.socket, *, max_fds: int, max_size: int) -> tuple[bytes, list[int]] | None:
    """One message and the descriptors that came with it (close-on-exec); None at end of file before it.

    Reads exactly one message, never into the next one, so that a peer may send several in a row.
    ``ValueError`` when the peer stops in the middle of a message or announces more than
    ``max_size`` bytes; descriptors received so far are closed then.
    """
    data = b""
    fds: list[int] = []
    space = socket.CMSG_SPACE(max_fds * _INT_SIZE)
    wanted = _HEADER.size
    try:
        while len(data) < wanted:
            # MSG_CMSG_CLOEXEC: socket.recv_fds of Python 3.11 would drop any flags given to it
            chunk, ancillary, _, _ = sock.recvmsg(min(wanted - len(data), 1 << 16), space, socket.MSG_CMSG_CLOEXEC)
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    received = array.array("i")
                    received.frombytes(payload[: len(payload) - len(payload) % _INT_SIZE])
                    fds += received
            if not chunk:
                if not data:
                    return None
                raise ValueError("the peer closed the connection in the middle of a message")
            data += chunk
            if wanted == _HEADER.size and len(data) == _HEADER.size:
                size = _HEADER.unpack(data)[0]
                if size > max_size:
                    raise ValueError(f"message of {size} bytes, more than {max_size}")
                wanted += size
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return data[_HEADER.size :], fds

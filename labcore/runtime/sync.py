"""The messages the runtime and a container's init exchange over a ``SOCK_SEQPACKET`` socket pair.

Like runc's ``libcontainer/sync.go``: a small set of named messages, one per packet. The init's end
of the socket is close-on-exec, so after ``START`` an end-of-file tells the runtime that ``execve``
succeeded, and an ``EXEC_FAILED`` packet carries the reason it did not.
"""

from __future__ import annotations

import contextlib
import enum
import os
import socket

__all__ = ["SyncMessage", "receive", "send", "socket_pair"]

_MAX_PACKET = 65536


class SyncMessage(enum.IntEnum):
    """The kinds of packet; the payload is UTF-8 text."""

    #: intermediate -> runtime: the init's host pid (payload: the decimal pid)
    INIT_PID = 1
    #: init -> runtime: the user namespace exists; write uid_map/gid_map now
    USERNS_READY = 2
    #: runtime -> init: the id maps are written
    USERNS_MAPPED = 3
    #: init -> runtime: namespaces, mounts and root are ready; waiting for START ("created")
    CREATED = 4
    #: runtime -> init: exec the user's command
    START = 5
    #: init -> runtime: setup failed (payload: "errno\0filename\0what")
    SETUP_FAILED = 6
    #: init -> runtime: execve failed (payload: "exit_code\0message")
    EXEC_FAILED = 7


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """A close-on-exec packet socket pair: (runtime end, init end)."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send(sock: socket.socket, message: SyncMessage, payload: str = "") -> None:
    """Send one message."""
    sock.send(bytes((message,)) + payload.encode("utf-8", "surrogateescape"))


def receive(sock: socket.socket) -> tuple[SyncMessage, str] | None:
    """The next message, or ``None`` at end of file (the peer closed or exec'd)."""
    while True:
        try:
            packet = sock.recv(_MAX_PACKET)
        except InterruptedError:  # pragma: no cover - Python retries EINTR itself
            continue
        break
    if not packet:
        return None
    return SyncMessage(packet[0]), packet[1:].decode("utf-8", "surrogateescape")


def close_quietly(fd: int) -> None:
    """Close ``fd``, ignoring an already-closed descriptor."""
    with contextlib.suppress(OSError):
        os.close(fd)

"""inotify(7): be told when files in watched directories change, without scanning them."""

from __future__ import annotations

import os
import struct

from labcore.linux._libc import check, encode, libc

__all__ = ["IN_ATTRIB", "IN_CLOSE_WRITE", "IN_CREATE", "IN_DELETE", "IN_ISDIR", "IN_MODIFY",
           "IN_MOVED_FROM", "IN_MOVED_TO", "IN_Q_OVERFLOW", "Event", "Inotify"]  # fmt: skip

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_ISDIR = 0x40000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name

Event = tuple[int, int, str]  # (watch descriptor, mask, name in the watched directory or "")


class Inotify:
    """A non-blocking, close-on-exec inotify instance; :meth:`read` returns what happened so far."""

    def __init__(self) -> None:
        self.fd = check(libc().inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC), "inotify_init1")

    def watch(self, path: str, mask: int) -> int:
        """Watch ``path`` for the events in ``mask``; the watch descriptor."""
        return check(libc().inotify_add_watch(self.fd, encode(path), mask), path)

    def read(self) -> list[Event]:
        """The events queued since the last call (none if nothing happened)."""
        events: list[Event] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            offset = 0
            while offset < len(data):
                wd, mask, _, length = _HEADER.unpack_from(data, offset)
                offset += _HEADER.size
                name = data[offset : offset + length].rstrip(b"\0").decode("utf-8", "surrogateescape")
                offset += length
                events.append((wd, mask, name))

    def close(self) -> None:
        """Release the instance and its watches."""
        os.close(self.fd)

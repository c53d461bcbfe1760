"""Read a container's stdout and stderr pipes to their end at the same time."""

from __future__ import annotations

import os
import selectors

__all__ = ["read_both"]


def read_both(out_fd: int, err_fd: int) -> tuple[bytes, bytes]:
    """Everything written to the two pipes until both are closed, read side by side.

    Reading one after the other could deadlock: a process blocked on a full stderr pipe never
    closes stdout.
    """
    buffers = {out_fd: bytearray(), err_fd: bytearray()}
    with selectors.DefaultSelector() as selector:
        for fd in buffers:
            selector.register(fd, selectors.EVENT_READ)
        open_fds = set(buffers)
        while open_fds:
            for key, _ in selector.select():
                fd = int(key.fd)
                data = os.read(fd, 65536)
                if data:
                    buffers[fd] += data
                else:
                    selector.unregister(fd)
                    open_fds.discard(fd)
    return bytes(buffers[out_fd]), bytes(buffers[err_fd])

"""Open a pseudo-terminal pair on a given devpts instance (e.g. a container's ``/dev/pts/ptmx``).

``os.openpty()`` always uses the caller's ``/dev/ptmx``; a process that joins a container's mount
namespace would then hold a terminal whose name does not exist in the container (``tty`` prints
"not a tty"). Opening the container's own ``ptmx`` and asking for the peer with ``TIOCGPTPEER``
gives a pair that lives in the container's devpts, as ``docker exec -t`` does.
"""

from __future__ import annotations

import fcntl
import os
import struct

__all__ = ["open_pty_pair"]

_TIOCSPTLCK = 0x40045431  # unlock the slave side
_TIOCGPTPEER = 0x5441  # open the slave side from the master, without a path lookup


def open_pty_pair(ptmx: str | os.PathLike[str]) -> tuple[int, int]:
    """``(master, slave)`` file descriptors of a new terminal from the multiplexer at ``ptmx``."""
    master = os.open(ptmx, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(master, _TIOCSPTLCK, struct.pack("i", 0))
        slave = fcntl.ioctl(master, _TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        os.close(master)
        raise OSError(error.errno, error.strerror, os.fspath(ptmx)) from None
    return master, slave

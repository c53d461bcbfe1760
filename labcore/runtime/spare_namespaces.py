"""Namespaces the fork server makes ahead of time, so that cloning a container's init need not.

Making a network namespace is the dearest part of cloning an init (about 0.4 ms here, more than
the mount, PID, IPC, UTS and cgroup namespaces together). While it waits for the next request,
the fork server (:mod:`labcore.runtime.forkserver`) moves itself into a new network namespace
with its loopback up, and new IPC and UTS namespaces; an init cloned without those
``CLONE_NEW*`` flags inherits them. After the clone the server returns to its original (the
host's) namespaces and makes the next set. Every container still gets namespaces of its own
where its plan asks for new ones, and the server's original ones where it does not.
"""

from __future__ import annotations

import contextlib
import os

from labcore.linux.namespaces import Namespace, setns, unshare
from labcore.linux.netdev import set_interface_up

__all__ = ["SPARE_KINDS", "SpareNamespaces"]

#: namespaces that can be made ahead by the server itself (a new PID or mount namespace cannot)
SPARE_KINDS = Namespace.NET | Namespace.IPC | Namespace.UTS


class SpareNamespaces:
    """The server's spare namespaces: which ones it is in now, and the way back to its own."""

    def __init__(self) -> None:
        self.held = Namespace(0)  # spares the server is in and nobody else uses
        self._given = Namespace(0)  # spares the server is still in although a child now has them
        self._home: dict[Namespace, int] = {}
        for kind in SPARE_KINDS:
            self._home[kind] = os.open(f"/proc/self/ns/{kind.proc_name}", os.O_RDONLY | os.O_CLOEXEC)

    def prepare(self, kinds: Namespace = SPARE_KINDS) -> None:
        """Make new spares of ``kinds`` for the next clone; without them (and quietly) if that fails.

        Returns to the server's own namespaces first, so a new UTS namespace starts with the
        host's hostname rather than the last container's.
        """
        self._go_home(self._given)
        self._given = Namespace(0)
        missing = kinds & SPARE_KINDS & ~self.held
        if not missing:
            return
        try:
            unshare(missing)
            if missing & Namespace.NET:
                set_interface_up("lo")
        except OSError:
            self._go_home(missing)  # e.g. a namespace limit reached: clones make their own
            return
        self.held |= missing

    def clone_flags(self, flags: int) -> int:
        """The flags to clone a child that asks for ``flags``: without the spares it will inherit.

        The server first leaves the spares the child must not get (it asks for the host's
        namespace of that kind); the spares it gets are given away.
        """
        unwanted = self.held & ~Namespace(flags & SPARE_KINDS)
        self._go_home(unwanted)
        used = self.held & Namespace(flags & SPARE_KINDS)
        self.held &= ~used
        self._given |= used
        return flags & ~int(used)

    def close(self) -> None:
        """Close the descriptors of the server's own namespaces (in a cloned child)."""
        for fd in self._home.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._home = {}

    def _go_home(self, kinds: Namespace) -> None:
        for kind in SPARE_KINDS:
            if kinds & kind:
                setns(self._home[kind], int(kind))
        self.held &= ~kinds

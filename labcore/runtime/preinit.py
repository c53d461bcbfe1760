"""The next container's init, cloned by the fork server ahead of time, while the last one runs.

Cloning an init into new PID, network, IPC and UTS namespaces costs over a millisecond on the
critical path of a container's start: waking the fork server, cloning (a new network namespace
alone is ~0.4 ms), scheduling the child. Once a container's init is on its way, the caller asks
its fork server (:mod:`labcore.runtime.forkserver`) to clone the next one ahead of time with the
same clone flags: a process that brings its loopback up and waits on a socket, whose other end
the server passes to the caller. The caller sends the next plan with those flags straight to it;
it then does what a directly cloned init does (:func:`~labcore.runtime.init.run_init_directly`),
making its mount namespace only then: a mount namespace copied earlier would not have the
container's root filesystem, which the caller mounts just before.

A pre-cloned init is the caller's child (``CLONE_PARENT``), is named ``labcore-preinit`` until it
execs, says :data:`READY` on its socket once it waits (the caller sends a plan only to an init
that did), and exits at end of file on its socket: when the caller discards it, or dies.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
from collections.abc import Sequence
from dataclasses import replace

from labcore.linux.fdpass import receive_message
from labcore.linux.namespaces import Namespace
from labcore.linux.netdev import set_interface_up
from labcore.linux.prctl import set_name
from labcore.linux.process import CLONE_PARENT, clone
from labcore.runtime.init import InitPlan, run_init_directly

__all__ = ["DEFERRED", "MAX_FDS", "MAX_MESSAGE", "READY", "preclone", "unpack_plan"]

#: made when the plan arrives, not at the clone: the cgroup namespace (after joining the cgroup)
#: and the mount namespace (after the caller mounted the root filesystem)
DEFERRED = Namespace.CGROUP | Namespace.MNT
MAX_FDS = 16
MAX_MESSAGE = 1 << 24  # a plan: mount steps, arguments and environment
_PROCESS_NAME = b"labcore-preinit"
#: what a pre-cloned init (Python or C) writes on its plan socket once it waits for the plan
READY = b"R"
_C_PLAN_FD = 3


def unpack_plan(payload: bytes, fds: list[int]) -> tuple[InitPlan, socket.socket]:
    """The plan and sync socket sent with ``fds`` (sync, stdin, stdout, stderr, then namespaces to join).

    Pickle is safe here: the plan comes from the process that started the fork server, over a
    socket pair private to the two of them.
    """
    plan: InitPlan = pickle.loads(payload)  # noqa: S301 - see the docstring
    sync = socket.socket(fileno=fds[0])
    plan = replace(
        plan,
        stdio=(fds[1], fds[2], fds[3]),
        join=tuple((fd, kind) for fd, (_, kind) in zip(fds[4:], plan.join, strict=True)),
    )
    return plan, sync


def preclone(
    flags: int, close_in_child: Sequence[socket.socket], c_init: str | None = None
) -> tuple[int, socket.socket]:
    """Clone an init for a plan with clone ``flags`` (as :func:`~labcore.runtime.init.direct_clone_flags`).

    It becomes a child of the fork server's caller and waits for its plan; the namespaces in
    :data:`DEFERRED` are left for later. With ``c_init`` (:mod:`labcore.runtime.cinit`) it execs
    that program to wait, which then takes the plan in its own format. Returns its pid and the
    end of its socket to send the plan on (for the caller). ``close_in_child`` are the server's
    sockets.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        pid = clone(CLONE_PARENT | (flags & ~int(DEFERRED)))
    except BaseException:
        ours.close()
        theirs.close()
        raise
    if pid == 0:  # pragma: no cover - the child leaves through os._exit
        try:
            ours.close()
            for sock in close_in_child:
                sock.close()
            if c_init is not None:
                os.dup2(theirs.fileno(), _C_PLAN_FD)  # inheritable: the C init reads its plan there
                os.execv(c_init, [c_init, "--loopback"] if flags & Namespace.NET else [c_init])  # noqa: S606
            _wait_for_plan(theirs, bool(flags & Namespace.NET))
        finally:
            os._exit(1)
    theirs.close()
    return pid, ours


def _wait_for_plan(sock: socket.socket, new_netns: bool) -> None:
    # no PR_SET_PDEATHSIG needed: the caller holds the only other end of sock
    set_name(_PROCESS_NAME)
    loopback_up = False
    if new_netns:
        with contextlib.suppress(OSError):  # the init tries again, and reports a failure
            set_interface_up("lo")
            loopback_up = True
    try:
        sock.sendall(READY)
    except OSError:
        os._exit(0)  # discarded already
    try:
        message = receive_message(sock, max_fds=MAX_FDS, max_size=MAX_MESSAGE)
    except (OSError, ValueError):
        message = None  # the caller closed its end without reading READY (ECONNRESET)
    if message is None:
        os._exit(0)  # discarded, or the caller ended
    sock.close()
    plan, sync = unpack_plan(*message)
    if loopback_up:
        plan = replace(plan, loopback=False)
    run_init_directly(plan, sync, deferred=DEFERRED)

r"""A small helper process that creates container processes for its parent, so the parent never forks.

Forking a large Python process is cheap at the ``fork`` and dear afterwards: ``fork`` makes every
private page of the parent copy-on-write, and each page the parent writes next takes a page fault
(a container run writes ~900 of them, in the parent and in the child alike). The fork server is a
fresh interpreter (``python -I -S``) that imports only what :mod:`labcore.runtime.init` needs, so
cloning it is cheap and the caller never forks at all.

It clones with ``CLONE_PARENT``, so what it creates is a child of the process that asked, exactly
as when that process forks by itself: ``waitpid`` and ``SIGCHLD`` work unchanged. For a new
container (without a user namespace) it clones the init directly into its new namespaces, which
then joins its cgroup itself (:func:`~labcore.runtime.init.run_init_directly`); otherwise it
clones an intermediate, as the caller would. Like the fork servers of Python's
:mod:`multiprocessing` and Android's zygote. While it waits, it makes the next container's
network (loopback up), IPC and UTS namespaces for itself, which the next init it clones inherits
(:mod:`labcore.runtime.spare_namespaces`).

Each process gets its own server, started by the second container it creates (a one-shot command
does not pay for it) or by :func:`start`. Until the server says it is ready, and in forked
children, :func:`create_process` returns ``None`` and the caller forks by itself. The server
ignores terminal signals, dies with its parent (``PR_SET_PDEATHSIG``) and exits at end of file;
:func:`stop` ends it (it also runs at exit). ``LABCORE_NO_FORKSERVER=1`` turns it off.

Protocol over a stream socket pair: the caller sends a 4-byte length and the pickled
:class:`~labcore.runtime.init.InitPlan`, with the sync socket, the three stdio descriptors and the
namespace descriptors to join as ``SCM_RIGHTS``; the server answers ``init PID``,
``intermediate PID`` or ``error ERRNO\0MESSAGE\0FILENAME``. Pickle is safe here: the socket pair is
private to a parent and its child.
"""

from __future__ import annotations

import _thread
import atexit
import gc
import os
import select
import signal
import socket
import sys
from dataclasses import replace

from labcore.config import package_parent
from labcore.linux.fdpass import receive_message, send_message
from labcore.runtime.init import InitPlan

__all__ = ["create_process", "serve", "served", "server_pid", "start", "stop"]

_MAX_FDS = 16
_MAX_MESSAGE = 1 << 24  # a plan: mount steps, arguments and environment
_READY = b"R"
_SERVER_FD = 3
_PROCESS_NAME = b"labcore-forksrv"


class _Connection:
    """A fork server seen from its parent: its pid, our end of the socket pair, whether it said ready."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock
        self.ready = False


class _State:
    owner = 0  # the pid these fields belong to (a forked child starts over)
    connection: _Connection | None = None
    creations = 0
    served = 0
    lock = _thread.allocate_lock()


# -- the caller's side ------------------------------------------------------------------------


def _own_state() -> type[_State]:
    if _State.owner != os.getpid():
        _State.owner = os.getpid()
        _State.connection = None  # the parent's server, whose socket this child closed at fork
        _State.creations = 0
        _State.served = 0
        _State.lock = _thread.allocate_lock()
    return _State


def _forget_after_fork() -> None:
    connection = _State.connection
    _State.connection = None
    if connection is not None:
        connection.sock.close()  # the parent's server must see end of file when the parent leaves


os.register_at_fork(after_in_child=_forget_after_fork)


def start(wait: float = 0) -> int | None:
    """Start this process's fork server if it has none; its pid (None if it cannot be started).

    The server imports its modules in the background and is used from the first container created
    after it said it is ready; ``wait`` > 0 waits up to that many seconds for that.
    """
    if _disabled():
        return None
    state = _own_state()
    with state.lock:
        if state.connection is None:
            state.connection = _spawn()
        connection = state.connection
        if connection is not None and wait > 0:
            try:
                _is_ready(connection, wait)
            except OSError:
                state.connection = None
                _reap(connection)
                return None
        return connection.pid if connection else None


def _disabled() -> bool:
    return os.environ.get("LABCORE_NO_FORKSERVER") == "1"


def served() -> int:
    """How many processes this process's fork servers have created for it."""
    return _own_state().served


def _spawn() -> _Connection | None:
    if not sys.executable:
        return None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    code = (
        f"import sys; sys.path.insert(0, {package_parent()!r}); "
        f"from labcore.runtime.forkserver import serve; serve({os.getpid()})"
    )
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDWR, 0),
        (os.POSIX_SPAWN_DUP2, 0, 1),
        (os.POSIX_SPAWN_DUP2, 0, 2),
        (os.POSIX_SPAWN_DUP2, theirs.fileno(), _SERVER_FD),
    ]
    try:
        # posix_spawn uses vfork: unlike fork, it leaves this process's pages alone
        pid = os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", "-c", code], {}, file_actions=actions)
    except OSError:
        ours.close()
        return None
    finally:
        theirs.close()
    return _Connection(pid, ours)


def server_pid() -> int | None:
    """The pid of this process's fork server, if it has one."""
    connection = _own_state().connection
    return connection.pid if connection else None


def stop() -> None:
    """End this process's fork server, if it has one, and reap it."""
    state = _own_state()
    with state.lock:
        connection, state.connection = state.connection, None
        state.creations = 0
    if connection is not None:
        _reap(connection)


atexit.register(stop)


def _is_ready(connection: _Connection, timeout: float = 0) -> bool:
    if not connection.ready:
        readable, _, _ = select.select([connection.sock], [], [], timeout)
        if not readable:
            return False
        connection.ready = connection.sock.recv(1) == _READY
        if not connection.ready:
            raise OSError("the fork server ended before it was ready")
    return True


def create_process(plan: InitPlan, sync: socket.socket) -> tuple[int, bool] | None:
    """Have the fork server create the first process for ``plan`` (a child of this process).

    Returns its pid and whether it is the init itself (cloned directly, see
    :func:`~labcore.runtime.init.run_init_directly`) rather than an intermediate, or None when
    there is no ready server (the caller then forks by itself); the second call in a process
    starts the server. ``sync`` is the child's end of the sync socket. Raises ``OSError`` when the
    server could not create the process.
    """
    if _disabled():
        return None
    state = _own_state()
    with state.lock:
        state.creations += 1
        connection = state.connection
        if connection is None:
            if state.creations >= 2:
                state.connection = _spawn()
            return None
        try:
            if not _is_ready(connection):
                return None
            import pickle

            fds = [sync.fileno(), *plan.stdio, *(fd for fd, _ in plan.join)]
            send_message(connection.sock, pickle.dumps(plan, pickle.HIGHEST_PROTOCOL), fds)
        except OSError:
            state.connection = None  # it died: fork by ourselves from now on
            _reap(connection)
            return None
        reply = receive_message(connection.sock, max_fds=0, max_size=_MAX_MESSAGE)
    if reply is None:
        raise OSError("the fork server ended without answering")
    word, _, rest = reply[0].decode("utf-8", "surrogateescape").partition(" ")
    if word in ("init", "intermediate"):
        state.served += 1
        return int(rest), word == "init"
    number, message, filename = [*rest.split("\0"), "", ""][:3]
    raise OSError(int(number or 0), f"{message} (fork server)", filename or None)


def _reap(connection: _Connection) -> None:
    connection.sock.close()
    try:
        os.kill(connection.pid, signal.SIGKILL)  # it keeps nothing: no need to let it clean up
        os.waitpid(connection.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


# -- the server's side ------------------------------------------------------------------------


def serve(parent: int) -> None:
    """The fork server's main loop (runs in the spawned interpreter; never returns)."""
    import pickle

    from labcore.linux.namespaces import Namespace
    from labcore.linux.prctl import set_name, set_pdeathsig
    from labcore.linux.process import CLONE_PARENT, clone
    from labcore.runtime.init import (
        can_clone_directly,
        direct_clone_flags,
        run_init_directly,
        run_intermediate,
        warm_up_libc,
    )
    from labcore.runtime.spare_namespaces import SPARE_KINDS, SpareNamespaces

    set_pdeathsig(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)  # the parent died before we could ask to die with it
    set_name(_PROCESS_NAME)
    os.setsid()  # out of the terminal's process group: Ctrl-C is for the caller, not for us
    os.closerange(_SERVER_FD + 1, 1 << 20)
    warm_up_libc()
    # the children write to fewer of our pages (copy-on-write faults) if the collector never
    # walks the objects loaded so far; the server itself makes no garbage cycles worth collecting
    gc.disable()
    gc.freeze()
    sock = socket.socket(fileno=_SERVER_FD)
    sock.sendall(_READY)
    spares = SpareNamespaces()
    spares.prepare()
    while True:
        message = receive_message(sock, max_fds=_MAX_FDS, max_size=_MAX_MESSAGE)
        if message is None:
            os._exit(0)
        payload, fds = message
        sync: socket.socket | None = None
        wanted = 0
        try:
            plan: InitPlan = pickle.loads(payload)  # noqa: S301 - from our own parent, over a private socket pair
            sync = socket.socket(fileno=fds.pop(0))
            plan = replace(
                plan,
                stdio=(fds[0], fds[1], fds[2]),
                join=tuple((fd, kind) for fd, (_, kind) in zip(fds[3:], plan.join, strict=True)),
            )
            direct = can_clone_directly(plan)
            wanted = direct_clone_flags(plan) if direct else 0
            flags = spares.clone_flags(wanted)
            if direct and plan.loopback and not flags & Namespace.NET:
                plan = replace(plan, loopback=False)  # a spare network namespace has it up already
            pid = clone(CLONE_PARENT | flags)
            if pid == 0:  # pragma: no cover - the child leaves through os._exit
                try:
                    sock.close()
                    spares.close()
                    (run_init_directly if direct else run_intermediate)(plan, sync)
                finally:
                    os._exit(1)
            reply = f"{'init' if direct else 'intermediate'} {pid}"
        except OSError as error:
            reply = f"error {error.errno or 0}\0{error.strerror or error}\0{error.filename or ''}"
        except Exception as error:  # a bad request must not end the server
            reply = f"error 0\0{type(error).__name__}: {error}\0"
        finally:
            if sync is not None:
                sync.close()
            for fd in fds:
                os.close(fd)
        send_message(sock, reply.encode("utf-8", "surrogateescape"))
        if wanted:  # the next container probably wants the same kinds: make them while it runs
            spares.prepare(SPARE_KINDS & wanted)

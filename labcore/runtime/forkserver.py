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
:mod:`multiprocessing` and Android's zygote. While a container runs, the server clones the next
one's init ahead of time, in the same new namespaces, and hands it the next plan with the same
clone flags (:mod:`labcore.runtime.preinit`).

Each process gets its own server, started by the second container it creates (a one-shot command
does not pay for it) or by :func:`start`. Until the server says it is ready, and in forked
children, :func:`create_process` returns ``None`` and the caller forks by itself. The server
ignores terminal signals, dies with its parent (``PR_SET_PDEATHSIG``) and exits at end of file;
:func:`stop` ends it (it also runs at exit). ``LABCORE_NO_FORKSERVER=1`` turns it off.

Protocol over a stream socket pair, one framed message each (:mod:`labcore.linux.fdpass`): the
caller sends a header line (``direct FLAGS`` or ``intermediate``) and the pickled
:class:`~labcore.runtime.init.InitPlan`, with the sync socket, the three stdio descriptors and the
namespace descriptors to join as ``SCM_RIGHTS``; the server answers ``init PID``,
``intermediate PID`` or ``error ERRNO\0MESSAGE\0FILENAME``. After a new container's init is on
its way, the caller sends ``ahead FLAGS`` (and a line with the C init's path, if built), without
an answer: the server clones the next init ahead and sends ``preinit FLAGS PID KIND`` (``c`` or
``python``) with the init's plan socket, which the caller takes before its next request. Pickle
is safe here: the socket pair is private to a parent and its child.
"""

from __future__ import annotations

import _thread
import atexit
import contextlib
import gc
import os
import select
import signal
import socket
import sys
from typing import ClassVar

from labcore.config import package_parent
from labcore.linux.fdpass import receive_message, send_message
from labcore.runtime.cinit import binary_path, encode_plan
from labcore.runtime.init import InitPlan, can_clone_directly, direct_clone_flags
from labcore.runtime.preinit import DEFERRED, MAX_FDS, MAX_MESSAGE, READY, preclone, unpack_plan

__all__ = ["ahead_pid", "create_process", "serve", "served", "served_ahead", "server_pid", "start", "stop"]

_MAX_REPLY = 1 << 16
_AHEAD_READY_SECONDS = 2.0  # an init cloned ahead says it is ready within a millisecond or so
_READY = b"R"
_SERVER_FD = 3
_PROCESS_NAME = b"labcore-forksrv"


class _Connection:
    """A fork server seen from its parent: its pid, our end of the socket pair, whether it said ready."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock
        self.ready = False
        self.ahead: _Ahead | None = None  # the init the server cloned ahead, our child until used


class _Ahead:
    """An init cloned ahead by the fork server: its pid, clone flags, the socket for its plan, its kind."""

    def __init__(self, pid: int, flags: int, sock: socket.socket, in_c: bool) -> None:
        self.pid = pid
        self.flags = flags
        self.sock = sock
        self.in_c = in_c  # it runs the C init, which takes the plan in its own format


class _State:
    owner = 0  # the pid these fields belong to (a forked child starts over)
    connection: _Connection | None = None
    creations = 0
    served = 0
    served_ahead: ClassVar[dict[str, int]] = {"c": 0, "python": 0}
    lock = _thread.allocate_lock()


# -- the caller's side ------------------------------------------------------------------------


def _own_state() -> type[_State]:
    if _State.owner != os.getpid():
        _State.owner = os.getpid()
        _State.connection = None  # the parent's server, whose socket this child closed at fork
        _State.creations = 0
        _State.served = 0
        _State.served_ahead = {"c": 0, "python": 0}
        _State.lock = _thread.allocate_lock()
    return _State


def _forget_after_fork() -> None:
    connection = _State.connection
    _State.connection = None
    if connection is not None:
        connection.sock.close()  # the parent's server must see end of file when the parent leaves
        if connection.ahead is not None:
            connection.ahead.sock.close()  # and so must the parent's init cloned ahead


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


def served_ahead(kind: str) -> int:
    """How many of them were inits cloned ahead, running the ``"c"`` or the ``"python"`` init."""
    return _own_state().served_ahead[kind]


def ahead_pid(wait: float = 0) -> int | None:
    """The pid of the init the server cloned ahead for the next container, waiting up to ``wait`` s."""
    state = _own_state()
    with state.lock:
        connection = state.connection
        if connection is None or not _is_ready(connection, wait):
            return None
        if connection.ahead is None:
            readable, _, _ = select.select([connection.sock], [], [], wait)
            if readable:
                _take_notices(connection)
        return connection.ahead.pid if connection.ahead else None


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
        import pickle

        direct = can_clone_directly(plan)
        flags = direct_clone_flags(plan)
        fds = [sync.fileno(), *plan.stdio, *(fd for fd, _ in plan.join)]
        try:
            if not _is_ready(connection):
                return None
            _take_notices(connection)
            pid = _hand_to_preinit(connection, flags, plan, fds) if direct else None
            if pid is None:
                header = f"direct {flags}" if direct else "intermediate"
                body = pickle.dumps(plan, pickle.HIGHEST_PROTOCOL)
                send_message(connection.sock, header.encode() + b"\n" + body, fds)
        except (OSError, ValueError):
            state.connection = None  # it died: fork by ourselves from now on
            _reap(connection)
            return None
        try:
            reply = f"init {pid}" if pid is not None else _read_reply(connection)
            if direct and reply.startswith("init "):
                c_init = binary_path()
                ahead = f"ahead {flags}" + (f"\n{c_init}" if c_init else "")
                send_message(connection.sock, ahead.encode("utf-8", "surrogateescape"))  # the next one's init
        except (OSError, ValueError):
            state.connection = None
            _reap(connection)
            if pid is None:
                raise OSError("the fork server ended without answering") from None
    word, _, rest = reply.partition(" ")
    if word in ("init", "intermediate"):
        state.served += 1
        return int(rest), word == "init"
    number, message, filename = [*rest.split("\0"), "", ""][:3]
    raise OSError(int(number or 0), f"{message} (fork server)", filename or None)


def _hand_to_preinit(connection: _Connection, flags: int, plan: InitPlan, fds: list[int]) -> int | None:
    """Send the plan to the init cloned ahead for ``flags``, if there is one; its pid, or None."""
    import pickle

    ahead, connection.ahead = connection.ahead, None
    if ahead is None:
        return None
    with ahead.sock:
        body = None
        if ahead.flags == flags:
            if ahead.in_c:
                body = encode_plan(plan, plan.clone_flags & DEFERRED)
            else:
                body = pickle.dumps(plan, pickle.HIGHEST_PROTOCOL)
        if body is not None:
            try:
                # it says when it waits: an init whose program failed to start gets no plan
                ahead.sock.settimeout(_AHEAD_READY_SECONDS)
                if ahead.sock.recv(1) != READY:
                    raise ConnectionResetError("the init cloned ahead ended")
                ahead.sock.settimeout(None)
                send_message(ahead.sock, body, fds)
                _State.served_ahead["c" if ahead.in_c else "python"] += 1
                return ahead.pid
            except OSError:
                pass  # it died: kill it for sure, reap it, and ask the server
    _kill_and_reap(ahead.pid)
    return None


def _read_reply(connection: _Connection) -> str:
    """The server's answer to a request, after taking the notices sent before it."""
    while True:
        message = receive_message(connection.sock, max_fds=1, max_size=_MAX_REPLY)
        if message is None:
            raise OSError("the fork server ended without answering")
        if not _take_notice(connection, *message):
            return message[0].decode("utf-8", "surrogateescape")


def _take_notices(connection: _Connection) -> None:
    """Take the notices the server has sent since the last request (without waiting for any)."""
    connection.sock.setblocking(False)
    try:
        while (message := receive_message(connection.sock, max_fds=1, max_size=_MAX_REPLY)) is not None:
            if not _take_notice(connection, *message):
                raise ValueError(f"unexpected message from the fork server: {message[0]!r}")
    except BlockingIOError:
        pass
    finally:
        connection.sock.setblocking(True)


def _take_notice(connection: _Connection, body: bytes, fds: list[int]) -> bool:
    """Keep the init a ``preinit FLAGS PID`` notice announces (with its socket); False for an answer."""
    word, *fields = body.decode("utf-8", "surrogateescape").split()
    if word != "preinit":
        for fd in fds:
            os.close(fd)
        return False
    ahead = _Ahead(int(fields[1]), int(fields[0]), socket.socket(fileno=fds[0]), fields[2] == "c")
    if connection.ahead is not None:  # not used: there is one init ahead at most
        connection.ahead.sock.close()
        _kill_and_reap(connection.ahead.pid)
    connection.ahead = ahead
    return True


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _reap(connection: _Connection) -> None:
    """End the server and the init it cloned ahead for us (our child), and reap both."""
    _kill_and_reap(connection.pid)  # it keeps nothing: no need to let it clean up
    # once it is gone, everything it sent is in the socket, the last init it cloned ahead too
    with contextlib.suppress(OSError, ValueError):
        _take_notices(connection)
    connection.sock.close()
    if connection.ahead is not None:
        connection.ahead.sock.close()
        _kill_and_reap(connection.ahead.pid)
        connection.ahead = None


# -- the server's side ------------------------------------------------------------------------


def serve(parent: int) -> None:
    """The fork server's main loop (runs in the spawned interpreter; never returns)."""
    from labcore.linux.prctl import set_name, set_pdeathsig
    from labcore.runtime.init import warm_up_libc

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
    while True:
        message = receive_message(sock, max_fds=MAX_FDS, max_size=MAX_MESSAGE)
        if message is None:
            os._exit(0)
        payload, fds = message
        header, _, body = payload.partition(b"\n")
        if header.startswith(b"ahead "):
            _clone_ahead(int(header.split()[1]), body.decode("utf-8", "surrogateescape") or None, sock)
            continue
        try:
            reply = _clone_for(body, fds, sock)
        finally:
            for fd in fds:
                os.close(fd)
        send_message(sock, reply.encode("utf-8", "surrogateescape"))


def _clone_ahead(flags: int, c_init: str | None, sock: socket.socket) -> None:
    """Clone an init ahead for the next plan with ``flags``; pass its socket to the caller.

    The init execs ``c_init`` (:mod:`labcore.runtime.cinit`), if given, to wait for its plan.
    """
    try:
        pid, plan_end = preclone(flags, [sock], c_init)
    except OSError:
        return  # the next request clones as usual
    try:
        kind = "c" if c_init else "python"
        send_message(sock, f"preinit {flags} {pid} {kind}".encode(), [plan_end.fileno()])
    finally:
        plan_end.close()  # only the caller holds it now: its end of file ends the init


def _clone_for(body: bytes, fds: list[int], server: socket.socket) -> str:
    """Clone the init (or an intermediate) for the pickled plan ``body``; the reply to send."""
    from labcore.linux.process import CLONE_PARENT, clone
    from labcore.runtime.init import run_init_directly, run_intermediate

    sync: socket.socket | None = None
    try:
        plan, sync = unpack_plan(body, list(fds))
        direct = can_clone_directly(plan)
        pid = clone(CLONE_PARENT | direct_clone_flags(plan) if direct else CLONE_PARENT)
        if pid == 0:  # pragma: no cover - the child leaves through os._exit
            try:
                server.close()
                (run_init_directly if direct else run_intermediate)(plan, sync)
            finally:
                os._exit(1)
        return f"{'init' if direct else 'intermediate'} {pid}"
    except OSError as error:
        return f"error {error.errno or 0}\0{error.strerror or error}\0{error.filename or ''}"
    except Exception as error:  # a bad request must not end the server
        return f"error 0\0{type(error).__name__}: {error}\0"
    finally:
        if sync is not None:
            sync.detach()  # fds[0]: closed with the others by the caller

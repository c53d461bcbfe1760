"""``labcore server``: a command server that keeps labcore imported, so commands start in milliseconds.

The server listens on ``cli.sock`` in labcore's run directory (mode 0600, and only clients with
the server's own uid are served). For each command the ``labcore`` launcher
(:mod:`labcore.cli.launcher`) sends, it forks a worker, which takes the client's standard input,
output and error, working directory and environment and runs the command line exactly as the
launcher would have run it itself. The server reports the worker's pid at once (the launcher
forwards Ctrl-C to it) and its exit status at the end.

The worker is a fork of a process that has already imported labcore and built the command
parser: that is the whole saving. One worker is kept forked in advance (the *spare*): it takes
the page faults a fresh fork would take during its command (it prefaults its memory, see
:mod:`labcore.linux.memory`) before any command arrives, and gets the next one. Before each
command the server checks that labcore's source files are still those it has loaded; if any
changed, it answers "stale" (the launcher then runs the command itself), finishes its running
commands and starts again with the new code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from labcore.cli.launcher import decode_request, server_socket_path
from labcore.linux.fdpass import receive_message, send_message
from labcore.linux.inotify import (
    IN_ATTRIB,
    IN_CLOSE_WRITE,
    IN_CREATE,
    IN_DELETE,
    IN_ISDIR,
    IN_MODIFY,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_Q_OVERFLOW,
    Inotify,
)
from labcore.linux.proc import is_alive

__all__ = ["SourceWatch", "register", "serve", "source_fingerprint"]

ORDER = 90
_MAX_REQUEST = 1 << 20
_CLIENT_TIMEOUT = 2.0
_PACKAGE = Path(__file__).resolve().parent.parent


class SourceWatch:
    """Tells whether any of the package's ``.py`` files changed since the server loaded them.

    inotify on every package directory, so the check before each command reads one descriptor
    instead of stat-ing every file; :func:`source_fingerprint` decides where inotify is not
    available, and at the start (a change between the imports and the first watch counts too).
    """

    _EVENTS = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE

    def __init__(self, loaded: tuple[int, int, int], package: Path = _PACKAGE) -> None:
        self.loaded = loaded
        self.package = package
        self.inotify: Inotify | None = None
        self.changed_already = False
        try:
            inotify = Inotify()
        except OSError:
            return
        try:
            for directory in _package_directories(package):
                inotify.watch(directory, self._EVENTS)
        except OSError:
            inotify.close()
            return
        self.inotify = inotify
        self.changed_already = source_fingerprint(package) != loaded

    def changed(self) -> bool:
        """True once a ``.py`` file (or a package directory) was added, removed or written."""
        if self.changed_already:
            return True
        if self.inotify is None:
            self.changed_already = source_fingerprint(self.package) != self.loaded
            return self.changed_already
        for _, mask, name in self.inotify.read():
            if mask & IN_Q_OVERFLOW or name.endswith(".py") or (mask & IN_ISDIR and name != "__pycache__"):
                self.changed_already = True
        return self.changed_already

    def close(self) -> None:
        """Stop watching."""
        if self.inotify is not None:
            self.inotify.close()
            self.inotify = None


def _package_directories(package: Path) -> list[str]:
    found: list[str] = []
    pending = [str(package)]
    while pending:
        directory = pending.pop()
        found.append(directory)
        with os.scandir(directory) as entries:
            pending += [
                entry.path for entry in entries if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__"
            ]
    return found


def source_fingerprint(package: Path = _PACKAGE) -> tuple[int, int, int]:
    """(number of files, newest mtime, sum of mtimes) of the package's ``.py`` files: changes with any edit."""
    count = newest = total = 0
    pending = [str(package)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    mtime = entry.stat(follow_symlinks=False).st_mtime_ns
                    count += 1
                    newest = max(newest, mtime)
                    total += mtime
    return count, newest, total


def _pid_file(socket_path: str) -> Path:
    return Path(socket_path).with_name("cli.pid")


def running_server(socket_path: str | None = None) -> int | None:
    """The pid of the command server listening at ``socket_path`` (default: this root's), if any."""
    path = socket_path or server_socket_path()
    try:
        pid = int(_pid_file(path).read_text())
    except (FileNotFoundError, ValueError):
        return None
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        probe.connect(path)
    except OSError:
        return None
    finally:
        probe.close()
    return pid


class _Server:
    """The listening socket, the workers it has forked and the clients waiting for them."""

    def __init__(self, path: str) -> None:
        from labcore.cli.main import build_parser

        self.path = path
        self.parser = build_parser()  # imports every command module once, for every worker
        _preload()
        self.sources = SourceWatch(source_fingerprint())
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # a stale socket of a server that died (running_server() said none)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        old_umask = os.umask(0o177)
        try:
            self.listener.bind(path)
        finally:
            os.umask(old_umask)
        self.listener.listen(64)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.workers: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, client)
        self.spare: tuple[int, int, socket.socket] | None = None  # (pid, pidfd, channel) of the next worker
        self.spare_ready = False  # it has prefaulted its memory and waits for a request
        self.accepting = True
        self._fork_spare()

    def serve(self) -> bool:
        """Serve until the code changed and every worker has ended (True); SIGTERM ends it earlier."""
        while self.accepting or self.workers:
            for key, _ in self.selector.select():
                if key.data is None:
                    self._accept()
                elif key.data == "spare":
                    self._spare_died()
                elif key.data == "spare-ready":
                    self._spare_reports()
                else:
                    self._worker_ended(key.fd)
        return True

    def close(self) -> None:
        """Stop listening (running commands go on without us)."""
        self.sources.close()
        if self.accepting:
            self.accepting = False
            self.selector.unregister(self.listener)
            self.listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        if self.spare is not None:
            pid, pidfd, channel = self.spare
            with contextlib.suppress(ProcessLookupError):  # it may be prefaulting: no need to wait for that
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            self._forget_spare()
            channel.close()
            os.waitpid(pid, 0)

    def _fork_spare(self) -> None:
        """Fork the worker for the next command, which prefaults its memory while it waits."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = os.fork()
        except OSError as error:
            print(f"labcore server: cannot fork a spare worker: {error}", file=sys.stderr, flush=True)
            ours.close()
            theirs.close()
            return
        if pid == 0:  # pragma: no cover - the spare leaves through os._exit
            ours.close()
            _run_spare(self, theirs)
        theirs.close()
        pidfd = os.pidfd_open(pid)
        self.spare = (pid, pidfd, ours)
        self.spare_ready = False
        self.selector.register(pidfd, selectors.EVENT_READ, "spare")
        self.selector.register(ours, selectors.EVENT_READ, "spare-ready")

    def _forget_spare(self) -> None:
        """Stop watching the spare (its pidfd is closed; the caller deals with its channel)."""
        assert self.spare is not None
        _, pidfd, channel = self.spare
        self.spare = None
        self.selector.unregister(pidfd)
        os.close(pidfd)
        with contextlib.suppress(KeyError):  # watched until it said ready (or closed)
            self.selector.unregister(channel)
        self.spare_ready = False

    def _spare_reports(self) -> None:
        assert self.spare is not None
        channel = self.spare[2]
        self.spare_ready = channel.recv(1) == b"r"  # or end of file: it is dying, its pidfd will say so
        self.selector.unregister(channel)

    def _spare_died(self) -> None:
        assert self.spare is not None
        pid, _, channel = self.spare
        self._forget_spare()
        channel.close()
        _, status = os.waitpid(pid, 0)
        print(f"labcore server: the spare worker {pid} ended unasked (status {status}); forking another",
              file=sys.stderr, flush=True)  # fmt: skip
        if self.accepting:
            self._fork_spare()

    def _hand_to_spare(self, body: bytes, fds: list[int]) -> int | None:
        """Give the request to the spare; its pid, or None if there is no spare that could take it."""
        if self.spare is None or not self.spare_ready:
            return None  # still prefaulting: a fresh fork is quicker than waiting for it
        pid, _, channel = self.spare
        self._forget_spare()
        try:
            send_message(channel, body, fds)
        except OSError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        finally:
            channel.close()
        return pid

    def _accept(self) -> None:
        client, _ = self.listener.accept()
        fds: list[int] = []
        try:
            credentials = client.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            if struct.unpack("3i", credentials)[1] != os.getuid():
                client.close()
                return
            client.settimeout(_CLIENT_TIMEOUT)
            body, fds = _receive_request(client)
            argv, cwd, environ, umask = decode_request(body)
            if len(fds) != 3:
                raise ValueError("expected the client's stdin, stdout and stderr")
        except EOFError:  # running_server() checking that we listen
            client.close()
            return
        except (OSError, ValueError) as error:
            print(f"labcore server: dropped a request: {error}", file=sys.stderr, flush=True)
            _close_all(fds)
            client.close()
            return
        if self.sources.changed():
            print("labcore server: labcore's files changed; restarting with the new code", file=sys.stderr, flush=True)
            _close_all(fds)
            with contextlib.suppress(OSError):
                client.sendall(b"stale\n")
            client.close()
            self.close()
            return
        pid = self._hand_to_spare(body, fds)
        if pid is None:
            try:
                pid = os.fork()
            except OSError as error:  # e.g. EAGAIN at a pids limit: the client runs the command itself
                print(f"labcore server: cannot fork a worker: {error}", file=sys.stderr, flush=True)
                _close_all(fds)
                with contextlib.suppress(OSError):
                    client.sendall(b"stale\n")
                client.close()
                return
            if pid == 0:  # pragma: no cover - the worker leaves through os._exit
                _run_worker(self, fds, (argv, cwd, environ, umask))
        _close_all(fds)
        pidfd = os.pidfd_open(pid)
        self.workers[pidfd] = (pid, client)
        self.selector.register(pidfd, selectors.EVENT_READ, "worker")
        with contextlib.suppress(OSError):
            client.sendall(f"pid {pid}\n".encode())
        if self.spare is None and self.accepting:
            self._fork_spare()  # after the reply: off the client's path

    def _worker_ended(self, pidfd: int) -> None:
        self.selector.unregister(pidfd)
        os.close(pidfd)
        pid, client = self.workers.pop(pidfd)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):  # the client may have gone; the command ran anyway
            client.sendall(f"exit {128 - code if code < 0 else code}\n".encode())
        client.close()


def _receive_request(client: socket.socket) -> tuple[bytes, list[int]]:
    """The request body and the descriptors that came with it."""
    message = receive_message(client, max_fds=3, max_size=_MAX_REQUEST)
    if message is None:
        raise EOFError("a probe: connected and left")
    return message


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _preload() -> None:
    """Import what the usual commands need, so that every worker starts with it."""
    import labcore.container.lifecycle
    import labcore.container.logfile
    import labcore.image.snapshots
    import labcore.image.store  # noqa: F401
    from labcore.container import supervisor

    supervisor.preload()


def _leave_server(server: _Server) -> None:
    """In a forked worker: close what belongs to the server, and leave its process group."""
    os.setsid()  # out of the server's process group: signals to the server do not reach it
    server.selector.close()
    server.listener.close()
    server.sources.close()
    for pidfd, (_, client) in server.workers.items():
        os.close(pidfd)
        client.close()
    if server.spare is not None:
        os.close(server.spare[1])
        server.spare[2].close()
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _run_spare(server: _Server, channel: socket.socket) -> None:
    """The spare worker: prefault, wait for a request from the server, then run it."""
    code = 0
    try:
        _leave_server(server)
        from labcore.linux.memory import prefault_mappings

        priority = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, min(priority + 10, 19))  # the running command comes first
        prefault_mappings()
        os.setpriority(os.PRIO_PROCESS, 0, priority)
        try:
            channel.sendall(b"r")
            body, fds = _receive_request(channel)
        except (EOFError, OSError, ValueError):
            return  # the server stopped or restarts: nothing to run
        channel.close()
        code = 1
        _run_command(server.parser, fds, decode_request(body))
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(code)


def _run_worker(server: _Server, fds: list[int], request: tuple[list[str], str, dict[str, str], int]) -> None:
    """A worker forked for one request (when no spare was ready): run it."""
    try:
        _leave_server(server)
        _run_command(server.parser, fds, request)
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(1)


def _run_command(
    parser: argparse.ArgumentParser, fds: list[int], request: tuple[list[str], str, dict[str, str], int]
) -> None:
    """Become the client's process (stdio, cwd, environment, umask), run its command and exit with its status."""
    argv, cwd, environ, umask = request
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _close_all([fd for fd in fds if fd > 2])
        sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
        line_buffered = os.isatty(1)
        sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False,  # noqa: SIM115
                          buffering=1 if line_buffered else -1)  # fmt: skip
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
        os.umask(umask)
        try:
            os.chdir(cwd)
        except OSError as error:
            print(f"labcore: cannot use the working directory {cwd}: {error.strerror}", file=sys.stderr)
            code = 125
            return
        os.environ.clear()
        os.environ.update(environ)
        sys.argv = ["labcore", *argv]
        from labcore.cli.main import main

        code = main(argv, parser=parser)
    except SystemExit as leaving:
        code = _exit_status(leaving.code)
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def serve(path: str | None = None) -> int:
    """Run the command server in this process until SIGTERM or SIGINT; re-executes itself on new code."""
    socket_path = path or server_socket_path()
    if running_server(socket_path) is not None:
        print(f"labcore server: already running at {socket_path}", file=sys.stderr)
        return 1
    server = _Server(socket_path)
    pid_file = _pid_file(socket_path)
    pid_file.write_text(f"{os.getpid()}\n")

    def stop(_number: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"labcore server: listening on {socket_path} (pid {os.getpid()})", file=sys.stderr, flush=True)
    try:
        reload = server.serve()
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            if pid_file.read_text().strip() == str(os.getpid()):
                pid_file.unlink()
    if reload:
        os.execv(sys.executable, _server_command(socket_path))  # noqa: S606 - this interpreter, the new code
    return 0


def _server_command(socket_path: str) -> list[str]:
    return [sys.executable, "-m", "labcore.cli.main", "server", "run", "--socket", socket_path]


def _wait_until(condition: Any, seconds: float) -> bool:
    """Poll ``condition()`` until it is true (True) or ``seconds`` have passed (False)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _start(args: argparse.Namespace) -> int:
    socket_path = args.socket or server_socket_path()
    pid = running_server(socket_path)
    if pid is not None:
        print(f"labcore server: already running (pid {pid}) at {socket_path}")
        return 0
    log = Path(socket_path).with_name("cli-server.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    command = _server_command(socket_path)
    child = os.fork()
    if child == 0:  # pragma: no cover - the daemonizing fork leaves through os._exec/_exit
        try:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDONLY)
                output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                os.dup2(null, 0)
                os.dup2(output, 1)
                os.dup2(output, 2)
                os.closerange(3, 1 << 16)  # nothing of the caller's (its pipes) may stay open in a daemon
                os.chdir("/")
                os.execv(sys.executable, command)  # noqa: S606 - our own interpreter and module
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    if not _wait_until(lambda: running_server(socket_path) is not None, 30):
        print(f"labcore server: did not start; see {log}", file=sys.stderr)
        return 1
    print(f"labcore server: listening on {socket_path} (pid {running_server(socket_path)})")
    return 0


def _stop(args: argparse.Namespace) -> int:
    socket_path = args.socket or server_socket_path()
    pid = running_server(socket_path)
    if pid is None:
        print("labcore server: not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    if not _wait_until(lambda: running_server(socket_path) is None and not is_alive(pid, None), 30):
        print(f"labcore server: pid {pid} did not stop within 30 s\nhint: kill -9 {pid}", file=sys.stderr)
        return 1
    print(f"labcore server: stopped (pid {pid})")
    return 0


def _status(args: argparse.Namespace) -> int:
    socket_path = args.socket or server_socket_path()
    pid = running_server(socket_path)
    if pid is None:
        print(f"labcore server: not running (commands run in their own process); socket {socket_path}")
        return 3
    print(f"labcore server: running (pid {pid}) at {socket_path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    return serve(args.socket)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``server start|stop|status|run``."""
    parser = subparsers.add_parser(
        "server",
        help="a command server that keeps labcore loaded, so commands start fast",
        description="Start, stop or query the command server; `labcore` commands use it when it runs.",
    )
    actions = parser.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    for name, handler, text in (
        ("start", _start, "start it in the background (log: cli-server.log in the run directory)"),
        ("stop", _stop, "stop it (running commands finish)"),
        ("status", _status, "say whether it runs (exit 3 if not)"),
        ("run", _run, "run it in the foreground"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("--socket", help="listen here instead of cli.sock in the run directory")
        action.set_defaults(handler=handler)

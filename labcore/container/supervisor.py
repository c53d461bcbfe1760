"""The supervisor: one small process per running container, like Docker's shim or Podman's conmon.

For a detached container, ``launch()`` forks the caller into a new session; that child forks once
more and exits, so the supervisor is re-parented away from the caller and outlives the command
that started it. The supervisor then

1. mounts the container's root filesystem and creates the init through :mod:`labcore.runtime`
   (namespaces, cgroup, mounts; the init waits before exec: status *created*),
2. reports success or the error on the ready pipe, and waits for ``start`` on its control socket
   (or starts at once for ``run``),
3. relays the init's stdout/stderr (or its pty) into the json-file log (and, in the foreground,
   to the caller's descriptors or into memory),
4. when the init exits, records exit code, OOM state and finish time atomically, tears down the
   cgroup and the rootfs mount, removes the container if it was run with ``--rm``, and answers
   every ``wait`` request (the control socket stays open until then).

An attached ``run`` does not fork a supervisor: :func:`run_in_foreground` runs the same steps in
the calling process, which waits anyway (as ``crun run`` does). Such a container lives as long as
its caller; if the caller is killed, the reaper cleans up after it as after a dead supervisor.

The control socket is an abstract Unix socket (no file to clean up, no path length limit); only
clients with the supervisor's own uid are served. Requests and replies are one JSON line each.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import json
import os
import selectors
import signal
import socket
import struct
import sys
import termios
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labcore.container.logfile import LogWriter
from labcore.container.record import ContainerRecord, load_record
from labcore.container.state import (
    ContainerPaths,
    RuntimeState,
    load_state,
    now_rfc3339,
    write_state,
)
from labcore.errors import LabcoreError
from labcore.linux.proc import process_start_time
from labcore.runtime.spec import ContainerSpec, MountSpec

__all__ = [
    "ForegroundResult",
    "LaunchResult",
    "control_address",
    "launch",
    "main",
    "preload",
    "request",
    "run_in_foreground",
]

_DRAIN_SECONDS = 2.0


def control_address(paths: ContainerPaths) -> bytes:
    """The abstract socket address of a container's supervisor (unique per run dir and id)."""
    import hashlib

    tag = hashlib.sha256(str(paths.run_dir).encode()).hexdigest()[:24]
    return b"\0labcore-supervisor-" + tag.encode()


def request(paths: ContainerPaths, message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Send one request to the supervisor and return its reply; ConnectionError if none is running."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        client.settimeout(timeout)
        client.connect(control_address(paths))
        client.sendall(json.dumps(message).encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = client.recv(65536)
            if not chunk:
                raise ConnectionResetError(f"supervisor of {paths.container_id[:12]} closed the connection")
            reply += chunk
        result: dict[str, Any] = json.loads(reply)
        return result
    except FileNotFoundError:
        raise ConnectionRefusedError(f"no supervisor for {paths.container_id[:12]}") from None
    finally:
        client.close()


@dataclass(frozen=True)
class LaunchResult:
    """What the supervisor reported once the container was created (or failed to be)."""

    ok: bool
    pid: int | None = None
    error: dict[str, Any] = field(default_factory=dict)
    start: dict[str, Any] = field(default_factory=dict)  # the start reply, when launched with start
    supervisor_pid: int | None = None


def launch(paths: ContainerPaths, *, start: bool) -> LaunchResult:
    """Start a supervisor for the detached container at ``paths``; return once it is created (or failed).

    With ``start`` the command is started at once (``run -d``, ``start``).

    The supervisor is forked from the caller, not started as a new interpreter: it inherits the
    modules already imported, so a container starts in milliseconds rather than in the time a
    Python start-up takes. The fork gets a session of its own, only the file descriptors it
    needs, and forks once more so that it is re-parented away from the caller.
    """
    preload()
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    ready_read, ready_write = os.pipe()
    options = argparse.Namespace(
        container_id=paths.container_id, ready_fd=ready_write, start=start, stdin_fd=None, stdout_fd=None,
        stderr_fd=None,
    )  # fmt: skip
    diagnostics = os.open(paths.supervisor_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    passed = [ready_write, diagnostics]
    intermediate = os.fork()
    if intermediate == 0:
        _become_supervisor(options, diagnostics, passed)  # never returns
    for fd in passed:
        os.close(fd)
    try:
        os.waitpid(intermediate, 0)  # it forks the supervisor and exits at once
        with os.fdopen(ready_read, "rb") as ready:
            line = ready.readline()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.kill(intermediate, signal.SIGKILL)
        raise
    if not line:
        return LaunchResult(False, error={"type": "SupervisorError", "message": "the supervisor died early"})
    report = json.loads(line)
    if report.get("ok"):
        return LaunchResult(
            True,
            pid=report.get("pid"),
            start=report.get("start") or {},
            supervisor_pid=report.get("supervisor_pid"),
        )
    return LaunchResult(False, error=report)


@dataclass(frozen=True)
class ForegroundResult:
    """How a container supervised by :func:`run_in_foreground` ended."""

    exit_code: int
    oom_killed: bool = False
    stdout: bytes = b""  # captured output (with ``capture=True``)
    stderr: bytes = b""
    error: dict[str, Any] = field(default_factory=dict)  # why it could not be created, if so
    interrupted: bool = False  # the caller got SIGINT (Ctrl-C, a Jupyter interrupt) meanwhile


def run_in_foreground(
    paths: ContainerPaths,
    *,
    attach: tuple[int | None, int | None, int | None] = (None, None, None),
    capture: bool = False,
    record: ContainerRecord | None = None,
) -> ForegroundResult:
    """Create, start and supervise the container at ``paths`` in this process until it is gone.

    ``attach`` are this process's descriptors for the container's stdin, stdout and stderr;
    ``capture`` keeps stdout and stderr in memory instead. SIGINT while it runs is passed on to
    the container (Docker's ``--sig-proxy``), a second one kills it; either way the container is
    torn down (and removed with ``--rm``) before this returns. ``record`` saves reading the
    container's record again when the caller has it.
    """
    options = argparse.Namespace(
        container_id=paths.container_id, ready_fd=None, start=True,
        stdin_fd=attach[0], stdout_fd=attach[1], stderr_fd=attach[2],
    )  # fmt: skip
    supervisor = _Supervisor(paths.container_id, options, foreground=True, capture=capture, record=record)
    supervisor.run()
    reply = supervisor.final_reply
    return ForegroundResult(
        exit_code=int(reply.get("StatusCode", 125)),
        oom_killed=bool(reply.get("OOMKilled")),
        stdout=bytes(supervisor.captured["stdout"]),
        stderr=bytes(supervisor.captured["stderr"]),
        error=supervisor.failure,
        interrupted=supervisor.interrupts > 0,
    )


def preload() -> None:
    """Import and load once, in the caller, what every supervisor needs.

    Each supervisor is a fork of the caller: what the caller has loaded, every supervisor (and
    container init) starts with, instead of importing modules and loading libc all over again.
    """
    import labcore.container.removal
    import labcore.container.rootfs
    import labcore.container.specbuild
    import labcore.container.teardown
    import labcore.container.users
    import labcore.linux.subreaper
    import labcore.runtime.cgroups_v1
    import labcore.runtime.cgroups_v2
    import labcore.runtime.init
    import labcore.runtime.process  # noqa: F401
    from labcore.linux import capabilities
    from labcore.linux._libc import libc

    libc()
    capabilities.last_cap()  # read once, cached


def _become_supervisor(options: argparse.Namespace, diagnostics: int, passed: list[int]) -> None:
    """In the forked child: leave the caller's session, files and signal handlers, then supervise."""
    code = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(diagnostics, 1)
        os.dup2(diagnostics, 2)
        # Drop every other descriptor of the caller (pipes, sockets) so the supervisor keeps none of
        # them open. They are pointed at /dev/null rather than closed: Python objects of the caller
        # may still close "their" numbers when collected, which must not hit a file opened since.
        keep = {0, 1, 2, null, *passed}
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in keep:
                with contextlib.suppress(OSError):
                    os.dup2(null, int(name), inheritable=False)
        # the caller's Python-level streams may be a Jupyter kernel's, which need its threads
        sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        for number in (
            signal.SIGTERM,
            signal.SIGINT,
            signal.SIGHUP,
            signal.SIGCHLD,
            signal.SIGPIPE,
            signal.SIGUSR1,
            signal.SIGUSR2,
            signal.SIGALRM,
        ):
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        code = supervise(options)
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(code)


class _Supervisor:
    """The supervisor's state while one container runs."""

    def __init__(
        self,
        container_id: str,
        options: argparse.Namespace,
        *,
        foreground: bool = False,
        capture: bool = False,
        record: ContainerRecord | None = None,
    ) -> None:
        self.foreground = foreground  # supervising in the caller's own process (an attached run)
        self.capture = capture
        self.captured = {"stdout": bytearray(), "stderr": bytearray()}
        self.failure: dict[str, Any] = {}
        self.final_reply: dict[str, Any] = {}
        self.interrupts = 0
        self.paths = ContainerPaths.of(container_id)
        self.record: ContainerRecord = record or load_record(self.paths)
        self.options = options
        self.selector = selectors.DefaultSelector()
        self.waiters: list[socket.socket] = []
        self.log: LogWriter | None = None
        self.outputs: dict[int, str] = {}  # container output fd -> stream name
        self.container_stdin: int | None = None
        self.attach_out: dict[str, int | None] = {"stdout": options.stdout_fd, "stderr": options.stderr_fd}
        self.init: Any = None
        self.init_fields: dict[str, Any] = {}
        self.listener: socket.socket | None = None
        self.started = False
        self.exit_code: int | None = None
        self.state = RuntimeState()  # read in run(); from then on this process is its only writer

    # -- setup --------------------------------------------------------------------------------

    def record_state(self, **changes: Any) -> RuntimeState:
        """Apply ``changes`` to the state and write it (no read: nobody else writes it meanwhile)."""
        for key, value in changes.items():
            setattr(self.state, key, value)
        write_state(self.paths, self.state)
        return self.state

    def report_ready(self, message: dict[str, Any]) -> None:
        fd = self.options.ready_fd
        if fd is None:
            return
        self.options.ready_fd = None
        with contextlib.suppress(OSError):
            os.write(fd, json.dumps(message).encode() + b"\n")
        os.close(fd)

    def create(self) -> None:
        from labcore.container.rootfs import mount_rootfs
        from labcore.container.specbuild import build_spec
        from labcore.runtime.process import create

        rootfs = mount_rootfs(self.record, self.paths)
        self._prepare_volumes(rootfs)
        netns_path, network_mounts = self._join_network()
        spec = build_spec(self._with_user(rootfs), self.paths, netns_path=netns_path, extra_mounts=network_mounts)
        child_fds: list[int] = []
        if self.record.tty:
            master, slave = os.openpty()
            self._copy_window_size(master)
            stdio = (slave, slave, slave)
            child_fds.append(slave)
            self.outputs[master] = "stdout"
            self.container_stdin = master if self.options.stdin_fd is not None else None
        else:
            if self.record.interactive and self.options.stdin_fd is not None:
                stdin_read, stdin_write = os.pipe()
                self.container_stdin = stdin_write
            else:
                stdin_read = os.open(os.devnull, os.O_RDONLY)
            out_read, out_write = os.pipe()
            err_read, err_write = os.pipe()
            stdio = (stdin_read, out_write, err_write)
            child_fds += [stdin_read, out_write, err_write]
            self.outputs[out_read] = "stdout"
            self.outputs[err_read] = "stderr"
        try:
            self.init = create(spec, stdio, start=self.options.start)
        finally:
            for fd in child_fds:
                os.close(fd)
        init = self.init
        self.init_fields = {"pid": init.pid, "pid_start_time": init.start_time, "cgroup": init.cgroup.name}
        if not self.options.start:  # run writes these together with "running", in one go
            self.record_state(phase="created", **self.init_fields)

    def _join_network(self) -> tuple[str | None, tuple[MountSpec, ...]]:
        """For a bridge network: the sandbox netns to join, and its /etc/hosts and resolv.conf."""
        from labcore.container.teardown import LOCAL_NETWORK_MODES

        if self.record.network in LOCAL_NETWORK_MODES:
            return None, ()
        from labcore.runtime import network as networking

        sandbox = networking.create_sandbox(
            self.record.id,
            self.record.network,
            name=self.record.name,
            hostname=self.record.hostname,
            ports=[networking.parse_publish(spec) for spec in self.record.ports],
        )
        mounts = (
            MountSpec("/etc/hosts", "bind", str(sandbox.hosts), ("rbind", "rw")),
            MountSpec("/etc/resolv.conf", "bind", str(sandbox.resolv_conf), ("rbind", "rw")),
        )
        return sandbox.netns_path, mounts

    def _prepare_volumes(self, rootfs: Path) -> None:
        """Docker's copy-up: an empty volume gets the image's files at its mount point."""
        from labcore.runtime import volumes

        for mount in self.record.mounts:
            if mount.type == "volume" and mount.copy_up and mount.name:
                volumes.fill_from_image(volumes.get_volume(mount.name), rootfs, mount.destination)

    def _with_user(self, rootfs: Path) -> ContainerRecord:
        """The record with ``user`` resolved against the image's passwd/group, and HOME set."""
        from labcore.container.users import resolve_user

        user = resolve_user(self.record.user, rootfs)
        env = list(self.record.env)
        if not any(item.startswith("HOME=") for item in env):
            env.append(f"HOME={user.home}")
        return dataclasses.replace(
            self.record, uid=user.uid, gid=user.gid, additional_gids=list(user.additional_gids), env=env
        )

    def _copy_window_size(self, master: int) -> None:
        source = self.options.stdin_fd if self.options.stdin_fd is not None else self.options.stdout_fd
        if source is None:
            return
        with contextlib.suppress(OSError):
            size = fcntl.ioctl(source, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
            fcntl.ioctl(master, termios.TIOCSWINSZ, size)

    # -- start --------------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        if self.started:
            return {"ok": True}
        self.started = True
        try:
            # the state is written while the init execs (START is already sent)
            self.init.start(
                while_starting=lambda: self.record_state(phase="running", started_at=now_rfc3339(), **self.init_fields)
            )
        except LabcoreError as error:
            code = int(getattr(error, "exit_code", 126))
            self._log_error(error.message)
            self.record_state(error=error.message)
            return {"ok": False, "type": type(error).__name__, "message": error.message, "hint": error.hint,
                    "exit_code": code}  # fmt: skip
        return {"ok": True}

    def _log_error(self, message: str) -> None:
        if self.log is not None:
            self.log.write("stderr", message.encode() + b"\n")
        if self.capture:
            self.captured["stderr"] += f"labcore: {message}\n".encode()
        fd = self.attach_out["stderr"]
        if fd is not None:
            with contextlib.suppress(OSError):
                os.write(fd, f"labcore: {message}\n".encode())

    # -- event loop ---------------------------------------------------------------------------

    def serve(self, listener: socket.socket) -> None:
        pidfd = os.pidfd_open(self.init.pid)
        self.selector.register(listener, selectors.EVENT_READ, "listener")
        self.selector.register(pidfd, selectors.EVENT_READ, "exit")
        for fd in self.outputs:
            os.set_blocking(fd, False)
            self.selector.register(fd, selectors.EVENT_READ, "output")
        if self.container_stdin is not None and self.options.stdin_fd is not None:
            self.selector.register(self.options.stdin_fd, selectors.EVENT_READ, "stdin")
        exited = False
        while not exited:
            try:
                exited = self._serve_once(listener)
            except KeyboardInterrupt:
                if not self.foreground:
                    raise
                self._pass_interrupt()
        self.selector.unregister(pidfd)
        os.close(pidfd)
        self.exit_code = self._reap_init()
        self._drain_outputs()

    def _serve_once(self, listener: socket.socket) -> bool:
        """Handle what is ready now; True once the init has exited."""
        exited = False
        for key, _ in self.selector.select():
            if key.data == "listener":
                self._accept(listener)
            elif key.data == "output":
                self._relay_output(int(key.fd))
            elif key.data == "stdin":
                self._relay_stdin()
            elif key.data == "exit":
                exited = True
        return exited

    def _pass_interrupt(self) -> None:
        """Ctrl-C in the caller: SIGINT to the container's init, SIGKILL the second time."""
        self.interrupts += 1
        if self.init is not None:
            self.init.kill(signal.SIGINT if self.interrupts == 1 else signal.SIGKILL)

    def _take_late_waiters(self) -> None:
        """Queue the ``wait`` requests that arrived while the container was being torn down.

        The control socket stays open until the exit is known and everything is cleaned up, so
        that a ``wait`` sent after the exit, even of a ``--rm`` container about to vanish, gets
        the exit code rather than a connection refused.
        """
        if self.listener is None:
            return
        self.listener.setblocking(False)
        while True:
            try:
                self._accept(self.listener, late=True)
            except (BlockingIOError, InterruptedError):
                return

    def _close_listener(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def _accept(self, listener: socket.socket, *, late: bool = False) -> None:
        connection, _ = listener.accept()
        connection.setblocking(True)
        credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", credentials)
        if uid != os.getuid():
            connection.close()
            return
        connection.settimeout(5)
        try:
            line = b""
            while not line.endswith(b"\n"):
                chunk = connection.recv(4096)
                if not chunk:
                    break
                line += chunk
            message = json.loads(line or b"{}")
        except (OSError, ValueError):
            connection.close()
            return
        command = message.get("cmd")
        if late and command != "wait":
            self._reply(connection, {"ok": False, "message": "the container has stopped"})
        elif command == "start":
            self._reply(connection, self.start())
        elif command == "wait":
            self.waiters.append(connection)
        else:
            self._reply(connection, {"ok": False, "message": f"unknown command {command!r}"})

    @staticmethod
    def _reply(connection: socket.socket, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps(message).encode() + b"\n")
        connection.close()

    def _relay_output(self, fd: int) -> bool:
        """Copy what is available on ``fd``; False (and unregistered) at end of file."""
        stream = self.outputs[fd]
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError:  # EIO: every holder of the pty's other end has exited
            data = b""
        if not data:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(fd)
            return False
        if self.log is not None:
            self.log.write(stream, data)
        if self.capture:
            self.captured[stream] += data
        target = self.attach_out[stream]
        if target is not None:
            try:
                os.write(target, data)
            except OSError:
                self.attach_out[stream] = None  # the client went away; keep logging
        return True

    def _relay_stdin(self) -> None:
        assert self.options.stdin_fd is not None and self.container_stdin is not None
        try:
            data = os.read(self.options.stdin_fd, 65536)
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(self.options.stdin_fd)
            if not self.record.tty:
                os.close(self.container_stdin)  # the container sees end of file
                self.container_stdin = None
            return
        with contextlib.suppress(OSError):
            os.write(self.container_stdin, data)

    def _drain_outputs(self) -> None:
        deadline = time.monotonic() + _DRAIN_SECONDS
        open_fds = [fd for fd in self.outputs if fd in self.selector.get_map()]
        while open_fds and time.monotonic() < deadline:
            for key, _ in self.selector.select(timeout=0.1):
                if key.data == "output" and not self._relay_output(int(key.fd)):
                    open_fds.remove(int(key.fd))

    def _reap_init(self) -> int:
        while True:
            try:
                _, status = os.waitpid(self.init.pid, 0)
            except ChildProcessError:
                return 255  # not our child (should not happen: we are its subreaper)
            except InterruptedError:
                continue
            return os.waitstatus_to_exitcode(status) if status >= 0 else 255

    # -- teardown -----------------------------------------------------------------------------

    def finish(self, exit_code: int, error: str | None = None) -> None:
        from labcore.container.teardown import teardown

        oom = False
        if self.init is not None:
            with contextlib.suppress(OSError):
                oom = bool(self.init.cgroup.oom_killed())
        code = 128 - exit_code if exit_code < 0 else exit_code  # killed by signal N -> 128+N
        changes: dict[str, Any] = {"phase": "exited", "exit_code": code, "oom_killed": oom,
                                   "finished_at": now_rfc3339()}  # fmt: skip
        if error is not None:
            changes["error"] = error
        if self.log is not None:
            self.log.close()
            self.log = None
        group = self.init.cgroup if self.init is not None else None
        try:
            teardown(self.paths, self.state, self.record.network, mark=False, cgroup=group)
        except BaseException:
            self.record_state(**changes)  # the exit is recorded even if the teardown is not
            raise
        if self.foreground and self.init is not None and self.exit_code is None:
            with contextlib.suppress(ChildProcessError):  # killed with its cgroup; it is our child
                self.init.wait()
        if not self.record.auto_remove or not self._delete_files():
            # the exit and the teardown in one write: nobody sees "exited" with the mounts still there
            self.record_state(torn_down=True, **changes)
        reply = {"StatusCode": code, "OOMKilled": oom, "Error": error or self.state.error or ""}
        self.final_reply = reply
        self._take_late_waiters()
        self._close_listener()
        for waiter in self.waiters:
            self._reply(waiter, reply)

    def _delete_files(self) -> bool:
        """``--rm``: delete the container; whether that worked (its state then needs no last write)."""
        from labcore.container.removal import delete_container_files

        try:
            delete_container_files(self.paths, self.record, remove_anonymous_volumes=True)
        except Exception:
            return False
        return True

    def run(self) -> int:
        start_time = process_start_time(os.getpid())
        self.state = load_state(self.paths) or RuntimeState()
        self.record_state(
            phase="creating",
            supervisor_pid=os.getpid(),
            supervisor_start_time=start_time,
            pid=None,
            pid_start_time=None,
            started_at=None,
            finished_at=None,
            exit_code=None,
            oom_killed=False,
            error=None,
            torn_down=False,
            foreground=self.foreground,
            cgroup=f"{ContainerSpec.cgroup_parent}/{self.paths.container_id}",  # for the reaper, should we die
        )
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        listener.bind(control_address(self.paths))
        listener.listen(16)
        self.listener = listener
        self.log = LogWriter(self.paths.log_file)
        try:
            self.create()
        except BaseException as error:
            interrupted = not isinstance(error, Exception)  # KeyboardInterrupt, SystemExit
            if interrupted and not self.foreground:
                raise
            message = error.message if isinstance(error, LabcoreError) else f"{type(error).__name__}: {error}"
            if not self.foreground:
                traceback.print_exc()
            self.failure = {"ok": False, "type": type(error).__name__, "message": message,
                            "hint": getattr(error, "hint", "")}  # fmt: skip
            self.report_ready(self.failure)
            self.finish(125, error=message)
            if interrupted:
                raise
            return 1
        report: dict[str, Any] = {"ok": True, "pid": self.init.pid, "supervisor_pid": os.getpid()}
        try:
            if self.options.start:
                report["start"] = self.start()
            self.report_ready(report)
            self.serve(listener)
        except BaseException:
            if not self.foreground:
                raise
            # the caller is being torn out of the run (e.g. an exception from a signal handler):
            # the container must not outlive it half-supervised
            self.init.kill(signal.SIGKILL)
            self.exit_code = self._reap_init()
            raise
        finally:
            with contextlib.suppress(KeyError):  # from here on, finish() answers it
                self.selector.unregister(listener)
            if self.foreground and self.exit_code is not None and not self.final_reply:
                self.finish(self.exit_code)
            if self.final_reply:
                self._close_listener()
        if not self.final_reply:
            self.finish(self.exit_code if self.exit_code is not None else 255)
        return 0


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="labcore-supervisor")
    parser.add_argument("container_id")
    parser.add_argument("--ready-fd", type=int)
    parser.add_argument("--start", action="store_true")
    parser.add_argument("--stdin-fd", type=int)
    parser.add_argument("--stdout-fd", type=int)
    parser.add_argument("--stderr-fd", type=int)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m labcore.container.supervisor ID`` (for debugging by hand)."""
    return supervise(_options(argv))


def supervise(options: argparse.Namespace) -> int:
    """Fork away from the caller, then supervise the container until it is gone."""
    if os.fork() > 0:
        os._exit(0)  # the caller waits for this; the grandchild is re-parented and lives on
    from labcore.linux.subreaper import set_child_subreaper

    set_child_subreaper()
    for number in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(number, signal.SIG_IGN)
    os.chdir("/")
    supervisor = _Supervisor(options.container_id, options)
    try:
        return supervisor.run()
    except BaseException:
        traceback.print_exc()
        supervisor.report_ready({"ok": False, "type": "SupervisorError", "message": "the supervisor crashed"})
        raise


if __name__ == "__main__":
    sys.exit(main())

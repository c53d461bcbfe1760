"""The runtime side of container processes: create an init, start it, exec into it, wait for it.

:func:`create` makes the init in new namespaces (through an intermediate, see
:mod:`labcore.runtime.init`; the process's fork server, :mod:`labcore.runtime.forkserver`, does
the cloning when it runs) and returns an :class:`InitProcess` once the init has built its root
and waits before exec (runc's *created* state). ``start()`` lets it exec the command;
:func:`exec_process` starts another process inside a running container. Both the init and exec'd
processes are children of the caller (``CLONE_PARENT``), so the caller can ``waitpid`` them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Callable, Sequence

from labcore.errors import SystemSetupError, UsageError
from labcore.linux.namespaces import Namespace, namespace_id
from labcore.linux.proc import is_alive, process_start_time
from labcore.runtime import forkserver
from labcore.runtime.cgroups import Cgroup
from labcore.runtime.hardening import plan_privileges
from labcore.runtime.init import InitPlan, run_intermediate, warm_up_libc
from labcore.runtime.rootfs import plan_rootfs, resolve_mountpoint
from labcore.runtime.spec import DEFAULT_ENV, ContainerSpec, IdMapping, ProcessSpec
from labcore.runtime.sync import SyncMessage, receive, send, socket_pair

__all__ = [
    "ContainerSetupError",
    "ExecFailedError",
    "InitProcess",
    "create",
    "exec_process",
    "exit_code_from_status",
    "is_alive",
    "process_start_time",
    "wait_exit_code",
]

#: namespaces in the order ``exec`` joins them: user first (it grants the rights for the others),
#: mount last (after it, ``/proc`` paths of the host are gone)
_JOIN_ORDER = (
    Namespace.USER,
    Namespace.IPC,
    Namespace.UTS,
    Namespace.NET,
    Namespace.PID,
    Namespace.CGROUP,
    Namespace.MNT,
)
_MAX_ID = 4294967295


class ExecFailedError(UsageError):
    """The container's command could not be executed; ``exit_code`` is 127 (not found) or 126."""

    def __init__(self, message: str, *, exit_code: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


class ContainerSetupError(SystemSetupError):
    """The container's init failed for a reason other than a system call, or died unexpectedly."""


def exit_code_from_status(status: int) -> int:
    """A ``waitpid`` status as a shell does: the exit code, or 128 + the signal number."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def wait_exit_code(pid: int) -> int:
    """Wait for child ``pid`` to end and return its exit code (128 + N when killed by signal N)."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:  # pragma: no cover - Python retries EINTR itself
            continue
        return exit_code_from_status(status)


class InitProcess:
    """A container's init between :func:`create` and its exit.

    ``pid`` is its pid on the host, ``start_time`` identifies it (see :func:`is_alive`), ``cgroup``
    is the container's group. The caller is its parent: reap it with :meth:`wait`.
    """

    def __init__(
        self, pid: int, start_time: int, cgroup: Cgroup, sync: socket.socket, *, started: bool = False
    ) -> None:
        self.pid = pid
        self.start_time = start_time
        self.cgroup = cgroup
        self._sync: socket.socket | None = sync
        self._started = started  # created with start=True: it execs without waiting for START
        self.exit_code: int | None = None

    def start(self, while_starting: Callable[[], object] | None = None) -> None:
        """Let the init exec the command; return once the exec succeeded.

        For an init created with ``start=True``, which execs without being told, this only waits
        for the exec's outcome. Raises :class:`ExecFailedError` (``exit_code`` 127 or 126, message
        like Docker's ``exec: "x": executable file not found in $PATH``) when it did not; the init
        has then exited with that code and :meth:`wait` returns it. ``while_starting`` is called
        once the init was told to go, while it execs (e.g. to record the container as running).
        """
        if self._sync is None:
            raise UsageError(f"container init {self.pid} was already started", hint="start it only once")
        sync, self._sync = self._sync, None
        try:
            if not self._started:
                send(sync, SyncMessage.START)
            if while_starting is not None:
                while_starting()
            reply = receive(sync)
        finally:
            sync.close()
        if reply is None:
            return  # end of file: execve closed the init's close-on-exec end
        kind, payload = reply
        if kind is SyncMessage.EXEC_FAILED:
            code, _, message = payload.partition("\0")
            raise ExecFailedError(
                message,
                exit_code=int(code),
                hint="check the command and the image's PATH, or give the full path to the executable",
            )
        raise ContainerSetupError(f"unexpected message {kind.name} from container init {self.pid}")

    def wait(self) -> int:
        """Wait for the init to end; its exit code (137 after SIGKILL, e.g. by the OOM killer)."""
        if self.exit_code is None:
            self.exit_code = wait_exit_code(self.pid)
        return self.exit_code

    def kill(self, signal_number: int = signal.SIGKILL) -> None:
        """Send ``signal_number`` to the init if it still runs."""
        if self.exit_code is None and is_alive(self.pid, self.start_time):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal_number)

    def destroy(self) -> int | None:
        """Kill everything in the container, reap the init and remove the cgroup.

        Returns the init's exit code, or None when someone else already reaped it.
        """
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        self.cgroup.kill_all()
        self.kill()
        code: int | None = None
        with contextlib.suppress(ChildProcessError):
            code = self.wait()
        self.cgroup.remove_dirs()
        return code


def _search_path(env: Sequence[str]) -> str:
    for item in reversed(env):
        if item.startswith("PATH="):
            return item[5:]
    return DEFAULT_ENV[0][5:]


def _environ(env: Sequence[str]) -> dict[str, str]:
    environ = {}
    for item in env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"environment entry {item!r} is not NAME=VALUE", hint="write it as NAME=VALUE")
        environ[name] = value
    return environ


def _validate(spec: ContainerSpec) -> None:
    if not spec.process.args:
        raise UsageError(
            f"container {spec.id}: no command given", hint="give a command, or use an image with CMD"
        )
    if Namespace.MNT not in spec.namespaces:
        raise UsageError(
            f"container {spec.id}: a mount namespace is required",
            hint="add Namespace.MNT: the runtime mounts /proc, /dev and the root inside it",
        )
    if len(spec.hostname.encode()) > 64:
        raise UsageError(f"hostname {spec.hostname!r} is longer than 64 bytes", hint="use a shorter hostname")
    if not spec.rootfs.is_dir():
        raise UsageError(
            f"container {spec.id}: root filesystem {spec.rootfs} is not a directory",
            hint="mount the image's root filesystem first",
        )


def _create_first_process(plan: InitPlan) -> tuple[int, bool, socket.socket]:
    """Create the init, or the intermediate that clones it: its pid, whether it is the init, our sync end.

    The process's fork server creates it when there is one (see :mod:`labcore.runtime.forkserver`);
    otherwise this process forks the intermediate.
    """
    runtime_end, child_end = socket_pair()
    try:
        created = forkserver.create_process(plan, child_end)
        if created is None:
            warm_up_libc()
            pid = os.fork()
        else:
            pid = created[0]
    except BaseException:
        runtime_end.close()
        child_end.close()
        raise
    if pid == 0:  # pragma: no cover - runs in the child, which always leaves through os._exit
        try:
            runtime_end.close()
            run_intermediate(plan, child_end)
        finally:
            os._exit(1)
    child_end.close()
    return pid, created is not None and created[1], runtime_end


def _raise_setup_failure(payload: str) -> None:
    number, filename, step, message = ([*payload.split("\x00"), "", "", "", ""])[:4]
    if int(number or 0):
        error = OSError(int(number), f"{message} (container init: {step})")
        error.filename = filename or None
        raise error
    raise ContainerSetupError(f"container init failed while {step}: {message}")


def _write_id_maps(pid: int, uid_maps: tuple[IdMapping, ...], gid_maps: tuple[IdMapping, ...]) -> None:
    full = (IdMapping(0, 0, _MAX_ID),)
    for name, maps in (("uid_map", uid_maps or full), ("gid_map", gid_maps or full)):
        text = "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)
        with open(f"/proc/{pid}/{name}", "w", encoding="ascii") as file:
            file.write(text)


def _handshake(
    first: tuple[int, bool], sync: socket.socket, spec: ContainerSpec | None, expect_created: bool
) -> int:
    """Serve the child's messages until the init is created (or the exec succeeded); its pid.

    ``first`` is the pid of the first process and whether it is the init itself. The intermediate
    and the init write to the same socket, so their messages may interleave: ``INIT_PID`` can
    arrive after the init's first message.
    """
    init_pid: int | None = first[0] if first[1] else None
    intermediate = None if first[1] else first[0]
    maps_wanted = created = False
    try:
        while True:
            message = receive(sync)
            if message is None:
                if init_pid is not None and not expect_created:
                    return init_pid  # end of file: the exec closed the close-on-exec end
                raise ContainerSetupError("the container's init exited during setup without saying why")
            kind, payload = message
            if kind is SyncMessage.INIT_PID:
                init_pid = int(payload)
            elif kind is SyncMessage.USERNS_READY:
                maps_wanted = True
            elif kind is SyncMessage.CREATED:
                created = True
            elif kind is SyncMessage.SETUP_FAILED:
                _raise_setup_failure(payload)
            elif kind is SyncMessage.EXEC_FAILED:
                code, _, text = payload.partition("\0")
                raise ExecFailedError(text, exit_code=int(code), hint="check the command and the PATH")
            if init_pid is None:
                continue
            if maps_wanted and spec is not None:
                _write_id_maps(init_pid, spec.uid_mappings, spec.gid_mappings)
                send(sync, SyncMessage.USERNS_MAPPED)
                maps_wanted = False
            if created and expect_created:
                return init_pid
    except BaseException:
        if init_pid is None and intermediate is not None:
            init_pid = _late_init_pid(intermediate, sync)
        if init_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(init_pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(init_pid, 0)
        raise
    finally:
        if intermediate is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(intermediate, 0)


def _late_init_pid(intermediate: int, sync: socket.socket) -> int | None:
    """The init's pid if the intermediate sent it after the init's failure report (so it is reaped)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(intermediate, 0)  # after this, everything it sent is in the socket's queue
    sync.setblocking(False)
    try:
        while (message := receive(sync)) is not None:
            if message[0] is SyncMessage.INIT_PID:
                return int(message[1])
    except (BlockingIOError, OSError):
        pass
    return None


def create(spec: ContainerSpec, stdio: tuple[int, int, int], *, start: bool = False) -> InitProcess:
    """Create the container's namespaces, cgroup, mounts and root; the init waits before exec.

    ``stdio`` are the caller's file descriptors to become the command's stdin, stdout and stderr
    (the caller may close them afterwards). The caller becomes the init's parent. Failed system
    calls in the child are raised here as ``OSError`` naming the path and the setup step. With
    ``start`` the init does not wait: it execs the command as soon as it is created (a round trip
    fewer, for create-and-start); :meth:`InitProcess.start` then only confirms the exec.
    """
    _validate(spec)
    process = spec.process
    new_netns = Namespace.NET in spec.namespaces and spec.netns_path is None
    userns = Namespace.USER in spec.namespaces
    clone_flags = 0
    for kind in spec.namespaces:
        if kind is not Namespace.NET or new_netns:
            clone_flags |= int(kind)
    console = os.ttyname(stdio[0]) if process.terminal and os.isatty(stdio[0]) else None
    cwd = resolve_mountpoint(spec.rootfs, process.cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    steps = plan_rootfs(spec, new_netns=new_netns, userns=userns, console=console)
    privileges = plan_privileges(process)
    environ = _environ(process.env)
    join: list[tuple[int, int]] = []
    cgroup = Cgroup.create(f"{spec.cgroup_parent}/{spec.id}", spec.resources)
    try:
        if spec.netns_path is not None:
            join.append((os.open(spec.netns_path, os.O_RDONLY | os.O_CLOEXEC), int(Namespace.NET)))
        plan = InitPlan(
            clone_flags=clone_flags,
            cgroup_procs=tuple(str(path) for path in cgroup.procs_files()),
            join=tuple(join),
            userns=userns,
            rootfs=str(spec.rootfs),
            mount_steps=steps,
            hostname=spec.hostname or None,
            stdio=stdio,
            terminal=process.terminal,
            cwd=process.cwd,
            args=tuple(process.args),
            environ=environ,
            search_path=_search_path(process.env),
            privileges=privileges,
            loopback=new_netns,
            start_at_once=start,
        )
        first, is_init, sync = _create_first_process(plan)
        try:
            pid = _handshake((first, is_init), sync, spec, expect_created=True)
        except BaseException:
            sync.close()
            raise
        start_time = process_start_time(pid)
        if start_time is None:  # pragma: no cover - the init is our child, and nobody reaped it yet
            raise ContainerSetupError(f"container init {pid} vanished")
        return InitProcess(pid, start_time, cgroup, sync, started=start)
    except BaseException:
        cgroup.destroy()
        raise
    finally:
        for fd, _ in join:
            os.close(fd)


def _namespaces_to_join(target_pid: int) -> list[tuple[int, int]]:
    joined = []
    try:
        for kind in _JOIN_ORDER:
            if namespace_id(kind, target_pid) == namespace_id(kind, "self"):
                continue  # setns into one's own user namespace fails; the others are no-ops
            fd = os.open(f"/proc/{target_pid}/ns/{kind.proc_name}", os.O_RDONLY | os.O_CLOEXEC)
            joined.append((fd, int(kind)))
    except BaseException:
        for fd, _ in joined:
            os.close(fd)
        raise
    return joined


def exec_process(
    target_pid: int, process: ProcessSpec, stdio: tuple[int, int, int], cgroup: Cgroup | None
) -> int:
    """Run ``process`` inside the container whose init is ``target_pid``; its pid (a child of the caller).

    The new process joins every namespace of the target (user first, mount last), the target's
    cgroup, and gets ``process``'s user, capabilities and ``no_new_privs``; ``process.cwd`` must
    exist in the container. Raises :class:`ExecFailedError` when the command cannot be executed.
    Reap the process with :func:`wait_exit_code`.
    """
    if not process.args:
        raise UsageError(f"exec into {target_pid}: no command given", hint="give a command")
    join = _namespaces_to_join(target_pid)
    try:
        plan = InitPlan(
            clone_flags=0,
            cgroup_procs=tuple(str(path) for path in cgroup.procs_files()) if cgroup else (),
            join=tuple(join),
            userns=False,
            rootfs=None,
            mount_steps=(),
            hostname=None,
            stdio=stdio,
            terminal=process.terminal,
            cwd=process.cwd,
            args=tuple(process.args),
            environ=_environ(process.env),
            search_path=_search_path(process.env),
            privileges=plan_privileges(process),
        )
        first, is_init, sync = _create_first_process(plan)
    finally:
        for fd, _ in join:
            os.close(fd)
    with sync:
        return _handshake((first, is_init), sync, None, expect_created=False)

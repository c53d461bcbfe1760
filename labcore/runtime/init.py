"""The child side of container creation: the intermediate process and the container's init.

Runs only in processes forked by :mod:`labcore.runtime.process` or cloned by its fork server
(:mod:`labcore.runtime.forkserver`), with everything precomputed in an :class:`InitPlan`, so that
the child does little more than system calls. The runtime forks the *intermediate*, which joins
the cgroup (so the new cgroup namespace is rooted there) and any namespaces to enter, then clones
the *init* with ``CLONE_PARENT`` and the ``CLONE_NEW*`` flags: the init is the runtime's own child
(the runtime can ``waitpid`` it) and, in a new PID namespace, is PID 1. The intermediate reports
the init's pid and exits. The fork server skips the intermediate when it can: it clones the init
itself, which then joins its cgroup and makes its cgroup namespace (:func:`run_init_directly`).

The init sets up its mounts, pivots into the root, sets the hostname, stdio and privileges,
reports ``CREATED`` and blocks until ``START``; then it looks the command up in the container's
``PATH`` and executes it. Every failure is reported as a message, never raised.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import socket
import stat
import termios
from dataclasses import dataclass

from labcore.linux._libc import libc
from labcore.linux.mount import MountFlag, UmountFlag, mount, pivot_root, umount
from labcore.linux.namespaces import Namespace, setns, unshare
from labcore.linux.netdev import set_interface_up
from labcore.linux.process import CLONE_PARENT, clone
from labcore.linux.uts import sethostname
from labcore.runtime.hardening import PrivilegePlan, apply_privileges
from labcore.runtime.rootfs import MountStep
from labcore.runtime.sync import SyncMessage, receive, send

__all__ = [
    "EXIT_CANNOT_EXECUTE",
    "EXIT_NOT_FOUND",
    "InitPlan",
    "can_clone_directly",
    "direct_clone_flags",
    "find_executable",
    "run_init_directly",
    "run_intermediate",
    "warm_up_libc",
]

EXIT_NOT_FOUND = 127
EXIT_CANNOT_EXECUTE = 126
#: signals a runtime may ignore that must not stay ignored in the container (exec keeps SIG_IGN)
_RESET_SIGNALS = (
    signal.SIGPIPE,
    signal.SIGXFSZ,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGTERM,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGCHLD,
    signal.SIGTSTP,
    signal.SIGTTIN,
    signal.SIGTTOU,
)
#: statvfs ``f_flag`` bits of per-mount flags -> the ``MS_*`` flag that keeps them on a remount
_MS_NODIRATIME = 1 << 11
_MS_RELATIME = 1 << 21
_STATVFS_TO_MOUNT_FLAGS = (
    (os.ST_RDONLY, MountFlag.RDONLY),
    (os.ST_NOSUID, MountFlag.NOSUID),
    (os.ST_NODEV, MountFlag.NODEV),
    (os.ST_NOEXEC, MountFlag.NOEXEC),
    (os.ST_NOATIME, MountFlag.NOATIME),
    (os.ST_NODIRATIME, _MS_NODIRATIME),
    (os.ST_RELATIME, _MS_RELATIME),
)


@dataclass(frozen=True)
class InitPlan:
    """Everything the intermediate and the init do, decided before fork.

    ``join`` are (open fd, namespace type) pairs to ``setns`` before cloning; ``rootfs`` is None
    for ``exec`` into a running container (no mount setup, no START handshake); ``loopback``
    asks the init to bring up ``lo`` in its new network namespace (as Docker's ``none``);
    ``start_at_once`` has it exec the command right after reporting ``CREATED`` instead of
    waiting for ``START`` (create and start in one go, as ``runc run``).
    """

    clone_flags: int
    cgroup_procs: tuple[str, ...]
    join: tuple[tuple[int, int], ...]
    userns: bool
    rootfs: str | None
    mount_steps: tuple[MountStep, ...]
    hostname: str | None
    stdio: tuple[int, int, int]
    terminal: bool
    cwd: str
    args: tuple[str, ...]
    environ: dict[str, str]
    search_path: str
    privileges: PrivilegePlan
    loopback: bool = False
    start_at_once: bool = False


class _Step:
    """What the child is doing, for the error report (a plain attribute write per step)."""

    now = "starting"


def _report_failure(sock: socket.socket, error: BaseException) -> None:
    if isinstance(error, OSError):
        payload = f"{error.errno or 0}\0{error.filename or ''}\0{_Step.now}\0{error.strerror or error}"
    else:
        payload = f"0\0\0{_Step.now}\0{type(error).__name__}: {error}"
    with contextlib.suppress(OSError):
        send(sock, SyncMessage.SETUP_FAILED, payload)


def _join(plan: InitPlan) -> None:
    _Step.now = "joining the cgroup"
    for procs in plan.cgroup_procs:
        _write_file(procs, b"0")
    _Step.now = "joining namespaces"
    for fd, kind in plan.join:
        setns(fd, kind)
        os.close(fd)


def run_intermediate(plan: InitPlan, sock: socket.socket) -> None:
    """Body of the intermediate process: join cgroup and namespaces, clone the init, report its pid."""
    try:
        _join(plan)
        _Step.now = "cloning the init"
        pid = clone(CLONE_PARENT | plan.clone_flags)
        if pid == 0:
            _run_init(plan, sock)  # never returns
        send(sock, SyncMessage.INIT_PID, str(pid))
    except BaseException as error:
        _report_failure(sock, error)
        os._exit(1)
    os._exit(0)


def can_clone_directly(plan: InitPlan) -> bool:
    """Whether the init for ``plan`` may be cloned without an intermediate (see :func:`run_init_directly`)."""
    return plan.rootfs is not None and not plan.userns


def direct_clone_flags(plan: InitPlan) -> int:
    """The clone flags of an init cloned directly: all but the cgroup namespace, made after joining."""
    return plan.clone_flags & ~int(Namespace.CGROUP)


def run_init_directly(plan: InitPlan, sock: socket.socket, deferred: int = Namespace.CGROUP) -> None:
    """Body of an init cloned without an intermediate: join its cgroup and namespaces itself.

    The process that cloned it left out ``CLONE_NEWCGROUP`` (:func:`direct_clone_flags`): the
    cgroup namespace is made here, after joining the container's cgroup, so that the namespace's
    root is that cgroup. ``deferred`` are the namespaces of ``plan`` to make here rather than at
    the clone (an init cloned ahead of its plan makes its mount namespace here too, so that it
    sees the root filesystem mounted since). Only when :func:`can_clone_directly`: in a new user
    namespace the init has no rights over the host's cgroup files until its id maps are written;
    an exec must fork after ``setns`` into a PID namespace.
    """
    try:
        _join(plan)
        late = plan.clone_flags & deferred
        if late:
            _Step.now = "creating the cgroup namespace" if late == Namespace.CGROUP else "creating namespaces"
            unshare(late)
    except BaseException as error:
        _report_failure(sock, error)
        os._exit(1)
    _run_init(plan, sock)


def warm_up_libc() -> None:
    """Resolve the C functions the children call, so that no child runs the dynamic loader."""
    functions = libc()
    for name in ("mount", "umount2", "syscall", "setns", "unshare", "sethostname", "prctl", "capset"):
        getattr(functions, name)


def _write_file(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, data)
    except OSError as error:
        raise OSError(error.errno, error.strerror, path) from None
    finally:
        os.close(fd)


def _run_init(plan: InitPlan, sock: socket.socket) -> None:
    try:
        if plan.userns:
            _Step.now = "waiting for the user namespace maps"
            send(sock, SyncMessage.USERNS_READY)
            if receive(sock) != (SyncMessage.USERNS_MAPPED, ""):
                os._exit(1)
        if plan.loopback:
            _Step.now = "bringing up the loopback interface"
            set_interface_up("lo")
        if plan.rootfs is not None:
            _setup_mounts(plan.rootfs, plan.mount_steps)
        if plan.hostname:
            _Step.now = "setting the hostname"
            sethostname(plan.hostname)
        _Step.now = "setting up stdio"
        _setup_stdio(plan.stdio, sock)
        os.setsid()
        if plan.terminal and os.isatty(0):
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        _Step.now = f"changing to the working directory {plan.cwd}"
        os.chdir(plan.cwd)
        _Step.now = "dropping privileges"
        apply_privileges(plan.privileges)
        for number in _RESET_SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        if plan.rootfs is not None:
            _Step.now = "waiting for start"
            send(sock, SyncMessage.CREATED)
            if not plan.start_at_once and receive(sock) != (SyncMessage.START, ""):
                os._exit(1)  # the runtime went away or aborted
    except BaseException as error:
        _report_failure(sock, error)
        os._exit(1)
    _exec_command(plan, sock)


def _setup_mounts(rootfs: str, steps: tuple[MountStep, ...]) -> None:
    _Step.now = "making / private"
    mount(None, "/", None, MountFlag.REC | MountFlag.PRIVATE)
    for step in steps:
        _Step.now = f"{step.kind} {step.target}"
        _run_step(step)
    _Step.now = f"pivot_root into {rootfs}"
    os.chdir(rootfs)
    # pivot_root(".", "."): the old root ends up mounted over the new one; detaching it leaves
    # the new root alone, without needing a directory for the old root inside the container
    pivot_root(".", ".")
    umount(".", UmountFlag.DETACH)
    os.chdir("/")


def _run_step(step: MountStep) -> None:
    kind, target = step.kind, step.target
    if kind == "mount":
        mount(step.source, target, step.fstype, step.flags, step.data)
    elif kind == "remount":
        _bind_remount(target, step.flags)
    elif kind == "mkdir":
        _make_directory(target)
    elif kind == "mkfile":
        _make_file(target)
    elif kind == "symlink":
        with contextlib.suppress(FileExistsError):
            os.symlink(step.source or "", target)
    elif kind == "mask":
        _mask(target)
    elif kind == "readonly":
        with contextlib.suppress(FileNotFoundError):
            mount(target, target, None, MountFlag.BIND | MountFlag.REC)
            _bind_remount(target, MountFlag.RDONLY)


def _make_directory(target: str) -> None:
    # one mkdir in the usual cases (the directory is there, or only it is missing)
    try:
        os.mkdir(target, 0o755)
    except FileExistsError:
        pass  # if it is not a directory, the mount on it says so
    except FileNotFoundError:
        os.makedirs(target, mode=0o755, exist_ok=True)


def _make_file(target: str) -> None:
    # a mount point for a file: created if missing, never truncated, never opened through a
    # symlink, never blocking on a FIFO
    flags = os.O_CREAT | os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        os.close(os.open(target, flags, 0o644))
    except FileNotFoundError:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        os.close(os.open(target, flags, 0o644))
    except IsADirectoryError:
        pass  # the bind mount of a file on it says so


def _bind_remount(target: str, add: int) -> None:
    # a bind remount replaces all per-mount flags: keep the ones the mount has, add the new ones
    current = os.statvfs(target).f_flag
    flags = MountFlag.BIND | MountFlag.REMOUNT | add
    kept = 0
    for statvfs_bit, mount_flag in _STATVFS_TO_MOUNT_FLAGS:
        if current & statvfs_bit:
            kept |= mount_flag
    if kept & add == add:
        return  # it has them all already
    mount(None, target, None, flags | kept)


def _mask(target: str) -> None:
    try:
        is_dir = stat.S_ISDIR(os.lstat(target).st_mode)
    except FileNotFoundError:
        return
    if is_dir:
        mount("tmpfs", target, "tmpfs", MountFlag.RDONLY)
    else:
        mount("/dev/null", target, None, MountFlag.BIND)


def _setup_stdio(stdio: tuple[int, int, int], sock: socket.socket) -> None:
    # move the sources above 2 first so that e.g. stdio=(1, 0, 2) cannot clobber itself
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in stdio]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    keep = sock.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)


def find_executable(name: str, search_path: str) -> str | None:
    """The first regular file with an execute bit named ``name`` in ``search_path``, as Go's LookPath."""
    if "/" in name:
        return name
    for directory in search_path.split(":"):
        candidate = os.path.join(directory or ".", name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
            return candidate
    return None


def _exec_command(plan: InitPlan, sock: socket.socket) -> None:
    name = plan.args[0]
    path = find_executable(name, plan.search_path)
    if path is None:
        code, message = EXIT_NOT_FOUND, f'exec: "{name}": executable file not found in $PATH'
    else:
        try:
            os.execve(path, plan.args, plan.environ)  # noqa: S606 - args come from the container spec
        except OSError as error:
            code = EXIT_NOT_FOUND if error.errno == errno.ENOENT else EXIT_CANNOT_EXECUTE
            message = f'exec: "{path}": {os.strerror(error.errno or 0).lower()}'
    with contextlib.suppress(OSError):
        send(sock, SyncMessage.EXEC_FAILED, f"{code}\0{message}")
    os._exit(code)

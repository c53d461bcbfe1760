"""Run another process in a running container (``docker exec``)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import struct
import termios
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labcore.container.flags import merge_env, parse_env
from labcore.container.lookup import resolve
from labcore.container.pipes import read_both
from labcore.container.state import ContainerPaths, derive_status, load_state, require
from labcore.container.users import resolve_user
from labcore.errors import UsageError
from labcore.linux.pty import open_pty_pair
from labcore.runtime.spec import DEFAULT_CAPS, ProcessSpec, User

if TYPE_CHECKING:
    from labcore.container.lifecycle import Container

__all__ = ["ExecResult", "exec_command"]


@dataclass(frozen=True)
class ExecResult:
    """Exit code and (when captured) output of an exec'd command."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""


def _relay_pty(master: int, stdin: int, stdout: int, pid: int) -> None:
    """Copy stdin to the pty and the pty to stdout until the process's side closes."""
    selector = selectors.DefaultSelector()
    selector.register(master, selectors.EVENT_READ, "out")
    with contextlib.suppress(ValueError, OSError):
        selector.register(stdin, selectors.EVENT_READ, "in")
    while True:
        for key, _ in selector.select():
            if key.data == "out":
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if not data:
                    return
                os.write(stdout, data)
            else:
                data = os.read(stdin, 65536)
                if not data:
                    selector.unregister(stdin)
                else:
                    os.write(master, data)


def _copy_window_size(source: int, master: int) -> None:
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        fcntl.ioctl(master, termios.TIOCSWINSZ, size)


def exec_command(
    container: str | Container,
    args: Sequence[str],
    *,
    env: Sequence[str] = (),
    workdir: str | None = None,
    user: str | None = None,
    tty: bool = False,
    interactive: bool = False,
    privileged: bool = False,
    stdio: tuple[int, int, int] | None = None,
) -> ExecResult:
    """Run ``args`` inside the running ``container`` and wait for it.

    With ``stdio`` (e.g. ``(0, 1, 2)``) the process uses those descriptors (through a pty relay
    with ``tty``); without, stdin is empty and stdout/stderr are captured into the result.
    """
    from labcore.runtime.cgroups import Cgroup
    from labcore.runtime.process import exec_process, wait_exit_code

    if not args:
        raise UsageError("exec needs a command", hint="e.g. `labcore exec CONTAINER sh`")
    if tty and stdio is None:
        raise UsageError("exec with a tty needs a terminal to attach to", hint="drop -t, or run it from a terminal")
    record = resolve(container)
    paths = ContainerPaths.of(record.id)
    state = load_state(paths)
    require(derive_status(state), "exec", record.name)
    assert state is not None and state.pid is not None
    resolved = resolve_user(user if user is not None else record.user, paths.rootfs)
    process = ProcessSpec(
        args=list(args),
        env=merge_env(record.env, parse_env(env)),
        cwd=workdir or record.workdir or "/",
        user=User(resolved.uid, resolved.gid, resolved.additional_gids),
        terminal=tty,
        capabilities=None if privileged or record.privileged else DEFAULT_CAPS,
    )
    cgroup = Cgroup.open(state.cgroup) if state.cgroup else None
    if tty:
        assert stdio is not None
        try:
            # a terminal of the container's own devpts, so that its name resolves inside
            master, slave = open_pty_pair(f"/proc/{state.pid}/root/dev/pts/ptmx")
        except OSError:
            master, slave = os.openpty()
        _copy_window_size(stdio[0], master)
        try:
            pid = exec_process(state.pid, process, (slave, slave, slave), cgroup)
        finally:
            os.close(slave)
        try:
            _relay_pty(master, stdio[0] if interactive else os.open(os.devnull, os.O_RDONLY), stdio[1], pid)
        finally:
            os.close(master)
        return ExecResult(wait_exit_code(pid))
    if stdio is not None:
        stdin = stdio[0] if interactive else os.open(os.devnull, os.O_RDONLY)
        try:
            pid = exec_process(state.pid, process, (stdin, stdio[1], stdio[2]), cgroup)
        finally:
            if stdin != stdio[0]:
                os.close(stdin)
        return ExecResult(wait_exit_code(pid))
    null = os.open(os.devnull, os.O_RDONLY)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        try:
            pid = exec_process(state.pid, process, (null, out_write, err_write), cgroup)
        finally:
            for fd in (null, out_write, err_write):
                os.close(fd)
        stdout, stderr = read_both(out_read, err_read)
    finally:
        os.close(out_read)
        os.close(err_read)
    return ExecResult(wait_exit_code(pid), stdout.decode(errors="replace"), stderr.decode(errors="replace"))

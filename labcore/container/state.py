"""Container status (runc's state model), where a container's files live, and atomic state files.

A container has two JSON files: its persistent configuration under
``settings().root/containers/<id>/config.json`` (what to run; survives reboots) and its runtime
state under ``settings().run/containers/<id>/state.json`` (pids, exit code; written by the
supervisor). The status is never stored as truth: it is derived each time from the state file and
the kernel — the init pid must be alive *and* have the start time recorded when it was created,
so a recycled pid is not mistaken for the container.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import enum
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from labcore.config import settings
from labcore.container.errors import IllegalStateError
from labcore.fs.atomic import open_lock_file, write_json_atomic
from labcore.linux import proc

__all__ = [
    "ContainerPaths",
    "RuntimeState",
    "Status",
    "derive_status",
    "is_alive",
    "load_state",
    "locked",
    "needs_reaping",
    "now_rfc3339",
    "require",
    "update_state",
    "write_state",
]


class Status(enum.Enum):
    """The three statuses a container can be in (Docker calls ``stopped`` "exited")."""

    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"

    @property
    def can_start(self) -> bool:
        """Created containers start their init; stopped ones are started again (Docker's restart)."""
        return self in (Status.CREATED, Status.STOPPED)

    @property
    def can_kill(self) -> bool:
        """Only a running container has processes to signal (a created one has none yet)."""
        return self is Status.RUNNING

    @property
    def can_delete(self) -> bool:
        """A running container must be stopped (or removed with force) first."""
        return self in (Status.CREATED, Status.STOPPED)

    @property
    def can_exec(self) -> bool:
        """A new process can join only a running container."""
        return self is Status.RUNNING

    @property
    def docker_name(self) -> str:
        """The word ``docker ps``/``inspect`` uses: created, running or exited."""
        return "exited" if self is Status.STOPPED else self.value


_ADVICE = {
    "start": "it is already running; use `labcore stop` first to restart it",
    "kill": "it is not running; nothing to signal",
    "delete": "stop it first with `labcore stop`, or use `labcore rm -f`",
    "exec": "start it first with `labcore start`",
}


def require(status: Status, action: str, container: str) -> None:
    """Raise IllegalStateError unless ``status`` allows ``action`` (start, kill, delete, exec)."""
    allowed = getattr(status, f"can_{action}")
    if not allowed:
        raise IllegalStateError(
            f"cannot {action} container {container}: it is {status.docker_name}", hint=_ADVICE[action]
        )


@dataclass(frozen=True)
class ContainerPaths:
    """Every file and directory that belongs to one container."""

    container_id: str
    config_dir: Path
    run_dir: Path

    @classmethod
    def of(cls, container_id: str) -> ContainerPaths:
        """Paths for ``container_id`` under the current settings."""
        current = settings()
        return cls(
            container_id,
            current.root / "containers" / container_id,
            current.run / "containers" / container_id,
        )

    @property
    def config_file(self) -> Path:
        """Persistent configuration (what to run)."""
        return self.config_dir / "config.json"

    @property
    def log_file(self) -> Path:
        """Output in Docker's json-file format: one JSON object per line."""
        return self.config_dir / "container.log"

    @property
    def upper_dir(self) -> Path:
        """The container's own writable layer (overlay upperdir)."""
        return self.config_dir / "upper"

    @property
    def work_dir(self) -> Path:
        """Overlay's scratch directory, on the same filesystem as the upper dir."""
        return self.config_dir / "work"

    @property
    def state_file(self) -> Path:
        """Runtime state written by the supervisor."""
        return self.run_dir / "state.json"

    @property
    def rootfs(self) -> Path:
        """Mount point of the merged root filesystem."""
        return self.run_dir / "rootfs"

    @property
    def control_socket(self) -> Path:
        """Unix socket on which the supervisor takes commands (start)."""
        return self.run_dir / "control.sock"

    @property
    def supervisor_log(self) -> Path:
        """The supervisor's own diagnostics (tracebacks), for debugging labcore."""
        return self.run_dir / "supervisor.log"

    @property
    def lock_file(self) -> Path:
        """flock(2) target serialising changes to this container's state."""
        return self.config_dir / ".lock"


@dataclass
class RuntimeState:
    """What the supervisor records about the current or last run of a container."""

    phase: str = "creating"  # creating → created → running → exited
    supervisor_pid: int | None = None
    supervisor_start_time: int | None = None
    pid: int | None = None
    pid_start_time: int | None = None
    cgroup: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    error: str | None = None
    torn_down: bool = False
    #: supervised by the process that ran it attached (it lives on after the container)
    foreground: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**vars(self), "extra": dict(self.extra)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuntimeState:
        """Rebuild from :meth:`to_json` output, ignoring unknown keys."""
        names = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


def now_rfc3339() -> str:
    """The current UTC time as Docker writes it, e.g. ``2024-05-01T12:00:00.123456Z``."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextlib.contextmanager
def locked(paths: ContainerPaths) -> Iterator[None]:
    """Hold this container's exclusive lock (flock) for the duration of the block."""
    fd = open_lock_file(paths.lock_file, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def load_state(paths: ContainerPaths) -> RuntimeState | None:
    """The recorded runtime state, or None if the container has not been started since boot."""
    try:
        with open(paths.state_file, encoding="utf-8") as file:
            return RuntimeState.from_json(json.load(file))
    except FileNotFoundError:
        return None


def update_state(paths: ContainerPaths, **changes: Any) -> RuntimeState:
    """Apply ``changes`` to the state file atomically (read-modify-write under the lock)."""
    with locked(paths):
        state = load_state(paths) or RuntimeState()
        for key, value in changes.items():
            setattr(state, key, value)
        _write(paths, state)
        return state


def write_state(paths: ContainerPaths, state: RuntimeState) -> None:
    """Replace the state file with ``state`` under the lock, without reading it first.

    For the supervisor, the only writer while it lives: it keeps the state in memory.
    """
    with locked(paths):
        _write(paths, state)


def _write(paths: ContainerPaths, state: RuntimeState) -> None:
    write_json_atomic(paths.state_file, state.to_json(), durable=False, indent=None)


def is_alive(pid: int | None, start_time: int | None) -> bool:
    """Whether ``pid`` exists, is not a zombie, and is the same process (same start time, if known)."""
    return pid is not None and proc.is_alive(pid, start_time)


def derive_status(state: RuntimeState | None) -> Status:
    """The container's status now, from its state file checked against the kernel."""
    if state is None:
        return Status.CREATED  # created (config written) and never started since boot
    if state.phase == "exited":
        return Status.STOPPED
    if is_alive(state.pid, state.pid_start_time):
        return Status.RUNNING if state.phase == "running" else Status.CREATED
    if state.phase == "creating" and is_alive(state.supervisor_pid, state.supervisor_start_time):
        return Status.CREATED
    return Status.STOPPED


def needs_reaping(state: RuntimeState | None) -> bool:
    """True when the run ended (or the supervisor died) but its mounts/cgroup were not torn down."""
    if state is None or state.torn_down:
        return False
    return not is_alive(state.supervisor_pid, state.supervisor_start_time)

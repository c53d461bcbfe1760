"""The container lifecycle with Docker's verbs: create, start, run, stop, kill, wait, remove.

Each call reads the container's files and the kernel afresh (no daemon); a supervisor process
(:mod:`labcore.container.supervisor`) keeps each running container company. Every entry point
first runs the reaper, so containers whose supervisor was killed are cleaned up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from labcore.container import reaper
from labcore.container.errors import ContainerNotFoundError, ContainerStartError, NameInUseError
from labcore.container.flags import merge_env, parse_cpus, parse_env, parse_memory, parse_pids_limit
from labcore.container.lookup import all_records, resolve
from labcore.container.mounts import resolve_mounts
from labcore.container.names import generate_name, new_id, short_id, validate_name
from labcore.container.record import ContainerRecord, load_record, save_record
from labcore.container.removal import delete_container_files
from labcore.container.state import (
    ContainerPaths,
    RuntimeState,
    Status,
    derive_status,
    is_alive,
    load_state,
    locked,
    now_rfc3339,
    require,
)
from labcore.container.supervisor import ForegroundResult, launch, request, run_in_foreground
from labcore.errors import LabcoreError, UsageError
from labcore.runtime import volumes as volume_store
from labcore.runtime.spec import DEFAULT_ENV

__all__ = [
    "Container",
    "RunResult",
    "create",
    "kill",
    "list_containers",
    "parse_signal",
    "remove",
    "run",
    "start",
    "start_attached",
    "stop",
    "wait",
]


@dataclass(frozen=True)
class Container:
    """A handle on one container; every property reads the current state."""

    id: str
    name: str
    supervisor_pid: int | None = field(default=None, compare=False, repr=False)

    @property
    def short_id(self) -> str:
        """The 12-digit id ``ps`` shows."""
        return short_id(self.id)

    @property
    def paths(self) -> ContainerPaths:
        """Where its files are."""
        return ContainerPaths.of(self.id)

    @property
    def state(self) -> RuntimeState | None:
        """The supervisor's record of the current or last run."""
        return load_state(self.paths)

    @property
    def status(self) -> Status:
        """created, running or stopped, derived now."""
        return derive_status(self.state)

    @property
    def pid(self) -> int | None:
        """The init's host pid while running."""
        state = self.state
        return state.pid if state is not None and derive_status(state) is Status.RUNNING else None

    @property
    def exit_code(self) -> int | None:
        """The last run's exit code, once stopped."""
        state = self.state
        return state.exit_code if state is not None else None


@dataclass(frozen=True)
class RunResult:
    """What an attached ``run`` returns: the exit code and captured output."""

    container_id: str
    name: str
    exit_code: int
    stdout: str
    stderr: str
    oom_killed: bool = False


def _container(record: ContainerRecord) -> Container:
    return Container(record.id, record.name)


def _listify(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _command(
    image_entrypoint: Sequence[str] | None,
    image_cmd: Sequence[str] | None,
    entrypoint: str | Sequence[str] | None,
    args: Sequence[str] | None,
) -> tuple[list[str], list[str]]:
    """Docker's rule: ``--entrypoint`` replaces the image's and also drops the image's Cmd."""
    if entrypoint is not None:
        final_entrypoint = [part for part in (_listify(entrypoint) or []) if part]
        final_cmd = list(args) if args else []
    else:
        final_entrypoint = list(image_entrypoint or [])
        final_cmd = list(args) if args else list(image_cmd or [])
    if not final_entrypoint and not final_cmd:
        raise UsageError("no command specified", hint="give a command after the image name, e.g. `sh -c 'echo hi'`")
    return final_entrypoint, final_cmd


def create(
    image: str,
    args: Sequence[str] | None = None,
    *,
    name: str | None = None,
    env: Sequence[str] = (),
    workdir: str | None = None,
    user: str | None = None,
    hostname: str | None = None,
    entrypoint: str | Sequence[str] | None = None,
    memory: str | int | None = None,
    pids_limit: str | int | None = None,
    cpus: str | float | None = None,
    network: str = "none",
    publish: Sequence[str] = (),
    publish_all: bool = False,
    volumes: Sequence[str] = (),
    mounts: Sequence[str] = (),
    tmpfs: Sequence[str] = (),
    tty: bool = False,
    interactive: bool = False,
    privileged: bool = False,
    remove: bool = False,
    labels: dict[str, str] | None = None,
) -> Container:
    """Create a container from ``image`` without starting it (``docker create``).

    Flags take Docker's forms (``memory="64m"``, ``cpus=0.5``, ``volumes=["data:/data:ro"]``,
    ``mounts=["type=tmpfs,target=/t"]``, ``tmpfs=["/run:size=1m"]``); bad values raise
    UsageError naming the flag. ``network`` is ``"none"`` (own netns with only loopback),
    ``"host"``, ``"bridge"`` or the name of a network (``labcore network create``); ``publish``
    takes ``-p`` specs such as ``"8080:80"`` for bridge networks; ``publish_all`` (``-P``) adds
    each port the image EXPOSEs on a free host port.
    """
    from labcore.image.snapshots import SnapshotStore
    from labcore.image.store import Store

    reaper.reap()
    memory_bytes = parse_memory(memory) if memory is not None else None
    pids = parse_pids_limit(pids_limit) if pids_limit is not None else None
    nano_cpus = parse_cpus(cpus) if cpus is not None else None
    image_record = Store().resolve(image)
    defaults = image_record.config.config
    if publish_all:
        publish = [*publish, *defaults.exposed_ports]  # "80/tcp": a free host port, as -p 80 does
    _check_network(network, publish)
    if workdir is not None and not workdir.startswith("/"):
        raise UsageError(f"invalid --workdir {workdir!r}: not an absolute path", hint="e.g. --workdir /app")
    run_env = parse_env(env)
    final_entrypoint, final_cmd = _command(defaults.entrypoint, defaults.cmd, entrypoint, args)
    container_id = new_id()
    base_env = list(defaults.env) or list(DEFAULT_ENV)
    if not any(item.startswith("PATH=") for item in base_env):
        base_env = [*DEFAULT_ENV, *base_env]
    mount_records = resolve_mounts(volumes, mounts, tmpfs)
    paths = ContainerPaths.of(container_id)
    with _names_lock():
        taken = {record.name: record.id for record in all_records()}
        if name is not None:
            validate_name(name)
            if name in taken:
                raise NameInUseError(f'name "{name}" already in use by container {short_id(taken[name])}')
        else:
            name = generate_name(set(taken))
        record = ContainerRecord(
            id=container_id,
            name=name,
            created=now_rfc3339(),
            image=image,
            image_id=str(image_record.id),
            entrypoint=final_entrypoint,
            cmd=final_cmd,
            env=merge_env([*base_env, f"HOSTNAME={hostname or short_id(container_id)}"], run_env),
            workdir=workdir or defaults.working_dir or "/",
            user=user if user is not None else defaults.user,
            uid=0,
            gid=0,
            additional_gids=[],
            hostname=hostname or short_id(container_id),
            tty=tty,
            interactive=interactive,
            stop_signal=defaults.stop_signal or "SIGTERM",
            memory=memory_bytes,
            pids_limit=pids,
            nano_cpus=nano_cpus,
            network=network,
            privileged=privileged,
            auto_remove=remove,
            mounts=mount_records,
            labels=dict(labels or {}),
            lower_dirs=[str(path) for path in SnapshotStore().prepare(image_record)],
            ports=list(publish),
        )
        paths.upper_dir.mkdir(parents=True)
        paths.work_dir.mkdir()
        save_record(paths, record)
    for volume_name in {mount.name for mount in mount_records if mount.type == "volume"}:
        volume_store.add_user(volume_store.get_volume(volume_name), container_id)
    return _container(record)


def _check_network(network: str, publish: Sequence[str]) -> None:
    """Refuse an unknown network or ``-p`` without a bridge network (errors name the value)."""
    if network in ("none", "host"):
        if publish:
            raise UsageError(
                f"cannot publish ports with --network {network}: {', '.join(publish)}",
                hint="use a bridge network, e.g. --network bridge -p 8080:80",
            )
        return
    from labcore.runtime import network as networking

    networking.get_network(network)  # NotFoundError naming it; "bridge" is made on first use
    for spec in publish:
        networking.parse_publish(spec)


@contextlib.contextmanager
def _names_lock() -> Any:
    import fcntl

    from labcore.container.lookup import containers_dir

    directory = containers_dir()
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".names.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _raise_launch_error(report: dict[str, Any], container: str) -> None:
    message = report.get("message") or "unknown error"
    raise ContainerStartError(
        f"cannot start container {container}: {message}",
        hint=report.get("hint") or "see `labcore logs` and the supervisor log in the run directory",
        exit_code=int(report.get("exit_code", 125)),
    )


def start(container: str | Container) -> Container:
    """Start a created or stopped container, detached (``docker start``); return once its command runs.

    A forked supervisor keeps it company (see :func:`start_attached` for the attached form). A
    command that cannot be run raises ContainerStartError with exit code 126/127.
    """
    reaper.reap()
    record = resolve(container if isinstance(container, str) else container.id)
    paths = ContainerPaths.of(record.id)
    with locked(paths):
        previous = load_state(paths)
        require(derive_status(previous), "start", record.name)
    if previous is not None:
        _wait_for_supervisor(previous, paths, None)  # the last run's teardown must not race our mount
    result = launch(paths, start=True)
    if not result.ok:
        _raise_launch_error(result.error, record.name)
    if result.start and not result.start.get("ok"):
        _raise_launch_error(result.start, record.name)
    return Container(record.id, record.name, result.supervisor_pid)


def start_attached(
    container: str | Container,
    *,
    attach: tuple[int | None, int | None, int | None] = (None, None, None),
    capture: bool = False,
) -> ForegroundResult:
    """Start a created or stopped container and supervise it in this process until it ends.

    The attached form of :func:`start` (``docker start -a``, and ``docker run`` without ``-d``):
    no supervisor process is forked; output goes to the ``attach`` descriptors (stdin, stdout,
    stderr) or, with ``capture``, into the result. Ctrl-C is passed on to the container. A
    container that cannot be created raises ContainerStartError; a command that cannot be
    executed ends with exit code 126/127 and Docker's message on its stderr.
    """
    reaper.reap()
    return _start_attached(resolve(container if isinstance(container, str) else container.id), attach, capture)


def _start_attached(
    record: ContainerRecord, attach: tuple[int | None, int | None, int | None], capture: bool
) -> ForegroundResult:
    paths = ContainerPaths.of(record.id)
    with locked(paths):
        previous = load_state(paths)
        require(derive_status(previous), "start", record.name)
    if previous is not None:
        _wait_for_supervisor(previous, paths, None)
    paths.run_dir.mkdir(parents=True, exist_ok=True)
    result = run_in_foreground(paths, attach=attach, capture=capture, record=record)
    if result.error:
        _raise_launch_error(result.error, record.name)
    return result


def run(
    image: str,
    args: Sequence[str] | None = None,
    *,
    detach: bool = False,
    **options: Any,
) -> Container | RunResult:
    """Create and start a container (``docker run``).

    Detached: return the :class:`Container` as soon as its command runs. Attached (default):
    supervise it in this process (see :func:`start_attached`) and return a :class:`RunResult`
    with exit code and output (with ``remove=True`` the container is gone afterwards); an
    interrupt (Ctrl-C) stops the container and is raised again once it is cleaned up. Takes
    every keyword of :func:`create`.
    """
    handle = create(image, args, **options)
    if detach:
        try:
            return start(handle)
        except LabcoreError:
            if options.get("remove"):
                with contextlib.suppress(LabcoreError):
                    remove(handle, force=True)
            raise
    record = load_record(handle.paths)  # by id: cheaper than resolve(), and create() has run the reaper
    result = _start_attached(record, (None, None, None), capture=True)
    if result.interrupted:
        raise KeyboardInterrupt
    return RunResult(
        handle.id,
        handle.name,
        result.exit_code,
        result.stdout.decode("utf-8", errors="replace"),
        result.stderr.decode("utf-8", errors="replace"),
        result.oom_killed,
    )


def wait(container: str | Container, timeout: float | None = None) -> int:
    """Block until the container stops; return its exit code (``docker wait``)."""
    record = resolve(container if isinstance(container, str) else container.id)
    paths = ContainerPaths.of(record.id)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        state = load_state(paths)
        if state is not None and state.phase == "exited" and state.exit_code is not None:
            _wait_for_supervisor(state, paths, deadline)
            return state.exit_code
        if derive_status(state) is not Status.RUNNING and (state is None or not _supervisor_alive(state)):
            reaper.reap()
            state = load_state(paths)
            if state is None and record.auto_remove:
                raise ContainerNotFoundError(
                    f"no such container: {record.name} (run with --rm, it was removed when it exited)",
                    hint="wait for a --rm container while it runs, or run it without --rm",
                )
            if state is None:
                raise UsageError(f"container {record.name} was never started", hint="start it with `labcore start`")
            return state.exit_code if state.exit_code is not None else 255
        try:
            remaining = None if deadline is None else max(0.1, deadline - time.monotonic())
            reply = request(paths, {"cmd": "wait"}, timeout=remaining)
            return int(reply["StatusCode"])
        except (ConnectionError, TimeoutError, OSError):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"container {record.name} still running after {timeout} s") from None
            time.sleep(0.05)


def _supervisor_alive(state: RuntimeState) -> bool:
    return is_alive(state.supervisor_pid, state.supervisor_start_time)


def _wait_for_supervisor(state: RuntimeState, paths: ContainerPaths, deadline: float | None) -> None:
    """Let the supervisor finish teardown (and --rm) before we report the container stopped.

    A forked supervisor exits when it is done; a foreground one (the process that ran the
    container attached) lives on, so its state file and the container's directory tell instead.
    """
    limit = time.monotonic() + 10 if deadline is None else deadline
    while _supervisor_alive(state) and time.monotonic() < limit:
        if state.foreground and _foreground_done(paths):
            return
        time.sleep(0.01)


def _foreground_done(paths: ContainerPaths) -> bool:
    if not paths.config_dir.exists():
        return True  # removed (--rm)
    current = load_state(paths)
    if current is None or not current.torn_down:
        return False
    try:
        return not load_record(paths).auto_remove
    except FileNotFoundError:
        return True


_SIGNAL_NAMES = {sig.name: sig for sig in signal.Signals}


def parse_signal(value: str | int) -> signal.Signals:
    """A signal from ``9``, ``KILL`` or ``SIGKILL``; UsageError names a bad one."""
    try:
        if isinstance(value, int) or value.isdigit():
            return signal.Signals(int(value))
        text = value.upper()
        return _SIGNAL_NAMES[text if text.startswith("SIG") else f"SIG{text}"]
    except (KeyError, ValueError):
        raise UsageError(f"invalid signal {value!r}", hint="use a name such as TERM or KILL, or a number") from None


def _signal_init(paths: ContainerPaths, number: signal.Signals) -> bool:
    """Send ``number`` to the init if it is still the recorded process; False if it is gone."""
    state = load_state(paths)
    if state is None or state.pid is None:
        return False
    try:
        pidfd = os.pidfd_open(state.pid)
    except ProcessLookupError:
        return False
    try:
        # checked after opening the pidfd, so the pid cannot be recycled between check and kill
        if not is_alive(state.pid, state.pid_start_time):
            return False
        signal.pidfd_send_signal(pidfd, number)
        return True
    except ProcessLookupError:
        return False
    finally:
        os.close(pidfd)


def kill(container: str | Container, sig: str | int = "KILL") -> None:
    """Send a signal to the container's init (``docker kill``); default SIGKILL."""
    reaper.reap()
    number = parse_signal(sig)
    record = resolve(container if isinstance(container, str) else container.id)
    paths = ContainerPaths.of(record.id)
    require(derive_status(load_state(paths)), "kill", record.name)
    if not _signal_init(paths, number):
        raise UsageError(f"container {record.name} stopped before the signal was sent")


def stop(container: str | Container, timeout: float = 10) -> Container:
    """Stop the container (``docker stop``): its StopSignal (SIGTERM), then SIGKILL after ``timeout`` s."""
    reaper.reap()
    record = resolve(container if isinstance(container, str) else container.id)
    paths = ContainerPaths.of(record.id)
    if derive_status(load_state(paths)) is Status.RUNNING:
        _signal_init(paths, parse_signal(record.stop_signal or "SIGTERM"))
        deadline = time.monotonic() + timeout
        while derive_status(load_state(paths)) is Status.RUNNING and time.monotonic() < deadline:
            time.sleep(0.02)
        if derive_status(load_state(paths)) is Status.RUNNING:
            _signal_init(paths, signal.SIGKILL)
    with contextlib.suppress(LabcoreError):
        wait(record.id, timeout=30)
    return _container(record)


def remove(container: str | Container, *, force: bool = False) -> None:
    """Delete the container and its writable layer (``docker rm``); ``force`` kills it first."""
    reaper.reap()
    record = resolve(container if isinstance(container, str) else container.id)
    paths = ContainerPaths.of(record.id)
    status = derive_status(load_state(paths))
    if status is Status.RUNNING:
        if not force:
            require(status, "delete", record.name)
        _signal_init(paths, signal.SIGKILL)
    state = load_state(paths)
    if state is not None and (status is Status.RUNNING or _supervisor_alive(state)):
        with contextlib.suppress(LabcoreError, TimeoutError):
            wait(record.id, timeout=30)
        state = load_state(paths)
    if state is not None and not state.torn_down:
        reaper.reap_one(paths, record.network)
    delete_container_files(paths, record, remove_anonymous_volumes=record.auto_remove)


def list_containers(all: bool = False) -> list[Container]:
    """Running containers (``docker ps``); with ``all``, every container (``ps -a``)."""
    reaper.reap()
    found = [_container(record) for record in all_records()]
    return found if all else [item for item in found if item.status is Status.RUNNING]

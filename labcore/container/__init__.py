"""Containers with Docker's verbs on labcore's runtime: lifecycle, supervisor, volumes, commit, bundle.

Public API (every function takes a container id, id prefix or name)::

    run(image, args=None, *, detach=False, name=..., remove=..., env=..., workdir=..., user=...,
        hostname=..., entrypoint=..., memory=..., pids_limit=..., cpus=..., network="none"|"host",
        volumes=..., mounts=..., tmpfs=..., tty=..., interactive=..., privileged=...)
        -> Container (detached) | RunResult (attached: exit code and output)
    create(image, args=None, **same) -> Container       start(c) -> Container
    start_attached(c, attach=(0, 1, 2) | capture=True) -> ForegroundResult (supervised here)
    exec(c, args, ...) -> ExecResult                     stop(c, timeout=10) -> Container
    kill(c, sig="KILL")        remove(c, force=False)    list(all=False) -> list[Container]
    logs(c, follow=False) -> Iterator[LogEntry]          wait(c) -> int
    inspect(c) -> dict         diff(c) -> list[(kind, path)]          stats(c) -> ContainerStats

Errors are :class:`~labcore.errors.LabcoreError` subclasses with a hint (see :mod:`.errors`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from labcore.container.changes import diff
    from labcore.container.execute import ExecResult
    from labcore.container.execute import exec_command as exec
    from labcore.container.inspection import ContainerStats, inspect, stats
    from labcore.container.lifecycle import (
        Container,
        RunResult,
        create,
        kill,
        remove,
        run,
        start,
        start_attached,
        stop,
        wait,
    )
    from labcore.container.lifecycle import list_containers as list
    from labcore.container.logfile import LogEntry
    from labcore.container.state import Status

__all__ = [
    "Container",
    "ContainerStats",
    "ExecResult",
    "LogEntry",
    "RunResult",
    "Status",
    "create",
    "diff",
    "exec",
    "inspect",
    "kill",
    "list",
    "logs",
    "remove",
    "run",
    "start",
    "start_attached",
    "stats",
    "stop",
    "wait",
]

# imported on first use, so that the supervisor (``python -m labcore.container.supervisor``) and
# quick commands do not pay for the whole package
_LAZY = {
    "diff": ("labcore.container.changes", "diff"),
    "ExecResult": ("labcore.container.execute", "ExecResult"),
    "exec": ("labcore.container.execute", "exec_command"),
    "exec_command": ("labcore.container.execute", "exec_command"),
    "ContainerStats": ("labcore.container.inspection", "ContainerStats"),
    "inspect": ("labcore.container.inspection", "inspect"),
    "stats": ("labcore.container.inspection", "stats"),
    "Container": ("labcore.container.lifecycle", "Container"),
    "RunResult": ("labcore.container.lifecycle", "RunResult"),
    "create": ("labcore.container.lifecycle", "create"),
    "kill": ("labcore.container.lifecycle", "kill"),
    "list": ("labcore.container.lifecycle", "list_containers"),
    "list_containers": ("labcore.container.lifecycle", "list_containers"),
    "remove": ("labcore.container.lifecycle", "remove"),
    "run": ("labcore.container.lifecycle", "run"),
    "start": ("labcore.container.lifecycle", "start"),
    "start_attached": ("labcore.container.lifecycle", "start_attached"),
    "stop": ("labcore.container.lifecycle", "stop"),
    "wait": ("labcore.container.lifecycle", "wait"),
    "LogEntry": ("labcore.container.logfile", "LogEntry"),
    "Status": ("labcore.container.state", "Status"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'labcore.container' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def logs(container: str | Container, follow: bool = False) -> Iterator[LogEntry]:
    """The container's output lines; with ``follow``, keep reading while it runs (``docker logs -f``)."""
    from labcore.container.logfile import read_log
    from labcore.container.lookup import resolve
    from labcore.container.state import ContainerPaths, Status, derive_status, load_state

    record = resolve(container if isinstance(container, str) else container.id)
    paths = ContainerPaths.of(record.id)

    def running() -> bool:
        return derive_status(load_state(paths)) is Status.RUNNING

    return read_log(paths.log_file, follow=follow, still_running=running)

"""The persistent description of a container: what to run and with which limits and mounts.

Written once by ``create`` to ``settings().root/containers/<id>/config.json`` and read by the
supervisor, ``ps`` and ``inspect``. Every field is already resolved (the image's Entrypoint, Cmd,
Env, WorkingDir and User merged with the run's overrides), so starting a container again never
needs the image config.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from labcore.container.state import ContainerPaths
from labcore.fs.atomic import write_json_atomic

__all__ = ["ContainerRecord", "MountRecord", "load_record", "save_record"]


@dataclass
class MountRecord:
    """One mount of a container, as ``inspect`` shows it (Docker's ``Mounts`` entries)."""

    type: str  # bind, volume or tmpfs
    source: str  # host path (bind, volume data dir) or "" (tmpfs)
    destination: str
    rw: bool = True
    name: str = ""  # the volume name, for volumes
    options: list[str] = field(default_factory=list)
    copy_up: bool = False  # fill an empty volume from the image's content at the destination

    def inspect(self) -> dict[str, Any]:
        """Docker-like JSON for ``inspect``'s ``Mounts``."""
        out: dict[str, Any] = {
            "Type": self.type,
            "Source": self.source,
            "Destination": self.destination,
            "RW": self.rw,
        }
        if self.name:
            out["Name"] = self.name
        if self.options:
            out["Options"] = list(self.options)
        return out


@dataclass
class ContainerRecord:
    """Everything needed to (re)start a container and describe it."""

    id: str
    name: str
    created: str
    image: str  # the reference the user gave
    image_id: str  # the image config digest
    entrypoint: list[str]
    cmd: list[str]
    env: list[str]
    workdir: str
    user: str  # as given (name or uid[:gid]); uid/gid below are resolved
    uid: int
    gid: int
    additional_gids: list[int]
    hostname: str
    tty: bool = False
    interactive: bool = False
    stop_signal: str = "SIGTERM"
    memory: int | None = None
    pids_limit: int | None = None
    nano_cpus: int | None = None
    network: str = "none"
    privileged: bool = False
    auto_remove: bool = False
    mounts: list[MountRecord] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    lower_dirs: list[str] = field(default_factory=list)  # the image's snapshots, base first
    ports: list[str] = field(default_factory=list)  # -p specs, for bridge networks

    @property
    def args(self) -> list[str]:
        """The full command line: entrypoint followed by cmd."""
        return [*self.entrypoint, *self.cmd]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContainerRecord:
        """Rebuild from :meth:`to_json` output."""
        names = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        values["mounts"] = [MountRecord(**mount) for mount in values.get("mounts", [])]
        return cls(**values)


def save_record(paths: ContainerPaths, record: ContainerRecord) -> None:
    """Write the record atomically; durably unless the container is removed when it stops (``--rm``)."""
    write_json_atomic(paths.config_file, record.to_json(), durable=not record.auto_remove)


def load_record(paths: ContainerPaths) -> ContainerRecord:
    """Read the record; FileNotFoundError if the container does not exist."""
    with open(paths.config_file, encoding="utf-8") as file:
        return ContainerRecord.from_json(json.load(file))

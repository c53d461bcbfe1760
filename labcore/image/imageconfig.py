"""The image config: how to run the image (Env, Cmd, ...), its layers' diff ids and its history.

Field names follow the OCI image spec (``config.json`` of an image), which Docker shares.
:func:`chain_ids` computes the chain id of each layer stack, which names unpacked snapshots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labcore.digest import Digest
from labcore.errors import InvalidReferenceError
from labcore.image._json import InvalidDocumentError, load_object, opt, opt_str, req, str_list, str_map
from labcore.image.canonical import canonical_json, sorted_map

__all__ = ["ContainerConfig", "Healthcheck", "HistoryEntry", "ImageConfig", "chain_ids"]


def chain_ids(diff_ids: Sequence[Digest]) -> list[Digest]:
    """Chain id of each prefix of ``diff_ids``: ``ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))``."""
    chains: list[Digest] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            text = f"{chains[-1]} {diff_id}".encode()
            chains.append(Digest("sha256", hashlib.sha256(text).hexdigest()))
    return chains


def _set_keys(document: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    # ExposedPorts and Volumes are maps from a name to an empty object
    value = opt(document, key, dict, what)
    return tuple(sorted(value)) if value else ()


@dataclass(frozen=True)
class Healthcheck:
    """How to test that a container is healthy (Docker extension; durations in nanoseconds)."""

    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    retries: int = 0

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], what: str) -> Healthcheck:
        """Parse a ``Healthcheck`` object."""
        return cls(
            test=str_list(document, "Test", what) or (),
            interval=opt(document, "Interval", int, what) or 0,
            timeout=opt(document, "Timeout", int, what) or 0,
            start_period=opt(document, "StartPeriod", int, what) or 0,
            retries=opt(document, "Retries", int, what) or 0,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; zero durations are left out as Docker does."""
        out: dict[str, Any] = {"Test": list(self.test)}
        for key, value in (
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("Retries", self.retries),
        ):
            if value:
                out[key] = value
        return out


@dataclass(frozen=True)
class ContainerConfig:
    """The ``config`` part of an image config: the defaults for a container run from it."""

    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    volumes: tuple[str, ...] = ()
    working_dir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    stop_signal: str = ""
    healthcheck: Healthcheck | None = None
    on_build: tuple[str, ...] = ()
    args_escaped: bool = False

    def __post_init__(self) -> None:
        # ports and volumes are sets in JSON (maps to {}): keep them sorted so equal means equal
        object.__setattr__(self, "exposed_ports", tuple(sorted(set(self.exposed_ports))))
        object.__setattr__(self, "volumes", tuple(sorted(set(self.volumes))))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], what: str = "config") -> ContainerConfig:
        """Parse the ``config`` object of an image config."""
        health = opt(document, "Healthcheck", dict, what)
        return cls(
            user=opt_str(document, "User", what) or "",
            exposed_ports=_set_keys(document, "ExposedPorts", what),
            env=str_list(document, "Env", what) or (),
            entrypoint=str_list(document, "Entrypoint", what),
            cmd=str_list(document, "Cmd", what),
            volumes=_set_keys(document, "Volumes", what),
            working_dir=opt_str(document, "WorkingDir", what) or "",
            labels=str_map(document, "Labels", what),
            stop_signal=opt_str(document, "StopSignal", what) or "",
            healthcheck=Healthcheck.from_dict(health, f"{what} Healthcheck") if health else None,
            on_build=str_list(document, "OnBuild", what) or (),
            args_escaped=bool(opt(document, "ArgsEscaped", bool, what)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: only the fields that are set, maps sorted."""
        out: dict[str, Any] = {}
        if self.user:
            out["User"] = self.user
        if self.exposed_ports:
            out["ExposedPorts"] = {port: {} for port in sorted(self.exposed_ports)}
        if self.env:
            out["Env"] = list(self.env)
        if self.entrypoint is not None:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            out["Cmd"] = list(self.cmd)
        if self.healthcheck is not None:
            out["Healthcheck"] = self.healthcheck.to_dict()
        if self.args_escaped:
            out["ArgsEscaped"] = True
        if self.volumes:
            out["Volumes"] = {volume: {} for volume in sorted(self.volumes)}
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels:
            out["Labels"] = sorted_map(self.labels)
        if self.on_build:
            out["OnBuild"] = list(self.on_build)
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        return out


@dataclass(frozen=True)
class HistoryEntry:
    """One step in how the image was made; ``empty_layer`` steps added no layer."""

    created: str | None = None
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], what: str) -> HistoryEntry:
        """Parse one ``history`` entry."""
        return cls(
            created=opt_str(document, "created", what),
            created_by=opt_str(document, "created_by", what) or "",
            author=opt_str(document, "author", what) or "",
            comment=opt_str(document, "comment", what) or "",
            empty_layer=bool(opt(document, "empty_layer", bool, what)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, fields in spec order."""
        out: dict[str, Any] = {}
        if self.created is not None:
            out["created"] = self.created
        if self.author:
            out["author"] = self.author
        if self.created_by:
            out["created_by"] = self.created_by
        if self.comment:
            out["comment"] = self.comment
        if self.empty_layer:
            out["empty_layer"] = True
        return out


@dataclass(frozen=True)
class ImageConfig:
    """An image config: platform, run defaults, layer diff ids (base first) and history."""

    architecture: str
    os: str
    diff_ids: tuple[Digest, ...] = ()
    config: ContainerConfig = field(default_factory=ContainerConfig)
    history: tuple[HistoryEntry, ...] = ()
    created: str | None = None
    author: str = ""
    variant: str | None = None
    os_version: str | None = None

    @property
    def chain_ids(self) -> list[Digest]:
        """Chain id of each layer, base first."""
        return chain_ids(self.diff_ids)

    @classmethod
    def from_json(cls, data: bytes | str, what: str = "image config") -> ImageConfig:
        """Parse and validate config bytes; raise :class:`InvalidDocumentError` naming ``what``."""
        document = load_object(data, what)
        rootfs = req(document, "rootfs", dict, what)
        if req(rootfs, "type", str, f"{what} rootfs") != "layers":
            raise InvalidDocumentError(f"{what}: rootfs.type must be 'layers'")
        try:
            diff_ids = tuple(
                Digest.parse(text) for text in str_list(rootfs, "diff_ids", f"{what} rootfs") or ()
            )
        except InvalidReferenceError as error:
            raise InvalidDocumentError(f"{what}: rootfs.diff_ids: {error.message}") from None
        history = opt(document, "history", list, what) or []
        for number, item in enumerate(history):
            if not isinstance(item, dict):
                raise InvalidDocumentError(f"{what}: history[{number}] is not an object")
        container = opt(document, "config", dict, what)
        return cls(
            architecture=req(document, "architecture", str, what),
            os=req(document, "os", str, what),
            diff_ids=diff_ids,
            config=ContainerConfig.from_dict(container, f"{what} config") if container else ContainerConfig(),
            history=tuple(
                HistoryEntry.from_dict(item, f"{what} history[{index}]") for index, item in enumerate(history)
            ),
            created=opt_str(document, "created", what),
            author=opt_str(document, "author", what) or "",
            variant=opt_str(document, "variant", what),
            os_version=opt_str(document, "os.version", what),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, fields in spec order."""
        out: dict[str, Any] = {}
        if self.created is not None:
            out["created"] = self.created
        if self.author:
            out["author"] = self.author
        out["architecture"] = self.architecture
        if self.variant is not None:
            out["variant"] = self.variant
        out["os"] = self.os
        if self.os_version is not None:
            out["os.version"] = self.os_version
        out["config"] = self.config.to_dict()
        out["rootfs"] = {"type": "layers", "diff_ids": [str(diff_id) for diff_id in self.diff_ids]}
        if self.history:
            out["history"] = [entry.to_dict() for entry in self.history]
        return out

    def to_json(self) -> bytes:
        """Canonical JSON bytes."""
        return canonical_json(self.to_dict())

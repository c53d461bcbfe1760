"""Find containers by id, unique id prefix or name, and list them."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Protocol

from labcore.config import settings
from labcore.container.errors import ContainerNotFoundError
from labcore.container.record import ContainerRecord, load_record
from labcore.container.state import ContainerPaths
from labcore.errors import UsageError

__all__ = ["all_records", "containers_dir", "resolve"]

_FULL_ID_LENGTH = 64


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def containers_dir() -> Path:
    """Where the persistent part of every container lives."""
    return settings().root / "containers"


def all_records() -> list[ContainerRecord]:
    """Every container's record, oldest first."""
    directory = containers_dir()
    if not directory.is_dir():
        return []
    records = []
    for entry in directory.iterdir():
        if entry.name.startswith(".") or not (entry / "config.json").is_file():
            continue
        try:
            records.append(load_record(ContainerPaths.of(entry.name)))
        except FileNotFoundError:  # removed while we looked
            continue
    return sorted(records, key=lambda record: (record.created, record.id))


def resolve(container: str | _HasId) -> ContainerRecord:
    """The container named ``container``, or whose id is or starts with it (or a Container handle)."""
    text = container if isinstance(container, str) else container.id
    if not text:
        raise ContainerNotFoundError("no such container: ''")
    if len(text) == _FULL_ID_LENGTH and "/" not in text:  # a full id: no need to list them all
        with contextlib.suppress(FileNotFoundError):
            record = load_record(ContainerPaths.of(text))
            if record.id == text:
                return record
    records = all_records()
    for record in records:
        if record.id == text or record.name == text.lstrip("/"):
            return record
    matches = [record for record in records if record.id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UsageError(
            f"container id prefix {text!r} is ambiguous: it matches {len(matches)} containers",
            hint="give more digits of the id, or the name",
        )
    raise ContainerNotFoundError(f"no such container: {text}")

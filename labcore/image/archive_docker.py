"""Docker's own files in a ``docker save`` archive: ``manifest.json`` and ``repositories``.

``manifest.json`` lists each image as ``Config`` (member holding the image config),
``RepoTags`` (``busybox:latest``) and ``Layers`` (members holding layer tars, base first). Since
Docker 25 these members are blobs of the OCI layout in the same archive
(``blobs/sha256/<hex>``); before, they were ``<image id>.json`` and ``<layer id>/layer.tar``.
``repositories`` is the even older map of repository to tag to top layer id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from labcore.digest import Digest
from labcore.image.archive_reader import ArchiveError, ArchiveReader
from labcore.image.canonical import canonical_json, sorted_map
from labcore.image.reference import Reference

__all__ = [
    "DOCKER_MANIFEST",
    "DockerManifestEntry",
    "docker_manifest_json",
    "read_docker_manifest",
    "repositories_json",
]

DOCKER_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DockerManifestEntry:
    """One image of ``manifest.json``: member names of its config and layers, and its tags."""

    config: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as Docker writes it (``RepoTags`` is null for an untagged image)."""
        return {"Config": self.config, "RepoTags": list(self.repo_tags) or None, "Layers": list(self.layers)}


def _strings(value: Any, what: str, *, nullable: bool) -> tuple[str, ...]:
    if value is None and nullable:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ArchiveError(f"{what} must be a list of strings")
    return tuple(value)


def read_docker_manifest(reader: ArchiveReader) -> list[DockerManifestEntry]:
    """Parse and check ``manifest.json``; an :class:`ArchiveError` names the bad entry."""
    document = reader.read_json(DOCKER_MANIFEST)
    if not isinstance(document, list):
        raise ArchiveError(f"{reader.path}: {DOCKER_MANIFEST} is not a list of images")
    entries = []
    for number, item in enumerate(document):
        what = f"{reader.path}: {DOCKER_MANIFEST} entry {number}"
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise ArchiveError(f"{what} has no Config member name")
        entries.append(
            DockerManifestEntry(
                config=item["Config"],
                repo_tags=_strings(item.get("RepoTags"), f"{what} RepoTags", nullable=True),
                layers=_strings(item.get("Layers"), f"{what} Layers", nullable=False),
            )
        )
    return entries


def docker_manifest_json(entries: Sequence[DockerManifestEntry]) -> bytes:
    """The bytes of ``manifest.json``."""
    return json.dumps([entry.to_dict() for entry in entries], separators=(",", ":")).encode()


def repositories_json(tagged: Sequence[tuple[Reference, Digest]]) -> bytes:
    """The bytes of ``repositories``: repository → tag → hex id of the image's top layer."""
    repositories: dict[str, dict[str, str]] = {}
    for reference, top_layer in tagged:
        if reference.tag is not None:
            repositories.setdefault(reference.familiar_name, {})[reference.tag] = top_layer.encoded
    return canonical_json(sorted_map({name: sorted_map(tags) for name, tags in repositories.items()}))

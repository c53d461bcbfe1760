"""OCI image manifests and indexes (and Docker schema2 manifests and manifest lists).

:meth:`Manifest.from_json` and :meth:`Index.from_json` accept both OCI and Docker media types;
:meth:`to_json` writes canonical bytes (see :mod:`labcore.image.canonical`). The store keeps the
bytes it was given, so a parsed-and-rewritten document is only written for new images.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labcore.digest import Digest
from labcore.image import mediatypes
from labcore.image._json import InvalidDocumentError, load_object, opt, opt_str, req, str_map
from labcore.image.canonical import canonical_json, sorted_map
from labcore.image.descriptor import Descriptor

__all__ = ["Index", "Manifest", "parse_manifest_or_index"]


def _schema_version(document: Mapping[str, Any], what: str) -> None:
    version = req(document, "schemaVersion", int, what)
    if version != 2:
        raise InvalidDocumentError(
            f"{what}: schemaVersion {version} is not supported",
            hint="only schema version 2 (OCI and Docker schema2) is supported; re-push the image",
        )


def _descriptors(document: Mapping[str, Any], key: str, what: str, required: bool) -> tuple[Descriptor, ...]:
    items = req(document, key, list, what) if required else opt(document, key, list, what) or []
    found = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidDocumentError(f"{what}: {key}[{number}] is not an object")
        found.append(Descriptor.from_dict(item, f"{what} {key}[{number}]"))
    return tuple(found)


def _subject(document: Mapping[str, Any], what: str) -> Descriptor | None:
    subject = opt(document, "subject", dict, what)
    return Descriptor.from_dict(subject, f"{what} subject") if subject is not None else None


@dataclass(frozen=True)
class Manifest:
    """An image manifest: one config blob and an ordered list of layers, base first."""

    config: Descriptor
    layers: tuple[Descriptor, ...]
    media_type: str = mediatypes.OCI_MANIFEST
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    artifact_type: str | None = None
    subject: Descriptor | None = None

    @classmethod
    def from_json(cls, data: bytes | str, what: str = "manifest") -> Manifest:
        """Parse and validate manifest bytes; raise :class:`InvalidDocumentError` naming ``what``."""
        document = load_object(data, what)
        _schema_version(document, what)
        media_type = opt_str(document, "mediaType", what) or mediatypes.OCI_MANIFEST
        if not mediatypes.is_manifest(media_type):
            raise InvalidDocumentError(f"{what}: mediaType {media_type!r} is not an image manifest")
        config = req(document, "config", dict, what)
        return cls(
            config=Descriptor.from_dict(config, f"{what} config"),
            layers=_descriptors(document, "layers", what, required=True),
            media_type=media_type,
            annotations=str_map(document, "annotations", what),
            artifact_type=opt_str(document, "artifactType", what),
            subject=_subject(document, what),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, fields in spec order."""
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type}
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        out["config"] = self.config.to_dict()
        out["layers"] = [layer.to_dict() for layer in self.layers]
        if self.subject is not None:
            out["subject"] = self.subject.to_dict()
        if self.annotations:
            out["annotations"] = sorted_map(self.annotations)
        return out

    def to_json(self) -> bytes:
        """Canonical JSON bytes."""
        return canonical_json(self.to_dict())

    def descriptor(self, annotations: Mapping[str, str] | None = None) -> Descriptor:
        """The descriptor of :meth:`to_json`'s bytes."""
        data = self.to_json()
        return Descriptor(self.media_type, Digest.of_bytes(data), len(data), dict(annotations or {}))


@dataclass(frozen=True)
class Index:
    """An image index (or Docker manifest list): manifests, one per platform or per tag."""

    manifests: tuple[Descriptor, ...]
    media_type: str = mediatypes.OCI_INDEX
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    artifact_type: str | None = None
    subject: Descriptor | None = None

    @classmethod
    def from_json(cls, data: bytes | str, what: str = "index") -> Index:
        """Parse and validate index bytes; raise :class:`InvalidDocumentError` naming ``what``."""
        document = load_object(data, what)
        _schema_version(document, what)
        media_type = opt_str(document, "mediaType", what) or mediatypes.OCI_INDEX
        if not mediatypes.is_index(media_type):
            raise InvalidDocumentError(f"{what}: mediaType {media_type!r} is not an image index")
        return cls(
            manifests=_descriptors(document, "manifests", what, required=True),
            media_type=media_type,
            annotations=str_map(document, "annotations", what),
            artifact_type=opt_str(document, "artifactType", what),
            subject=_subject(document, what),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, fields in spec order."""
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type}
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        out["manifests"] = [manifest.to_dict() for manifest in self.manifests]
        if self.subject is not None:
            out["subject"] = self.subject.to_dict()
        if self.annotations:
            out["annotations"] = sorted_map(self.annotations)
        return out

    def to_json(self) -> bytes:
        """Canonical JSON bytes."""
        return canonical_json(self.to_dict())


def parse_manifest_or_index(data: bytes, what: str = "manifest") -> Manifest | Index:
    """Parse bytes that may be either kind, deciding by ``mediaType`` (or by shape when absent)."""
    document = load_object(data, what)
    media_type = document.get("mediaType")
    if media_type in mediatypes.INDEX_TYPES or (media_type is None and "manifests" in document):
        return Index.from_json(data, what)
    return Manifest.from_json(data, what)

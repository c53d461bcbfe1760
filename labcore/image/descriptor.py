"""OCI content descriptors: what a blob is (media type), which one (digest) and how big."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labcore.digest import Digest
from labcore.errors import InvalidReferenceError
from labcore.image._json import InvalidDocumentError, opt, opt_str, req, str_list, str_map
from labcore.image.canonical import sorted_map

__all__ = ["REF_NAME_ANNOTATION", "Descriptor", "Platform"]

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class Platform:
    """The platform an image in an index runs on (``linux/amd64``, ``linux/arm64/v8``)."""

    architecture: str
    os: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], what: str = "platform") -> Platform:
        """Parse the ``platform`` object of a descriptor."""
        return cls(
            architecture=req(document, "architecture", str, what),
            os=req(document, "os", str, what),
            variant=opt_str(document, "variant", what),
            os_version=opt_str(document, "os.version", what),
            os_features=str_list(document, "os.features", what) or (),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, fields in spec order."""
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version is not None:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant is not None:
            out["variant"] = self.variant
        return out

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


@dataclass(frozen=True)
class Descriptor:
    """A reference to a blob: media type, digest, size and optional annotations."""

    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)
    urls: tuple[str, ...] = ()
    platform: Platform | None = None
    artifact_type: str | None = None

    @property
    def ref_name(self) -> str | None:
        """The ``org.opencontainers.image.ref.name`` annotation (the tag in an image layout)."""
        return self.annotations.get(REF_NAME_ANNOTATION)

    def with_annotations(self, annotations: Mapping[str, str]) -> Descriptor:
        """A copy with ``annotations`` replacing the current ones."""
        return Descriptor(
            self.media_type,
            self.digest,
            self.size,
            dict(annotations),
            self.urls,
            self.platform,
            self.artifact_type,
        )

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], what: str = "descriptor") -> Descriptor:
        """Parse and validate a descriptor object."""
        digest_text = req(document, "digest", str, what)
        try:
            digest = Digest.parse(digest_text)
        except InvalidReferenceError as error:
            raise InvalidDocumentError(f"{what}: {error.message}") from None
        size = req(document, "size", int, what)
        if size < 0:
            raise InvalidDocumentError(f"{what}: negative size {size}")
        platform = opt(document, "platform", dict, what)
        return cls(
            media_type=req(document, "mediaType", str, what),
            digest=digest,
            size=size,
            annotations=str_map(document, "annotations", what),
            urls=str_list(document, "urls", what) or (),
            platform=Platform.from_dict(platform, f"{what} platform") if platform is not None else None,
            artifact_type=opt_str(document, "artifactType", what),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, fields in spec order, annotations sorted."""
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = sorted_map(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        return out

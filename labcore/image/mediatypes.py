"""Media types of OCI and Docker manifests, configs and layers, and what each one means."""

from __future__ import annotations

__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_FOREIGN_LAYER_GZIP",
    "DOCKER_LAYER_GZIP",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "OCI_CONFIG",
    "OCI_EMPTY",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_LAYER_ZSTD",
    "OCI_LAYOUT_VERSION",
    "OCI_MANIFEST",
    "is_config",
    "is_index",
    "is_layer",
    "is_manifest",
]

OCI_LAYOUT_VERSION = "1.0.0"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
_OCI_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})

# layer media types labcore unpacks (labcore.fs.compression reads their compression)
_LAYER_TYPES = frozenset(
    {
        OCI_LAYER,
        OCI_LAYER_GZIP,
        OCI_LAYER_ZSTD,
        _OCI_NONDIST,
        _OCI_NONDIST + "+gzip",
        _OCI_NONDIST + "+zstd",
        DOCKER_LAYER_GZIP,
        DOCKER_FOREIGN_LAYER_GZIP,
        # Docker also writes uncompressed layers with this type in `docker save` archives
        "application/vnd.docker.image.rootfs.diff.tar",
    }
)


def is_manifest(media_type: str) -> bool:
    """True for an OCI image manifest or a Docker schema2 manifest."""
    return media_type in MANIFEST_TYPES


def is_index(media_type: str) -> bool:
    """True for an OCI image index or a Docker manifest list."""
    return media_type in INDEX_TYPES


def is_config(media_type: str) -> bool:
    """True for an OCI or Docker image config."""
    return media_type in CONFIG_TYPES


def is_layer(media_type: str) -> bool:
    """True for any layer media type labcore can unpack."""
    return media_type in _LAYER_TYPES

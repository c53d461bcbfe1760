"""``labcore save``: write images from the store into one tar archive.

The ``docker`` format is what ``docker save`` writes since Docker 25: an OCI image layout plus
``manifest.json`` and ``repositories`` whose paths point into ``blobs/``, so both old and new
``docker load`` (and ``skopeo``'s ``docker-archive:``) read it. The ``oci`` format is the plain
layout (``oci-archive:``). Blobs are streamed from the store and verified on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from labcore.digest import Digest
from labcore.errors import UsageError
from labcore.image.archive_docker import (
    DOCKER_MANIFEST,
    DockerManifestEntry,
    docker_manifest_json,
    repositories_json,
)
from labcore.image.archive_oci import blob_member, index_entries, write_blob, write_layout_files
from labcore.image.archive_writer import ArchiveWriter
from labcore.image.descriptor import Descriptor
from labcore.image.record import ImageRecord
from labcore.image.reference import Reference
from labcore.image.store import Store

__all__ = ["ARCHIVE_FORMATS", "ArchiveFormat", "save_images"]

ArchiveFormat = Literal["docker", "oci"]
ARCHIVE_FORMATS: tuple[ArchiveFormat, ...] = ("docker", "oci")


def _group_by_manifest(store: Store, names: Sequence[str]) -> list[tuple[ImageRecord, list[Reference]]]:
    """Resolve each name; names of the same image share one entry, in the order first given."""
    grouped: dict[Digest, tuple[ImageRecord, list[Reference]]] = {}
    for text in names:
        record = store.resolve(text)
        _, references = grouped.setdefault(record.manifest_descriptor.digest, (record, []))
        if record.name is not None and record.name not in references:
            references.append(record.name)
    return list(grouped.values())


def save_images(
    names: Sequence[str],
    output: Path,
    *,
    archive_format: ArchiveFormat = "docker",
    store: Store | None = None,
) -> list[ImageRecord]:
    """Write the images ``names`` resolve to into the tar ``output``; return their records.

    The archive appears atomically; an existing ``output`` is replaced only on success.
    """
    if not names:
        raise UsageError("no image to save", hint="name at least one image: labcore save -o b.tar busybox")
    if archive_format not in ARCHIVE_FORMATS:
        raise UsageError(f"unknown archive format {archive_format!r}", hint="use docker or oci")
    store = store if store is not None else Store()
    images = _group_by_manifest(store, names)
    index: list[Descriptor] = []
    docker_entries: list[DockerManifestEntry] = []
    top_layers: list[tuple[Reference, Digest]] = []
    with ArchiveWriter(output) as writer:
        for record, references in images:
            manifest = record.manifest
            for blob in (manifest.config, *manifest.layers, record.manifest_descriptor):
                write_blob(writer, store, blob)
            index += index_entries(record.manifest_descriptor, references)
            tags = tuple(ref.familiar for ref in references if ref.tag is not None and ref.digest is None)
            docker_entries.append(
                DockerManifestEntry(
                    config=blob_member(manifest.config.digest),
                    repo_tags=tags,
                    layers=tuple(blob_member(layer.digest) for layer in manifest.layers),
                )
            )
            if manifest.layers:
                top_layers += [(reference, manifest.layers[-1].digest) for reference in references]
        write_layout_files(writer, index)
        if archive_format == "docker":
            writer.add_bytes(DOCKER_MANIFEST, docker_manifest_json(docker_entries))
            writer.add_bytes("repositories", repositories_json(top_layers))
        writer.commit()
    return [record for record, _ in images]

"""The OCI image layout inside an image archive: ``oci-layout``, ``index.json``, ``blobs/<alg>/<hex>``.

Both formats ``labcore save`` writes (and ``docker save`` since Docker 25) are such a layout; the
Docker format adds ``manifest.json`` and ``repositories`` beside it (see :mod:`archive_docker`).
Each name of an image gets its own ``index.json`` entry, annotated as Docker does: the full name
in ``io.containerd.image.name`` and the tag in ``org.opencontainers.image.ref.name``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from labcore.digest import Digest
from labcore.errors import LabcoreError
from labcore.image import mediatypes
from labcore.image.archive_reader import ArchiveError, ArchiveReader
from labcore.image.archive_writer import ArchiveWriter
from labcore.image.canonical import canonical_json
from labcore.image.descriptor import REF_NAME_ANNOTATION, Descriptor
from labcore.image.manifest import Index
from labcore.image.reference import Reference, parse_reference
from labcore.image.store import Store

__all__ = [
    "CONTAINERD_NAME_ANNOTATION",
    "ArchivedImage",
    "blob_member",
    "index_entries",
    "read_layout_images",
    "write_blob",
    "write_layout_files",
]

CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name"


@dataclass(frozen=True)
class ArchivedImage:
    """An image as an archive's ``index.json`` lists it: its top descriptor and its names."""

    descriptor: Descriptor
    names: tuple[Reference, ...]


def blob_member(digest: Digest) -> str:
    """The member name of a blob in a layout: ``blobs/sha256/<hex>``."""
    return f"blobs/{digest.algorithm}/{digest.encoded}"


def write_blob(writer: ArchiveWriter, store: Store, descriptor: Descriptor) -> None:
    """Copy one blob from the store into the archive (once), verifying it on the way."""
    member = blob_member(descriptor.digest)
    if writer.has(member):
        return
    writer.add_directory("blobs")
    writer.add_directory(f"blobs/{descriptor.digest.algorithm}")
    with store.open_blob(descriptor.digest, descriptor.size) as reader:
        writer.add_stream(member, reader, descriptor.size)  # type: ignore[arg-type]
        reader.verify_to_end()


def index_entries(manifest: Descriptor, names: Iterable[Reference]) -> list[Descriptor]:
    """The ``index.json`` entries for one image: one per name, or one bare entry when it has none."""
    entries = []
    for name in names:
        annotations = {CONTAINERD_NAME_ANNOTATION: str(name)}
        if name.tag is not None:
            annotations[REF_NAME_ANNOTATION] = name.tag
        entries.append(manifest.with_annotations(annotations))
    return entries or [manifest.with_annotations({})]


def write_layout_files(writer: ArchiveWriter, entries: list[Descriptor]) -> None:
    """Write ``oci-layout`` and ``index.json`` (the blobs are written separately)."""
    writer.add_bytes("oci-layout", canonical_json({"imageLayoutVersion": mediatypes.OCI_LAYOUT_VERSION}))
    writer.add_bytes("index.json", Index(manifests=tuple(entries)).to_json())


def _name_in(entry: Descriptor) -> Reference | None:
    """The image name an ``index.json`` entry carries, if it carries a whole one.

    A ``ref.name`` that is a bare tag (``latest``, as ``skopeo copy ... oci:dir:latest`` writes)
    names no repository, so such an image is loaded without a name.
    """
    candidates = [entry.annotations.get(CONTAINERD_NAME_ANNOTATION)]
    ref_name = entry.ref_name
    if ref_name is not None and (":" in ref_name or "/" in ref_name):
        candidates.append(ref_name)
    for candidate in candidates:
        if candidate:
            try:
                return parse_reference(candidate).with_default_tag()
            except LabcoreError:
                continue
    return None


def read_layout_images(reader: ArchiveReader) -> list[ArchivedImage]:
    """The images an archive's ``index.json`` lists, entries for the same digest merged."""
    if not reader.has("oci-layout"):
        raise ArchiveError(f"{reader.path}: member 'oci-layout' is missing")
    layout = reader.read_json("oci-layout")
    if not isinstance(layout, dict) or not isinstance(layout.get("imageLayoutVersion"), str):
        raise ArchiveError(f"{reader.path}: member 'oci-layout' lacks imageLayoutVersion")
    try:
        index = Index.from_json(reader.read_bytes("index.json"), what=f"{reader.path}: index.json")
    except ArchiveError:
        raise
    except LabcoreError as error:
        raise ArchiveError(error.message) from None
    merged: dict[Digest, tuple[Descriptor, list[Reference]]] = {}
    for entry in index.manifests:
        _, names = merged.setdefault(entry.digest, (entry.with_annotations({}), []))
        name = _name_in(entry)
        if name is not None and name not in names:
            names.append(name)
    return [ArchivedImage(descriptor, tuple(names)) for descriptor, names in merged.values()]

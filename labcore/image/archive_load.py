"""``labcore load``: bring the images of a ``docker save``, ``labcore save`` or OCI archive into the store.

Three layouts are understood:

* an OCI image layout (``oci-layout``, ``index.json``, ``blobs/``), as ``skopeo``'s
  ``oci-archive:``, ``labcore save --format oci`` and ``docker save`` since Docker 25 write; the
  names come from ``index.json`` annotations and, if present, ``manifest.json``'s ``RepoTags``;
* the older ``docker save`` format: ``manifest.json`` naming ``<id>.json`` configs and
  ``<id>/layer.tar`` layers (uncompressed, so the layer digest is its diff id).

Every blob is verified: against its descriptor in a layout, against the config's ``diff_ids``
(and the config file's name) in the old format. Blobs already in the store are not copied again.
"""

from __future__ import annotations

import io
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from labcore.digest import Digest, Hasher
from labcore.errors import DigestError, LabcoreError
from labcore.fs.compression import Compression, detect, open_decompressed
from labcore.image import mediatypes
from labcore.image.archive_docker import DOCKER_MANIFEST, DockerManifestEntry, read_docker_manifest
from labcore.image.archive_oci import blob_member, read_layout_images
from labcore.image.archive_reader import ArchiveError, ArchiveReader
from labcore.image.descriptor import Descriptor
from labcore.image.imageconfig import ImageConfig
from labcore.image.manifest import Index, Manifest, parse_manifest_or_index
from labcore.image.reference import Reference, parse_reference
from labcore.image.store import Store

__all__ = ["LoadedImage", "load_archive"]

_CHUNK = 1 << 20
_MAX_NESTING = 4
_HEX_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class LoadedImage:
    """One image brought in: its id (config digest), manifest digest and the names it was given."""

    id: Digest
    digest: Digest
    names: tuple[Reference, ...]


def load_archive(path: Path, store: Store | None = None) -> list[LoadedImage]:
    """Load every image in the archive at ``path`` into ``store``; return what was loaded.

    Raise :class:`ArchiveError` (or :class:`DigestError`) naming the bad member when the archive
    is not an image archive, lacks a member, or holds content that does not match its digest.
    """
    store = store if store is not None else Store()
    with ArchiveReader(path) as reader:
        loader = _Loader(reader, store)
        if reader.has("index.json"):
            return loader.load_layout()
        if reader.has(DOCKER_MANIFEST):
            return loader.load_legacy()
    raise ArchiveError(
        f"{path} is not an image archive: it has neither index.json nor {DOCKER_MANIFEST}",
        hint="load archives written by `labcore save`, `docker save`, `skopeo copy` or buildah",
    )


def _wrap_digest_error(member: str, reader: ArchiveReader, error: DigestError) -> DigestError:
    return DigestError(f"{reader.path}: member {member}: {error.message}")


class _Loader:
    """Copies verified blobs from one archive into one store."""

    def __init__(self, reader: ArchiveReader, store: Store) -> None:
        self.reader = reader
        self.store = store

    # ------------------------------------------------------------ OCI layout (and Docker 25+)

    def load_layout(self) -> list[LoadedImage]:
        """Load the images ``index.json`` lists, naming them from annotations and ``manifest.json``."""
        images = read_layout_images(self.reader)
        repo_tags: dict[str, tuple[str, ...]] = {}
        if self.reader.has(DOCKER_MANIFEST):
            entries = read_docker_manifest(self.reader)
            repo_tags = {_normal(entry.config): entry.repo_tags for entry in entries}
        loaded = []
        with self.store.writing():
            for image in images:
                configs = self._import_tree(image.descriptor, 0)
                names = list(image.names)
                for config in configs:
                    for tag in repo_tags.get(blob_member(config), ()):
                        reference = self._parse_tag(tag, DOCKER_MANIFEST)
                        if reference not in names:
                            names.append(reference)
                self.store.add_image(image.descriptor, names)
                loaded.append(LoadedImage(configs[0], image.descriptor.digest, tuple(names)))
        return loaded

    def _import_tree(self, descriptor: Descriptor, depth: int) -> list[Digest]:
        """Import a manifest or index and everything it needs; return the config digests met."""
        if depth > _MAX_NESTING:
            raise ArchiveError(f"{self.reader.path}: index {descriptor.digest} nests too deeply")
        member = blob_member(descriptor.digest)
        data = self._read_document(member, descriptor)
        what = f"{self.reader.path}: {member}"
        try:
            document = parse_manifest_or_index(data, what)
        except LabcoreError as error:
            raise ArchiveError(error.message) from None
        configs: list[Digest] = []
        if isinstance(document, Index):
            present = [child for child in document.manifests if self.reader.has(blob_member(child.digest))]
            if not present:
                raise ArchiveError(f"{what}: none of the index's manifests is in the archive")
            for child in present:
                configs += self._import_tree(child, depth + 1)
        else:
            self._import_blob(document.config)
            for layer in document.layers:
                if layer.urls and not self.reader.has(blob_member(layer.digest)):
                    continue  # a foreign layer, fetched from its URLs when needed
                self._import_blob(layer)
            configs.append(document.config.digest)
        self.store.put_blob(io.BytesIO(data), descriptor.digest, descriptor.size, descriptor.media_type)
        return configs

    def _read_document(self, member: str, descriptor: Descriptor) -> bytes:
        if not self.reader.has(member):
            raise ArchiveError(f"{self.reader.path}: member {member} ({descriptor.media_type}) is missing")
        data = self.reader.read_bytes(member)
        actual = Digest.of_bytes(data, descriptor.digest.algorithm)
        if actual != descriptor.digest or len(data) != descriptor.size:
            raise DigestError(
                f"{self.reader.path}: member {member}: {len(data)} bytes with digest {actual}, "
                f"expected {descriptor.size} bytes with digest {descriptor.digest}"
            )
        return data

    def _import_blob(self, descriptor: Descriptor) -> None:
        member = blob_member(descriptor.digest)
        if self.store.has_blob(descriptor.digest):
            return
        if not self.reader.has(member):
            raise ArchiveError(f"{self.reader.path}: member {member} ({descriptor.media_type}) is missing")
        with self.reader.open(member) as stream:
            try:
                self.store.put_blob(stream, descriptor.digest, descriptor.size, descriptor.media_type)
            except DigestError as error:
                raise _wrap_digest_error(member, self.reader, error) from None

    def _parse_tag(self, text: str, source: str) -> Reference:
        try:
            return parse_reference(text).with_default_tag()
        except LabcoreError as error:
            raise ArchiveError(f"{self.reader.path}: {source}: bad image name: {error.message}") from None

    # ------------------------------------------------------------ docker save before Docker 25

    def load_legacy(self) -> list[LoadedImage]:
        """Load the images of an old-format ``manifest.json`` (``<id>.json``, ``<id>/layer.tar``)."""
        loaded = []
        with self.store.writing():
            for entry in read_docker_manifest(self.reader):
                loaded.append(self._load_legacy_image(entry))
        return loaded

    def _load_legacy_image(self, entry: DockerManifestEntry) -> LoadedImage:
        config_bytes = self.reader.read_bytes(entry.config)
        config_digest = Digest.of_bytes(config_bytes)
        stem = posixpath.basename(entry.config).removesuffix(".json")
        if _HEX_ID.fullmatch(stem) and stem != config_digest.encoded:
            raise DigestError(
                f"{self.reader.path}: member {entry.config}: its content has digest "
                f"{config_digest}, but its name says sha256:{stem}"
            )
        try:
            config = ImageConfig.from_json(config_bytes, what=f"{self.reader.path}: {entry.config}")
        except LabcoreError as error:
            raise ArchiveError(error.message) from None
        if len(config.diff_ids) != len(entry.layers):
            raise ArchiveError(
                f"{self.reader.path}: {entry.config} lists {len(config.diff_ids)} layers "
                f"but {DOCKER_MANIFEST} names {len(entry.layers)} for it"
            )
        layers = tuple(
            self._import_legacy_layer(member, diff_id)
            for member, diff_id in zip(entry.layers, config.diff_ids, strict=True)
        )
        config_descriptor = self.store.put_blob(
            io.BytesIO(config_bytes), config_digest, len(config_bytes), mediatypes.OCI_CONFIG
        )
        manifest_descriptor = self.store.put_json(Manifest(config=config_descriptor, layers=layers))
        names = [self._parse_tag(tag, f"{DOCKER_MANIFEST} RepoTags") for tag in entry.repo_tags]
        self.store.add_image(manifest_descriptor, names)
        return LoadedImage(config_digest, manifest_descriptor.digest, tuple(names))

    def _import_legacy_layer(self, member: str, diff_id: Digest) -> Descriptor:
        """Store one ``layer.tar``; its uncompressed content must hash to ``diff_id``."""
        size = self.reader.size(member)
        with self.reader.open(member) as stream:
            compression = detect(_peek(stream))
            try:
                if compression is Compression.NONE:
                    return self.store.put_blob(stream, diff_id, size, mediatypes.OCI_LAYER)
                media_type = mediatypes.OCI_LAYER + compression.suffix
                descriptor = self.store.put_blob(stream, None, size, media_type)
            except DigestError as error:
                raise _wrap_digest_error(member, self.reader, error) from None
        actual = self._uncompressed_digest(descriptor.digest, compression)
        if actual != diff_id:
            raise DigestError(
                f"{self.reader.path}: member {member}: uncompressed digest is {actual}, "
                f"the image config says {diff_id}"
            )
        return descriptor

    def _uncompressed_digest(self, digest: Digest, compression: Compression) -> Digest:
        hasher = Hasher()
        with self.store.open_blob(digest) as blob, open_decompressed(blob, compression) as plain:  # type: ignore[arg-type]
            while chunk := plain.read(_CHUNK):
                hasher.update(chunk)
        return hasher.digest()


def _peek(stream: BinaryIO) -> bytes:
    peek = getattr(stream, "peek", None)
    return bytes(peek(4)[:4]) if peek is not None else b""


def _normal(member: str) -> str:
    return posixpath.normpath("/" + member).lstrip("/")

"""The image store: an OCI image layout under ``settings().store`` holding every image.

Tags are ``org.opencontainers.image.ref.name`` annotations on ``index.json`` entries, holding the
full normalised reference (``docker.io/library/busybox:latest``); ``skopeo inspect
oci:<store>:docker.io/library/busybox:latest`` and ``umoci unpack --image
<store>:docker.io/library/busybox:latest`` read them as they are. An image kept only by digest
is named ``docker.io/library/busybox@sha256:...``.

Blobs stay until :meth:`Store.prune` finds that no ``index.json`` entry (and no extra root a
caller passes, such as a running container's image) reaches them.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from labcore.config import settings
from labcore.digest import Digest, VerifyingReader
from labcore.errors import ConflictError, InvalidReferenceError, LabcoreError, NotFoundError, StoreError
from labcore.fs.atomic import locked
from labcore.image import mediatypes
from labcore.image.base.platform import oci_architecture
from labcore.image.blobs import BlobStore, BlobWriter
from labcore.image.descriptor import REF_NAME_ANNOTATION, Descriptor
from labcore.image.imageconfig import ImageConfig
from labcore.image.indexfile import IndexFile, ensure_layout
from labcore.image.manifest import Index, Manifest, parse_manifest_or_index
from labcore.image.record import ImageRecord
from labcore.image.reference import Reference, parse_reference

__all__ = ["ImageNotFoundError", "Store"]

_ID_PREFIX = re.compile(r"(?:sha256:)?([0-9a-f]{4,64})")
#: resolve() answers by (store, text, identity of index.json); bounded, cleared when full
_RESOLVED: dict[tuple[object, ...], ImageRecord] = {}
_RESOLVED_MAX = 256


class ImageNotFoundError(NotFoundError):
    """No image in the store matches a name, digest or id."""

    default_hint = "see `labcore images` for what is there; pull, import or build the image first"


def _name_of(entry: Descriptor) -> Reference | None:
    ref_name = entry.ref_name
    if ref_name is None:
        return None
    try:
        return parse_reference(ref_name)
    except LabcoreError:  # a name another OCI tool wrote that breaks Docker's rules: show it untagged
        return None


class Store:
    """Every image on this machine, in one OCI image layout directory.

    ``root`` defaults to ``settings().store``; the layout is created on first use. Safe to use
    from several processes at once.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else settings().store
        ensure_layout(self.root)
        self.blobs = BlobStore(self.root)
        self.index = IndexFile(self.root)

    # ---------------------------------------------------------------- blobs

    def blob_writer(
        self, expected_digest: Digest | None = None, expected_size: int | None = None
    ) -> BlobWriter:
        """A writer for streaming one blob in (see :class:`BlobWriter`); verified on commit."""
        return self.blobs.writer(expected_digest, expected_size)

    def put_blob(
        self,
        stream: BinaryIO,
        expected_digest: Digest | None = None,
        expected_size: int | None = None,
        media_type: str = "application/octet-stream",
    ) -> Descriptor:
        """Store ``stream``'s content; raise :class:`DigestError` if it differs from what was expected."""
        digest, size = self.blobs.put(stream, expected_digest, expected_size)
        return Descriptor(media_type, digest, size)

    def put_bytes(self, data: bytes, media_type: str) -> Descriptor:
        """Store ``data`` as a blob of ``media_type``."""
        digest, size = self.blobs.put_bytes(data)
        return Descriptor(media_type, digest, size)

    def put_json(self, document: Manifest | Index | ImageConfig) -> Descriptor:
        """Store a manifest, index or config as canonical JSON; return its descriptor."""
        media_type = mediatypes.OCI_CONFIG if isinstance(document, ImageConfig) else document.media_type
        return self.put_bytes(document.to_json(), media_type)

    def has_blob(self, digest: Digest) -> bool:
        """True when the blob is in the store."""
        return self.blobs.has(digest)

    def blob_path(self, digest: Digest) -> Path:
        """The file of a blob (read it through :meth:`open_blob` to have it verified)."""
        return self.blobs.path(digest)

    def open_blob(self, digest: Digest, size: int | None = None) -> VerifyingReader:
        """A reader of a blob that raises :class:`DigestError` at end of file if it was altered."""
        return self.blobs.open(digest, size)

    def read_blob(self, digest: Digest, size: int | None = None) -> bytes:
        """A whole small blob, verified."""
        return self.blobs.read(digest, size)

    def read_manifest(self, descriptor: Descriptor) -> Manifest:
        """The image manifest ``descriptor`` points to."""
        data = self.read_blob(descriptor.digest, descriptor.size)
        return Manifest.from_json(data, f"manifest {descriptor.digest}")

    def read_config(self, descriptor: Descriptor) -> ImageConfig:
        """The image config ``descriptor`` points to."""
        data = self.read_blob(descriptor.digest, descriptor.size)
        return ImageConfig.from_json(data, f"image config {descriptor.digest}")

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Keep :meth:`prune` away while blobs are written and then added as an image.

        Blobs written inside the block are safe from garbage collection until it ends, so wrap
        "write the layers, config and manifest, then :meth:`add_image`" in one ``with``.
        """
        with locked(self.blobs.gc_lock_path, shared=True):
            yield

    # ---------------------------------------------------------------- images

    def add_image(
        self,
        manifest: Descriptor,
        names: Iterable[str | Reference] = (),
        annotations: dict[str, str] | None = None,
    ) -> list[ImageRecord]:
        """Record the manifest (or index) ``manifest`` in ``index.json`` under each of ``names``.

        Every blob it needs must already be in the store. A name already in use moves to this
        image. Without names the image is kept untagged. Returns one record per entry made.
        """
        self._check_complete(manifest)
        references: list[Reference | None] = [self._name_for(name, manifest.digest) for name in names]
        entries = []
        for reference in references or [None]:
            entry_annotations = dict(annotations or {})
            if reference is not None:
                entry_annotations[REF_NAME_ANNOTATION] = str(reference)
            entries.append(
                Descriptor(
                    manifest.media_type,
                    manifest.digest,
                    manifest.size,
                    entry_annotations,
                    platform=manifest.platform,
                )
            )
        with self.index.update() as current:
            for entry in entries:
                if entry.ref_name is None:
                    if any(old.digest == entry.digest for old in current):
                        continue
                else:
                    current[:] = [old for old in current if old.ref_name != entry.ref_name]
                current.append(entry)
        return [self._record(entry) for entry in entries]

    @staticmethod
    def _name_for(name: str | Reference, digest: Digest) -> Reference:
        reference = parse_reference(name) if isinstance(name, str) else name
        reference = reference.with_default_tag()
        if reference.tag is not None and reference.digest is not None:
            reference = reference.with_tag(reference.tag)
        if reference.digest is not None and reference.digest != digest:
            raise ConflictError(
                f"name {reference} pins digest {reference.digest}, but the image is {digest}",
                hint="name the image by tag, or by its own digest",
            )
        return reference

    def _check_complete(self, manifest: Descriptor) -> None:
        what = f"manifest {manifest.digest}"
        if not self.has_blob(manifest.digest):
            raise NotFoundError(f"{what} is not in the store", hint="store the manifest blob first")
        document = parse_manifest_or_index(self.read_blob(manifest.digest, manifest.size), what)
        if isinstance(document, Index):
            if not any(self.has_blob(child.digest) for child in document.manifests):
                raise NotFoundError(f"index {manifest.digest}: none of its manifests is in the store")
            return
        for needed in (document.config, *document.layers):
            if not needed.urls and not self.has_blob(needed.digest):
                raise NotFoundError(
                    f"{what} needs blob {needed.digest} ({needed.media_type}), which is missing",
                    hint="store every layer and the config before adding the image",
                )

    def _select_manifest(self, entry: Descriptor) -> Descriptor:
        """For an index, the child manifest for this host's platform that the store holds."""
        descriptor = entry
        for _ in range(4):  # an index may nest another index
            if mediatypes.is_manifest(descriptor.media_type):
                return descriptor
            document = parse_manifest_or_index(self.read_blob(descriptor.digest, descriptor.size))
            if isinstance(document, Manifest):
                return descriptor
            candidates = [child for child in document.manifests if self.has_blob(child.digest)]
            arch = oci_architecture()
            preferred = [
                child
                for child in candidates
                if child.platform is None
                or (child.platform.os == "linux" and child.platform.architecture == arch)
            ]
            if not preferred:
                raise ImageNotFoundError(
                    f"index {entry.digest} has no manifest for linux/{arch} in the store",
                    hint="pull the image again for this platform",
                )
            descriptor = preferred[0]
        raise StoreError(f"index {entry.digest} nests too deeply")

    def _record(self, entry: Descriptor) -> ImageRecord:
        manifest_descriptor = self._select_manifest(entry)
        manifest = self.read_manifest(manifest_descriptor)
        return ImageRecord(
            name=_name_of(entry),
            descriptor=entry,
            manifest_descriptor=manifest_descriptor,
            manifest=manifest,
            config=self.read_config(manifest.config),
        )

    def images(self) -> list[ImageRecord]:
        """One record per ``index.json`` entry (so one per tag), in the index's order."""
        return [self._record(entry) for entry in self.index.read().manifests]

    def _image_id(self, entry: Descriptor) -> Digest:
        return self._record(entry).id

    def _entries_by_id(self, text: str) -> list[Descriptor]:
        """Entries whose image id starts with ``text`` (hex digits, maybe after ``sha256:``)."""
        id_match = _ID_PREFIX.fullmatch(text)
        if id_match is None:
            return []
        entries = self.index.read().manifests
        found = [entry for entry in entries if self._image_id(entry).encoded.startswith(id_match[1])]
        if len({self._image_id(entry) for entry in found}) > 1:
            raise ConflictError(f"image id prefix {text!r} matches several images", hint="give more digits")
        return found

    def _entries_by_name(self, text: str) -> list[Descriptor]:
        reference = parse_reference(text).with_default_tag()
        entries = self.index.read().manifests
        if reference.tag is not None:
            wanted = str(reference.with_tag(reference.tag))
            return [
                entry
                for entry in entries
                if entry.ref_name == wanted and reference.digest in (None, entry.digest)
            ]
        return [
            entry
            for entry in entries
            if entry.digest == reference.digest
            and (name := _name_of(entry)) is not None
            and name.name == reference.name
        ]

    def _lookup(self, text: str) -> tuple[bool, list[Descriptor]]:
        """``(by_id, entries)`` for ``text``: a name first, then an id prefix, as Docker tries them."""
        if not text.startswith("sha256:"):
            try:
                by_name = self._entries_by_name(text)
            except InvalidReferenceError:
                if _ID_PREFIX.fullmatch(text) is None:
                    raise
                by_name = []  # a full 64-digit id is no valid name
            if by_name:
                return False, by_name
        return True, self._entries_by_id(text)

    def resolve(self, text: str) -> ImageRecord:
        """Find an image by name (``busybox``, ``busybox:1.36``), ``name@digest`` or id (prefix).

        Raise :class:`ImageNotFoundError` naming ``text`` when nothing matches. The answer is
        kept for as long as ``index.json`` has the same content: manifests and configs are blobs,
        named by their digest, so they cannot change meanwhile.
        """
        try:
            key: tuple[object, ...] | None = (str(self.root), text, self.index.path.read_bytes())
        except FileNotFoundError:
            key = None
        known = _RESOLVED.get(key) if key else None
        if known is not None:
            return known
        _, found = self._lookup(text)
        if not found:
            raise ImageNotFoundError(f"no such image: {text}")
        record = self._record(found[0])
        if key:
            if len(_RESOLVED) >= _RESOLVED_MAX:
                _RESOLVED.clear()
            _RESOLVED[key] = record
        return record

    def tag(self, source: str, target: str) -> ImageRecord:
        """Give the image ``source`` resolves to the extra name ``target`` (moving it if taken)."""
        image = self.resolve(source)
        return self.add_image(image.descriptor.with_annotations({}), [target])[0]

    def untag(self, name: str) -> Descriptor:
        """Remove the name ``name`` (not an id); return the entry removed. Blobs stay until prune."""
        reference = parse_reference(name).with_default_tag()
        wanted = str(reference)
        with self.index.update() as current:
            removed = [entry for entry in current if entry.ref_name == wanted]
            if not removed:
                raise ImageNotFoundError(f"no such image: {name}")
            current[:] = [entry for entry in current if entry.ref_name != wanted]
        return removed[0]

    def remove_image(self, text: str, *, force: bool = False) -> list[str]:
        """``rmi``: remove a name, or every name of an image id; return what was removed.

        Given an id that several names share, refuse unless ``force`` (as Docker does).
        Blobs and snapshots stay until :meth:`prune`.
        """
        by_id, targets = self._lookup(text)
        if not targets:
            raise ImageNotFoundError(f"no such image: {text}")
        if not by_id:
            targets = targets[:1]
        else:
            image_id = self._image_id(targets[0])
            targets = [entry for entry in self.index.read().manifests if self._image_id(entry) == image_id]
            if len(targets) > 1 and not force:
                raise ConflictError(
                    f"image {text} is referenced by {len(targets)} names",
                    hint="remove the names one by one, or pass --force",
                )
        with self.index.update() as current:
            current[:] = [entry for entry in current if entry not in targets]
        return [entry.ref_name or str(entry.digest) for entry in targets]

    # ---------------------------------------------------------------- garbage collection

    def referenced_blobs(self) -> set[Digest]:
        """Every blob some ``index.json`` entry reaches: manifests, indexes, configs, layers."""
        reached: set[Digest] = set()
        pending = list(self.index.read().manifests)
        while pending:
            descriptor = pending.pop()
            if descriptor.digest in reached:
                continue
            reached.add(descriptor.digest)
            media_type = descriptor.media_type
            if not (mediatypes.is_manifest(media_type) or mediatypes.is_index(media_type)):
                continue
            if not self.has_blob(descriptor.digest):
                continue
            document = parse_manifest_or_index(self.read_blob(descriptor.digest, descriptor.size))
            if isinstance(document, Index):
                pending.extend(document.manifests)
            else:
                pending.append(document.config)
                pending.extend(document.layers)
        return reached

    def prune(self, extra_roots: Iterable[Digest] = ()) -> int:
        """Delete blobs no image (and none of ``extra_roots``) references; return bytes freed.

        Waits for writers that hold :meth:`writing` or an open :class:`BlobWriter`.
        """
        freed = 0
        with locked(self.blobs.gc_lock_path):
            with locked(self.index.lock_path):
                keep = self.referenced_blobs() | set(extra_roots)
            for digest in list(self.blobs.digests()):
                if digest not in keep:
                    freed += self.blobs.remove(digest)
            freed += self.blobs.remove_temporary()
        return freed

    def disk_usage(self) -> tuple[int, int]:
        """``(total, reclaimable)`` bytes of blobs: all of them, and those :meth:`prune` would free."""
        referenced = self.referenced_blobs()
        total = reclaimable = 0
        for digest in self.blobs.digests():
            with contextlib.suppress(FileNotFoundError):
                size = os.stat(self.blobs.path(digest)).st_size
                total += size
                if digest not in referenced:
                    reclaimable += size
        return total, reclaimable

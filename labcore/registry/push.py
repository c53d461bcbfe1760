"""``push``: upload an image from the store to a registry, blobs first and the manifest last.

The manifest bytes are sent exactly as the store holds them, so the registry's digest equals the
local one. An image whose store entry is a multi-platform index is pushed whole when every
platform is present locally, else only its platform manifest is pushed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from labcore.digest import Digest
from labcore.errors import UsageError
from labcore.image.descriptor import Descriptor
from labcore.image.manifest import Index, Manifest, parse_manifest_or_index
from labcore.image.reference import Reference, parse_reference
from labcore.image.store import Store
from labcore.registry.client import RegistryClient
from labcore.registry.hosts import RegistryHosts, load_hosts
from labcore.registry.progress import NullProgress, Progress
from labcore.registry.transfer import run_parallel, unique
from labcore.registry.upload import DEFAULT_CHUNK_SIZE, UploadMode, upload_blob

__all__ = ["PushResult", "push_image"]


@dataclass(frozen=True)
class PushResult:
    """What a push did: ``digest`` is the digest of the manifest (or index) the tag now names."""

    reference: Reference
    digest: Digest
    uploaded: int
    existed: int
    mounted: int


def push_image(
    source: str,
    target: str | None = None,
    *,
    store: Store | None = None,
    hosts: RegistryHosts | None = None,
    progress: Progress | None = None,
    jobs: int = 4,
    mode: UploadMode = "stream",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    mount_from: Sequence[str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> PushResult:
    """Push the store's image ``source`` as ``target`` (default: its own name).

    ``mount_from`` names repositories of the same registry to mount blobs from; by default, those
    of other local images from the same registry that share the blob.
    """
    store = store or Store()
    hosts = hosts or load_hosts()
    progress = progress or NullProgress()
    record = store.resolve(source)
    ref = parse_reference(target).with_default_tag() if target else _own_name(record.name, source)
    manifests, top = _documents(store, record.descriptor, record.manifest_descriptor)
    if ref.digest is not None and ref.digest != top.digest:
        raise UsageError(
            f"cannot push {source} as {ref}: the image's digest is {top.digest}",
            hint="push by tag, or give the image's own digest",
        )
    blobs = unique(
        blob for _, manifest in manifests for blob in (manifest.config, *manifest.layers) if not blob.urls
    )
    sources = _mount_sources(store, ref, mount_from)
    explicit = list(mount_from or [])
    repository = ref.path
    try:
        with RegistryClient(ref.domain, hosts.push_endpoint(ref.domain), transport=transport) as client:
            mount_repositories = sorted(set(sources.values()) | set(explicit))
            client.auth.want_scopes(
                [f"repository:{repository}:pull,push", *(f"repository:{r}:pull" for r in mount_repositories)]
            )
            statuses: list[str] = []

            def send(blob: Descriptor) -> bool:
                status = upload_blob(
                    client, repository, blob, store.blob_path(blob.digest), progress,
                    mount_from=sources.get(blob.digest, explicit[0] if explicit else None),
                    mode=mode, chunk_size=chunk_size,
                )
                statuses.append(status)
                return status == "done"

            uploaded = run_parallel(send, blobs, jobs)
            for descriptor, _ in manifests:
                if descriptor.digest != top.digest:
                    data = store.read_blob(descriptor.digest, descriptor.size)
                    client.put_manifest(repository, str(descriptor.digest), descriptor.media_type, data)
            tag_or_digest = ref.tag if ref.tag is not None else str(top.digest)
            digest = client.put_manifest(
                repository, tag_or_digest, top.media_type, store.read_blob(top.digest, top.size)
            )
    finally:
        progress.close()
    return PushResult(ref, digest, uploaded, statuses.count("exists"), statuses.count("mounted"))


def _own_name(name: Reference | None, source: str) -> Reference:
    if name is None:
        raise UsageError(
            f"image {source} has no name to push it under",
            hint="give a target: labcore push IMAGE REGISTRY/REPOSITORY:TAG",
        )
    return name


def _documents(
    store: Store, entry: Descriptor, platform_manifest: Descriptor
) -> tuple[list[tuple[Descriptor, Manifest]], Descriptor]:
    """The image manifests to push, and the document (manifest or index) the tag will name."""
    document = parse_manifest_or_index(store.read_blob(entry.digest, entry.size), f"manifest {entry.digest}")
    if isinstance(document, Index):
        children = document.manifests
        if all(_holds_manifest(store, child) for child in children):
            return [(child, store.read_manifest(child)) for child in children], entry
        entry = platform_manifest  # only one platform is here: push that one alone
    return [(entry, store.read_manifest(entry))], entry


def _holds_manifest(store: Store, descriptor: Descriptor) -> bool:
    """True when the store has ``descriptor`` and it is an image manifest (not a nested index)."""
    return store.has_blob(descriptor.digest) and isinstance(
        parse_manifest_or_index(store.read_blob(descriptor.digest, descriptor.size)), Manifest
    )


def _mount_sources(store: Store, target: Reference, mount_from: Sequence[str] | None) -> dict[Digest, str]:
    """For each blob, a repository of the target registry that should already hold it."""
    sources: dict[Digest, str] = {}
    if mount_from is not None:
        return {}
    for image in store.images():
        name = image.name
        if name is None or name.domain != target.domain or name.path == target.path:
            continue
        for blob in (image.manifest.config, *image.manifest.layers):
            sources.setdefault(blob.digest, name.path)
    return sources

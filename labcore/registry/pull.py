"""``pull``: fetch an image from a registry (or its mirrors) into the store, verifying everything.

Order matters for crash safety: layers and config first, then the manifest (and index), and the
name last. An interrupted or refused pull therefore never leaves a name pointing at missing or
unverified content; the verified blobs it did fetch stay and are reused by the next pull.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from labcore.digest import Digest
from labcore.errors import DigestError, RegistryError
from labcore.image.descriptor import Descriptor, Platform
from labcore.image.manifest import Index, Manifest, parse_manifest_or_index
from labcore.image.reference import Reference, parse_reference
from labcore.image.store import Store
from labcore.registry.client import FetchedManifest, RegistryClient
from labcore.registry.hosts import RegistryHosts, load_hosts
from labcore.registry.platforms import host_platform, select_manifest
from labcore.registry.progress import NullProgress, Progress
from labcore.registry.transfer import fetch_blob, run_parallel, unique

__all__ = ["PullResult", "pull_image"]


@dataclass(frozen=True)
class PullResult:
    """What a pull did: ``digest`` is what the reference resolved to (possibly an index)."""

    reference: Reference
    digest: Digest
    manifest_digest: Digest
    platform: Platform | None
    source: str
    blobs_fetched: int
    blobs_reused: int


def pull_image(
    reference: str | Reference,
    *,
    platform: Platform | None = None,
    store: Store | None = None,
    hosts: RegistryHosts | None = None,
    progress: Progress | None = None,
    jobs: int = 4,
    transport: httpx.BaseTransport | None = None,
) -> PullResult:
    """Pull ``reference`` (``busybox``, ``127.0.0.1:5000/app:1``, ``name@sha256:...``) into the store.

    For an index, the manifest for ``platform`` (default: this host's) is chosen. Mirrors of the
    registry are tried first and the origin last; the last error is raised when all fail.
    """
    ref = parse_reference(reference) if isinstance(reference, str) else reference
    ref = ref.with_default_tag()
    store = store or Store()
    hosts = hosts or load_hosts()
    progress = progress or NullProgress()
    wanted = platform or host_platform()
    *mirrors, origin = hosts.pull_endpoints(ref.domain)
    mirror_failures: list[str] = []
    try:
        for endpoint in mirrors:
            with RegistryClient(ref.domain, endpoint, transport=transport) as client:
                try:
                    return _pull_from(client, ref, wanted, store, progress, jobs)
                except RegistryError as error:
                    mirror_failures.append(f"mirror {endpoint.base_url}: {error.message}")
        with RegistryClient(ref.domain, origin, transport=transport) as client:
            try:
                return _pull_from(client, ref, wanted, store, progress, jobs)
            except RegistryError as error:
                if not mirror_failures:
                    raise
                message = f"{error.message}; before that, {'; '.join(mirror_failures)}"
                raise type(error)(message, hint=error.hint) from None
    finally:
        progress.close()


def _pull_from(
    client: RegistryClient, ref: Reference, platform: Platform, store: Store, progress: Progress, jobs: int
) -> PullResult:
    repository = ref.path
    fetched = client.get_manifest(repository, str(ref.digest) if ref.digest else str(ref.tag))
    if ref.digest is not None and fetched.digest != ref.digest:
        raise DigestError(
            f"{ref}: the registry sent a manifest with digest {fetched.digest}, not the one asked for",
            hint="the registry or a proxy is corrupting content; do not use it",
        )
    top = Descriptor(fetched.media_type, fetched.digest, len(fetched.data))
    document = parse_manifest_or_index(fetched.data, f"manifest of {ref}")
    chosen_platform: Platform | None = None
    manifest_fetched = fetched
    if isinstance(document, Index):
        child = select_manifest(document, platform, str(ref))
        chosen_platform = child.platform
        manifest_fetched = client.get_manifest(repository, str(child.digest))
        _check_child(manifest_fetched, child, ref)
        document = parse_manifest_or_index(manifest_fetched.data, f"manifest {child.digest} of {ref}")
        if not isinstance(document, Manifest):
            raise RegistryError(
                f"{ref}: index entry {child.digest} is itself an index",
                hint="nested indexes are not supported; pull the platform manifest by digest",
            )
    manifest: Manifest = document
    blobs = unique([manifest.config, *(layer for layer in manifest.layers if not layer.urls)])
    with store.writing():
        fetched_count = run_parallel(
            lambda blob: fetch_blob(client, repository, blob, store, progress), blobs, jobs
        )
        if manifest_fetched is not fetched:
            store.put_bytes(manifest_fetched.data, manifest_fetched.media_type)
        store.put_bytes(fetched.data, fetched.media_type)
        if chosen_platform is None or _runs_here(chosen_platform):
            store.add_image(top, [ref])
        else:
            # the store resolves an index to this host's platform, so name the foreign manifest itself
            platform_manifest = Descriptor(manifest_fetched.media_type, manifest_fetched.digest,
                                           len(manifest_fetched.data), platform=chosen_platform)
            store.add_image(platform_manifest, [ref] if ref.digest is None else [])
    return PullResult(
        reference=ref,
        digest=fetched.digest,
        manifest_digest=manifest_fetched.digest,
        platform=chosen_platform,
        source=client.endpoint.base_url,
        blobs_fetched=fetched_count,
        blobs_reused=len(blobs) - fetched_count,
    )


def _runs_here(platform: Platform) -> bool:
    host = host_platform()
    return (platform.os, platform.architecture) == (host.os, host.architecture)


def _check_child(fetched: FetchedManifest, wanted: Descriptor, ref: Reference) -> None:
    if fetched.digest != wanted.digest or len(fetched.data) != wanted.size:
        raise DigestError(
            f"{ref}: manifest {wanted.digest} from the index arrived with digest {fetched.digest} "
            f"and {len(fetched.data)} bytes (expected {wanted.size})",
            hint="the registry or a proxy is corrupting content; do not use it",
        )

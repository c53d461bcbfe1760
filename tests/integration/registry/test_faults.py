"""A damaged or vanishing real registry: refused content, a consistent store, a resumable pull."""

from __future__ import annotations

import pytest

from labcore.errors import DigestError
from labcore.image.record import ImageRecord
from labcore.image.store import ImageNotFoundError, Store
from labcore.registry.client import RegistryClient
from labcore.registry.errors import RegistryNotFoundError, RegistryUnreachableError
from labcore.registry.hosts import load_hosts
from labcore.registry.progress import NullProgress
from labcore.registry.pull import pull_image
from labcore.registry.push import push_image
from tests.registry_support import FaultyProxy, RegistryServer

pytestmark = pytest.mark.integration


def assert_consistent(store: Store) -> None:
    """No temporary leftovers, and every blob present matches its digest."""
    temporary = store.blobs.temporary_dir
    assert not temporary.exists() or list(temporary.iterdir()) == []
    for digest in store.blobs.digests():
        store.read_blob(digest)


def test_corrupted_blob_in_registry_storage_is_refused(own_registry: RegistryServer, busybox: ImageRecord,
                                                       store: Store, labcore_root: object) -> None:
    target = f"{own_registry.host}/faults/corrupt:1"
    push_image("busybox", target, store=store)
    layer = busybox.layers[0]
    blob_file = own_registry.blob_path(str(layer.digest))
    data = bytearray(blob_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    blob_file.write_bytes(bytes(data))

    fresh = Store(store.root.parent / "fresh-store")
    with pytest.raises(DigestError, match=str(layer.digest)):
        pull_image(target, store=fresh)
    assert not fresh.has_blob(layer.digest)
    with pytest.raises(ImageNotFoundError):
        fresh.resolve(target)
    assert_consistent(fresh)


class StopAfterFirstBlob(NullProgress):
    """Stops the registry as soon as the first blob is in the store."""

    def __init__(self, server: RegistryServer) -> None:
        self.server = server
        self.finished: list[str] = []

    def finish(self, key: str, status: str) -> None:
        self.finished.append(status)
        if len(self.finished) == 1:
            self.server.stop()


def test_interrupted_pull_leaves_store_consistent_and_resumes(own_registry: RegistryServer,
                                                               busybox: ImageRecord, store: Store) -> None:
    target = f"{own_registry.host}/faults/interrupted:1"
    push_image("busybox", target, store=store)
    fresh = Store(store.root.parent / "fresh-store")

    with pytest.raises(RegistryUnreachableError) as caught:
        pull_image(target, store=fresh, jobs=1, progress=StopAfterFirstBlob(own_registry))
    assert "retry" in caught.value.hint or "./lab up" in caught.value.hint
    with pytest.raises(ImageNotFoundError):
        fresh.resolve(target)
    assert_consistent(fresh)
    kept = set(fresh.blobs.digests())
    assert kept == {busybox.manifest.config.digest}

    own_registry.start()
    result = pull_image(target, store=fresh)
    assert (result.blobs_reused, result.blobs_fetched) == (1, 1)
    assert fresh.resolve(target).digest == busybox.digest
    assert_consistent(fresh)


@pytest.mark.parametrize("fault", ["truncate", "corrupt", "swap-manifest"])
def test_faulty_proxy_answers_are_refused(plain_registry: RegistryServer, busybox: ImageRecord, store: Store,
                                          fault: str) -> None:
    push_image("busybox", f"{plain_registry.host}/faults/proxied:1", store=store)
    other = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}'
    fresh = Store(store.root.parent / "fresh-store")
    with FaultyProxy(plain_registry.host, fault, other) as proxy:
        target = f"{proxy.host}/faults/proxied@{busybox.digest}"
        expected: type[Exception] = RegistryUnreachableError if fault == "truncate" else DigestError
        with pytest.raises(expected):
            pull_image(target, store=fresh)
    assert fresh.images() == []
    assert not fresh.has_blob(busybox.layers[0].digest)
    assert_consistent(fresh)


def test_manifest_delete_on_a_real_registry(plain_registry: RegistryServer, busybox: ImageRecord,
                                            store: Store) -> None:
    target = f"{plain_registry.host}/faults/deleted:1"
    push_image("busybox", target, store=store)
    with RegistryClient(plain_registry.host, load_hosts().origin(plain_registry.host)) as client:
        assert client.head_manifest("faults/deleted", "1") == busybox.digest
        client.delete_manifest("faults/deleted", busybox.digest)
        assert client.head_manifest("faults/deleted", str(busybox.digest)) is None
        with pytest.raises(RegistryNotFoundError):
            client.get_manifest("faults/deleted", "1")

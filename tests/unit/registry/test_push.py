from __future__ import annotations

from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.errors import UsageError
from labcore.image.store import Store
from labcore.registry.errors import AuthenticationError
from labcore.registry.hosts import RegistryHosts
from labcore.registry.pull import pull_image
from labcore.registry.push import push_image
from labcore.registry.upload import UploadMode
from tests.unit.registry.fake_registry import OCI_MANIFEST, FakeRegistry, make_image, publish, store_image

HOSTS = RegistryHosts()


@pytest.fixture
def store(labcore_root: Path) -> Store:
    return Store()


@pytest.mark.parametrize(("mode", "patches"), [("stream", 1), ("chunked", 4), ("monolithic", 0)])
def test_push_modes_deliver_identical_content(store: Store, mode: UploadMode, patches: int) -> None:
    fake = FakeRegistry()
    image = make_image(layers=(b"a" * 10, b"b" * 1000))
    store_image(store, image, "app:1")
    result = push_image("app:1", "registry.test/team/app:v1", store=store, hosts=HOSTS,
                        transport=fake.transport(), mode=mode, chunk_size=300, jobs=1)
    assert str(result.digest) == image.digest
    assert result.uploaded == 3
    assert fake.manifests[("team/app", "v1")] == (OCI_MANIFEST, image.manifest)
    for blob in image.blobs:
        assert fake.blobs[str(Digest.of_bytes(blob))] == blob
    big_layer_patches = [p for m, p in fake.log if m == "PATCH"]
    # 1000 bytes in chunks of 300 → 4 PATCHes for the big layer (smaller blobs need one each)
    assert len(big_layer_patches) == (0 if mode == "monolithic" else patches + 2)


def test_blobs_the_registry_has_are_not_sent_again(store: Store) -> None:
    fake = FakeRegistry()
    image = make_image()
    store_image(store, image, "app:1")
    push_image("app:1", "registry.test/app:1", store=store, hosts=HOSTS, transport=fake.transport())
    fake.log.clear()
    result = push_image("app:1", "registry.test/app:2", store=store, hosts=HOSTS, transport=fake.transport())
    assert (result.uploaded, result.existed) == (0, 3)
    assert [m for m, _ in fake.log if m in ("POST", "PATCH")] == []
    assert fake.manifests[("app", "2")][1] == image.manifest


def test_blobs_are_mounted_from_a_repository_pulled_from_the_same_registry(store: Store) -> None:
    fake = FakeRegistry(auth="bearer")
    image = make_image()
    publish(fake, "base/image", "1", image)
    pull_image("registry.test/base/image:1", store=store, hosts=HOSTS, transport=fake.transport())
    result = push_image("registry.test/base/image:1", "registry.test/mine/copy:1", store=store, hosts=HOSTS,
                        transport=fake.transport())
    assert (result.mounted, result.uploaded) == (3, 0)
    assert not any(m == "PATCH" for m, _ in fake.log)
    assert any("repository:base/image:pull" in req.get("scope", []) for req in fake.token_requests)


def test_explicit_mount_source(store: Store) -> None:
    fake = FakeRegistry()
    image = make_image()
    publish(fake, "elsewhere", "1", image)
    store_image(store, image, "app:1")
    result = push_image("app:1", "registry.test/app:1", store=store, hosts=HOSTS, transport=fake.transport(),
                        mount_from=["elsewhere"])
    assert result.mounted == 3


def test_push_by_digest_and_untagged_image_needs_a_target(store: Store) -> None:
    fake = FakeRegistry()
    image = make_image()
    store_image(store, image, None)
    image_id = str(Digest.of_bytes(image.config))
    with pytest.raises(UsageError, match="no name"):
        push_image(image_id, store=store, hosts=HOSTS, transport=fake.transport())
    result = push_image(image_id, f"registry.test/app@{image.digest}", store=store, hosts=HOSTS,
                        transport=fake.transport())
    assert str(result.digest) == image.digest
    assert ("app", image.digest) in fake.manifests


def test_push_without_permission_fails_before_the_manifest(store: Store) -> None:
    fake = FakeRegistry(auth="bearer", users={"alice": "pw"})
    store_image(store, make_image(), "app:1")
    with pytest.raises(AuthenticationError):
        push_image("app:1", "registry.test/app:1", store=store, hosts=HOSTS, transport=fake.transport())
    assert fake.manifests == {}

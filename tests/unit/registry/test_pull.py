from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from labcore.digest import Digest
from labcore.errors import DigestError, RegistryError
from labcore.image.store import ImageNotFoundError, Store
from labcore.registry.errors import RegistryNotFoundError, RegistryUnreachableError
from labcore.registry.hosts import RegistryHosts
from labcore.registry.platforms import host_platform, parse_platform
from labcore.registry.pull import pull_image
from tests.unit.registry.fake_registry import FakeRegistry, make_image, publish, publish_index

HOSTS = RegistryHosts()


@pytest.fixture
def store(labcore_root: Path) -> Store:
    return Store()


def assert_clean(store: Store) -> None:
    """No temporary files and every blob matches its name."""
    temporary = store.blobs.temporary_dir
    assert not temporary.exists() or list(temporary.iterdir()) == []
    for digest in store.blobs.digests():
        store.read_blob(digest)  # raises DigestError if altered


def test_pull_stores_blobs_manifest_and_name(store: Store) -> None:
    fake = FakeRegistry()
    image = make_image()
    digest = publish(fake, "team/app", "1.0", image)
    result = pull_image("registry.test/team/app:1.0", store=store, hosts=HOSTS, transport=fake.transport())
    assert str(result.digest) == digest
    assert result.blobs_fetched == 3
    record = store.resolve("registry.test/team/app:1.0")
    assert str(record.digest) == digest
    assert store.read_blob(record.layers[1].digest) == b"layer two"
    assert_clean(store)


def test_second_pull_reuses_verified_blobs(store: Store) -> None:
    fake = FakeRegistry()
    publish(fake, "app", "1", make_image())
    pull_image("registry.test/app:1", store=store, hosts=HOSTS, transport=fake.transport())
    fake.log.clear()
    result = pull_image("registry.test/app:1", store=store, hosts=HOSTS, transport=fake.transport())
    assert (result.blobs_fetched, result.blobs_reused) == (0, 3)
    assert not any(method == "GET" and "/blobs/" in path for method, path in fake.log)


def test_index_pull_picks_the_host_platform_and_platform_flag_picks_another(store: Store) -> None:
    fake = FakeRegistry()
    host = host_platform().architecture
    other = "arm64" if host != "arm64" else "amd64"
    mine, theirs = make_image(host, (b"mine",)), make_image(other, (b"theirs",))
    index_digest = publish_index(
        fake, "multi", "latest", [(theirs, f"linux/{other}"), (mine, f"linux/{host}")]
    )

    result = pull_image("registry.test/multi", store=store, hosts=HOSTS, transport=fake.transport())
    assert str(result.digest) == index_digest
    assert str(result.manifest_digest) == mine.digest
    assert store.resolve("registry.test/multi").manifest.layers[0].digest == Digest.of_bytes(b"mine")

    result = pull_image("registry.test/multi", platform=parse_platform(f"linux/{other}"), store=store,
                        hosts=HOSTS, transport=fake.transport())
    assert str(result.manifest_digest) == theirs.digest
    assert store.resolve("registry.test/multi").manifest.layers[0].digest == Digest.of_bytes(b"theirs")


def test_arm64_v8_variant_matches_an_entry_without_variant(store: Store) -> None:
    fake = FakeRegistry()
    amd, arm = make_image("amd64", (b"a",)), make_image("arm64", (b"b",), variant="v8")
    publish_index(fake, "multi", "1", [(amd, "linux/amd64"), (arm, "linux/arm64/v8")])
    result = pull_image("registry.test/multi:1", platform=parse_platform("linux/arm64"), store=store,
                        hosts=HOSTS, transport=fake.transport())
    assert str(result.manifest_digest) == arm.digest


def test_unknown_platform_lists_what_is_offered(store: Store) -> None:
    fake = FakeRegistry()
    publish_index(fake, "multi", "1", [(make_image("amd64"), "linux/amd64")])
    with pytest.raises(RegistryNotFoundError, match=r"offered: linux/amd64") as caught:
        pull_image("registry.test/multi:1", platform=parse_platform("linux/s390x"), store=store,
                   hosts=HOSTS, transport=fake.transport())
    assert "--platform" in caught.value.hint


@pytest.mark.parametrize("fault", ["corrupt", "truncate"])
def test_bad_blob_is_refused_and_nothing_half_written(store: Store, fault: str) -> None:
    fake = FakeRegistry()
    image = make_image(layers=(b"good layer", b"x" * 5000))
    publish(fake, "app", "1", image)
    getattr(fake, fault).add(fake_digest := Digest.of_bytes(b"x" * 5000).__str__())
    with pytest.raises(DigestError) as caught:
        pull_image("registry.test/app:1", store=store, hosts=HOSTS, transport=fake.transport(), jobs=1)
    assert fake_digest in caught.value.message
    assert not store.has_blob(Digest.parse(fake_digest))
    with pytest.raises(ImageNotFoundError):
        store.resolve("registry.test/app:1")
    assert_clean(store)


def test_manifest_not_matching_the_pinned_digest_is_refused(store: Store) -> None:
    fake = FakeRegistry()
    real = make_image()
    impostor = make_image(layers=(b"evil",))
    publish(fake, "app", None, impostor)
    # the registry serves the impostor under the real image's digest
    fake.manifests[("app", real.digest)] = fake.manifests[("app", impostor.digest)]
    fake.lie_about_manifest = False
    with pytest.raises(DigestError, match="digest"):
        pull_image(f"registry.test/app@{real.digest}", store=store, hosts=HOSTS, transport=fake.transport())
    assert list(store.blobs.digests()) == []
    assert store.images() == []


def test_pull_by_digest_names_the_image_by_digest(store: Store) -> None:
    fake = FakeRegistry()
    image = make_image()
    publish(fake, "app", None, image)
    result = pull_image(f"registry.test/app@{image.digest}", store=store, hosts=HOSTS,
                        transport=fake.transport())
    assert str(result.digest) == image.digest
    assert str(store.resolve(f"registry.test/app@{image.digest}").digest) == image.digest


def test_mirrors_are_tried_first_then_the_origin(store: Store) -> None:
    mirror = FakeRegistry(host="mirror.test", status={r"/manifests/": 503})
    origin = FakeRegistry(host="registry-1.docker.io")
    publish(origin, "library/busybox", "latest", make_image())

    def route(request: httpx.Request) -> httpx.Response:
        return (mirror if request.url.host == "mirror.test" else origin).handle(request)

    hosts = RegistryHosts(mirrors={"docker.io": ["https://mirror.test"]})
    result = pull_image("busybox", store=store, hosts=hosts, transport=httpx.MockTransport(route))
    assert result.source == "https://registry-1.docker.io"
    assert ("GET", "/v2/library/busybox/manifests/latest") in mirror.log
    assert store.resolve("busybox").name is not None


def test_mirror_that_has_the_image_serves_it(store: Store) -> None:
    mirror = FakeRegistry(host="mirror.test")
    publish(mirror, "library/busybox", "latest", make_image())

    def route(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "mirror.test", "the origin must not be asked"
        return mirror.handle(request)

    hosts = RegistryHosts(mirrors={"docker.io": ["https://mirror.test"]})
    result = pull_image("busybox", store=store, hosts=hosts, transport=httpx.MockTransport(route))
    assert result.source == "https://mirror.test"


def test_when_mirror_and_origin_fail_the_error_names_both(store: Store) -> None:
    mirror = FakeRegistry(host="mirror.test")
    origin = FakeRegistry(host="registry-1.docker.io", status={r"/manifests/": 503})

    def route(request: httpx.Request) -> httpx.Response:
        return (mirror if request.url.host == "mirror.test" else origin).handle(request)

    hosts = RegistryHosts(mirrors={"docker.io": ["https://mirror.test"]})
    with pytest.raises(RegistryError) as caught:
        pull_image("alpine", store=store, hosts=hosts, transport=httpx.MockTransport(route))
    assert "HTTP 503" in caught.value.message
    assert "mirror https://mirror.test" in caught.value.message
    assert "HTTP 404" in caught.value.message


class _BrokenStream(httpx.SyncByteStream):
    """Sends the first half of a body, then the connection drops."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: len(self.data) // 2]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def test_connection_dropped_mid_blob_keeps_the_store_consistent(store: Store) -> None:
    fake = FakeRegistry()
    image = make_image(layers=(b"y" * 4096,))
    publish(fake, "app", "1", image)
    layer = str(Digest.of_bytes(b"y" * 4096))

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith(layer):
            return httpx.Response(200, headers={"Content-Length": "4096"}, stream=_BrokenStream(b"y" * 4096))
        return fake.handle(request)

    dropped = r"connection to https://registry\.test failed"
    with pytest.raises(RegistryUnreachableError, match=dropped) as caught:
        pull_image("registry.test/app:1", store=store, hosts=HOSTS, transport=httpx.MockTransport(handle))
    assert "retry" in caught.value.hint
    assert not store.has_blob(Digest.parse(layer))
    assert store.images() == []
    assert_clean(store)

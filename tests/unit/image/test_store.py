"""The image store: blobs, names, garbage collection, crash safety and concurrency."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.errors import ConflictError, DigestError, InvalidReferenceError, NotFoundError
from labcore.image import mediatypes
from labcore.image.base.platform import oci_architecture
from labcore.image.blobs import BlobNotFoundError
from labcore.image.descriptor import Descriptor, Platform
from labcore.image.importer import import_rootfs
from labcore.image.manifest import Index, Manifest
from labcore.image.store import ImageNotFoundError, Store
from tests.unit.image.builders import directory, file, put_image
from tests.unit.image.oci_schemas import validate

BASE = [directory("etc"), file("etc/os-release", "ID=lab\n")]
APP = [directory("app"), file("app/run.sh", "#!/bin/sh\necho hi\n", 0o755)]


@pytest.fixture
def store(labcore_root: Path) -> Store:
    return Store()


def blob_files(store: Store) -> set[str]:
    return {path.name for path in (store.root / "blobs" / "sha256").iterdir()}


def test_store_is_an_oci_layout(store: Store) -> None:
    assert store.root == Path(os.environ["LABCORE_ROOT"]) / "store"
    validate("layout", (store.root / "oci-layout").read_bytes())
    validate("index", (store.root / "index.json").read_bytes())
    put_image(store, [BASE, APP], ["app:1"])
    index = (store.root / "index.json").read_bytes()
    validate("index", index)
    for entry in json.loads(index)["manifests"]:
        manifest_bytes = store.read_blob(Digest.parse(entry["digest"]))
        validate("manifest", manifest_bytes)
        manifest = Manifest.from_json(manifest_bytes)
        validate("config", store.read_blob(manifest.config.digest))


def test_put_blob_verifies_the_expected_digest(store: Store) -> None:
    data = b"layer bytes"
    good = Digest.of_bytes(data)
    descriptor = store.put_blob(io.BytesIO(data), expected_digest=good, expected_size=len(data))
    assert descriptor.digest == good
    assert store.blob_path(good).read_bytes() == data
    with pytest.raises(DigestError, match="expected"):
        store.put_blob(io.BytesIO(b"other bytes"), expected_digest=Digest.of_bytes(b"nope"))
    with pytest.raises(DigestError, match="bytes"):
        store.put_blob(io.BytesIO(data + b"!"), expected_size=len(data))
    with pytest.raises(DigestError, match="expected 99"):
        store.put_blob(io.BytesIO(data), expected_size=99)
    # refused blobs leave neither a blob nor a temporary file
    assert blob_files(store) == {good.encoded}
    assert list(store.blobs.temporary_dir.iterdir()) == []


def test_reading_a_tampered_blob_fails(store: Store) -> None:
    descriptor = store.put_bytes(b"original content", "application/octet-stream")
    path = store.blob_path(descriptor.digest)
    path.write_bytes(b"tampered content")
    with pytest.raises(DigestError, match=str(descriptor.digest)):
        store.read_blob(descriptor.digest)
    with pytest.raises(BlobNotFoundError):
        store.read_blob(Digest.of_bytes(b"absent"))


def test_names_resolve_like_docker(store: Store) -> None:
    image = put_image(store, [BASE], ["busybox"])
    assert image.name is not None and str(image.name) == "docker.io/library/busybox:latest"
    for text in (
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox",
        "library/busybox:latest",
        image.id.short,
        str(image.id),
        f"busybox@{image.digest}",
    ):
        assert store.resolve(text).id == image.id, text
    with pytest.raises(ImageNotFoundError, match="busybox:2"):
        store.resolve("busybox:2")
    with pytest.raises(InvalidReferenceError):
        store.resolve("Not/Valid")


def test_a_resolved_name_is_kept_until_the_index_changes(store: Store) -> None:
    first = put_image(store, [BASE], ["app"])
    resolved = store.resolve("app")
    assert Store(store.root).resolve("app") is resolved  # the same answer, not read again
    second = put_image(store, [BASE, APP], ["app"])  # moves the tag: index.json is replaced
    assert store.resolve("app").id == second.id != first.id
    store.untag("app")
    with pytest.raises(ImageNotFoundError):
        store.resolve("app")


def test_tag_untag_and_rmi(store: Store) -> None:
    image = put_image(store, [BASE], ["app:1"])
    tagged = store.tag("app:1", "localhost:5000/app:v1")
    assert tagged.id == image.id
    assert sorted(record.display_name for record in store.images()) == ["app:1", "localhost:5000/app:v1"]
    # an id shared by two names needs force
    with pytest.raises(ConflictError, match="2 names"):
        store.remove_image(image.id.short)
    assert store.remove_image("app:1") == ["docker.io/library/app:1"]
    assert [record.display_name for record in store.images()] == ["localhost:5000/app:v1"]
    store.untag("localhost:5000/app:v1")
    assert store.images() == []
    with pytest.raises(ImageNotFoundError):
        store.untag("localhost:5000/app:v1")


def test_rmi_by_id_with_force_removes_every_name(store: Store) -> None:
    image = put_image(store, [BASE], ["a", "b"])
    removed = store.remove_image(str(image.id), force=True)
    assert sorted(removed) == ["docker.io/library/a:latest", "docker.io/library/b:latest"]
    assert store.images() == []


def test_a_tag_moves_to_the_newer_image(store: Store) -> None:
    old = put_image(store, [BASE], ["app"])
    new = put_image(store, [BASE, APP], ["app"])
    assert old.id != new.id
    assert store.resolve("app").id == new.id
    assert len(store.images()) == 1


def test_untagged_image_and_digest_names(store: Store) -> None:
    image = put_image(store, [BASE], [])
    assert image.name is None and image.display_name == "<none>"
    assert store.resolve(image.id.short).id == image.id
    pinned = store.add_image(image.descriptor, [f"localhost/app@{image.digest}"])[0]
    assert pinned.name is not None and pinned.name.digest == image.digest
    assert store.resolve(f"localhost/app@{image.digest}").id == image.id
    with pytest.raises(ConflictError, match="pins digest"):
        store.add_image(image.descriptor, [f"localhost/app@sha256:{'0' * 64}"])


def test_add_image_refuses_missing_blobs(store: Store) -> None:
    image = put_image(store, [BASE], ["app"])
    layer = image.layers[0]
    store.blobs.remove(layer.digest)
    with pytest.raises(NotFoundError, match=f"needs blob {layer.digest}"):
        store.add_image(image.descriptor, ["other"])
    with pytest.raises(NotFoundError, match="not in the store"):
        store.add_image(Descriptor(mediatypes.OCI_MANIFEST, Digest.of_bytes(b"x"), 1), ["other"])


def test_rmi_then_prune_frees_blobs(store: Store) -> None:
    kept = put_image(store, [BASE], ["base"])
    gone = put_image(store, [BASE, APP], ["app"])
    before = blob_files(store)
    assert store.prune() == 0
    assert blob_files(store) == before
    store.remove_image("app")
    freed = store.prune()
    expected_gone = {gone.layers[1].digest.encoded, gone.id.encoded, gone.digest.encoded}
    assert blob_files(store) == before - expected_gone
    assert freed == gone.layers[1].size + gone.manifest.config.size + gone.manifest_descriptor.size
    # the shared base layer stays, the kept image still reads
    assert store.resolve("base").layers[0].digest == kept.layers[0].digest == gone.layers[0].digest
    total, reclaimable = store.disk_usage()
    assert reclaimable == 0
    assert total == sum(path.stat().st_size for path in (store.root / "blobs" / "sha256").iterdir())


def test_prune_keeps_extra_roots(store: Store) -> None:
    image = put_image(store, [BASE], ["base"])
    store.remove_image("base")
    store.prune(extra_roots={image.layers[0].digest})
    assert blob_files(store) == {image.layers[0].digest.encoded}


# -- crash safety and concurrency -----------------------------------------------------------


def _write_half_a_blob_then_wait(root: str, ready: multiprocessing.synchronize.Event) -> None:
    store = Store(Path(root))
    writer = store.blob_writer()
    writer.write(b"x" * 100_000)
    writer._file.flush()
    ready.set()
    signal.pause()


def test_a_killed_writer_leaves_no_partial_blob(store: Store) -> None:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_write_half_a_blob_then_wait, args=(str(store.root), ready))
    child.start()
    try:
        assert ready.wait(60)
        temporary = list(store.blobs.temporary_dir.iterdir())
        assert len(temporary) == 1 and temporary[0].stat().st_size == 100_000
    finally:
        child.kill()
        child.join()
    assert blob_files(store) == set()
    # the next garbage collection removes the leftover
    assert store.prune() == 100_000
    assert list(store.blobs.temporary_dir.iterdir()) == []


def _import_many(root: str, prefix: str, count: int) -> None:
    store = Store(Path(root))
    rootfs = Path(root).parent / f"rootfs-{prefix}"
    rootfs.mkdir()
    for number in range(count):
        (rootfs / "id").write_text(f"{prefix}{number}")
        import_rootfs(rootfs, f"{prefix}:{number}", store=store)


def test_concurrent_imports_lose_no_tag(store: Store) -> None:
    context = multiprocessing.get_context("fork")
    count = 15
    workers = [
        context.Process(target=_import_many, args=(str(store.root), prefix, count))
        for prefix in ("left", "right")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    names = {record.display_name for record in store.images()}
    assert names == {f"{prefix}:{number}" for prefix in ("left", "right") for number in range(count)}
    validate("index", (store.root / "index.json").read_bytes())


def _prune_repeatedly(root: str, rounds: int) -> None:
    store = Store(Path(root))
    for _ in range(rounds):
        store.prune()


def test_prune_never_removes_blobs_of_an_import_in_progress(store: Store) -> None:
    context = multiprocessing.get_context("fork")
    pruner = context.Process(target=_prune_repeatedly, args=(str(store.root), 200))
    importer = context.Process(target=_import_many, args=(str(store.root), "busy", 10))
    pruner.start()
    importer.start()
    importer.join(120)
    pruner.join(120)
    assert (importer.exitcode, pruner.exitcode) == (0, 0)
    images = store.images()
    assert len(images) == 10
    for image in images:
        for layer in image.layers:
            assert store.has_blob(layer.digest)


def test_an_index_entry_resolves_to_this_platform(store: Store) -> None:
    image = put_image(store, [BASE], [])
    foreign = Descriptor(
        mediatypes.OCI_MANIFEST,
        Digest.of_bytes(b"arm manifest, never pulled"),
        26,
        platform=Platform("arm64", "linux", variant="v8"),
    )
    native = Descriptor(
        mediatypes.OCI_MANIFEST,
        image.digest,
        image.descriptor.size,
        platform=Platform(oci_architecture(), "linux"),
    )
    index = store.put_json(Index(manifests=(foreign, native)))
    validate("index", store.read_blob(index.digest))
    record = store.add_image(index, ["multi:1"])[0]
    assert record.digest == index.digest
    assert record.manifest_descriptor.digest == image.digest
    assert store.resolve("multi:1").id == image.id
    store.remove_image(image.id.short, force=True)  # drops the untagged entry and the index entry
    assert store.images() == []
    store.add_image(index, ["multi:1"])
    assert store.prune() == 0  # the index reaches the manifest, config and layer


def test_a_name_wins_over_an_id_prefix_as_in_docker(store: Store) -> None:
    first = put_image(store, [BASE], ["first"])
    prefix = first.id.encoded[:6]
    second = put_image(store, [BASE, APP], [prefix])
    assert store.resolve(prefix).id == second.id
    assert store.resolve(f"sha256:{prefix}").id == first.id
    assert store.resolve(first.id.encoded).id == first.id
    assert store.remove_image(prefix) == [f"docker.io/library/{prefix}:latest"]
    assert store.resolve(prefix).id == first.id

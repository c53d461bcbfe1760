"""skopeo reads labcore's store and archives, and labcore reads what skopeo writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labcore.image import mediatypes
from labcore.image.archive import load_archive, save_images
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.fixtures_images import BUSYBOX_REF, assert_same_tree, image_digest, tar_directory
from tests.integration.interop.tools_interop import run_tool

pytestmark = pytest.mark.integration


def test_docker_archive_written_by_skopeo_loads_back_as_the_same_image(base_store: Store,
                                                                       tmp_path: Path) -> None:
    archive = tmp_path / "busybox-docker.tar"
    run_tool("skopeo", "copy", f"oci:{base_store.root}:{BUSYBOX_REF}",
             f"docker-archive:{archive}:busybox:latest")
    other = Store(tmp_path / "other-store")
    [loaded] = load_archive(archive, store=other)
    original = base_store.resolve("busybox")
    assert [name.familiar for name in loaded.names] == ["busybox:latest"]
    assert loaded.id == original.id
    copy = other.resolve("busybox:latest")
    assert copy.diff_ids == original.diff_ids
    # docker-archive holds uncompressed layers: the blob digest is the diff id
    assert [(layer.media_type, layer.digest) for layer in copy.layers] == [
        (mediatypes.OCI_LAYER, original.diff_ids[0])
    ]


@pytest.mark.root
def test_docker_archive_round_trip_keeps_the_root_filesystem(base_store: Store, tmp_path: Path) -> None:
    archive = tmp_path / "busybox-docker.tar"
    run_tool("skopeo", "copy", f"oci:{base_store.root}:{BUSYBOX_REF}",
             f"docker-archive:{archive}:busybox:latest")
    other = Store(tmp_path / "other-store")
    load_archive(archive, store=other)
    flatten(base_store.resolve("busybox"), tmp_path / "original", store=base_store)
    flatten(other.resolve("busybox"), tmp_path / "copy", store=other)
    assert_same_tree(tmp_path / "original", tmp_path / "copy")


def test_skopeo_copies_the_image_into_another_layout_unchanged(base_store: Store, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    run_tool("skopeo", "copy", f"oci:{base_store.root}:{BUSYBOX_REF}", f"oci:{layout}:busybox")
    original = base_store.resolve("busybox")
    assert image_digest(layout) == original.digest
    for blob in (original.manifest_descriptor, original.manifest.config, *original.layers):
        copied = layout / "blobs" / "sha256" / blob.digest.encoded
        assert copied.read_bytes() == base_store.blob_path(blob.digest).read_bytes()
    # a bare tag ("busybox") names no repository: the image is loaded without a name
    other = Store(tmp_path / "other-store")
    [loaded] = load_archive(tar_directory(layout, tmp_path / "layout.tar"), store=other)
    assert loaded.names == () and loaded.digest == original.digest
    assert other.resolve(str(original.id)).digest == original.digest


@pytest.mark.parametrize(("archive_format", "names", "transport"), [
    ("docker", ["busybox", "hello-world"], "docker-archive:{archive}:hello-world:latest"),
    # both images would be "latest" in an OCI archive, which skopeo then cannot tell apart
    ("oci", ["hello-world"], "oci-archive:{archive}:latest"),
])
def test_skopeo_reads_labcore_save_archives(base_store: Store, tmp_path: Path, archive_format: str,
                                            names: list[str], transport: str) -> None:
    archive = tmp_path / "saved.tar"
    save_images(names, archive, archive_format=archive_format, store=base_store)  # type: ignore[arg-type]
    source = transport.format(archive=archive)
    inspected = json.loads(run_tool("skopeo", "inspect", "--config", source))
    assert inspected["config"]["Cmd"] == ["/hello"]
    layout = tmp_path / "copied"
    run_tool("skopeo", "copy", source, f"oci:{layout}:hello")
    hello = base_store.resolve("hello-world")
    manifest = json.loads((layout / "blobs" / "sha256" / image_digest(layout).encoded).read_text())
    assert manifest["config"]["digest"] == str(hello.id)

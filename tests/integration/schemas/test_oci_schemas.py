"""Every manifest, index, config and oci-layout labcore writes validates against the OCI schemas."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from labcore.image import mediatypes
from labcore.image.archive import load_archive, save_images
from labcore.image.store import Store
from tests.schema_support import assert_valid, schema_dir, schema_errors

pytestmark = pytest.mark.integration


def _kind(media_type: str) -> str:
    if mediatypes.is_index(media_type):
        return "index"
    if mediatypes.is_manifest(media_type):
        return "manifest"
    return "config"


def _validate_layout(index: dict[str, Any], read_blob: Any, where: str) -> int:
    """Validate index.json and every manifest and config it reaches; return how many documents."""
    assert_valid("index", index, f"{where} index.json")
    checked = 1
    pending = list(index["manifests"])
    while pending:
        descriptor = pending.pop()
        document = json.loads(read_blob(descriptor["digest"]))
        kind = _kind(descriptor["mediaType"])
        assert_valid(kind, document, f"{where} {kind} {descriptor['digest']}")
        checked += 1
        if kind == "index":
            pending += document["manifests"]
        elif kind == "manifest":
            config = json.loads(read_blob(document["config"]["digest"]))
            assert_valid("config", config, f"{where} config {document['config']['digest']}")
            checked += 1
    return checked


def test_schemas_are_found() -> None:
    assert (schema_dir() / "image-manifest-schema.json").is_file()


def test_the_validator_rejects_what_it_should() -> None:
    bad = {"schemaVersion": 2, "config": {"mediaType": "x", "digest": "no colon", "size": -1}, "layers": []}
    errors = schema_errors("manifest", bad)
    failed_paths = {error.split(":")[0] for error in errors}
    assert failed_paths == {"config/mediaType", "config/digest", "config/size", "layers"}
    assert schema_errors("layout", {}) != []


def test_store_with_base_images_validates(base_store: Store) -> None:
    root = base_store.root
    assert_valid("layout", json.loads((root / "oci-layout").read_bytes()), "store oci-layout")

    def read_blob(digest: str) -> bytes:
        return (root / "blobs" / digest.replace(":", "/")).read_bytes()

    index = json.loads((root / "index.json").read_bytes())
    assert len(index["manifests"]) == 2
    assert _validate_layout(index, read_blob, "store") == 5


@pytest.mark.parametrize("archive_format", ["docker", "oci"])
def test_save_archives_validate(base_store: Store, tmp_path: Path, archive_format: str) -> None:
    archive = tmp_path / "saved.tar"
    save_images(["busybox", "hello-world"], archive, archive_format=archive_format,  # type: ignore[arg-type]
                store=base_store)
    with tarfile.open(archive) as tar:

        def read(name: str) -> bytes:
            return tar.extractfile(name).read()  # type: ignore[union-attr]

        assert_valid("layout", json.loads(read("oci-layout")), "archive oci-layout")
        index = json.loads(read("index.json"))
        checked = _validate_layout(index, lambda digest: read("blobs/" + digest.replace(":", "/")), "archive")
        assert checked == 5


def test_images_loaded_from_an_old_docker_archive_validate(labcore_root: Path, tmp_path: Path) -> None:
    from tests.integration.interop.legacy_archive import LegacyImage, layer_tar, legacy_archive

    archive = tmp_path / "legacy.tar"
    archive.write_bytes(legacy_archive([LegacyImage([layer_tar({"a": b"1"})], ["legacy:1"])]))
    [loaded] = load_archive(archive)
    store = Store()
    manifest = json.loads(store.read_blob(loaded.digest))
    assert_valid("manifest", manifest, "manifest of a legacy image")
    assert_valid("config", json.loads(store.read_blob(loaded.id)), "config of a legacy image")

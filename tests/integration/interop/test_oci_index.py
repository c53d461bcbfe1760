"""An OCI archive whose index.json points to a multi-platform index, with one platform present."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.errors import LabcoreError
from labcore.image import mediatypes
from labcore.image.archive import load_archive
from labcore.image.store import Store
from tests.fixtures_images import tar_directory

pytestmark = pytest.mark.integration


def _platform_index(base_store: Store, layout: Path, *, include_host: bool) -> Path:
    busybox = base_store.resolve("busybox")
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in (busybox.manifest_descriptor, busybox.manifest.config, *busybox.layers):
        shutil.copy(base_store.blob_path(blob.digest), blobs / blob.digest.encoded)
    absent = {"mediaType": mediatypes.OCI_MANIFEST, "digest": f"sha256:{'e' * 64}", "size": 400,
              "platform": {"architecture": "riscv64", "os": "linux"}}
    present = {"mediaType": mediatypes.OCI_MANIFEST, "digest": str(busybox.manifest_descriptor.digest),
               "size": busybox.manifest_descriptor.size,
               "platform": {"architecture": busybox.config.architecture, "os": "linux"}}
    index = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                        "manifests": [absent, present] if include_host else [absent]}).encode()
    index_digest = Digest.of_bytes(index)
    (blobs / index_digest.encoded).write_bytes(index)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": mediatypes.OCI_INDEX, "digest": str(index_digest), "size": len(index),
        "annotations": {"org.opencontainers.image.ref.name": "localhost/multi:1"}}]}))
    return tar_directory(layout, layout.with_suffix(".tar"))


def test_index_loads_with_the_platforms_present(base_store: Store, tmp_path: Path) -> None:
    archive = _platform_index(base_store, tmp_path / "layout", include_host=True)
    other = Store(tmp_path / "other")
    [loaded] = load_archive(archive, store=other)
    assert [name.familiar for name in loaded.names] == ["localhost/multi:1"]
    assert loaded.id == base_store.resolve("busybox").id
    image = other.resolve("localhost/multi:1")
    assert image.descriptor.media_type == mediatypes.OCI_INDEX
    assert image.manifest_descriptor.digest == base_store.resolve("busybox").manifest_descriptor.digest


def test_index_with_no_platform_present_is_refused(base_store: Store, tmp_path: Path) -> None:
    archive = _platform_index(base_store, tmp_path / "layout", include_host=False)
    other = Store(tmp_path / "other")
    with pytest.raises(LabcoreError, match="none of the index's manifests"):
        load_archive(archive, store=other)
    assert other.images() == []

"""The store is a real OCI image layout: skopeo and umoci read and write it as it is."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from labcore.fs.compression import Compression
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.unit.image.builders import EXPECTED_LAYERED as EXPECTED
from tests.unit.image.builders import LAYERED_BASE as BASE
from tests.unit.image.builders import LAYERED_TOP as TOP
from tests.unit.image.builders import put_image, tree
from tests.unit.image.oci_schemas import validate

pytestmark = pytest.mark.integration


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.ZSTD, Compression.NONE])
def test_skopeo_inspects_the_store(labcore_root: Path, compression: Compression) -> None:
    store = Store()
    image = put_image(store, [BASE, TOP], ["lab/app:1"], compression=compression)
    report = json.loads(run(tool("skopeo"), "inspect", f"oci:{store.root}:docker.io/lab/app:1"))
    assert report["Digest"] == str(image.digest)
    assert report["Layers"] == [str(layer.digest) for layer in image.layers]
    config = json.loads(run(tool("skopeo"), "inspect", "--config", f"oci:{store.root}:docker.io/lab/app:1"))
    assert config["rootfs"]["diff_ids"] == [str(diff_id) for diff_id in image.diff_ids]


@pytest.mark.root
def test_umoci_unpacks_what_flatten_makes(labcore_root: Path, tmp_path: Path) -> None:
    store = Store()
    image = put_image(store, [BASE, TOP], ["localhost:5000/app:v1"])
    bundle = tmp_path / "bundle"
    run(tool("umoci"), "unpack", "--image", f"{store.root}:localhost:5000/app:v1", str(bundle))
    flatten(image, tmp_path / "flat", store=store)
    assert tree(bundle / "rootfs") == tree(tmp_path / "flat") == EXPECTED
    umoci_config = json.loads((bundle / "config.json").read_text())
    assert umoci_config["process"]["args"] == ["/bin/sh"]


def test_images_skopeo_copies_in_are_readable(labcore_root: Path, tmp_path: Path) -> None:
    store = Store()
    image = put_image(store, [BASE, TOP], ["source:1"])
    elsewhere = tmp_path / "elsewhere"
    run(tool("skopeo"), "copy", f"oci:{store.root}:docker.io/library/source:1", f"oci:{elsewhere}:copy")
    run(tool("skopeo"), "copy", f"oci:{elsewhere}:copy", f"oci:{store.root}:docker.io/library/copied:2")
    copied = store.resolve("copied:2")
    assert copied.diff_ids == image.diff_ids
    assert store.resolve("source:1").id == image.id  # skopeo kept our entries
    validate("index", (store.root / "index.json").read_bytes())
    flatten(copied, tmp_path / "flat", store=store)
    assert tree(tmp_path / "flat") == EXPECTED

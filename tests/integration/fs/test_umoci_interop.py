"""Interoperability with umoci, the reference OCI image tool: its layers and our layers agree.

* umoci unpacks an image whose layer labcore wrote, giving the source tree back;
* labcore applies the layer ``umoci repack`` wrote for a modified rootfs (with whiteouts, gzip
  compressed), gets the image config's diff_id, and ends with umoci's rootfs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.fs.apply import apply_layer
from labcore.fs.compression import from_media_type, open_decompressed
from labcore.fs.diff import tree_to_layer
from tests.unit.fs.manifest import clone_tree, manifest

pytestmark = [
    pytest.mark.root,
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci is not installed"),
]


def umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True)


def blob(layout: Path, digest: str) -> Path:
    algorithm, encoded = digest.split(":")
    return layout / "blobs" / algorithm / encoded


def image_manifest(layout: Path, tag: str) -> dict[str, object]:
    index = json.loads((layout / "index.json").read_text())
    for descriptor in index["manifests"]:
        if descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return json.loads(blob(layout, descriptor["digest"]).read_text())  # type: ignore[no-any-return]
    raise AssertionError(f"tag {tag} not in {layout}")


def make_source(root: Path) -> Path:
    (root / "etc/conf.d").mkdir(parents=True)
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    (root / "etc/conf.d/a").write_text("a")
    (root / "etc/conf.d/b").write_text("b")
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_bytes(b"\x7fELF" + bytes(5000))
    (root / "usr/bin/tool").chmod(0o4755)
    (root / "usr/bin/alias").hardlink_to(root / "usr/bin/tool")
    (root / "bin").symlink_to("usr/bin")
    return root


def whole_second_mtimes(root: Path) -> None:
    """Go's tar writer rounds mtimes to the nearest second; give it nothing to round."""
    for path in root.rglob("*"):
        mtime = int(path.lstat().st_mtime)
        os.utime(path, (mtime, mtime), follow_symlinks=False)


def test_umoci_unpacks_our_layer_to_the_source_tree(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source")
    layer = tmp_path / "layer.tar"
    with layer.open("wb") as out:
        tree_to_layer(source, out)
    layout = tmp_path / "layout"
    umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:t")
    umoci("raw", "add-layer", "--image", f"{layout}:t", str(layer))
    umoci("unpack", "--image", f"{layout}:t", str(tmp_path / "bundle"))
    assert manifest(tmp_path / "bundle/rootfs") == manifest(source)


def test_we_apply_umoci_repack_layers_with_whiteouts(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    bundle = tmp_path / "bundle"
    umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:t")
    umoci("unpack", "--image", f"{layout}:t", str(bundle))
    rootfs = bundle / "rootfs"
    shutil.rmtree(rootfs)
    clone_tree(make_source(tmp_path / "source"), rootfs)
    whole_second_mtimes(rootfs)
    umoci("repack", "--refresh-bundle", "--image", f"{layout}:t", str(bundle))
    ours = tmp_path / "ours"
    ours.mkdir()
    (rootfs / "etc/hosts").unlink()
    shutil.rmtree(rootfs / "etc/conf.d")
    (rootfs / "etc/conf.d").mkdir()
    (rootfs / "etc/conf.d/c").write_text("c")
    (rootfs / "usr/bin/new").write_text("new")
    whole_second_mtimes(rootfs)
    umoci("repack", "--image", f"{layout}:t", str(bundle))

    image = image_manifest(layout, "t")
    config = json.loads(blob(layout, image["config"]["digest"]).read_text())  # type: ignore[index]
    layers = image["layers"]
    assert isinstance(layers, list) and len(layers) == 2
    for descriptor, diff_id in zip(layers, config["rootfs"]["diff_ids"], strict=True):
        with blob(layout, descriptor["digest"]).open("rb") as compressed:
            assert from_media_type(descriptor["mediaType"]) is not None
            with open_decompressed(compressed) as stream:
                result = apply_layer(stream, ours, expected_diff_id=Digest.parse(diff_id))
        assert str(result.diff_id) == diff_id
    assert manifest(ours) == manifest(rootfs)

"""umoci unpacks labcore's images exactly as labcore does, and labcore loads umoci's images."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labcore.image.archive import load_archive
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.fixtures_images import assert_same_tree, tar_directory
from tests.integration.interop.tools_interop import run_tool

pytestmark = [pytest.mark.integration, pytest.mark.root]


@pytest.mark.parametrize("name", ["busybox:latest", "hello-world:latest"])
def test_umoci_unpack_equals_labcore_flatten(base_store: Store, tmp_path: Path, name: str) -> None:
    image = base_store.resolve(name)
    run_tool("umoci", "unpack", "--image", f"{base_store.root}:docker.io/library/{name}", tmp_path / "bundle")
    flatten(image, tmp_path / "ours", store=base_store)
    assert_same_tree(tmp_path / "ours", tmp_path / "bundle" / "rootfs")


def test_image_repacked_by_umoci_loads_and_unpacks_the_same(base_store: Store, tmp_path: Path) -> None:
    source = tmp_path / "source"
    flatten(base_store.resolve("busybox"), source, store=base_store)
    layout, bundle = tmp_path / "layout", tmp_path / "bundle"
    tag = "localhost/umoci-busybox:1"
    run_tool("umoci", "init", "--layout", layout)
    run_tool("umoci", "new", "--image", f"{layout}:{tag}")
    run_tool("umoci", "unpack", "--image", f"{layout}:{tag}", bundle)
    shutil.copytree(source, bundle / "rootfs", symlinks=True, dirs_exist_ok=True)
    run_tool("umoci", "repack", "--image", f"{layout}:{tag}", bundle)
    run_tool("umoci", "config", "--image", f"{layout}:{tag}", "--config.cmd", "sh")

    store = Store(tmp_path / "store")
    [loaded] = load_archive(tar_directory(layout, tmp_path / "umoci.tar"), store=store)
    assert [name.familiar for name in loaded.names] == [tag]
    image = store.resolve(tag)
    assert image.config.config.cmd == ("sh",)
    flatten(image, tmp_path / "ours", store=store)
    run_tool("umoci", "unpack", "--image", f"{layout}:{tag}", tmp_path / "theirs")
    assert_same_tree(tmp_path / "ours", tmp_path / "theirs" / "rootfs")
    assert_same_tree(tmp_path / "ours", source)

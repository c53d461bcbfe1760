"""An image buildah commits (from scratch, busybox rootfs copied in) loads into labcore intact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labcore.image.archive import load_archive
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.fixtures_images import assert_same_tree
from tests.integration.interop.tools_interop import extract_archive, run_tool

pytestmark = [pytest.mark.integration, pytest.mark.root]

# no systemd and no container storage on this host: a private vfs store and chroot isolation
_ENV = {"BUILDAH_ISOLATION": "chroot"}


@pytest.fixture
def buildah(tmp_path: Path) -> Iterator[list[str]]:
    command = ["buildah", "--root", str(tmp_path / "buildah-root"),
               "--runroot", str(tmp_path / "buildah-run"), "--storage-driver", "vfs"]
    yield command
    run_tool(*command, "rm", "--all", env=_ENV)


def test_buildah_commit_loads_and_unpacks_like_umoci(base_store: Store, buildah: list[str],
                                                     tmp_path: Path) -> None:
    source = tmp_path / "source"
    flatten(base_store.resolve("busybox"), source, store=base_store)
    container = run_tool(*buildah, "from", "--pull=false", "scratch", env=_ENV).strip()
    run_tool(*buildah, "copy", container, source, "/", env=_ENV)
    run_tool(*buildah, "config", "--cmd", "sh", "--label", "made.by=buildah", container, env=_ENV)
    archive = tmp_path / "buildah.tar"
    run_tool(*buildah, "commit", "--format", "oci", container, f"oci-archive:{archive}:localhost/bb:latest",
             env=_ENV)

    store = Store(tmp_path / "store")
    [loaded] = load_archive(archive, store=store)
    assert [name.familiar for name in loaded.names] == ["localhost/bb:latest"]
    image = store.resolve("localhost/bb:latest")
    assert image.config.config.cmd == ("sh",)
    assert image.config.config.labels["made.by"] == "buildah"
    flatten(image, tmp_path / "ours", store=store)
    layout = extract_archive(archive, tmp_path / "layout")
    run_tool("umoci", "unpack", "--image", f"{layout}:localhost/bb:latest", tmp_path / "theirs")
    assert_same_tree(tmp_path / "ours", tmp_path / "theirs" / "rootfs")
    assert_same_tree(tmp_path / "ours", source)

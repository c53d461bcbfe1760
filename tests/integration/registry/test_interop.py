"""labcore's registry client against skopeo and umoci, on a real docker-registry."""

from __future__ import annotations

import filecmp
import json
import subprocess
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.image import mediatypes
from labcore.image.descriptor import Descriptor, Platform
from labcore.image.manifest import Index
from labcore.image.record import ImageRecord
from labcore.image.store import Store
from labcore.registry.client import RegistryClient
from labcore.registry.hosts import load_hosts
from labcore.registry.platforms import host_platform, parse_platform
from labcore.registry.pull import pull_image
from labcore.registry.push import push_image
from tests.registry_support import RegistryServer
from tests.unit.registry.fake_registry import make_image, store_image

pytestmark = pytest.mark.integration


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def layout_digest(layout: Path, tag: str) -> str:
    index = json.loads((layout / "index.json").read_text())
    (entry,) = [m for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    return str(entry["digest"])


def unpack(layout: Path, tag: str, bundle: Path) -> Path:
    run("umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(bundle))
    return bundle / "rootfs"


def same_tree(left: Path, right: Path) -> list[str]:
    """Paths that differ between two trees (empty when identical in names, types and contents)."""
    differences: list[str] = []

    def walk(compare: filecmp.dircmp[str], prefix: str) -> None:
        differences.extend(prefix + name for name in compare.left_only + compare.right_only)
        differences.extend(prefix + name for name in compare.diff_files + compare.funny_files)
        for name, sub in compare.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=[]), "")
    return differences


def test_push_with_labcore_pull_with_skopeo(plain_registry: RegistryServer, busybox: ImageRecord,
                                            store: Store, tmp_path: Path) -> None:
    target = f"{plain_registry.host}/interop/labcore-pushed:1"
    result = push_image("busybox", target, store=store)
    assert result.digest == busybox.digest

    layout = tmp_path / "skopeo-layout"
    run("skopeo", "copy", "--src-tls-verify=false", f"docker://{target}", f"oci:{layout}:pulled")
    assert layout_digest(layout, "pulled") == str(busybox.digest)

    theirs = unpack(layout, "pulled", tmp_path / "theirs")
    ours = unpack(store.root, "docker.io/library/busybox:latest", tmp_path / "ours")
    assert (theirs / "bin" / "sh").exists()
    assert same_tree(ours, theirs) == []


def test_push_with_skopeo_from_umoci_layout_pull_with_labcore(plain_registry: RegistryServer, store: Store,
                                                              tmp_path: Path) -> None:
    layout, bundle = tmp_path / "umoci-layout", tmp_path / "bundle"
    run("umoci", "init", "--layout", str(layout))
    run("umoci", "new", "--image", f"{layout}:app")
    run("umoci", "unpack", "--rootless", "--image", f"{layout}:app", str(bundle))
    (bundle / "rootfs" / "greeting.txt").write_text("made by umoci, pushed by skopeo\n")
    run("umoci", "repack", "--image", f"{layout}:app", str(bundle))
    target = f"{plain_registry.host}/interop/skopeo-pushed:app"
    run("skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:app", f"docker://{target}")

    result = pull_image(target, store=store)
    assert str(result.digest) == layout_digest(layout, "app")
    record = store.resolve(target)
    assert str(record.digest) == layout_digest(layout, "app")
    rootfs = unpack(store.root, f"{plain_registry.host}/interop/skopeo-pushed:app", tmp_path / "unpacked")
    assert (rootfs / "greeting.txt").read_text() == "made by umoci, pushed by skopeo\n"


def test_multi_platform_index_pull_picks_host_then_platform_flag(plain_registry: RegistryServer,
                                                                 store: Store, tmp_path: Path) -> None:
    host = host_platform().architecture
    other = "arm64" if host != "arm64" else "amd64"
    images = {arch: make_image(arch, (f"{arch} layer".encode(),)) for arch in (host, other)}
    repository = "interop/multi"
    for arch, image in images.items():
        store_image(store, image, f"local/{arch}:1")
        push_image(f"local/{arch}:1", f"{plain_registry.host}/{repository}@{image.digest}", store=store)
    index = Index(manifests=tuple(
        Descriptor(mediatypes.OCI_MANIFEST, Digest.parse(image.digest), len(image.manifest),
                   platform=Platform(arch, "linux"))
        for arch, image in sorted(images.items(), key=lambda item: item[0] == host)  # host last
    ))
    with RegistryClient(plain_registry.host, load_hosts().origin(plain_registry.host)) as client:
        index_digest = client.put_manifest(repository, "multi", mediatypes.OCI_INDEX, index.to_json())

    fresh = Store(tmp_path / "fresh-store")
    result = pull_image(f"{plain_registry.host}/{repository}:multi", store=fresh)
    assert result.digest == index_digest
    assert str(result.manifest_digest) == images[host].digest
    assert result.platform is not None and result.platform.architecture == host

    result = pull_image(f"{plain_registry.host}/{repository}:multi", store=fresh,
                        platform=parse_platform(f"linux/{other}"))
    assert str(result.manifest_digest) == images[other].digest
    record = fresh.resolve(f"{plain_registry.host}/{repository}:multi")
    assert record.config.architecture == other

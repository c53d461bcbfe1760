"""Session-wide base images and helpers to compare root filesystems.

Building busybox and hello-world takes a second or two; the session fixture builds them once in
a private LABCORE_ROOT, and ``base_store`` copies that store (a few MB) into each test's own
``labcore_root``. Import the fixtures from a directory's ``conftest.py``::

    from tests.fixtures_images import base_images, base_store  # noqa: F401
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.image.base import busybox_image, hello_image
from labcore.image.record import ImageRecord
from labcore.image.store import Store

BUSYBOX = "busybox:latest"
HELLO = "hello-world:latest"
BUSYBOX_REF = "docker.io/library/busybox:latest"


@dataclass(frozen=True)
class BaseImages:
    """The session's base images: where their store is and what was built."""

    root: Path
    busybox: ImageRecord
    hello: ImageRecord

    @property
    def store_path(self) -> Path:
        """The OCI layout holding both images."""
        return self.root / "store"


_built: dict[Path, BaseImages] = {}


def _build_base_images(tmp_path_factory: pytest.TempPathFactory) -> BaseImages:
    root = tmp_path_factory.mktemp("base-images") / "labcore"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:  # hello.c is compiled into $LABCORE_ROOT/cache
        patch.setenv("LABCORE_ROOT", str(root))
        store = Store(root / "store")
        return BaseImages(root=root, busybox=busybox_image(store), hello=hello_image(store))


@pytest.fixture(scope="session")
def base_images(tmp_path_factory: pytest.TempPathFactory) -> BaseImages:
    """busybox:latest and hello-world:latest, built once per session in their own root.

    Each conftest that imports this fixture gets its own copy of it; the module-level cache
    keeps the build to one per session (per xdist worker) all the same.
    """
    key = tmp_path_factory.getbasetemp()
    if key not in _built:
        _built[key] = _build_base_images(tmp_path_factory)
    return _built[key]


@pytest.fixture
def base_store(labcore_root: Path, base_images: BaseImages) -> Store:
    """A copy of the session's store as this test's store (``$LABCORE_ROOT/store``)."""
    shutil.copytree(base_images.store_path, labcore_root / "store", symlinks=True)
    return Store()


def tree_snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry below ``root``: kind, permission bits, owner, and content hash or link target.

    Modification times are left out: tools legitimately differ there.
    """
    entries: dict[str, tuple[object, ...]] = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(directory) / name
            status = path.lstat()
            relative = str(path.relative_to(root))
            common = (stat.S_IFMT(status.st_mode), stat.S_IMODE(status.st_mode), status.st_uid, status.st_gid)
            if stat.S_ISREG(status.st_mode):
                entries[relative] = (*common, hashlib.sha256(path.read_bytes()).hexdigest())
            elif stat.S_ISLNK(status.st_mode):
                entries[relative] = (*common, os.readlink(path))
            elif stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode):
                entries[relative] = (*common, status.st_rdev)
            else:
                entries[relative] = common
    return entries


def assert_same_tree(left: Path, right: Path) -> None:
    """Fail listing the first differences when two trees differ."""
    ours, theirs = tree_snapshot(left), tree_snapshot(right)
    only_left = sorted(set(ours) - set(theirs))
    only_right = sorted(set(theirs) - set(ours))
    changed = sorted(name for name in set(ours) & set(theirs) if ours[name] != theirs[name])
    assert not (only_left or only_right or changed), (
        f"trees differ: only in {left}: {only_left[:10]}; only in {right}: {only_right[:10]}; "
        f"different: {[(name, ours[name], theirs[name]) for name in changed[:5]]}"
    )
    assert ours, f"{left} is empty"


def tar_directory(directory: Path, archive: Path) -> Path:
    """Pack an OCI layout directory into a tar archive (members relative to the layout)."""
    with tarfile.open(archive, "w") as tar:
        for entry in sorted(directory.iterdir()):
            tar.add(entry, arcname=entry.name)
    return archive


def image_digest(layout: Path) -> Digest:
    """The manifest digest of the only image in an OCI layout directory."""
    manifests = json.loads((layout / "index.json").read_text())["manifests"]
    assert len(manifests) == 1, manifests
    return Digest.parse(manifests[0]["digest"])


@pytest.fixture(scope="session")
def busybox_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root holding the busybox image's store and unpacked snapshots, built once per session."""
    root = tmp_path_factory.mktemp("busybox-cache") / "labcore"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABCORE_ROOT", str(root))
        from labcore.image.snapshots import SnapshotStore

        SnapshotStore().prepare(busybox_image())
    return root


@pytest.fixture
def busybox(labcore_root: Path, busybox_cache: Path) -> Iterator[str]:
    """``"busybox"``, present in this test's LABCORE_ROOT; every container (and its network) goes afterwards."""
    for part in ("store", "snapshots"):
        subprocess.run(["cp", "-a", str(busybox_cache / part), str(labcore_root / part)], check=True)
    try:
        yield "busybox"
    finally:
        import labcore.container as containers
        from labcore.runtime import network

        for container in containers.list(all=True):
            containers.remove(container, force=True)
            network.cleanup(container.id)
        shutil.rmtree(labcore_root / "volumes", ignore_errors=True)

"""Fixtures for container tests: a busybox image in a private root, and no container left behind."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def busybox_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root holding the busybox image's store and snapshots, built once per session."""
    root = tmp_path_factory.mktemp("busybox-cache") / "labcore"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABCORE_ROOT", str(root))
        from labcore.image.base.images import busybox_image
        from labcore.image.snapshots import SnapshotStore

        SnapshotStore().prepare(busybox_image())
    return root


@pytest.fixture
def busybox(labcore_root: Path, busybox_cache: Path) -> Iterator[str]:
    """``"busybox"``, present in this test's LABCORE_ROOT; every container is removed afterwards."""
    for part in ("store", "snapshots"):
        subprocess.run(["cp", "-a", str(busybox_cache / part), str(labcore_root / part)], check=True)
    try:
        yield "busybox"
    finally:
        import labcore.container as containers

        for container in containers.list(all=True):
            containers.remove(container, force=True)
        shutil.rmtree(labcore_root / "volumes", ignore_errors=True)

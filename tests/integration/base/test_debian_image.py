"""The debian base image: debootstrap once (cached under $LABCORE_CACHE), then import it."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from labcore.image.base import debian_image
from labcore.image.base.debian import debian_rootfs_tarball
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.tools import require_tool

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.root]


@pytest.fixture(scope="module")
def bookworm_tarball() -> Path:
    require_tool("debootstrap")
    return debian_rootfs_tarball("bookworm")


def test_cached_tarball_has_no_device_nodes_or_apt_lists(bookworm_tarball: Path) -> None:
    with tarfile.open(bookworm_tarball) as tar:
        names = tar.getnames()
        kinds = {member.type for member in tar.getmembers()}
    assert "etc/debian_version" in names and "usr/bin/apt-get" in names
    assert not any(name.startswith(("dev/", "proc/", "var/lib/apt/lists/")) for name in names)
    assert {"dev", "proc", "var/lib/apt/lists"} <= set(names)
    assert tarfile.CHRTYPE not in kinds and tarfile.BLKTYPE not in kinds
    assert debian_rootfs_tarball("bookworm") == bookworm_tarball


def test_image_runs_bash_and_apt_in_a_chroot(bookworm_tarball: Path, labcore_root: Path,
                                             tmp_path: Path) -> None:
    image = debian_image()
    assert image.display_name == "debian:bookworm"
    assert image.config.config.cmd == ("bash",)
    assert [entry.empty_layer for entry in image.config.history] == [False, True]
    rootfs = tmp_path / "rootfs"
    flatten(Store().resolve("debian:bookworm"), rootfs)
    result = subprocess.run(
        ["chroot", str(rootfs), "/bin/bash", "-c",
         "cat /etc/debian_version; dpkg-query -W -f='${Package}\\n' apt"],
        capture_output=True, text=True, check=True,
    )
    version, package = result.stdout.split()
    assert version.startswith("12.")
    assert package == "apt"

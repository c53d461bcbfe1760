from __future__ import annotations

import hashlib
import socket
import subprocess
import tarfile
from pathlib import Path

import pytest

from labcore.fs.compression import Compression, open_decompressed
from labcore.image import mediatypes
from labcore.image.base import busybox_image
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.fixtures_images import BaseImages

pytestmark = pytest.mark.integration


def test_image_is_one_gzip_layer_with_docker_like_history(base_images: BaseImages) -> None:
    image = base_images.busybox
    assert image.display_name == "busybox:latest"
    assert [layer.media_type for layer in image.layers] == [mediatypes.OCI_LAYER_GZIP]
    assert image.config.config.cmd == ("sh",)
    assert any(variable.startswith("PATH=") for variable in image.config.config.env)
    history = image.config.history
    assert [entry.empty_layer for entry in history] == [False, True]
    assert history[1].created_by == 'CMD ["sh"]'
    assert "busybox" in history[0].created_by


def test_layer_diff_id_matches_the_uncompressed_tar(base_images: BaseImages) -> None:
    store = Store(base_images.store_path)
    image = base_images.busybox
    with (
        store.open_blob(image.layers[0].digest) as blob,
        open_decompressed(blob, Compression.GZIP) as plain,  # type: ignore[arg-type]
    ):
        digest = hashlib.sha256(plain.read()).hexdigest()
    assert f"sha256:{digest}" == str(image.diff_ids[0])


def test_building_again_gives_the_same_digests(base_store: Store) -> None:
    first = base_store.resolve("busybox")
    again = busybox_image(base_store, tag="busybox:again")
    assert again.digest == first.digest
    assert again.id == first.id


@pytest.fixture
def busybox_rootfs(base_store: Store, tmp_path: Path) -> Path:
    rootfs = tmp_path / "rootfs"
    flatten(base_store.resolve("busybox"), rootfs, store=base_store)
    return rootfs


@pytest.mark.root
def test_rootfs_has_applet_links_accounts_and_modes(busybox_rootfs: Path) -> None:
    assert (busybox_rootfs / "bin" / "ls").readlink() == Path("/bin/busybox")
    assert (busybox_rootfs / "tmp").stat().st_mode & 0o7777 == 0o1777
    assert (busybox_rootfs / "root").stat().st_mode & 0o7777 == 0o700
    passwd = (busybox_rootfs / "etc" / "passwd").read_text()
    assert passwd.startswith("root:x:0:0:") and "nobody:x:65534:65534:" in passwd
    for directory in ("proc", "sys", "dev", "var", "home", "usr/bin", "usr/sbin", "sbin"):
        assert (busybox_rootfs / directory).is_dir(), directory


@pytest.mark.root
def test_sh_ls_and_hostname_work_in_a_chroot(busybox_rootfs: Path) -> None:
    result = subprocess.run(["chroot", str(busybox_rootfs), "/bin/sh", "-c", "ls /; hostname; id -un"],
                            capture_output=True, text=True, check=True)
    lines = result.stdout.split()
    assert {"bin", "etc", "proc", "tmp", "usr"} <= set(lines)
    assert lines[-2] == socket.gethostname()
    assert lines[-1] == "root"


@pytest.mark.root
def test_ps_sees_its_own_pid_namespace(busybox_rootfs: Path) -> None:
    # a private mount and pid namespace: /proc inside the rootfs shows only the new namespace and
    # vanishes with it, so nothing is left mounted on the host
    result = subprocess.run(
        ["unshare", "--mount", "--pid", "--fork", f"--mount-proc={busybox_rootfs / 'proc'}",
         "chroot", str(busybox_rootfs), "/bin/ps", "-o", "pid,comm"],
        capture_output=True, text=True, check=True,
    )
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert rows == [["1", "ps"]]
    assert not any(entry.name for entry in (busybox_rootfs / "proc").iterdir())


def test_layer_lists_every_applet_the_binary_reports(base_images: BaseImages) -> None:
    from labcore.image.base.busybox import busybox_applets

    store = Store(base_images.store_path)
    layer = base_images.busybox.layers[0]
    with (
        store.open_blob(layer.digest) as blob,
        open_decompressed(blob, Compression.GZIP) as plain,  # type: ignore[arg-type]
        tarfile.open(fileobj=plain, mode="r|") as tar,
    ):
        links = {member.name for member in tar if member.issym() and member.linkname == "/bin/busybox"}
    assert links == set(busybox_applets())


def test_missing_busybox_is_a_setup_error_with_the_package_name(labcore_root: Path, tmp_path: Path) -> None:
    from labcore.errors import SystemSetupError

    with pytest.raises(SystemSetupError) as caught:
        busybox_image(binary=tmp_path / "no-busybox")
    assert "busybox-static" in caught.value.hint
    assert Store().images() == []

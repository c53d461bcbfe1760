import os

import pytest

from labcore.runtime import volumes
from labcore.runtime.volumes import VolumeInUseError, VolumeNotFoundError


def test_create_list_inspect_remove(labcore_root):
    volume = volumes.create_volume("data", labels={"course": "lab"})
    assert volume.data == labcore_root / "volumes" / "data" / "_data"
    assert volume.data.is_dir()
    assert [item.name for item in volumes.list_volumes()] == ["data"]
    info = volumes.get_volume("data").inspect()
    assert info["Mountpoint"] == str(volume.data) and info["Labels"] == {"course": "lab"}
    volumes.remove_volume("data")
    assert volumes.list_volumes() == []
    with pytest.raises(VolumeNotFoundError, match="no such volume: data"):
        volumes.get_volume("data")


def test_in_use_volume_is_refused_naming_container(labcore_root):
    volume = volumes.create_volume("busy")
    volumes.add_user(volume, "c" * 64)
    with pytest.raises(VolumeInUseError, match="cccccccccccc"):
        volumes.remove_volume("busy")
    assert volumes.prune_volumes(all_volumes=True) == []
    volumes.remove_user("busy", "c" * 64)
    assert volumes.prune_volumes(all_volumes=True) == ["busy"]


def test_prune_takes_only_anonymous_by_default(labcore_root):
    anonymous, created = volumes.ensure_volume(None)
    assert created and anonymous.anonymous and len(anonymous.name) == 64
    volumes.create_volume("named")
    assert volumes.prune_volumes() == [anonymous.name]
    assert [item.name for item in volumes.list_volumes()] == ["named"]


def test_fill_from_image_copies_once_and_refuses_symlinks(labcore_root, tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "srv/data").mkdir(parents=True)
    (rootfs / "srv/data/hello").write_text("hi")
    os.chmod(rootfs / "srv/data", 0o750)
    (rootfs / "link").symlink_to("/etc")
    volume = volumes.create_volume("filled")
    assert volumes.fill_from_image(volume, rootfs, "/srv/data")
    assert (volume.data / "hello").read_text() == "hi"
    assert volume.data.stat().st_mode & 0o777 == 0o750
    (rootfs / "srv/data/other").write_text("x")
    assert not volumes.fill_from_image(volume, rootfs, "/srv/data")  # no longer empty
    escaped = volumes.create_volume("escape")
    assert not volumes.fill_from_image(escaped, rootfs, "/link")
    assert list(escaped.data.iterdir()) == []

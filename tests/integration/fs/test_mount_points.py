from pathlib import Path

import pytest

from labcore.linux.mount import mount, umount
from labcore.linux.mountinfo import mount_points_under

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_mount_points_under_finds_nested_mounts_with_escaped_names(tmp_path: Path) -> None:
    top = tmp_path / "with space"
    inner = top / "a\tb" / "mnt"
    inner.mkdir(parents=True)
    assert mount_points_under(str(top)) == []
    mount("tmpfs", inner, "tmpfs", 0, "size=1m")
    try:
        assert mount_points_under(str(top)) == [str(inner)]
        assert mount_points_under(str(inner)) == [str(inner)]
        assert mount_points_under(str(top / "a")) == []  # a name prefix is not a directory prefix
    finally:
        umount(inner)
    assert mount_points_under(str(top)) == []

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from labcore.errors import SystemSetupError
from labcore.image.base import busybox
from labcore.image.base.tarwriter import LayerWriter

needs_busybox = pytest.mark.skipif(not busybox.BUSYBOX_BINARY.is_file(), reason="needs busybox-static")


def test_passwd_and_group_have_root_and_nobody() -> None:
    users = {line.split(":")[0]: line.split(":") for line in busybox.USER_ACCOUNTS.splitlines()}
    groups = {line.split(":")[0]: line.split(":") for line in busybox.USER_GROUPS.splitlines()}
    assert users["root"][2:4] == ["0", "0"] and users["root"][6] == "/bin/sh"
    assert users["nobody"][2:4] == ["65534", "65534"]
    assert groups["root"][2] == "0" and groups["nogroup"][2] == "65534"
    assert all(len(fields) == 7 for fields in users.values())
    assert all(len(fields) == 4 for fields in groups.values())


def test_a_dynamic_binary_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "busybox"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    with pytest.raises(SystemSetupError, match="not a static executable"):
        busybox.busybox_applets(script)


def test_a_missing_binary_says_which_package(tmp_path: Path) -> None:
    with pytest.raises(SystemSetupError) as caught:
        busybox.busybox_applets(tmp_path / "nope")
    assert "busybox-static" in caught.value.hint


@needs_busybox
def test_applets_come_from_the_binary_and_exclude_itself() -> None:
    applets = busybox.busybox_applets()
    assert {"bin/sh", "bin/ls", "bin/ps", "bin/hostname"} <= set(applets)
    assert "bin/busybox" not in applets
    assert all("/" in applet for applet in applets)
    assert busybox.busybox_version().count(".") >= 1


@needs_busybox
def test_rootfs_has_links_accounts_and_directory_modes() -> None:
    buffer = io.BytesIO()
    with LayerWriter(buffer, mtime=0) as writer:
        count = busybox.write_busybox_rootfs(writer)
    with tarfile.open(fileobj=io.BytesIO(buffer.getvalue())) as tar:
        members = {member.name: member for member in tar.getmembers()}
    assert count == len(busybox.busybox_applets())
    assert members["bin/ls"].issym() and members["bin/ls"].linkname == "/bin/busybox"
    assert members["bin/busybox"].isreg() and members["bin/busybox"].mode == 0o755
    assert members["bin/busybox"].size == busybox.BUSYBOX_BINARY.stat().st_size
    assert members["tmp"].mode == 0o1777 and members["root"].mode == 0o700
    for directory in ("proc", "sys", "dev", "etc", "var", "home", "usr/bin", "usr/sbin"):
        assert members[directory].isdir(), directory
    assert {"etc/passwd", "etc/group"} <= set(members)

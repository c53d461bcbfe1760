from __future__ import annotations

from pathlib import Path

import pytest

from labcore.errors import SystemSetupError, UsageError
from labcore.image.base import debian

DEB822 = """\
Types: deb-src
URIs: http://source.example/debian
Suites: bookworm
Components: main

Types: deb
# a comment
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
"""


def test_mirror_is_the_main_archive_of_a_deb822_file(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(DEB822)
    assert debian.debian_mirror((sources,)) == "http://mirror.example/debian"


def test_mirror_from_one_line_sources_list(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text("# comment\ndeb http://sec.example/ bookworm-security main\n"
                       "deb [arch=amd64] http://one.example/debian bookworm main\n")
    assert debian.debian_mirror((tmp_path / "absent.sources", sources)) == "http://one.example/debian"


def test_no_mirror_is_a_setup_error_naming_the_files(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text("deb-src http://x.example/debian bookworm main\n")
    with pytest.raises(SystemSetupError, match=r"sources\.list"):
        debian.debian_mirror((sources,))


def test_excluded_directories_keep_out_device_nodes_and_apt_caches() -> None:
    assert debian.skip_in_rootfs("dev")
    assert debian.skip_in_rootfs("var/lib/apt/lists")
    assert not debian.skip_in_rootfs("etc")
    assert not debian.skip_in_rootfs("var/lib")


def test_a_hostile_suite_name_is_refused_before_anything_runs(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("LABCORE_CACHE", str(cache))
    with pytest.raises(UsageError, match="suite"):
        debian.debian_rootfs_tarball("../../etc")
    assert list(cache.iterdir()) == []


def test_cached_tarball_is_reused_without_running_debootstrap(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABCORE_CACHE", str(tmp_path))
    cached = tmp_path / "debootstrap" / "trixie-arm64-minbase.tar"
    cached.parent.mkdir()
    cached.write_bytes(b"cached")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert debian.debian_rootfs_tarball("trixie", "arm64") == cached

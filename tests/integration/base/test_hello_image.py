from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from labcore.image.base.elf import is_static_executable
from labcore.image.base.hello import build_hello
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.fixtures_images import BaseImages

pytestmark = pytest.mark.integration


def test_binary_is_static_and_greets(tmp_path: Path) -> None:
    binary = build_hello(tmp_path / "cache")
    assert is_static_executable(binary)
    result = subprocess.run([str(binary)], capture_output=True, text=True, check=True)
    assert "Hello from labcore!" in result.stdout
    assert "FROM scratch" in result.stdout


def test_binary_is_built_once_and_reused(tmp_path: Path) -> None:
    first = build_hello(tmp_path / "cache")
    built_at = first.stat().st_mtime_ns
    again = build_hello(tmp_path / "cache")
    assert again == first and again.stat().st_mtime_ns == built_at


def test_binary_reports_a_failed_write_in_its_exit_status(tmp_path: Path) -> None:
    binary = build_hello(tmp_path / "cache")
    with open("/dev/full", "wb") as full:
        result = subprocess.run([str(binary)], stdout=full, check=False)
    assert result.returncode == 1


def test_image_is_scratch_plus_hello_with_cmd(base_images: BaseImages) -> None:
    image = base_images.hello
    assert image.display_name == "hello-world:latest"
    assert len(image.layers) == 1 and image.layers[0].size < 16_384
    assert image.config.config.cmd == ("/hello",)
    history = image.config.history
    assert [(entry.created_by, entry.empty_layer) for entry in history] == [
        ("COPY hello / # labcore", False),
        ('CMD ["/hello"]', True),
    ]


@pytest.mark.root
def test_rootfs_holds_only_hello_and_it_runs_in_a_chroot(base_store: Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    flatten(base_store.resolve("hello-world"), rootfs, store=base_store)
    assert [entry.name for entry in rootfs.iterdir()] == ["hello"]
    assert (rootfs / "hello").stat().st_mode & 0o777 == 0o755
    result = subprocess.run(["chroot", str(rootfs), "/hello"], capture_output=True, text=True, check=True)
    assert result.stdout.lstrip().startswith("Hello from labcore!")

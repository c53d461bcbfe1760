from __future__ import annotations

from pathlib import Path

import pytest

from labcore.cli.main import main
from labcore.image.store import Store

pytestmark = pytest.mark.integration


def test_base_hello_with_tag_stores_the_image(labcore_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["base", "hello", "--tag", "greeter:v1"]) == 0
    image = Store().resolve("greeter:v1")
    assert image.config.config.cmd == ("/hello",)
    assert capsys.readouterr().out.split() == ["greeter:v1", str(image.id)]


def test_base_busybox_default_name(labcore_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["base", "busybox"]) == 0
    assert Store().resolve("busybox:latest").config.config.cmd == ("sh",)
    assert capsys.readouterr().out.startswith("busybox:latest ")


def test_base_rejects_an_unknown_kind(labcore_root: Path) -> None:
    with pytest.raises(SystemExit):
        main(["base", "alpine"])

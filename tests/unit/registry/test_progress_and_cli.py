from __future__ import annotations

import io
from pathlib import Path

import pytest

from labcore.cli.main import build_parser, main
from labcore.errors import UsageError
from labcore.registry.platforms import parse_platform
from labcore.registry.progress import NullProgress, TextProgress, make_progress


def test_text_progress_prints_one_line_per_blob_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = TextProgress(out, "pulling")
    progress.start("sha256:aa", "aa", 2_500_000)
    progress.advance("sha256:aa", 2_500_000)
    progress.finish("sha256:aa", "done")
    progress.start("sha256:bb", "bb", 10)
    progress.finish("sha256:bb", "reused")
    progress.close()
    assert out.getvalue() == "aa: done (2.5 MB)\nbb: reused (10 B)\n"


def test_quiet_progress_is_silent() -> None:
    assert isinstance(make_progress(quiet=True), NullProgress)
    assert isinstance(make_progress(stream=io.StringIO()), TextProgress)  # no IPython kernel here


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "a/b/c/d"])
def test_bad_platform_names_the_text(text: str) -> None:
    with pytest.raises(UsageError, match=repr(text)):
        parse_platform(text)


def test_platform_with_variant() -> None:
    platform = parse_platform("linux/arm64/v8")
    assert (platform.os, platform.architecture, platform.variant) == ("linux", "arm64", "v8")


def test_registry_commands_are_registered() -> None:
    parser = build_parser()
    args = parser.parse_args(["pull", "--platform", "linux/arm64", "busybox"])
    assert (args.image, args.platform) == ("busybox", "linux/arm64")
    args = parser.parse_args(["push", "--chunked", "1024", "app", "127.0.0.1:5000/app"])
    assert (args.chunked, args.target) == (1024, "127.0.0.1:5000/app")
    with pytest.raises(SystemExit):
        parser.parse_args(["push", "--chunked", "5", "--monolithic", "app"])


def test_logout_without_credentials_says_so(labcore_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logout", "r.test:5000"]) == 0
    assert "No credentials" in capsys.readouterr().out


def test_bad_reference_is_reported_with_a_hint(
    labcore_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pull", "-q", "Bad/UPPER"]) == 1
    err = capsys.readouterr().err
    assert "Bad/UPPER" in err
    assert "hint:" in err


def test_in_a_notebook_kernel_progress_uses_widgets(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    from labcore.registry import progress as progress_module

    shown: list[object] = []
    monkeypatch.setattr(progress_module, "_in_ipython_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    progress = make_progress(verb="pulling")
    assert isinstance(progress, progress_module.WidgetProgress)
    progress.start("sha256:aa", "aa", 100)
    progress.advance("sha256:aa", 40)
    box = shown[0]
    bar = box.children[1]  # type: ignore[attr-defined]
    assert (bar.value, bar.max) == (40, 100)
    progress.finish("sha256:aa", "failed")
    assert bar.bar_style == "danger"

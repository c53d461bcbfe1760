"""The ``course`` and ``grade`` commands, through labcore's real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcore.cli.main import main
from labcore.course.chapter import load_chapters
from labcore.course.paths import default_source_dir


def test_course_build_writes_the_folder_it_is_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["course", "build", "--out", str(tmp_path / "out"), "--no-kernel"]) == 0
    assert (tmp_path / "out" / "student" / "00-setup.ipynb").is_file()
    assert (tmp_path / "out" / "instructor" / "00-setup.ipynb").is_file()
    count = len(load_chapters(default_source_dir()))
    assert f"built {count} chapter" in capsys.readouterr().out


def test_course_kernel_installs_under_a_prefix(tmp_path: Path) -> None:
    assert main(["course", "kernel", "--prefix", str(tmp_path)]) == 0
    assert (tmp_path / "share" / "jupyter" / "kernels" / "labcore" / "kernel.json").is_file()


def test_grade_refuses_a_missing_folder_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", str(tmp_path / "nowhere")]) == 1
    error = capsys.readouterr().err
    assert "nowhere does not exist" in error
    assert "hint:" in error


def test_grade_refuses_nonsense_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", str(tmp_path), "--workers", "0"]) == 1
    assert "--workers 0" in capsys.readouterr().err


def test_grade_of_an_empty_class_writes_an_empty_table(tmp_path: Path) -> None:
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "grades.csv").read_text() == "student,chapter,exercise,points,max\n"

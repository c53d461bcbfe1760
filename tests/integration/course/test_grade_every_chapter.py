"""Grade real submissions of every chapter but 00 (which test_grade_submissions covers in depth).

Alice hands in the instructor's answers with every test cell deleted; Bob hands in the untouched
student copies with every test gutted. Grading restores the instructor's tests (hidden ones too),
so Alice gets every point and Bob none: tampering neither hurts a right answer nor helps a missing one.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from labcore.course.chapter import Chapter, load_chapter
from labcore.course.grader import grade
from labcore.course.paths import default_source_dir
from tests.course_support import save, solutions, student_copy

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHAPTERS = sorted(path.stem for path in default_source_dir().glob("[0-9][0-9]-*.md") if path.stem != "00-setup")


def _without_tests(notebook: object, *, gut: bool) -> object:
    cells = notebook.cells  # type: ignore[attr-defined]
    tests = [cell for cell in cells if "test" in cell.metadata.get("labcore", {})]
    if gut:
        for cell in tests:
            cell.source = "pass  # the student emptied the test"
    else:
        notebook.cells = [cell for cell in cells if cell not in tests]  # type: ignore[attr-defined]
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Chapter]]:
    base = tmp_path_factory.mktemp("chapters-class")
    chapters = {name: load_chapter(default_source_dir() / f"{name}.md") for name in CHAPTERS}
    for name, chapter in chapters.items():
        save(_without_tests(student_copy(chapter, solutions(chapter)), gut=False),
             base / "submissions" / "alice" / f"{name}.ipynb")
        save(_without_tests(student_copy(chapter), gut=True), base / "submissions" / "bob" / f"{name}.ipynb")
    (base / "scratch").mkdir()
    grade(base / "submissions", base / "graded", workers=2, cell_timeout=120, scratch=base / "scratch")
    return base / "graded", chapters


def _rows(out: Path, student: str) -> list[dict[str, str]]:
    with (out / "grades.csv").open() as file:
        return [row for row in csv.DictReader(file) if row["student"] == student]


def test_every_chapter_has_four_graded_exercises_or_more(graded: tuple[Path, dict[str, Chapter]]) -> None:
    out, chapters = graded
    rows = _rows(out, "alice")
    for name in chapters:
        exercises = {row["exercise"] for row in rows if row["chapter"] == name}
        assert len(exercises) >= 4, (name, exercises)


def test_right_answers_get_every_point_with_the_tests_restored(graded: tuple[Path, dict[str, Chapter]]) -> None:
    out, _ = graded
    lost = [(row["chapter"], row["exercise"], row["points"], row["max"]) for row in _rows(out, "alice")
            if row["points"] != row["max"]]
    assert lost == [], (out / "feedback" / "alice.md").read_text()


def test_missing_answers_get_nothing_however_the_tests_were_gutted(graded: tuple[Path, dict[str, Chapter]]) -> None:
    out, chapters = graded
    rows = _rows(out, "bob")
    assert {row["chapter"] for row in rows} == set(chapters)
    assert all(int(row["points"]) == 0 and int(row["max"]) > 0 for row in rows), rows

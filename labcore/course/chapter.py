"""Read a chapter source (jupytext Markdown) and check that it follows the course format.

A chapter source is the instructor's notebook. Its header names the chapter
(``labcore: {chapter: 00-setup, title: ...}``); code cells may carry a ``labcore`` metadata entry:

* an **answer cell** ``{"id": "mode-answer", "answer": "cgroup-mode"}`` holds the solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines;
* a **test cell** ``{"id": "mode-check", "test": "cgroup-mode", "points": 2, "hidden": false,
  "hint": "..."}`` checks the exercise and is worth ``points`` when it runs without error.

Cells without an ``id`` get ``cell-NN`` (their position); grading matches answers by ``id`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from labcore.course.errors import ChapterSourceError, CourseNotFoundError
from labcore.course.solutions import BEGIN_SOLUTION, END_SOLUTION, solution_lines_ok

__all__ = ["AnswerSpec", "Chapter", "TestSpec", "labcore_meta", "load_chapter", "load_chapters"]

_CELL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CHAPTER_ID = re.compile(r"^[0-9]{2}-[a-z0-9-]+$")


@dataclass(frozen=True)
class TestSpec:
    """A graded test cell: the exercise it checks, what it is worth, and the hint on failure."""

    cell_id: str
    exercise: str
    points: int
    hidden: bool
    hint: str


@dataclass(frozen=True)
class AnswerSpec:
    """An answer cell the student fills in; ``pointer`` is the short text of the stub."""

    cell_id: str
    exercise: str
    pointer: str


@dataclass(frozen=True)
class Chapter:
    """One chapter: its id, title, source file and the instructor's notebook with stable cell ids."""

    chapter_id: str
    title: str
    source: Path
    notebook: nbformat.NotebookNode
    answers: tuple[AnswerSpec, ...]
    tests: tuple[TestSpec, ...]

    @property
    def exercises(self) -> list[str]:
        """Exercise names in the order their first test appears."""
        return list(dict.fromkeys(test.exercise for test in self.tests))

    def max_points(self, exercise: str) -> int:
        """The points an exercise is worth: the sum over its tests."""
        return sum(test.points for test in self.tests if test.exercise == exercise)


def labcore_meta(cell: nbformat.NotebookNode) -> dict[str, Any]:
    """The cell's ``labcore`` metadata entry, or an empty dict."""
    meta = cell.get("metadata", {}).get("labcore", {})
    return dict(meta) if isinstance(meta, dict) else {}


def load_chapters(source_dir: Path) -> list[Chapter]:
    """Every chapter source (``NN-name.md``) in ``source_dir``, in chapter order."""
    if not source_dir.is_dir():
        raise CourseNotFoundError(f"chapter sources folder {source_dir} does not exist",
                                  hint="pass --source DIR, the folder that holds 00-setup.md ...")
    paths = sorted(path for path in source_dir.glob("*.md") if _CHAPTER_ID.match(path.stem))
    chapters = [load_chapter(path) for path in paths]
    seen: dict[str, Path] = {}
    for chapter in chapters:
        if chapter.chapter_id in seen:
            other = seen[chapter.chapter_id]
            raise ChapterSourceError(f"{chapter.source}: chapter id {chapter.chapter_id} is taken by {other}")
        seen[chapter.chapter_id] = chapter.source
    return chapters


def load_chapter(path: Path) -> Chapter:
    """Read and check one chapter source; raise :class:`ChapterSourceError` naming the bad cell."""
    import jupytext  # type: ignore[import-untyped]

    try:
        notebook = jupytext.read(path, fmt="md")
    except FileNotFoundError:
        raise CourseNotFoundError(f"chapter source {path} does not exist") from None
    meta = notebook.metadata.get("labcore", {})
    chapter_id = meta.get("chapter") if isinstance(meta, dict) else None
    if not isinstance(chapter_id, str) or not _CHAPTER_ID.match(chapter_id):
        raise ChapterSourceError(f"{path}: the header lacks labcore.chapter (e.g. 00-setup)")
    if chapter_id != path.stem:
        raise ChapterSourceError(f"{path}: labcore.chapter is {chapter_id!r} but the file is {path.name}",
                                 hint=f"rename the file to {chapter_id}.md or fix the header")
    title = str(meta.get("title") or chapter_id)
    answers: list[AnswerSpec] = []
    tests: list[TestSpec] = []
    seen_ids: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        cell_meta = labcore_meta(cell)
        cell_id = str(cell_meta.get("id") or f"cell-{index:02d}")
        where = f"{path}: cell {index} ({cell_id})"
        if not _CELL_ID.match(cell_id):
            raise ChapterSourceError(f"{where}: the id must be 1-64 letters, digits, '-' or '_'")
        if cell_id in seen_ids:
            raise ChapterSourceError(f"{where}: the id {cell_id!r} is used twice")
        seen_ids.add(cell_id)
        cell["id"] = cell_id
        if "answer" in cell_meta:
            answers.append(_answer_spec(cell, cell_meta, cell_id, where))
        elif "test" in cell_meta:
            tests.append(_test_spec(cell, cell_meta, cell_id, where))
    _check_exercises(path, answers, tests)
    notebook.metadata["labcore"] = {"chapter": chapter_id, "title": title}
    return Chapter(chapter_id, title, path, notebook, tuple(answers), tuple(tests))


def _answer_spec(cell: nbformat.NotebookNode, meta: dict[str, Any], cell_id: str, where: str) -> AnswerSpec:
    if cell.cell_type != "code":
        raise ChapterSourceError(f"{where}: an answer cell must be a code cell")
    if not solution_lines_ok(cell.source):
        raise ChapterSourceError(
            f"{where}: the answer needs balanced {BEGIN_SOLUTION!r} / {END_SOLUTION!r} lines",
            hint="wrap the solution in one or more BEGIN/END SOLUTION pairs, each on its own line",
        )
    exercise = meta["answer"]
    if not isinstance(exercise, str) or not exercise:
        raise ChapterSourceError(f"{where}: \"answer\" must name the exercise")
    return AnswerSpec(cell_id, exercise, str(meta.get("pointer") or f"exercise {exercise}: your code here"))


def _test_spec(cell: nbformat.NotebookNode, meta: dict[str, Any], cell_id: str, where: str) -> TestSpec:
    if cell.cell_type != "code":
        raise ChapterSourceError(f"{where}: a test cell must be a code cell")
    exercise, points, hint = meta["test"], meta.get("points"), meta.get("hint")
    if not isinstance(exercise, str) or not exercise:
        raise ChapterSourceError(f"{where}: \"test\" must name the exercise")
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ChapterSourceError(f"{where}: \"points\" must be a positive whole number, not {points!r}")
    if not isinstance(hint, str) or not hint.strip():
        raise ChapterSourceError(f"{where}: \"hint\" must say what to try when the test fails")
    hidden = meta.get("hidden", False)
    if not isinstance(hidden, bool):
        raise ChapterSourceError(f"{where}: \"hidden\" must be true or false")
    if BEGIN_SOLUTION in cell.source:
        raise ChapterSourceError(f"{where}: a test cell must not hold a solution")
    return TestSpec(cell_id, exercise, points, hidden, hint.strip())


def _check_exercises(path: Path, answers: list[AnswerSpec], tests: list[TestSpec]) -> None:
    answered = {answer.exercise for answer in answers}
    tested = {test.exercise for test in tests}
    for exercise in sorted(tested - answered):
        raise ChapterSourceError(f"{path}: exercise {exercise!r} has tests but no answer cell")
    for exercise in sorted(answered - tested):
        raise ChapterSourceError(f"{path}: exercise {exercise!r} has an answer cell but no test")
    for exercise in sorted(tested):
        if all(test.hidden for test in tests if test.exercise == exercise):
            raise ChapterSourceError(
                f"{path}: exercise {exercise!r} has only hidden tests",
                hint="give every exercise a public test so students can check their work",
            )

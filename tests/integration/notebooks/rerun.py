"""Run one chapter the way a student does: twice in the same lab, and unsolved, and report each cell.

The generic chapter test runs each chapter once in a fresh ``LABCORE_ROOT``. Chapters must also
work when run again in a lab where they ran before (setup removes what an earlier run left), and
their graded checks must fail with a hint rather than a bare error when there is no answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from labcore.course.builder import write_notebook
from labcore.course.chapter import Chapter, load_chapter
from labcore.course.nbrun import CellResult, run_notebooks
from labcore.course.paths import default_source_dir
from labcore.course.variants import Variant, make_notebook

ROOT_NAME = "labcore-root"


@dataclass(frozen=True)
class ChapterRuns:
    """Cell results of the instructor copy run twice in one lab, and of the unsolved copy."""

    chapter: Chapter
    first: dict[str, CellResult]
    again: dict[str, CellResult]
    unsolved: dict[str, CellResult]
    instructor_root: Path


def run_chapter_twice(chapter_id: str, base: Path, between: Callable[[Path], None]) -> ChapterRuns:
    """Run ``chapter_id``'s instructor copy (beside its unsolved copy), then the instructor copy again.

    ``between(root)`` runs between the two, with the instructor copy's lab root: it may leave
    behind what an interrupted run would have.
    """
    chapter = load_chapter(default_source_dir() / f"{chapter_id}.md")
    instructor = base / "instructor" / f"{chapter_id}.ipynb"
    unsolved = base / "unsolved" / f"{chapter_id}.ipynb"
    write_notebook(instructor, make_notebook(chapter, Variant.INSTRUCTOR))
    write_notebook(unsolved, make_notebook(chapter, Variant.GRADING))
    first = run_notebooks([instructor, unsolved], workers=2, cell_timeout=120, root_name=ROOT_NAME)
    between(instructor.parent / ROOT_NAME)
    again = run_notebooks([instructor], workers=1, cell_timeout=120, root_name=ROOT_NAME)
    return ChapterRuns(chapter, first[instructor], again[instructor], first[unsolved], instructor.parent / ROOT_NAME)


def failures(cells: dict[str, CellResult]) -> dict[str, str]:
    """The cells that failed, with their summaries."""
    return {cell_id: result.summary for cell_id, result in cells.items() if not result.passed}


def unhelpful_test_failures(runs: ChapterRuns) -> dict[str, str]:
    """Graded cells of the unsolved copy that failed with neither a check's hint nor the answer's stub."""
    tests = {test.cell_id for test in runs.chapter.tests}
    return {
        cell_id: summary
        for cell_id, summary in failures(runs.unsolved).items()
        if cell_id in tests and not summary.startswith(("hint:", "NotImplementedError: exercise"))
    }

"""Every chapter, for real under nbval: the solved notebook passes, the unsolved one fails its tests.

The unsolved copy is the grading copy with the stubs (every test, hidden ones included): each graded
test cell must fail there, so that no test passes without an answer, and every other cell but the
answers themselves must pass. Outputs are not compared (``--nbval-lax``): the cells check state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labcore.course.builder import write_notebook
from labcore.course.chapter import Chapter, load_chapters
from labcore.course.nbrun import CellResult, run_notebooks
from labcore.course.paths import default_source_dir
from labcore.course.variants import Variant, make_notebook

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHAPTERS = load_chapters(default_source_dir())


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, Variant], dict[str, CellResult]]:
    """Run the instructor and the unsolved copy of every chapter once, two at a time."""
    base = tmp_path_factory.mktemp("chapters")
    paths: dict[tuple[str, Variant], Path] = {}
    for chapter in CHAPTERS:
        for variant in (Variant.INSTRUCTOR, Variant.GRADING):
            path = base / f"{chapter.chapter_id}-{variant.value}" / f"{chapter.chapter_id}.ipynb"
            write_notebook(path, make_notebook(chapter, variant))
            paths[chapter.chapter_id, variant] = path
    ran = run_notebooks(list(paths.values()), workers=2, cell_timeout=120, root_name="labcore-root")
    return {key: ran[path] for key, path in paths.items()}


def _code_cells(chapter: Chapter) -> list[str]:
    return [cell["id"] for cell in chapter.notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.chapter_id)
def test_the_solved_notebook_passes_every_cell(results: dict, chapter: Chapter) -> None:
    cells = results[chapter.chapter_id, Variant.INSTRUCTOR]
    failed = {cell_id: result.summary for cell_id, result in cells.items() if not result.passed}
    assert failed == {}
    assert sorted(cells) == sorted(_code_cells(chapter))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.chapter_id)
def test_the_unsolved_notebook_fails_exactly_its_tests(results: dict, chapter: Chapter) -> None:
    cells = results[chapter.chapter_id, Variant.GRADING]
    assert sorted(cells) == sorted(_code_cells(chapter))
    tests = {test.cell_id for test in chapter.tests}
    answers = {answer.cell_id for answer in chapter.answers}
    failed = {cell_id for cell_id, result in cells.items() if not result.passed}
    assert tests <= failed, "a test passed without an answer"
    assert failed - tests <= answers, "a cell other than a test or an answer failed"

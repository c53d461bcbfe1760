"""Run a chapter with wrong answers and no clean-up, then the solved chapter on what it left."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labcore.course.builder import write_notebook
from labcore.course.chapter import Chapter
from labcore.course.nbrun import CellResult, run_notebooks
from labcore.course.variants import Variant, make_notebook

ROOT_NAME = "labcore-root"


@dataclass(frozen=True)
class Runs:
    """The wrong answers' run (stopped before its cleanup cell) and a solved run after it."""

    wrong: dict[str, CellResult]
    again: dict[str, CellResult]
    root: Path


def run_with_answers(chapter: Chapter, answers: dict[str, str], folder: Path) -> dict[str, CellResult]:
    """Run the grading copy of ``chapter`` (every test) with ``answers`` (by cell id) handed in."""
    notebook = make_notebook(chapter, Variant.GRADING)
    for cell in notebook.cells:
        if cell["id"] in answers:
            cell.source = answers[cell["id"]]
    path = folder / f"{chapter.chapter_id}.ipynb"
    write_notebook(path, notebook)
    return run_notebooks([path], cell_timeout=120, root_name=ROOT_NAME)[path]


def run_wrong_then_solved(chapter: Chapter, wrong_answers: dict[str, str], folder: Path) -> Runs:
    """Hand in ``wrong_answers`` (by cell id) without cleaning up, then run the solved notebook.

    Both notebooks sit in one folder, so they share one LABCORE_ROOT: the second run starts on
    the first one's leftovers (containers, image names, files), which its setup must remove.
    """
    wrong = make_notebook(chapter, Variant.INSTRUCTOR)  # every test; solutions but for the wrong ones
    wrong.cells = [cell for cell in wrong.cells if cell["id"] != "cleanup"]
    for cell in wrong.cells:
        if cell["id"] in wrong_answers:
            cell.source = wrong_answers[cell["id"]]
    wrong_path = folder / "wrong.ipynb"
    write_notebook(wrong_path, wrong)
    again_path = folder / "again.ipynb"
    write_notebook(again_path, make_notebook(chapter, Variant.INSTRUCTOR))
    wrong_results = run_notebooks([wrong_path], cell_timeout=120, root_name=ROOT_NAME)[wrong_path]
    again_results = run_notebooks([again_path], cell_timeout=120, root_name=ROOT_NAME)[again_path]
    return Runs(wrong_results, again_results, folder / ROOT_NAME)

"""Helpers for the course tests: build the chapters once and make fake submissions from them."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from labcore.course.builder import write_notebook
from labcore.course.chapter import Chapter, load_chapter
from labcore.course.paths import default_source_dir
from labcore.course.variants import Variant, make_notebook

SETUP_SOURCE = default_source_dir() / "00-setup.md"


def setup_chapter() -> Chapter:
    return load_chapter(SETUP_SOURCE)


def student_copy(chapter: Chapter, answers: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The student notebook, with some answer cells replaced (by cell id) as a student would."""
    notebook = make_notebook(chapter, Variant.STUDENT)
    for cell in notebook.cells:
        if answers and cell["id"] in answers:
            cell.source = answers[cell["id"]]
    return notebook


def solutions(chapter: Chapter) -> dict[str, str]:
    """The instructor's answer cells, by cell id."""
    wanted = {answer.cell_id for answer in chapter.answers}
    return {cell["id"]: cell.source for cell in chapter.notebook.cells if cell["id"] in wanted}


def save(notebook: nbformat.NotebookNode, path: Path) -> Path:
    write_notebook(path, copy.deepcopy(notebook))
    return path

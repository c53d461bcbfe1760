"""The three notebooks made from one chapter source.

* **instructor**: everything, solutions included;
* **student**: solutions replaced by a stub, hidden tests removed, public tests kept;
* **grading**: like the student copy but with every test, hidden ones included; grading puts the
  student's answer cells into it (see :mod:`labcore.course.merge`).
"""

from __future__ import annotations

import copy
import enum

import nbformat

from labcore.course.chapter import Chapter, labcore_meta
from labcore.course.solutions import strip_solutions

__all__ = ["KERNELSPEC", "Variant", "make_notebook"]

KERNELSPEC = {"name": "labcore", "display_name": "labcore (Python 3)", "language": "python"}


class Variant(enum.StrEnum):
    """Which copy of a chapter to make."""

    INSTRUCTOR = "instructor"
    STUDENT = "student"
    GRADING = "grading"


def make_notebook(chapter: Chapter, variant: Variant) -> nbformat.NotebookNode:
    """A fresh, unexecuted ``.ipynb`` notebook of ``chapter`` for ``variant``."""
    pointers = {answer.cell_id: answer.pointer for answer in chapter.answers}
    hidden = {test.cell_id for test in chapter.tests if test.hidden}
    cells = []
    for source_cell in chapter.notebook.cells:
        cell = copy.deepcopy(source_cell)
        if variant is Variant.STUDENT and cell["id"] in hidden:
            continue
        if variant is not Variant.INSTRUCTOR and cell["id"] in pointers:
            cell.source = strip_solutions(cell.source, pointers[cell["id"]])
        _set_default_slide_type(cell)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    notebook: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)  # type: ignore[no-untyped-call]
    notebook.nbformat_minor = 5
    notebook.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "labcore": dict(chapter.notebook.metadata["labcore"]) | {"variant": variant.value},
    }
    nbformat.validate(notebook)
    return notebook


def _set_default_slide_type(cell: nbformat.NotebookNode) -> None:
    """Exercises and tests stay out of the slides unless the source says otherwise."""
    meta = labcore_meta(cell)
    if ("answer" in meta or "test" in meta) and "slideshow" not in cell.metadata:
        cell.metadata["slideshow"] = {"slide_type": "skip"}

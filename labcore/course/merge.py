"""Rebuild a submission from the chapter source: the source's cells, with the student's answers.

Only answer cells come from the student (matched by cell id, or by the ``labcore.id`` metadata when
a tool renewed the id); everything else, tests included, comes from the grading copy, so edited,
deleted or hidden tests are always the instructor's. A missing answer keeps the stub.
"""

from __future__ import annotations

import copy

import nbformat

from labcore.course.chapter import Chapter, labcore_meta
from labcore.course.variants import Variant, make_notebook

__all__ = ["merge_submission", "student_answers"]


def student_answers(submitted: nbformat.NotebookNode) -> dict[str, str]:
    """The source of every code cell in ``submitted``, by cell id and by ``labcore.id`` metadata."""
    found: dict[str, str] = {}
    for cell in submitted.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        meta_id = labcore_meta(cell).get("id")
        if isinstance(meta_id, str):
            found.setdefault(meta_id, text)
        if isinstance(cell.get("id"), str):
            found.setdefault(cell["id"], text)
    return found


def merge_submission(chapter: Chapter, submitted: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The grading notebook of ``chapter`` with the answer cells taken from ``submitted``."""
    merged = make_notebook(chapter, Variant.GRADING)
    answers = student_answers(submitted)
    answer_ids = {answer.cell_id for answer in chapter.answers}
    for cell in merged.cells:
        if cell["id"] in answer_ids and cell["id"] in answers:
            cell.source = answers[cell["id"]]
    return copy.deepcopy(merged)

"""Find the notebooks students handed in and tell which chapter each one is.

``SUBMISSIONS_DIR/<student>/<any name>.ipynb``: the folder names the student; the notebook's
``labcore.chapter`` metadata names the chapter (so a renamed file is still recognised), and the
file name is used only when the notebook cannot be read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labcore.course.errors import CourseNotFoundError

__all__ = ["Submission", "find_submissions", "read_submission"]


@dataclass
class Submission:
    """One handed-in notebook: whose, which chapter, and why it could not be read (if so)."""

    student: str
    path: Path
    chapter_id: str | None = None
    notebook: nbformat.NotebookNode | None = None
    problem: str = ""


def find_submissions(directory: Path) -> list[Submission]:
    """Every ``<student>/*.ipynb`` in ``directory``, sorted by student then file name."""
    if not directory.is_dir():
        raise CourseNotFoundError(f"submissions folder {directory} does not exist",
                                  hint="pass the folder that holds one sub-folder per student")
    found = []
    for student_dir in sorted(path for path in directory.iterdir() if path.is_dir()):
        if student_dir.name.startswith("."):
            continue
        for path in sorted(student_dir.glob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                found.append(read_submission(student_dir.name, path))
    return found


def read_submission(student: str, path: Path) -> Submission:
    """Read one notebook; on failure, keep the reason and guess the chapter from the file name."""
    submission = Submission(student, path)
    try:
        notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        submission.problem = f"{path.name} is not a readable notebook ({type(error).__name__}: {error})"[:300]
    except Exception as error:  # nbformat raises many kinds of errors for broken notebooks
        submission.problem = f"{path.name} is not a valid notebook ({type(error).__name__}: {error})"[:300]
    else:
        submission.notebook = notebook
        meta = notebook.get("metadata", {}).get("labcore", {})
        chapter = meta.get("chapter") if isinstance(meta, dict) else None
        if isinstance(chapter, str):
            submission.chapter_id = chapter
    if submission.chapter_id is None:
        submission.chapter_id = path.stem
    return submission

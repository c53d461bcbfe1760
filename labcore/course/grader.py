"""``labcore grade``: grade every submission against the chapter sources.

Each submission is rebuilt from the instructor's source (:mod:`labcore.course.merge`) into its own
folder of a scratch work dir, with its own ``LABCORE_ROOT`` beside it; all of them run in one nbval
session spread over ``workers``; then each root is unmounted and removed, and ``grades.csv`` and the
feedback files are written. Grading runs student code as root: do it inside the lab VM.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from labcore.course.builder import write_notebook
from labcore.course.chapter import Chapter, load_chapters
from labcore.course.merge import merge_submission
from labcore.course.nbrun import run_notebooks
from labcore.course.paths import default_source_dir
from labcore.course.reports import write_reports
from labcore.course.scoring import ChapterScore, score_chapter
from labcore.course.submissions import Submission, find_submissions

__all__ = ["GradeResult", "grade"]

ROOT_NAME = "labcore-root"


@dataclass
class GradeResult:
    """The scores, the notebooks not graded (student, file, why), and the files written."""

    scores: list[ChapterScore] = field(default_factory=list)
    not_graded: list[tuple[str, str, str]] = field(default_factory=list)
    csv: Path | None = None
    feedback_dir: Path | None = None


def grade(
    submissions_dir: Path,
    out: Path | None = None,
    *,
    source: Path | None = None,
    workers: int = 1,
    cell_timeout: float = 60,
    scratch: Path | None = None,
) -> GradeResult:
    """Grade ``submissions_dir/<student>/*.ipynb``; write grades.csv and feedback/ into ``out``.

    ``out`` defaults to ``<submissions_dir>/graded``; the rebuilt notebooks and their state roots
    live in a folder under ``scratch`` (the system's temp dir), removed at the end. Bad submissions
    (no answer, a crash, an endless loop, a dead kernel, broken JSON) score what they score and never
    stop the run.
    """
    out = out or submissions_dir / "graded"
    chapters = {chapter.chapter_id: chapter for chapter in load_chapters(source or default_source_dir())}
    submissions = find_submissions(submissions_dir)
    result = GradeResult()
    submissions, duplicates = _latest_per_chapter(submissions)
    for submission, kept in duplicates:
        why = f"not graded: {kept.path.name} is a newer notebook of chapter {kept.chapter_id}"
        result.not_graded.append((submission.student, submission.path.name, why))
    workdir = Path(tempfile.mkdtemp(prefix="labcore-grade-", dir=scratch))
    try:
        runnable: list[tuple[Submission, Chapter, Path]] = []
        for index, submission in enumerate(submissions):
            chapter = chapters.get(submission.chapter_id or "")
            if chapter is None:
                why = (f"{submission.problem}; " if submission.problem else "") + (
                    "could not tell which chapter this is: hand in the notebook from the lab, "
                    "with its metadata intact")
                result.not_graded.append((submission.student, submission.path.name, why))
            elif submission.notebook is None:
                result.scores.append(score_chapter(submission.student, chapter, {}, submission.problem))
            else:
                path = workdir / f"{index:04d}" / f"{chapter.chapter_id}.ipynb"
                write_notebook(path, merge_submission(chapter, submission.notebook))
                runnable.append((submission, chapter, path))
        cells = run_notebooks([path for _, _, path in runnable], workers=workers,
                              cell_timeout=cell_timeout, root_name=ROOT_NAME, scratch=scratch)
        for submission, chapter, path in runnable:
            result.scores.append(score_chapter(submission.student, chapter, cells.get(path, {})))
    finally:
        _remove_workdir(workdir)
    result.scores.sort(key=lambda score: (score.student, score.chapter.chapter_id))
    students = sorted({submission.student for submission in submissions})
    result.csv = write_reports(out, result.scores, result.not_graded, students)
    result.feedback_dir = out / "feedback"
    return result


def _latest_per_chapter(
    submissions: list[Submission],
) -> tuple[list[Submission], list[tuple[Submission, Submission]]]:
    """Keep one notebook per student and chapter (the newest); pair each dropped one with the kept one."""
    newest: dict[tuple[str, str], Submission] = {}
    for submission in submissions:
        key = (submission.student, submission.chapter_id or submission.path.name)
        held = newest.get(key)
        if held is None or submission.path.stat().st_mtime > held.path.stat().st_mtime:
            newest[key] = submission
    kept_ids = {id(submission) for submission in newest.values()}
    kept = [submission for submission in submissions if id(submission) in kept_ids]
    dropped = [(submission, newest[(submission.student, submission.chapter_id or submission.path.name)])
               for submission in submissions if id(submission) not in kept_ids]
    return kept, dropped


def _remove_workdir(workdir: Path) -> None:
    """Unmount whatever student code left mounted under the work dir, then delete it."""
    from labcore.linux.mount import UmountFlag, umount
    from labcore.linux.mountinfo import mounts

    prefix = str(workdir) + "/"
    for entry in sorted(mounts(), key=lambda entry: len(entry.target), reverse=True):
        if entry.target.startswith(prefix):
            with contextlib.suppress(OSError):
                umount(entry.target, UmountFlag.DETACH)
    shutil.rmtree(workdir, ignore_errors=True)

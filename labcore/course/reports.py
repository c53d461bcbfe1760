"""What grading writes: ``grades.csv`` and one Markdown feedback file per student.

Feedback shows, per exercise, the points, what failed and the hint; hidden tests appear by name and
result only (never their code, hint or error, which could give them away).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

from labcore.course.scoring import ChapterScore

__all__ = ["feedback_markdown", "feedback_name", "grades_csv", "write_reports"]

CSV_HEADER = ("student", "chapter", "exercise", "points", "max")


def grades_csv(scores: Iterable[ChapterScore], not_graded: Iterable[tuple[str, str, str]] = ()) -> str:
    """One row per student, chapter and exercise; ``not_graded`` (student, file, why): 0 of 0."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for score in scores:
        for exercise in score.exercises:
            writer.writerow((score.student, score.chapter.chapter_id, exercise.exercise,
                             exercise.points, exercise.max_points))
    for student, name, _ in not_graded:
        writer.writerow((student, name, "(not graded)", 0, 0))
    return buffer.getvalue()


def feedback_name(student: str) -> str:
    """A safe file name for a student's feedback."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "_"


def feedback_markdown(student: str, scores: list[ChapterScore], not_graded: list[tuple[str, str]]) -> str:
    """The feedback of one student over every chapter they handed in."""
    lines = [f"# Feedback for {student}", ""]
    for name, why in not_graded:
        lines += [f"## {name}: not graded", "", f"- {why}", ""]
    for score in scores:
        lines += [f"## {score.chapter.chapter_id}: {score.points}/{score.max_points} points", ""]
        if score.problem:
            lines += [f"- {score.problem}", ""]
        for exercise in score.exercises:
            lines.append(f"### {exercise.exercise}: {exercise.points}/{exercise.max_points}")
            if exercise.answer_problem:
                first, *rest = exercise.answer_problem.splitlines() or [""]
                lines.append(f"- your answer cell failed: {first}")
                lines += [f"  {detail}" for detail in rest]
            for outcome in exercise.outcomes:
                test = outcome.test
                verdict = "passed" if outcome.passed else "failed"
                if test.hidden:
                    lines.append(f"- hidden test `{test.cell_id}`: {verdict}")
                    continue
                worth = f"{test.points} point" + ("" if test.points == 1 else "s")
                lines.append(f"- test `{test.cell_id}` ({worth}): {verdict}")
                if not outcome.passed:
                    first, *rest = outcome.summary.splitlines() or ["(no detail)"]
                    lines.append(f"  - what failed: {first}")
                    lines += [f"    {detail}" for detail in rest]
                    lines.append(f"  - hint: {test.hint}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_reports(
    out: Path, scores: list[ChapterScore], not_graded: list[tuple[str, str, str]], students: list[str]
) -> Path:
    """Write ``grades.csv`` and ``feedback/<student>.md`` atomically into ``out``; return the CSV path."""
    from labcore.fs.atomic import write_atomic

    (out / "feedback").mkdir(parents=True, exist_ok=True)
    csv_path = out / "grades.csv"
    write_atomic(csv_path, grades_csv(scores, not_graded).encode())
    for student in students:
        mine = [score for score in scores if score.student == student]
        lost = [(name, why) for who, name, why in not_graded if who == student]
        text = feedback_markdown(student, mine, lost)
        write_atomic(out / "feedback" / (feedback_name(student) + ".md"), text.encode())
    return csv_path

"""``labcore course build|kernel|slides`` and ``labcore grade``: the course's notebooks and grading."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]

ORDER = 80


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``course`` group and the ``grade`` command."""
    course = subparsers.add_parser("course", help="build the course notebooks, kernel and slides")
    commands = course.add_subparsers(dest="course_command", metavar="COMMAND", required=True)

    build = commands.add_parser("build", help="write the student and instructor notebooks")
    build.add_argument("--out", type=Path, help="build folder (default: notebooks/build)")
    build.add_argument("--source", type=Path, help="chapter sources (default: notebooks/)")
    build.add_argument("--no-kernel", action="store_true", help="do not install the labcore kernel")
    build.add_argument("--force", action="store_true",
                       help="overwrite student copies edited since the last build")
    build.set_defaults(handler=run_build)

    kernel = commands.add_parser("kernel", help="install the 'labcore' Jupyter kernel into this venv")
    kernel.add_argument("--prefix", type=Path, help="install under PREFIX/share/jupyter (default: the venv)")
    kernel.set_defaults(handler=run_kernel)

    slides = commands.add_parser("slides", help="build one reveal.js deck per chapter into slides/build")
    slides.add_argument("--out", type=Path, help="decks folder (default: slides/build)")
    slides.add_argument("--source", type=Path, help="chapter sources (default: notebooks/)")
    slides.set_defaults(handler=run_slides)

    grade = subparsers.add_parser("grade", help="grade submitted notebooks: grades.csv and feedback")
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR",
                       help="one folder per student, holding their .ipynb files")
    grade.add_argument("--out", type=Path,
                       help="where grades.csv and feedback/ go (default: SUBMISSIONS_DIR/graded)")
    grade.add_argument("--source", type=Path, help="chapter sources (default: notebooks/)")
    grade.add_argument("--workers", type=int, default=1, help="notebooks run in parallel (default: 1)")
    grade.add_argument("--timeout", type=float, default=60, help="seconds one cell may run (default: 60)")
    grade.set_defaults(handler=run_grade)


def run_build(args: argparse.Namespace) -> int:
    """Build the notebooks and say where they went."""
    from labcore.course.builder import build

    result = build(args.out, source=args.source, kernel=not args.no_kernel, force=args.force)
    count = len(result.chapters)
    print(f"built {count} chapter{'' if count == 1 else 's'}: {result.student_dir} and {result.instructor_dir}")
    for path in result.kept:
        print(f"kept {path}: edited since the last build (use --force to replace it)")
    if result.kernel:
        print(f"installed the labcore kernel: {result.kernel}")
    return 0


def run_kernel(args: argparse.Namespace) -> int:
    """Install the kernelspec."""
    from labcore.course.kernel import install_kernel

    print(f"installed the labcore kernel: {install_kernel(args.prefix)}")
    return 0


def run_slides(args: argparse.Namespace) -> int:
    """Build the decks."""
    from labcore.course.slides import build_slides

    for deck in build_slides(args.out, source=args.source):
        print(f"built {deck}")
    return 0


def run_grade(args: argparse.Namespace) -> int:
    """Grade and print a summary; exit 0 whenever grading ran, whatever the scores."""
    from labcore.errors import UsageError

    if args.workers < 1 or args.timeout <= 0:
        raise UsageError(f"--workers {args.workers} / --timeout {args.timeout:g}: both must be positive",
                         hint="e.g. --workers 2 --timeout 60")
    from labcore.course.grader import grade

    result = grade(args.submissions, args.out, source=args.source, workers=args.workers,
                   cell_timeout=args.timeout)
    for score in result.scores:
        note = f" ({score.problem})" if score.problem else ""
        print(f"{score.student:20} {score.chapter.chapter_id:28} {score.points:3}/{score.max_points}{note}")
    for student, name, why in result.not_graded:
        print(f"{student:20} {name:28} not graded: {why}")
    print(f"wrote {result.csv} and {result.feedback_dir}/")
    return 0

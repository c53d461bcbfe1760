"""Errors of the course tooling: broken chapter sources and unusable grading input."""

from __future__ import annotations

from labcore.errors import NotFoundError, UsageError

__all__ = ["ChapterSourceError", "CourseNotFoundError"]


class ChapterSourceError(UsageError):
    """A chapter source whose cells or metadata break the course format."""

    default_hint = (
        "see notebooks/README.md: answer cells carry labcore={\"id\": ..., \"answer\": EXERCISE} and "
        "test cells labcore={\"id\": ..., \"test\": EXERCISE, \"points\": N, \"hidden\": BOOL, \"hint\": ...}"
    )


class CourseNotFoundError(NotFoundError):
    """A chapter, source folder or submissions folder that does not exist."""

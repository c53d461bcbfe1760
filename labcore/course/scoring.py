"""Turn the per-cell results of a graded notebook into points per exercise."""

from __future__ import annotations

from dataclasses import dataclass, field

from labcore.course.chapter import Chapter, TestSpec
from labcore.course.nbrun import CellResult

__all__ = ["ChapterScore", "ExerciseScore", "TestOutcome", "score_chapter"]

NOT_RUN = "the cell did not run (the notebook or its kernel stopped before it)"


@dataclass(frozen=True)
class TestOutcome:
    """One test cell's result; ``summary`` says what failed."""

    test: TestSpec
    passed: bool
    summary: str = ""

    @property
    def points(self) -> int:
        """The points this test earned."""
        return self.test.points if self.passed else 0


@dataclass
class ExerciseScore:
    """Points earned for one exercise, with each of its tests."""

    exercise: str
    outcomes: list[TestOutcome] = field(default_factory=list)
    answer_problem: str = ""

    @property
    def points(self) -> int:
        """Points earned."""
        return sum(outcome.points for outcome in self.outcomes)

    @property
    def max_points(self) -> int:
        """Points possible."""
        return sum(outcome.test.points for outcome in self.outcomes)


@dataclass
class ChapterScore:
    """One student's score on one chapter; ``problem`` explains a submission that could not run."""

    student: str
    chapter: Chapter
    exercises: list[ExerciseScore]
    problem: str = ""

    @property
    def points(self) -> int:
        """Points earned in the chapter."""
        return sum(exercise.points for exercise in self.exercises)

    @property
    def max_points(self) -> int:
        """Points possible in the chapter."""
        return sum(exercise.max_points for exercise in self.exercises)


def score_chapter(
    student: str, chapter: Chapter, cells: dict[str, CellResult], problem: str = ""
) -> ChapterScore:
    """Score ``chapter`` from the cell results; a test with no result scores nothing."""
    exercises = {name: ExerciseScore(name) for name in chapter.exercises}
    for test in chapter.tests:
        result = cells.get(test.cell_id)
        if result is None:
            outcome = TestOutcome(test, False, problem or NOT_RUN)
        else:
            outcome = TestOutcome(test, result.passed, result.summary)
        exercises[test.exercise].outcomes.append(outcome)
    for answer in chapter.answers:
        ran = cells.get(answer.cell_id)
        if ran is not None and not ran.passed and answer.exercise in exercises:
            exercises[answer.exercise].answer_problem = ran.summary
    return ChapterScore(student, chapter, list(exercises.values()), problem)

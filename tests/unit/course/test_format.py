"""The course format: reading chapter sources, solutions and stubs, the three notebook variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from labcore.course.chapter import load_chapter
from labcore.course.errors import ChapterSourceError
from labcore.course.solutions import solution_lines_ok, strip_solutions
from labcore.course.variants import Variant, make_notebook
from tests.course_support import setup_chapter

HEADER = """---
jupyter:
  jupytext:
    text_representation:
      extension: .md
      format_name: markdown
  labcore:
    chapter: 99-demo
---
"""

ANSWER = '```python labcore={"id": "a1", "answer": "ex"}\nx = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION\n```\n'
TEST = ('```python labcore={"id": "t1", "test": "ex", "points": 2, "hidden": false, "hint": "set y"}\n'
        "assert y == 2\n```\n")


def _write(tmp_path: Path, body: str, name: str = "99-demo.md") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n" + body)
    return path


def test_a_valid_source_yields_answers_tests_and_stable_ids(tmp_path: Path) -> None:
    chapter = load_chapter(_write(tmp_path, "# Demo\n\n" + ANSWER + "\n" + TEST))
    assert chapter.chapter_id == "99-demo"
    assert [answer.cell_id for answer in chapter.answers] == ["a1"]
    specs = [(test.cell_id, test.points, test.hidden, test.hint) for test in chapter.tests]
    assert specs == [("t1", 2, False, "set y")]
    assert [cell["id"] for cell in chapter.notebook.cells] == ["cell-00", "a1", "t1"]
    assert chapter.max_points("ex") == 2


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (ANSWER, "has an answer cell but no test"),
        (TEST, "has tests but no answer cell"),
        (ANSWER.replace("### END SOLUTION\n", ""), "balanced"),
        (ANSWER + TEST.replace('"points": 2', '"points": 0'), "positive whole number"),
        (ANSWER + TEST.replace('"hint": "set y"', '"hint": ""'), "hint"),
        (ANSWER + TEST.replace('"hidden": false', '"hidden": true'), "only hidden tests"),
        (ANSWER + TEST.replace('"id": "t1"', '"id": "a1"'), "used twice"),
        (ANSWER + TEST.replace('"id": "t1"', '"id": "bad id!"'), "the id must be"),
    ],
)
def test_a_broken_source_is_refused_naming_the_cell(tmp_path: Path, body: str, complaint: str) -> None:
    with pytest.raises(ChapterSourceError) as caught:
        load_chapter(_write(tmp_path, body))
    assert complaint in caught.value.message
    assert "99-demo.md" in caught.value.message
    assert caught.value.hint


def test_the_header_must_name_the_chapter_like_the_file(tmp_path: Path) -> None:
    with pytest.raises(ChapterSourceError, match=r"is '99-demo' but the file is 98-other\.md"):
        load_chapter(_write(tmp_path, ANSWER + TEST, name="98-other.md"))


def test_solution_markers_must_pair_up() -> None:
    assert solution_lines_ok("### BEGIN SOLUTION\nx\n### END SOLUTION")
    assert not solution_lines_ok("x = 1")
    assert not solution_lines_ok("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION")
    assert not solution_lines_ok("### END SOLUTION\n### BEGIN SOLUTION")


def test_a_stub_replaces_the_solution_at_its_indent() -> None:
    source = "def f():\n    '''doc'''\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\nprint(1)"
    stub = strip_solutions(source, "exercise 1: write f")
    assert stub == "def f():\n    '''doc'''\n    raise NotImplementedError('exercise 1: write f')\nprint(1)"


def test_students_get_stubs_and_public_tests_only() -> None:
    chapter = setup_chapter()
    student = make_notebook(chapter, Variant.STUDENT)
    ids = [cell["id"] for cell in student.cells]
    hidden = [test.cell_id for test in chapter.tests if test.hidden]
    assert hidden and not set(hidden) & set(ids)
    assert all(test.cell_id in ids for test in chapter.tests if not test.hidden)
    text = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in text
    assert 'report["cgroups"].facts["mode"]' not in text
    assert text.count("raise NotImplementedError(") == len(chapter.answers)
    assert student.metadata["kernelspec"]["name"] == "labcore"
    assert student.metadata["labcore"]["chapter"] == "00-setup"


def test_instructors_get_everything_and_grading_gets_stubs_with_every_test() -> None:
    chapter = setup_chapter()
    instructor = make_notebook(chapter, Variant.INSTRUCTOR)
    grading = make_notebook(chapter, Variant.GRADING)
    assert [cell["id"] for cell in instructor.cells] == [cell["id"] for cell in chapter.notebook.cells]
    assert [cell["id"] for cell in grading.cells] == [cell["id"] for cell in chapter.notebook.cells]
    assert "BEGIN SOLUTION" in "\n".join(cell.source for cell in instructor.cells)
    assert "BEGIN SOLUTION" not in "\n".join(cell.source for cell in grading.cells)


def test_the_setup_chapter_has_at_least_four_graded_exercises() -> None:
    chapter = setup_chapter()
    assert len(chapter.exercises) >= 4
    assert all(chapter.max_points(exercise) > 0 for exercise in chapter.exercises)

"""The checking API of test cells, failure summaries, scoring and the feedback text."""

from __future__ import annotations

import csv
import io

import pytest

from labcore.course.check import CheckFailed, answer, expect, expect_equal
from labcore.course.nbplugin import summarize_failure
from labcore.course.nbrun import CellResult
from labcore.course.reports import feedback_markdown, feedback_name, grades_csv
from labcore.course.scoring import score_chapter
from tests.course_support import setup_chapter


def test_expect_passes_silently_and_fails_with_hint_and_found() -> None:
    expect(True, "never shown")
    with pytest.raises(CheckFailed) as caught:
        expect(1 == 2, "did you ask for a new PID namespace?", found=4026531836)
    assert str(caught.value) == "did you ask for a new PID namespace? (found: 4026531836)"
    assert caught.value._render_traceback_()[1:] == ["hint: did you ask for a new PID namespace?",
                                                     "found: 4026531836"]
    assert isinstance(caught.value, AssertionError)


def test_expect_equal_says_what_was_expected() -> None:
    with pytest.raises(CheckFailed, match=r"read the facts; expected 'v2' \(found: 'v1'\)"):
        expect_equal("v1", "v2", "read the facts")


def test_answer_reads_the_callers_variables_and_explains_a_missing_one() -> None:
    cgroup_mode = "v2"  # noqa: F841 - read back through the frame below
    namespace = {"answer": answer, "cgroup_mode": "hybrid"}
    exec("found = answer('cgroup_mode')", namespace)
    assert namespace["found"] == "hybrid"
    with pytest.raises(CheckFailed, match="must set the variable 'store_dir'"):
        exec("answer('store_dir')", {"answer": answer})


class _CellError(Exception):
    def __init__(self, message: str, traceback: str) -> None:
        super().__init__(message)
        self.inner_traceback = traceback


def test_failure_summaries_keep_the_check_or_the_last_line() -> None:
    check = _CellError("Cell execution caused an exception",
                       "\n\x1b[1;31mcheck failed\x1b[0m\nhint: look here\nfound: 3")
    assert summarize_failure(check) == "hint: look here\nfound: 3"
    other = _CellError("Cell execution caused an exception", "Traceback...\n  line\nNameError: name 'x'")
    assert summarize_failure(other) == "NameError: name 'x'"
    assert summarize_failure(RuntimeError("Kernel dead on test start")) == "Kernel dead on test start"


def test_scores_csv_and_feedback_hide_hidden_tests() -> None:
    chapter = setup_chapter()
    cells = {test.cell_id: CellResult(test.cell_id, test.exercise == "store-dir", "hint: nope")
             for test in chapter.tests}
    score = score_chapter("ann", chapter, cells)
    assert score.points == chapter.max_points("store-dir") == 2
    assert score.max_points == sum(test.points for test in chapter.tests)
    rows = list(csv.reader(io.StringIO(grades_csv([score], [("bob", "x.ipynb", "broken")]))))
    assert rows[0] == ["student", "chapter", "exercise", "points", "max"]
    assert ["ann", "00-setup", "store-dir", "2", "2"] in rows
    assert rows[-1] == ["bob", "x.ipynb", "(not graded)", "0", "0"]
    text = feedback_markdown("ann", [score], [])
    assert "- hidden test `cgroup-mode-mounts`: failed" in text
    hidden_hints = [test.hint for test in chapter.tests if test.hidden]
    assert not any(hint in text for hint in hidden_hints)
    assert "hint: the mode is in report['cgroups'].facts" in text


def test_missing_results_score_nothing_and_say_why() -> None:
    score = score_chapter("bob", setup_chapter(), {}, problem="00-setup.ipynb is not a readable notebook")
    assert score.points == 0
    assert "not a readable notebook" in feedback_markdown("bob", [score], [])


def test_feedback_file_names_are_safe() -> None:
    assert feedback_name("../../etc/passwd") == "_.._etc_passwd"
    assert feedback_name("ann lee") == "ann_lee"

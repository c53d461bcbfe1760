"""Grade a class of fake submissions of 00-setup for real (nbval, kernels, xdist) and check the scores."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from labcore.course.grader import grade
from tests.course_support import save, setup_chapter, solutions, student_copy

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

WRONG = {
    "cgroup-mode-answer": 'cgroup_mode = "v0"',
    "kernel-release-answer": 'kernel_release = "4.0.0"',
    "store-dir-answer": "store_dir = settings().root",
    # right file, but written in place and leaving a backup behind: public test passes, hidden fails
    "write-note-answer": (
        "def write_note(text):\n"
        "    note = settings().root / 'notes' / '00-setup.txt'\n"
        "    note.parent.mkdir(parents=True, exist_ok=True)\n"
        "    note.with_suffix('.bak').write_text(text)\n"
        "    note.write_text(text)\n"
        "    return note\n"
    ),
    # adds the mirror in front instead of replacing it: public test passes, hidden fails
    "use-mirror-answer": (
        "import json\n"
        "def use_mirror(url):\n"
        "    path = hosts_file()\n"
        "    data = (json.loads(path.read_text()) if path.exists()\n"
        "            else {'mirrors': {'docker.io': [f'http://{settings().registry}']}})\n"
        "    data['mirrors']['docker.io'].insert(0, url)\n"
        "    path.write_text(json.dumps(data))\n"
    ),
}

# student -> (points per exercise, total)
EXPECTED = {
    "right": {"cgroup-mode": 2, "kernel-release": 2, "store-dir": 2, "write-note": 3, "use-mirror": 3},
    "renamed": {"cgroup-mode": 2, "kernel-release": 2, "store-dir": 2, "write-note": 3, "use-mirror": 3},
    "wrong": {"cgroup-mode": 0, "kernel-release": 0, "store-dir": 0, "write-note": 2, "use-mirror": 2},
    "empty": {"cgroup-mode": 0, "kernel-release": 0, "store-dir": 0, "write-note": 0, "use-mirror": 0},
    "tampered": {"cgroup-mode": 0, "kernel-release": 0, "store-dir": 0, "write-note": 0, "use-mirror": 0},
    "crashing": {"cgroup-mode": 0, "kernel-release": 2, "store-dir": 2, "write-note": 3, "use-mirror": 3},
    "looping": {"cgroup-mode": 2, "kernel-release": 0, "store-dir": 2, "write-note": 3, "use-mirror": 3},
    "dying": {"cgroup-mode": 2, "kernel-release": 2, "store-dir": 0, "write-note": 0, "use-mirror": 0},
    "daemon": {"cgroup-mode": 2, "kernel-release": 2, "store-dir": 2, "write-note": 3, "use-mirror": 3},
    "broken": {"cgroup-mode": 0, "kernel-release": 0, "store-dir": 0, "write-note": 0, "use-mirror": 0},
}


def _daemon_then(answer: str, pid_file: Path) -> str:
    """Answer code that first leaves a double-forked daemon in its own session running."""
    return (
        "import subprocess\n"
        f"subprocess.Popen(['setsid', 'sh', '-c', 'sleep 600 & echo $! > {pid_file}'])\n"
        "import time\n"
        f"while not __import__('os').path.exists('{pid_file}'): time.sleep(0.05)\n"
        + answer
    )


def _make_class(directory: Path, pid_file: Path) -> None:
    chapter = setup_chapter()
    right = solutions(chapter)
    save(student_copy(chapter, right), directory / "right" / "00-setup.ipynb")
    save(student_copy(chapter, right), directory / "renamed" / "my homework (final).ipynb")
    save(student_copy(chapter, WRONG), directory / "wrong" / "00-setup.ipynb")
    save(student_copy(chapter), directory / "empty" / "00-setup.ipynb")
    tampered = student_copy(chapter)
    for cell in tampered.cells:
        if "test" in cell.metadata.get("labcore", {}):
            cell.source = "pass  # the student emptied the test"
    tampered.cells = [cell for cell in tampered.cells if cell["id"] != "use-mirror-check"]
    save(tampered, directory / "tampered" / "00-setup.ipynb")
    save(student_copy(chapter, right | {"cgroup-mode-answer": "raise RuntimeError('boom')"}),
         directory / "crashing" / "00-setup.ipynb")
    save(student_copy(chapter, right | {"kernel-release-answer": "while True:\n    pass"}),
         directory / "looping" / "00-setup.ipynb")
    save(student_copy(chapter, right | {"store-dir-answer": "import os\nos._exit(3)"}),
         directory / "dying" / "00-setup.ipynb")
    old = save(student_copy(chapter), directory / "twice" / "first try.ipynb")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    save(student_copy(chapter, right), directory / "twice" / "00-setup.ipynb")
    save(student_copy(chapter, right | {"cgroup-mode-answer": _daemon_then(right["cgroup-mode-answer"], pid_file)}),
         directory / "daemon" / "00-setup.ipynb")
    (directory / "broken").mkdir()
    (directory / "broken" / "00-setup.ipynb").write_text('{"cells": [ this is not json')
    (directory / "lost").mkdir()
    (directory / "lost" / "notes.ipynb").write_text("not a notebook at all")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Grade the class once (two workers, a short cell timeout) through the CLI."""
    base = tmp_path_factory.mktemp("class")
    _make_class(base / "submissions", base / "daemon.pid")
    out = base / "graded"
    (base / "scratch").mkdir()
    result = grade(base / "submissions", out, workers=2, cell_timeout=8, scratch=base / "scratch")
    assert result.csv == out / "grades.csv"
    return out


def _grades(out: Path) -> dict[str, dict[str, tuple[int, int]]]:
    table: dict[str, dict[str, tuple[int, int]]] = {}
    with (out / "grades.csv").open() as file:
        for row in csv.DictReader(file):
            table.setdefault(row["student"], {})[row["exercise"]] = (int(row["points"]), int(row["max"]))
    return table


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_gets_its_expected_points(graded: Path, student: str) -> None:
    grades = _grades(graded)
    assert {exercise: points for exercise, (points, _) in grades[student].items()} == EXPECTED[student]
    assert {exercise: most for exercise, (_, most) in grades[student].items()} == EXPECTED["right"]


def test_a_notebook_of_no_known_chapter_is_reported_not_dropped(graded: Path) -> None:
    assert _grades(graded)["lost"] == {"(not graded)": (0, 0)}
    feedback = (graded / "feedback" / "lost.md").read_text()
    assert "notes.ipynb: not graded" in feedback


def test_of_two_notebooks_of_one_chapter_the_newest_is_graded(graded: Path) -> None:
    grades = _grades(graded)["twice"]
    assert grades.pop("(not graded)") == (0, 0)
    assert {exercise: points for exercise, (points, _) in grades.items()} == EXPECTED["right"]
    assert "first try.ipynb: not graded" in (graded / "feedback" / "twice.md").read_text()


def test_feedback_gives_hints_for_public_tests_and_only_names_hidden_ones(graded: Path) -> None:
    chapter = setup_chapter()
    feedback = (graded / "feedback" / "wrong.md").read_text()
    assert "## 00-setup: 4/12 points" in feedback
    assert "- test `cgroup-mode-check` (1 point): failed" in feedback
    assert "hint: the mode is in report['cgroups'].facts" in feedback
    assert "found: 'v0'" in feedback  # what the check found, from CheckFailed
    assert "- hidden test `write-note-clean`: failed" in feedback
    for test in chapter.tests:
        if test.hidden:
            assert test.hint not in feedback
            assert chapter.notebook.cells[[c["id"] for c in chapter.notebook.cells].index(test.cell_id)].source \
                not in feedback


def test_feedback_explains_timeouts_dead_kernels_and_broken_files(graded: Path) -> None:
    assert "Timeout" in (graded / "feedback" / "looping.md").read_text()
    dying = (graded / "feedback" / "dying.md").read_text()
    assert "store-dir-check` (1 point): failed" in dying
    assert "not a readable notebook" in (graded / "feedback" / "broken.md").read_text()


def test_processes_a_submission_left_running_are_killed(graded: Path) -> None:
    pid = int((graded.parent / "daemon.pid").read_text())
    try:
        with open(f"/proc/{pid}/stat") as file:
            state = file.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return
    assert state == "Z", f"the daemon {pid} a student started is still running"


def test_grading_leaves_no_lab_state_behind(graded: Path) -> None:
    assert list((graded.parent / "scratch").iterdir()) == []

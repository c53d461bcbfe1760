"""Building the course folder, and rebuilding a submission from the source by cell id."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from labcore.course.builder import build
from labcore.course.kernel import install_kernel
from labcore.course.merge import merge_submission
from labcore.course.submissions import find_submissions
from tests.course_support import save, setup_chapter, student_copy


def test_build_writes_both_copies_and_keeps_a_students_edits(tmp_path: Path) -> None:
    result = build(tmp_path / "build", kernel=False)
    student = result.student_dir / "00-setup.ipynb"
    instructor = result.instructor_dir / "00-setup.ipynb"
    assert nbformat.read(student, 4).metadata["labcore"]["variant"] == "student"
    assert nbformat.read(instructor, 4).metadata["labcore"]["variant"] == "instructor"
    assert build(tmp_path / "build", kernel=False).kept == []  # untouched copies are rebuilt
    edited = nbformat.read(student, 4)
    edited.cells[0].source += "\nmy work"
    nbformat.write(edited, student)
    again = build(tmp_path / "build", kernel=False)
    assert again.kept == [student]
    assert "my work" in student.read_text()
    build(tmp_path / "build", kernel=False, force=True)
    assert "my work" not in student.read_text()


def test_the_kernelspec_runs_this_interpreter(tmp_path: Path) -> None:
    import sys

    folder = install_kernel(tmp_path)
    spec = json.loads((folder / "kernel.json").read_text())
    assert folder == tmp_path / "share" / "jupyter" / "kernels" / "labcore"
    assert spec["argv"][0] == sys.executable
    assert "ipykernel_launcher" in spec["argv"]


def test_merge_keeps_only_the_students_answers() -> None:
    chapter = setup_chapter()
    submitted = student_copy(chapter, {"cgroup-mode-answer": "cgroup_mode = 'v2'"})
    for cell in submitted.cells:
        if cell["id"] == "cgroup-mode-check":
            cell.source = "pass"  # tampered public test
    submitted.cells = [cell for cell in submitted.cells if cell["id"] != "kernel-release-answer"]
    submitted.cells.append(nbformat.v4.new_code_cell("print('extra')"))
    merged = merge_submission(chapter, submitted)
    by_id = {cell["id"]: cell.source for cell in merged.cells}
    source = {cell["id"]: cell.source for cell in chapter.notebook.cells}
    assert by_id["cgroup-mode-answer"] == "cgroup_mode = 'v2'"
    assert by_id["cgroup-mode-check"] == source["cgroup-mode-check"]  # restored
    assert by_id["cgroup-mode-mounts"] == source["cgroup-mode-mounts"]  # hidden test added
    assert "raise NotImplementedError" in by_id["kernel-release-answer"]  # deleted answer: the stub
    assert "print('extra')" not in "".join(by_id.values())
    assert list(by_id) == list(source)


def test_merge_matches_answers_whose_cell_id_was_renewed() -> None:
    chapter = setup_chapter()
    submitted = student_copy(chapter, {"store-dir-answer": "store_dir = 1"})
    for cell in submitted.cells:
        cell["id"] = "renewed-" + cell["id"][:50]
    merged = merge_submission(chapter, submitted)
    assert {cell["id"]: cell.source for cell in merged.cells}["store-dir-answer"] == "store_dir = 1"


def test_submissions_are_found_by_student_and_chapter_metadata(tmp_path: Path) -> None:
    chapter = setup_chapter()
    save(student_copy(chapter), tmp_path / "ann" / "whatever.ipynb")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "00-setup.ipynb").write_text("{oops")
    (tmp_path / "ann" / ".ipynb_checkpoints").mkdir()
    found = find_submissions(tmp_path)
    assert [(s.student, s.path.name, s.chapter_id, bool(s.problem)) for s in found] == [
        ("ann", "whatever.ipynb", "00-setup", False),
        ("bob", "00-setup.ipynb", "00-setup", True),
    ]
    assert "not a readable notebook" in found[1].problem

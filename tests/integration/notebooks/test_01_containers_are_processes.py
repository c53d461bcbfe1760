"""Chapter 01's checks catch plausible wrong answers, each with its own hint (real kernel, nbval).

The generic chapter test proves the solved notebook passes and the unsolved one fails its tests;
this one hands in answers that are almost right and checks that exactly the matching test cells
fail, and that their hints name what is wrong.
"""

from __future__ import annotations

import pytest

from labcore.course.chapter import load_chapter
from labcore.course.nbrun import CellResult
from labcore.course.paths import default_source_dir
from tests.integration.notebooks.wrong_answers import Runs, run_wrong_then_solved

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHAPTER = load_chapter(default_source_dir() / "01-containers-are-processes.md")

WRONG_ANSWERS = {
    # no network namespace
    "container-flags-answer": "container_flags = Namespace.PID | Namespace.UTS | Namespace.MNT | Namespace.IPC\n",
    # pivots, but keeps the host's root mounted at /.old-root
    "pivot-into-answer": (
        "def pivot_into(rootfs):\n"
        "    mount(rootfs, rootfs, None, MountFlag.BIND | MountFlag.REC)\n"
        "    os.chdir(rootfs)\n"
        "    os.makedirs('.old-root', exist_ok=True)\n"
        "    pivot_root('.', '.old-root')\n"
        "    os.chdir('/')\n"
    ),
    # a working /proc, without runc's flags
    "mount-proc-answer": "def mount_proc():\n    mount('proc', '/proc', 'proc')\n",
    # a memory limit but no process limit
    "capped-answer": (
        "capped = container.run('busybox', ['sleep', '600'], detach=True, name='ch01-capped', memory='48m')\n"
    ),
}

EXPECTED_FAILURES = {
    "container-flags-check": "net namespace",
    "pivot-into-check": "host's mounts are still visible",
    "pivot-into-tidy": "exactly the image's files",
    "mount-proc-flags": "nosuid, nodev and noexec",
    "capped-check": "pids.max",
    "capped-bomb": "refused forks",
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Hand in the wrong answers without cleaning up, then run the solved notebook on that lab."""
    return run_wrong_then_solved(CHAPTER, WRONG_ANSWERS, tmp_path_factory.mktemp("ch01-runs"))


@pytest.fixture(scope="module")
def results(runs: Runs) -> dict[str, CellResult]:
    """Each cell's result in the run with the wrong answers."""
    return runs.wrong


def test_every_cell_ran(results: dict[str, CellResult]) -> None:
    code_cells = [cell["id"] for cell in CHAPTER.notebook.cells if cell.cell_type == "code"]
    assert sorted(results) == sorted(set(code_cells) - {"cleanup"})


def test_exactly_the_tests_for_the_mistakes_fail(results: dict[str, CellResult]) -> None:
    failed = {cell_id for cell_id, result in results.items() if not result.passed}
    assert failed == set(EXPECTED_FAILURES)


@pytest.mark.parametrize("cell_id", sorted(EXPECTED_FAILURES))
def test_the_hint_names_the_mistake(results: dict[str, CellResult], cell_id: str) -> None:
    assert EXPECTED_FAILURES[cell_id] in results[cell_id].summary


def test_the_correct_half_of_an_answer_still_scores(results: dict[str, CellResult]) -> None:
    # PID was asked for, so the hidden PID-1 test passes; proc was mounted, so its public test passes
    assert results["container-flags-pid1"].passed
    assert results["mount-proc-check"].passed


def test_a_second_run_on_the_leftovers_passes(runs: Runs) -> None:
    assert {cell_id for cell_id, result in runs.again.items() if not result.passed} == set()
    assert len(runs.again) == len([cell for cell in CHAPTER.notebook.cells if cell.cell_type == "code"])
    assert not (runs.root / "ch01").exists(), "the cleanup cell removes the chapter's folder"

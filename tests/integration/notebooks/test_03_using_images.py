"""Chapter 03's checks catch plausible wrong answers, each with its own hint (real registry, nbval).

The notebook starts its own docker-registry on loopback; these runs use it exactly as a student
would. The generic chapter test covers the solved and the unsolved notebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from labcore.course.builder import write_notebook
from labcore.course.chapter import load_chapter
from labcore.course.nbrun import CellResult, run_notebooks
from labcore.course.paths import default_source_dir
from labcore.course.variants import Variant, make_notebook

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHAPTER = load_chapter(default_source_dir() / "03-using-images.md")

WRONG_ANSWERS = {
    # answers from memory instead of asking the registry
    "tags-of-answer": "def tags_of(repository):\n    return ['latest']\n",
    # the container is removed when it ends
    "first-answer": (
        "first = container.run(f'{REGISTRY}/ch03/busybox:latest', ['sh', '-c', 'echo hello > /greeting'],\n"
        "                      name='ch03-first', remove=True)\n"
    ),
    # pushed under another name
    "pushed-answer": (
        "Store().tag(f'{REGISTRY}/ch03/busybox:latest', f'{REGISTRY}/ch03/other:v1')\n"
        "pushed = push_image(f'{REGISTRY}/ch03/other:v1')\n"
    ),
    # a tag is not a digest
    "pinned-answer": "pinned = f'{MY_REPOSITORY}:v1'\npull_image(pinned)\n",
}

EXPECTED_FAILURES = {
    "tags-of-fresh": "pushed a moment ago",
    "first-check": "remove=True",
    "first-image": "ch03-first",
    "pushed-check": "no ch03/mine:v1",
    "pushed-blobs": "must hold blob",
    "pinned-check": "must name a digest",
}


@dataclass(frozen=True)
class Runs:
    """The wrong answers' run (stopped before its cleanup cell) and a solved run after it."""

    wrong: dict[str, CellResult]
    again: dict[str, CellResult]
    root: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Hand in the wrong answers without cleaning up, then run the solved notebook on that lab.

    Both notebooks sit in one folder, so they share one LABCORE_ROOT: the second run starts on
    the first one's leftovers (containers, image names, files), which its setup must remove.
    """
    folder = tmp_path_factory.mktemp("ch03-runs")
    wrong = make_notebook(CHAPTER, Variant.INSTRUCTOR)  # every test; solutions but for WRONG_ANSWERS
    wrong.cells = [cell for cell in wrong.cells if cell["id"] != "cleanup"]
    for cell in wrong.cells:
        if cell["id"] in WRONG_ANSWERS:
            cell.source = WRONG_ANSWERS[cell["id"]]
    wrong_path = folder / "wrong.ipynb"
    write_notebook(wrong_path, wrong)
    again_path = folder / "again.ipynb"
    write_notebook(again_path, make_notebook(CHAPTER, Variant.INSTRUCTOR))
    wrong_results = run_notebooks([wrong_path], cell_timeout=120, root_name="labcore-root")[wrong_path]
    again_results = run_notebooks([again_path], cell_timeout=120, root_name="labcore-root")[again_path]
    return Runs(wrong_results, again_results, folder / "labcore-root")


@pytest.fixture(scope="module")
def results(runs: Runs) -> dict[str, CellResult]:
    """Each cell's result in the run with the wrong answers."""
    return runs.wrong


def test_every_cell_ran(results: dict[str, CellResult]) -> None:
    code_cells = [cell["id"] for cell in CHAPTER.notebook.cells if cell.cell_type == "code"]
    assert sorted(results) == sorted(set(code_cells) - {"cleanup"})


def test_exactly_the_tests_for_the_mistakes_fail(results: dict[str, CellResult]) -> None:
    failed = {cell_id for cell_id, result in results.items() if not result.passed}
    # the wrong pin pulls a tag that was never pushed, so its answer cell fails as well
    assert failed == set(EXPECTED_FAILURES) | {"pinned-answer"}


@pytest.mark.parametrize("cell_id", sorted(EXPECTED_FAILURES))
def test_the_hint_names_the_mistake(results: dict[str, CellResult], cell_id: str) -> None:
    assert EXPECTED_FAILURES[cell_id].lower() in results[cell_id].summary.lower()


def test_a_cached_answer_passes_only_the_public_test(results: dict[str, CellResult]) -> None:
    assert results["tags-of-check"].passed
    assert results["pinned-repository"].passed


def test_a_second_run_on_the_leftovers_passes(runs: Runs) -> None:
    assert {cell_id for cell_id, result in runs.again.items() if not result.passed} == set()
    assert len(runs.again) == len([cell for cell in CHAPTER.notebook.cells if cell.cell_type == "code"])
    assert not (runs.root / "ch03").exists(), "the cleanup cell removes the chapter's folder"

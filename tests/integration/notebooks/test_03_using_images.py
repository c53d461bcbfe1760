"""Chapter 03's checks catch plausible wrong answers, each with its own hint (real registry, nbval).

The notebook starts its own docker-registry on loopback; these runs use it exactly as a student
would. The generic chapter test covers the solved and the unsolved notebook.
"""

from __future__ import annotations

import pytest

from labcore.course.chapter import load_chapter
from labcore.course.nbrun import CellResult
from labcore.course.paths import default_source_dir
from tests.integration.notebooks.wrong_answers import Runs, run_wrong_then_solved

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


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Hand in the wrong answers without cleaning up, then run the solved notebook on that lab."""
    return run_wrong_then_solved(CHAPTER, WRONG_ANSWERS, tmp_path_factory.mktemp("ch03-runs"))


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

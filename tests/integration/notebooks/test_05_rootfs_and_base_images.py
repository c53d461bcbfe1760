"""Chapter 05's checks catch plausible wrong answers, and the chapter survives an interrupted run.

The generic chapter test proves the solved notebook passes and the unsolved one fails its tests;
this one hands in answers that are almost right (real builds, real containers, under nbval) and
checks that exactly the matching test cells fail with a hint naming the mistake, while the
checks the mistake does not touch still give their points.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from labcore.course.builder import write_notebook
from labcore.course.chapter import load_chapter
from labcore.course.nbrun import CellResult, run_notebooks
from labcore.course.paths import default_source_dir
from labcore.course.variants import Variant, make_notebook
from tests.integration.notebooks.wrong_answers import ROOT_NAME, run_with_answers

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHAPTER = load_chapter(default_source_dir() / "05-rootfs-and-base-images.md")

WRONG_ANSWERS = {
    # a relative command: nothing in an empty image's PATH
    "hello-answer": (
        "(WORK / 'hello' / 'Dockerfile').write_text('FROM scratch\\nCOPY hello /\\nCMD [\"hello\"]\\n')\n"
        "build(WORK / 'hello', tags=['ch05-hello:1'])\n"
    ),
    # lists the root, but from the busybox image rather than from scratch
    "ls-answer": (
        "(WORK / 'ls' / 'Dockerfile').write_text('FROM ch05-busybox:latest\\nCMD [\"ls\", \"/\"]\\n')\n"
        "build(WORK / 'ls', tags=['ch05-ls:1'])\n"
    ),
    # no /etc/passwd: whoami cannot name uid 0
    "make-base-answer": (
        "def make_base(rootfs):\n"
        "    (rootfs / 'bin').mkdir(parents=True, exist_ok=True)\n"
        "    shutil.copy2('/bin/busybox', rootfs / 'bin' / 'busybox')\n"
        "    for command in ('sh', 'whoami'):\n"
        "        (rootfs / 'bin' / command).symlink_to('/bin/busybox')\n"
        "    return import_rootfs(rootfs, 'ch05-mini:1', changes=['CMD [\"sh\"]'])\n"
    ),
    # asks the notebook's own machine instead of the container
    "describe-answer": "def describe(image):\n    return {'kernel': os.uname().release, 'os': None}\n",
}

EXPECTED_FAILURES = {
    "hello-check": 'cmd ["/hello"]',
    "ls-check": "from scratch",
    "make-base-check": "must print root",
    "describe-check": "names debian 12",
    "describe-any-os": "claim any os name",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CellResult]:
    """The grading copy with the wrong answers in, run once under nbval."""
    return run_with_answers(CHAPTER, WRONG_ANSWERS, tmp_path_factory.mktemp("ch05-wrong"))


def test_every_cell_ran(results: dict[str, CellResult]) -> None:
    code_cells = [cell["id"] for cell in CHAPTER.notebook.cells if cell.cell_type == "code"]
    assert sorted(results) == sorted(code_cells)


def test_exactly_the_tests_for_the_mistakes_fail(results: dict[str, CellResult]) -> None:
    failed = {cell_id: result.summary for cell_id, result in results.items() if not result.passed}
    assert set(failed) == set(EXPECTED_FAILURES), failed


@pytest.mark.parametrize("cell_id", sorted(EXPECTED_FAILURES))
def test_the_hint_names_the_mistake(results: dict[str, CellResult], cell_id: str) -> None:
    summary = results[cell_id].summary
    assert summary.startswith("hint:"), summary
    assert EXPECTED_FAILURES[cell_id] in summary.lower()


def test_half_right_answers_keep_their_other_points(results: dict[str, CellResult]) -> None:
    """The same program copied, a static image, a base that can be extended: those checks pass."""
    assert results["hello-same-program"].passed
    assert results["ls-static"].passed
    assert results["make-base-extend"].passed


def test_a_second_run_after_an_interrupted_one_passes(tmp_path: Path) -> None:
    """A run stopped before its cleanup leaves names, folders and a stopped container behind."""
    notebook = make_notebook(CHAPTER, Variant.INSTRUCTOR)
    notebook.cells = [cell for cell in notebook.cells if cell["id"] != "cleanup"]
    leftovers = nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]
        "container.run('ch05-busybox:latest', ['true'], name='ch05-stopped')\n"
    )
    leftovers["id"] = "leave-things-behind"
    notebook.cells.append(leftovers)
    first = tmp_path / "lab" / f"{CHAPTER.chapter_id}.ipynb"
    write_notebook(first, notebook)
    interrupted = run_notebooks([first], cell_timeout=120, root_name=ROOT_NAME)[first]
    assert interrupted["leave-things-behind"].passed
    second = first.parent / f"{CHAPTER.chapter_id}-again.ipynb"
    write_notebook(second, make_notebook(CHAPTER, Variant.INSTRUCTOR))
    again = run_notebooks([second], cell_timeout=120, root_name=ROOT_NAME)[second]
    assert {cell_id: result.summary for cell_id, result in again.items() if not result.passed} == {}
    assert len(again) == len([cell for cell in CHAPTER.notebook.cells if cell.cell_type == "code"])
    root = first.parent / ROOT_NAME
    assert not (root / "course" / "05-rootfs-and-base-images").exists(), "the cleanup removes the chapter's folder"
    index = (root / "store" / "index.json").read_text()
    assert "ch05-" not in index, "the cleanup removes the chapter's image names"
    containers = root / "containers"
    assert not containers.is_dir() or not [path for path in containers.iterdir() if not path.name.startswith(".")]

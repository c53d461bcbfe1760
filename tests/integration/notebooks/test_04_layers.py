"""Chapter 04's checks catch plausible wrong answers, and the chapter survives an interrupted run.

The generic chapter test proves the solved notebook passes and the unsolved one fails its tests;
this one hands in answers that are almost right (real store, real overlay mounts, real
containers, under nbval) and checks that exactly the matching test cells fail with a hint naming
the mistake. It also runs the chapter again in a lab where a run stopped before its cleanup,
leaving an overlay mounted and a container behind.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import nbformat
import pytest

from labcore.course.builder import write_notebook
from labcore.course.chapter import load_chapter
from labcore.course.nbrun import CellResult, run_notebooks
from labcore.course.paths import default_source_dir
from labcore.course.variants import Variant, make_notebook
from labcore.linux.mount import UmountFlag, umount
from labcore.linux.mountinfo import mounts
from tests.integration.notebooks.wrong_answers import ROOT_NAME, run_with_answers

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHAPTER = load_chapter(default_source_dir() / "04-layers.md")

WRONG_ANSWERS = {
    # reads the right blob but never checks its digest
    "manifest-of-answer": (
        "def manifest_of(name):\n"
        "    layout = settings().store\n"
        "    index = json.loads((layout / 'index.json').read_text())\n"
        "    entry = next(e for e in index['manifests']\n"
        "                 if e['annotations']['org.opencontainers.image.ref.name'] == name)\n"
        "    return json.loads((layout / 'blobs' / 'sha256' / entry['digest'].split(':')[1]).read_bytes())\n"
    ),
    # the digest of the compressed blob is not the diff id (but is, for a plain tar)
    "diff-id-answer": "def diff_id_of(layer):\n    return layer['digest']\n",
    # the whiteout prefix goes on the file name, not on the whole path
    "deletion-layer-answer": (
        "def deletion_layer(paths):\n"
        "    buffer = io.BytesIO()\n"
        "    with tarfile.open(fileobj=buffer, mode='w') as tar:\n"
        "        for path in paths:\n"
        "            tar.addfile(tarfile.TarInfo('.wh.' + path))\n"
        "    return buffer.getvalue()\n"
    ),
    # base first: the base layer ends up on top
    "mount-stack-answer": "def mount_stack(layer_dirs, target):\n    mount_overlay(layer_dirs, target)\n",
    # commits, but leaves the container behind
    "customise-answer": (
        "def customise():\n"
        "    container.run('ch04-base', ['sh', '-c', \"echo 'built in chapter 04' > /etc/motd; rm /etc/group\"],\n"
        "                  name='ch04-custom')\n"
        "    return commit('ch04-custom', 'ch04-custom:1')\n"
    ),
}

EXPECTED_FAILURES = {
    "manifest-of-verify": "must raise valueerror",
    "diff-id-check": "decompress it first",
    "deletion-layer-check": "must be gone",
    "deletion-layer-only": "one whiteout per path",
    "mount-stack-check": "etc/motd must win",
    "mount-stack-readonly": "must hide etc/hostname",
    "customise-clean": "must be removed",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CellResult]:
    """The grading copy with the wrong answers in, run once under nbval."""
    return run_with_answers(CHAPTER, WRONG_ANSWERS, tmp_path_factory.mktemp("ch04-wrong"))


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
    """An answer with one mistake still passes the checks that do not look at that mistake."""
    assert results["manifest-of-check"].passed
    assert results["diff-id-plain"].passed
    assert results["customise-check"].passed


def test_a_second_run_after_an_interrupted_one_passes(tmp_path: Path) -> None:
    """A run stopped before its cleanup leaves a mount and a container: the next run removes them."""
    notebook = make_notebook(CHAPTER, Variant.INSTRUCTOR)
    notebook.cells = [cell for cell in notebook.cells if cell["id"] != "cleanup"]
    leftovers = nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]
        "(WORK / 'left-mounted').mkdir()\n"
        "mount_stack(SnapshotStore().prepare(Store().resolve('ch04-stack:1')), WORK / 'left-mounted')\n"
        "container.run('ch04-base', ['true'], name='ch04-stopped')\n"
    )
    leftovers["id"] = "leave-things-behind"
    notebook.cells.append(leftovers)
    first = tmp_path / "lab" / f"{CHAPTER.chapter_id}.ipynb"
    write_notebook(first, notebook)
    interrupted = run_notebooks([first], cell_timeout=120, root_name=ROOT_NAME)[first]
    assert interrupted["leave-things-behind"].passed
    root = first.parent / ROOT_NAME
    try:
        assert any(entry.target.startswith(str(root)) for entry in mounts()), "the first run left its mount"
        second = first.parent / f"{CHAPTER.chapter_id}-again.ipynb"
        write_notebook(second, make_notebook(CHAPTER, Variant.INSTRUCTOR))
        again = run_notebooks([second], cell_timeout=120, root_name=ROOT_NAME)[second]
    finally:
        for entry in reversed(mounts()):  # whatever happened, leave no mount behind
            if entry.target.startswith(str(root)):  # the lab root and its run folder beside it
                with contextlib.suppress(OSError):
                    umount(entry.target, UmountFlag.DETACH)
    assert {cell_id: result.summary for cell_id, result in again.items() if not result.passed} == {}
    assert len(again) == len([cell for cell in CHAPTER.notebook.cells if cell.cell_type == "code"])
    assert not [entry.target for entry in mounts() if entry.target.startswith(str(root) + "/")]
    assert not (root / "course" / "04-layers").exists(), "the cleanup removes the chapter's folder"
    containers = root / "containers"
    assert not containers.is_dir() or not [path for path in containers.iterdir() if not path.name.startswith(".")]

"""Chapter 07 (volumes) run twice in one lab, and unsolved: it cleans up and its checks give hints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import labcore.container as containers
from labcore.runtime import volumes
from tests.integration.notebooks.rerun import failures, run_chapter_twice, unhelpful_test_failures

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]


@pytest.fixture
def lab_roots(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Lab roots the test pointed LABCORE_ROOT at; containers left in them are removed at the end."""
    roots: list[Path] = []
    yield roots
    for root in roots:
        monkeypatch.setenv("LABCORE_ROOT", str(root))
        for container in containers.list(all=True):
            containers.remove(container, force=True)


def test_volumes_chapter_reruns_cleans_up_and_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lab_roots: list[Path]
) -> None:
    def leave_leftovers(root: Path) -> None:
        """What a run interrupted at exercise 2 leaves: a running container, a used volume, files."""
        lab_roots.append(root)
        monkeypatch.setenv("LABCORE_ROOT", str(root))
        notes = root / "work" / "07-volumes" / "notes"
        notes.mkdir(parents=True)
        containers.run("busybox", ["sleep", "600"], detach=True, name="ch07-bind", volumes=[f"{notes}:/notes"])
        containers.create("busybox", ["true"], name="ch07-old", volumes=["ch07-visits:/data"])
        (volumes.get_volume("ch07-visits").data / "visits").write_text("visit\n" * 5)

    runs = run_chapter_twice("07-volumes", tmp_path, leave_leftovers)
    assert failures(runs.first) == {}
    assert failures(runs.again) == {}, "the chapter must run again over what an earlier run left"
    assert len(runs.again) == len(runs.first) > 0
    assert unhelpful_test_failures(runs) == {}

    assert [container.name for container in containers.list(all=True)] == []
    assert [volume.name for volume in volumes.list_volumes()] == []
    assert not (runs.instructor_root / "work" / "07-volumes").exists()

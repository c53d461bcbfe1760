"""Chapter 06 (Dockerfiles) run twice in one lab, and unsolved: it cleans up and its checks give hints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import labcore.container as containers
from labcore.image.store import Store
from labcore.runtime import network
from tests.integration.notebooks.rerun import failures, run_chapter_twice, unhelpful_test_failures

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]


@pytest.fixture
def lab_roots(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Lab roots the test pointed LABCORE_ROOT at; whatever is left in them is removed at the end."""
    roots: list[Path] = []
    yield roots
    for root in roots:
        monkeypatch.setenv("LABCORE_ROOT", str(root))
        for container in containers.list(all=True):
            containers.remove(container, force=True)
        for item in network.list_networks():
            if item.name.startswith("ch06-"):
                network.remove_network(item.name)


def test_dockerfile_chapter_reruns_cleans_up_and_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lab_roots: list[Path]
) -> None:
    def leave_leftovers(root: Path) -> None:
        """What a run interrupted at exercise 4 leaves: the network, a running container, images, files."""
        lab_roots.append(root)
        monkeypatch.setenv("LABCORE_ROOT", str(root))
        network.create_network("ch06-net")
        containers.run("busybox", ["sleep", "600"], detach=True, name="ch06-web-run")
        Store().tag("busybox", "ch06-web:1")
        (root / "work" / "06-dockerfile" / "app").mkdir(parents=True)
        (root / "work" / "06-dockerfile" / "app" / "Dockerfile").write_text("FROM scratch\n")

    runs = run_chapter_twice("06-dockerfile", tmp_path, leave_leftovers)
    assert failures(runs.first) == {}
    assert failures(runs.again) == {}, "the chapter must run again over what an earlier run left"
    assert len(runs.again) == len(runs.first) > 0
    assert unhelpful_test_failures(runs) == {}

    assert [container.name for container in containers.list(all=True)] == []
    assert [item.name for item in network.list_networks() if item.name.startswith("ch06-")] == []
    names = [str(image.name) for image in Store().images() if image.name is not None]
    assert [name for name in names if "ch06-" in name] == []
    assert "docker.io/library/busybox:latest" in names
    assert not (runs.instructor_root / "work" / "06-dockerfile").exists()
    # the build cache stays, so that running the chapter again reuses the steps it built
    assert any((runs.instructor_root / "buildcache").iterdir())

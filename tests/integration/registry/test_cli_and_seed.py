"""The registry commands end to end, the lab's docker.io mirror, and seeding the lab registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labcore.cli.main import main
from labcore.image.record import ImageRecord
from labcore.image.store import Store
from labcore.registry.pull import pull_image
from labcore.registry.search import search_registry
from labcore.registry.seed import seed_lab_registry
from tests.registry_support import RegistryServer

pytestmark = pytest.mark.integration


def test_push_pull_by_digest_and_search_commands(plain_registry: RegistryServer, busybox: ImageRecord,
                                                  capsys: pytest.CaptureFixture[str], labcore_root: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = f"{plain_registry.host}/cli/busybox:stable"
    assert main(["push", "-q", "busybox", target]) == 0
    assert str(busybox.digest) in capsys.readouterr().out

    monkeypatch.setenv("LABCORE_ROOT", str(labcore_root.parent / "second-root"))
    assert main(["pull", "-q", f"{plain_registry.host}/cli/busybox@{busybox.digest}"]) == 0
    out = capsys.readouterr().out
    assert f"Digest: {busybox.digest}" in out
    assert Store().resolve(f"{plain_registry.host}/cli/busybox@{busybox.digest}").id == busybox.id

    assert main(["search", "--registry", plain_registry.host, "cli/"]) == 0
    out = capsys.readouterr().out
    assert "_catalog" in out
    assert any(line.split() == ["cli/busybox", "stable"] for line in out.splitlines())


def test_pull_progress_goes_to_stderr(plain_registry: RegistryServer, busybox: ImageRecord,
                                      capsys: pytest.CaptureFixture[str], labcore_root: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = f"{plain_registry.host}/cli/progress:1"
    assert main(["push", "-q", "busybox", target]) == 0
    monkeypatch.setenv("LABCORE_ROOT", str(labcore_root.parent / "second-root"))
    capsys.readouterr()
    assert main(["pull", target]) == 0
    err = capsys.readouterr().err
    assert f"{busybox.layers[0].digest.short}: done" in err


def test_seed_then_docker_hub_names_pull_through_the_lab_mirror(plain_registry: RegistryServer,
                                                                busybox: ImageRecord, store: Store,
                                                                labcore_root: Path, tmp_path: Path) -> None:
    results = seed_lab_registry(store, plain_registry.host)
    assert [str(result.reference) for result in results] == [f"{plain_registry.host}/library/busybox:latest"]
    hits = search_registry("library/", plain_registry.host)
    assert any(hit.repository == "library/busybox" and "latest" in hit.tags for hit in hits)

    mirrors = {"mirrors": {"docker.io": [plain_registry.url]}}
    (labcore_root / "registries.json").write_text(json.dumps(mirrors))
    fresh = Store(tmp_path / "fresh-store")
    result = pull_image("busybox", store=fresh)
    assert result.source == plain_registry.url
    assert fresh.resolve("busybox").digest == busybox.digest

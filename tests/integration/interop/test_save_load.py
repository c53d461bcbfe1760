"""``labcore save`` and ``labcore load`` round trips, and broken archives refused by name."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from labcore.cli.main import main
from labcore.errors import DigestError, NotFoundError, UsageError
from labcore.image.archive import ArchiveError, load_archive, save_images
from labcore.image.store import Store

pytestmark = pytest.mark.integration


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
                for member in tar if member.isfile()}


def _rewrite(archive: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of ``archive`` with members replaced (bytes) or dropped (None)."""
    out = archive.with_name("changed-" + archive.name)
    with tarfile.open(archive) as source, tarfile.open(out, "w") as target:
        for member in source:
            if member.name in changes:
                data = changes[member.name]
                if data is None:
                    continue
                member.size = len(data)
                target.addfile(member, io.BytesIO(data))
            else:
                target.addfile(member, source.extractfile(member) if member.isfile() else None)
    return out


def test_docker_format_has_layout_manifest_json_and_repositories(base_store: Store, tmp_path: Path) -> None:
    archive = tmp_path / "images.tar"
    save_images(["busybox", "hello-world"], archive, store=base_store)
    members = _members(archive)
    busybox = base_store.resolve("busybox")
    assert json.loads(members["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    manifest_json = json.loads(members["manifest.json"])
    assert manifest_json[0] == {
        "Config": f"blobs/sha256/{busybox.id.encoded}",
        "RepoTags": ["busybox:latest"],
        "Layers": [f"blobs/sha256/{busybox.layers[0].digest.encoded}"],
    }
    assert json.loads(members["repositories"])["busybox"] == {"latest": busybox.layers[0].digest.encoded}
    index = json.loads(members["index.json"])
    assert [entry["annotations"] for entry in index["manifests"]] == [
        {"io.containerd.image.name": "docker.io/library/busybox:latest",
         "org.opencontainers.image.ref.name": "latest"},
        {"io.containerd.image.name": "docker.io/library/hello-world:latest",
         "org.opencontainers.image.ref.name": "latest"},
    ]
    for name, data in members.items():
        if name.startswith("blobs/sha256/"):
            import hashlib

            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]


def test_oci_format_is_the_layout_only(base_store: Store, tmp_path: Path) -> None:
    archive = tmp_path / "images.tar"
    save_images(["busybox"], archive, archive_format="oci", store=base_store)
    names = set(_members(archive))
    assert {"oci-layout", "index.json"} <= names
    assert not {"manifest.json", "repositories"} & names


@pytest.mark.parametrize("archive_format", ["docker", "oci"])
def test_round_trip_into_an_empty_store_keeps_digests(base_store: Store, tmp_path: Path,
                                                       archive_format: str) -> None:
    archive = tmp_path / "images.tar"
    save_images(["busybox", "hello-world:latest"], archive, archive_format=archive_format,  # type: ignore[arg-type]
                store=base_store)
    other = Store(tmp_path / "other")
    loaded = load_archive(archive, store=other)
    assert [[name.familiar for name in image.names] for image in loaded] == [["busybox:latest"],
                                                                              ["hello-world:latest"]]
    for name in ("busybox", "hello-world"):
        assert other.resolve(name).digest == base_store.resolve(name).digest


def test_same_image_under_two_names_is_saved_once(base_store: Store, tmp_path: Path) -> None:
    base_store.tag("busybox", "mybox:1")
    archive = tmp_path / "images.tar"
    save_images(["busybox", "mybox:1"], archive, store=base_store)
    manifest_json = json.loads(_members(archive)["manifest.json"])
    assert [entry["RepoTags"] for entry in manifest_json] == [["busybox:latest", "mybox:1"]]
    [loaded] = load_archive(archive, store=Store(tmp_path / "other"))
    assert sorted(name.familiar for name in loaded.names) == ["busybox:latest", "mybox:1"]


def test_failed_save_leaves_no_partial_file_and_keeps_the_old_one(base_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    archive = out / "images.tar"
    archive.write_bytes(b"old")
    hello_layer = base_store.resolve("hello-world").layers[0].digest
    base_store.blob_path(hello_layer).unlink()
    # busybox is written into the archive before the missing hello-world layer is met
    with pytest.raises(NotFoundError, match=str(hello_layer)):
        save_images(["busybox", "hello-world"], archive, store=base_store)
    assert archive.read_bytes() == b"old"
    assert [entry.name for entry in out.iterdir()] == ["images.tar"]


def test_save_of_an_unknown_image_names_it(base_store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="missing:1"):
        save_images(["busybox", "missing:1"], tmp_path / "x.tar", store=base_store)
    assert not (tmp_path / "x.tar").exists()


def test_save_without_images_is_a_usage_error(base_store: Store, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        save_images([], tmp_path / "x.tar", store=base_store)


@pytest.fixture
def saved(base_store: Store, tmp_path: Path) -> Path:
    archive = tmp_path / "busybox.tar"
    save_images(["busybox"], archive, store=base_store)
    return archive


def test_altered_layer_blob_is_refused_naming_it(base_store: Store, saved: Path, tmp_path: Path) -> None:
    layer = f"blobs/sha256/{base_store.resolve('busybox').layers[0].digest.encoded}"
    data = bytearray(_members(saved)[layer])
    data[len(data) // 2] ^= 0xFF
    other = Store(tmp_path / "other")
    with pytest.raises(DigestError, match=layer):
        load_archive(_rewrite(saved, {layer: bytes(data)}), store=other)
    assert other.images() == []


def test_altered_manifest_is_refused_naming_it(base_store: Store, saved: Path, tmp_path: Path) -> None:
    manifest = f"blobs/sha256/{base_store.resolve('busybox').digest.encoded}"
    changed = _members(saved)[manifest].replace(b'"schemaVersion":2', b'"schemaVersion":2 ')
    with pytest.raises(DigestError, match=manifest):
        load_archive(_rewrite(saved, {manifest: changed}), store=Store(tmp_path / "other"))


def test_missing_config_blob_is_named(base_store: Store, saved: Path, tmp_path: Path) -> None:
    config = f"blobs/sha256/{base_store.resolve('busybox').id.encoded}"
    with pytest.raises(ArchiveError, match=config):
        load_archive(_rewrite(saved, {config: None}), store=Store(tmp_path / "other"))


def test_archive_without_index_or_manifest_is_no_image_archive(saved: Path, tmp_path: Path) -> None:
    stripped = _rewrite(saved, {"index.json": None, "manifest.json": None})
    with pytest.raises(ArchiveError, match=r"neither index\.json nor manifest\.json"):
        load_archive(stripped, store=Store(tmp_path / "o"))


def test_cli_save_and_load(base_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "cli.tar"
    assert main(["save", "-o", str(archive), "busybox", "hello-world"]) == 0
    monkeypatch.setenv("LABCORE_ROOT", str(tmp_path / "second-root"))
    assert main(["load", "-i", str(archive)]) == 0
    assert capsys.readouterr().out.splitlines() == ["Loaded image: busybox:latest",
                                                    "Loaded image: hello-world:latest"]
    assert Store().resolve("busybox").digest == base_store.resolve("busybox").digest


def test_cli_load_reports_a_bad_archive(labcore_root: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"this is not a tar archive at all" * 40)
    assert main(["load", "-i", str(bad)]) == 1
    error = capsys.readouterr().err
    assert "bad.tar is not a tar archive" in error and "hint:" in error


def test_save_to_a_pipe_and_load_from_it(base_store: Store, tmp_path: Path) -> None:
    source_root, target_root = base_store.root.parent, tmp_path / "target-root"
    save = subprocess.Popen([sys.executable, "-m", "labcore", "save", "busybox"], stdout=subprocess.PIPE,
                            env={**os.environ, "LABCORE_ROOT": str(source_root)})
    try:
        load = subprocess.run([sys.executable, "-m", "labcore", "load"], stdin=save.stdout, capture_output=True,
                              text=True, check=False, env={**os.environ, "LABCORE_ROOT": str(target_root)})
    finally:
        assert save.stdout is not None
        save.stdout.close()
        assert save.wait() == 0
    assert load.returncode == 0, load.stderr
    assert load.stdout == "Loaded image: busybox:latest\n"
    assert Store(target_root / "store").resolve("busybox").digest == base_store.resolve("busybox").digest
    assert list((target_root / "tmp").iterdir()) == []

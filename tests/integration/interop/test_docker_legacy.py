"""``docker save`` archives in the format before Docker 25, built by hand, load and verify."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.errors import DigestError
from labcore.image import mediatypes
from labcore.image.archive import ArchiveError, load_archive
from labcore.image.rootfs import flatten
from labcore.image.store import Store
from tests.integration.interop.legacy_archive import LegacyImage, layer_tar, legacy_archive, sha256_hex

pytestmark = pytest.mark.integration

BASE = layer_tar({"etc/os-release": b"NAME=legacy\n", "bin/tool": b"#!/bin/sh\necho tool\n"})
APP = layer_tar({"app/run": b"echo app\n"})


def _write(tmp_path: Path, data: bytes) -> Path:
    archive = tmp_path / "legacy.tar"
    archive.write_bytes(data)
    return archive


def test_images_sharing_layers_load_with_names_and_ids(labcore_root: Path, tmp_path: Path) -> None:
    base = LegacyImage([BASE], ["legacy/base:1"])
    app = LegacyImage([BASE, APP], ["legacy/app:1", "legacy/app:latest"], cmd=["/app/run"])
    # APP on no parent has another layer id: Docker links its layer.tar to the one already written
    solo = LegacyImage([APP], ["legacy/solo:1"])
    data = legacy_archive([base, app, solo])
    assert any(member.issym() for member in _members(data))
    loaded = load_archive(_write(tmp_path, data))
    store = Store()
    assert [[name.familiar for name in image.names] for image in loaded] == [
        ["legacy/base:1"], ["legacy/app:1", "legacy/app:latest"], ["legacy/solo:1"]
    ]
    assert [image.id for image in loaded] == [Digest("sha256", sha256_hex(image.config))
                                            for image in (base, app, solo)]
    image = store.resolve("legacy/app:latest")
    assert image.config.config.cmd == ("/app/run",)
    assert [(layer.media_type, str(layer.digest)) for layer in image.layers] == [
        (mediatypes.OCI_LAYER, f"sha256:{sha256_hex(BASE)}"),
        (mediatypes.OCI_LAYER, f"sha256:{sha256_hex(APP)}"),
    ]
    assert store.resolve("legacy/app:1").digest == image.digest
    assert store.resolve("legacy/solo:1").layers[0].digest == image.layers[1].digest


def test_untagged_image_is_loaded_by_id(labcore_root: Path, tmp_path: Path) -> None:
    image = LegacyImage([BASE], None)
    [loaded] = load_archive(_write(tmp_path, legacy_archive([image])))
    assert loaded.names == ()
    assert Store().resolve(str(loaded.id)).id == loaded.id


@pytest.mark.root
def test_loaded_layers_unpack_with_owners_and_content(labcore_root: Path, tmp_path: Path) -> None:
    load_archive(_write(tmp_path, legacy_archive([LegacyImage([BASE, APP], ["legacy/app:1"])])))
    rootfs = tmp_path / "rootfs"
    flatten(Store().resolve("legacy/app:1"), rootfs)
    assert (rootfs / "app" / "run").read_bytes() == b"echo app\n"
    status = (rootfs / "etc" / "os-release").stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o777) == (1000, 100, 0o640)


def test_altered_layer_is_refused_naming_the_member(labcore_root: Path, tmp_path: Path) -> None:
    image = LegacyImage([BASE], ["legacy/base:1"])
    clean = legacy_archive([image])
    layer_member = next(member.name for member in _members(clean) if member.name.endswith("/layer.tar"))
    tampered = layer_tar({"etc/os-release": b"NAME=evil!!\n", "bin/tool": b"#!/bin/sh\necho tool\n"})
    archive = _write(tmp_path, legacy_archive([image], overrides={layer_member: tampered}))
    with pytest.raises(DigestError, match=layer_member):
        load_archive(archive)
    assert Store().images() == []


def test_config_whose_name_lies_is_refused(labcore_root: Path, tmp_path: Path) -> None:
    fake_name = f"{'0' * 64}.json"
    archive = _write(tmp_path, legacy_archive([LegacyImage([BASE], ["x:1"])], config_name=fake_name))
    with pytest.raises(DigestError, match=fake_name):
        load_archive(archive)


def test_missing_layer_member_is_named(labcore_root: Path, tmp_path: Path) -> None:
    image = LegacyImage([BASE], ["x:1"])
    manifest = (f'[{{"Config": "{sha256_hex(image.config)}.json", "RepoTags": ["x:1"], '
                f'"Layers": ["gone/layer.tar"]}}]')
    archive = _write(tmp_path, legacy_archive([image], overrides={"manifest.json": manifest.encode()}))
    with pytest.raises(ArchiveError, match=r"gone/layer\.tar"):
        load_archive(archive)


def test_layer_count_must_match_the_config(labcore_root: Path, tmp_path: Path) -> None:
    image = LegacyImage([BASE, APP], ["x:1"])
    clean = legacy_archive([image])
    first_layer = next(member.name for member in _members(clean) if member.name.endswith("/layer.tar"))
    manifest = (f'[{{"Config": "{sha256_hex(image.config)}.json", "RepoTags": ["x:1"], '
                f'"Layers": ["{first_layer}"]}}]')
    archive = _write(tmp_path, legacy_archive([image], overrides={"manifest.json": manifest.encode()}))
    with pytest.raises(ArchiveError, match="lists 2 layers"):
        load_archive(archive)


def _members(archive: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return tar.getmembers()


def test_gzip_compressed_layer_is_checked_against_its_diff_id(labcore_root: Path, tmp_path: Path) -> None:
    image = LegacyImage([BASE], ["legacy/gz:1"])
    layer_member = next(m.name for m in _members(legacy_archive([image])) if m.name.endswith("/layer.tar"))
    compressed = gzip.compress(BASE, mtime=0)
    load_archive(_write(tmp_path, legacy_archive([image], overrides={layer_member: compressed})))
    [layer] = Store().resolve("legacy/gz:1").layers
    assert layer.media_type == mediatypes.OCI_LAYER_GZIP
    assert str(layer.digest) == f"sha256:{sha256_hex(compressed)}"


def test_gzip_compressed_layer_with_other_content_is_refused(labcore_root: Path, tmp_path: Path) -> None:
    image = LegacyImage([BASE], ["legacy/gz:1"])
    layer_member = next(m.name for m in _members(legacy_archive([image])) if m.name.endswith("/layer.tar"))
    compressed = gzip.compress(APP, mtime=0)
    archive = _write(tmp_path, legacy_archive([image], overrides={layer_member: compressed}))
    with pytest.raises(DigestError, match="uncompressed digest"):
        load_archive(archive)

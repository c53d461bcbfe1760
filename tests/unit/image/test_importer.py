from __future__ import annotations

import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path

import pytest

from labcore.errors import InvalidReferenceError, LayerError, NotFoundError
from labcore.fs.compression import Compression
from labcore.image import mediatypes
from labcore.image.importer import import_rootfs
from labcore.image.layerstream import open_layer
from labcore.image.store import Store
from tests.unit.image.builders import directory, file, layer_tar, symlink
from tests.unit.image.oci_schemas import validate


def make_rootfs(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("lab\n")
    (root / "bin").mkdir()
    script = root / "bin" / "hello"
    script.write_text("#!/bin/sh\necho hello\n")
    script.chmod(0o755)
    (root / "bin" / "hi").symlink_to("hello")
    return root


def layer_members(store: Store, image_name: str) -> dict[str, tarfile.TarInfo]:
    image = store.resolve(image_name)
    layer = image.layers[0]
    with open_layer(store, layer) as raw:
        data = raw.read()
    assert hashlib.sha256(data).hexdigest() == image.diff_ids[0].encoded
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {member.name: member for member in archive.getmembers()}


def test_import_a_directory(labcore_root: Path, tmp_path: Path) -> None:
    rootfs = make_rootfs(tmp_path / "rootfs")
    image = import_rootfs(
        rootfs, "imported:1", changes=['CMD ["/bin/hello"]', "ENV A=b"], message="from a dir"
    )
    store = Store()
    assert store.resolve("imported:1").id == image.id
    assert image.layers[0].media_type == mediatypes.OCI_LAYER_GZIP
    assert image.config.config.cmd == ("/bin/hello",)
    assert image.config.config.env == ("A=b",)
    assert image.config.history[0].comment == "from a dir"
    assert image.config.history[0].created_by == "labcore import"
    validate("config", store.read_blob(image.id))
    validate("manifest", store.read_blob(image.digest))
    validate("index", (store.root / "index.json").read_bytes())
    members = layer_members(store, "imported:1")
    assert set(members) == {"etc", "etc/hostname", "bin", "bin/hello", "bin/hi"}
    assert members["bin/hello"].mode & 0o777 == 0o755
    assert members["bin/hi"].issym() and members["bin/hi"].linkname == "hello"
    assert members["etc"].uname == ""


def test_import_a_compressed_tarball(labcore_root: Path, tmp_path: Path) -> None:
    raw = layer_tar([directory("etc"), file("etc/motd", "hi\n"), symlink("motd", "etc/motd")])
    tarball = tmp_path / "rootfs.tar.gz"
    tarball.write_bytes(gzip.compress(raw))
    image = import_rootfs(tarball, "fromtar", compression=Compression.ZSTD)
    assert image.layers[0].media_type == mediatypes.OCI_LAYER_ZSTD
    # the layer is the tarball's content, re-compressed: same diff id
    assert image.diff_ids[0].encoded == hashlib.sha256(raw).hexdigest()
    assert image.config.history[0].comment == f"Imported from {tarball}"


def test_import_from_stdin(labcore_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = layer_tar([file("only", "x")])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    image = import_rootfs("-", "stdin:latest")
    assert image.diff_ids[0].encoded == hashlib.sha256(raw).hexdigest()
    assert list(Store().blobs.temporary_dir.iterdir()) == []


def test_import_refuses_bad_input_before_writing(labcore_root: Path, tmp_path: Path) -> None:
    store = Store()
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("this is not an archive\n" * 40)
    with pytest.raises(LayerError):
        import_rootfs(not_tar, "bad")
    with pytest.raises(NotFoundError, match="does-not-exist"):
        import_rootfs(tmp_path / "does-not-exist", "bad")
    with pytest.raises(InvalidReferenceError, match="Bad:Name"):
        import_rootfs(make_rootfs(tmp_path / "rootfs"), "Bad:Name")
    assert store.images() == []
    assert list((store.root / "blobs" / "sha256").iterdir()) == []

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from labcore.image.archive_docker import DockerManifestEntry, docker_manifest_json, read_docker_manifest
from labcore.image.archive_reader import ArchiveError, ArchiveReader
from labcore.image.reference import parse_reference


def _archive(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return path


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def test_members_are_found_by_normalized_name_and_streamed(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.tar", [("./dir//file", b"content")])
    with ArchiveReader(path) as reader:
        assert reader.has("dir/file") and reader.has("./dir/file")
        assert reader.size("dir/file") == 7
        with reader.open("dir/file") as stream:
            assert stream.read() == b"content"


def test_symbolic_and_hard_links_are_followed(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.tar", [
        ("one/layer.tar", b"layer"),
        _link("two/layer.tar", "../one/layer.tar"),
        _link("three/layer.tar", "one/layer.tar", tarfile.LNKTYPE),
    ])
    with ArchiveReader(path) as reader:
        assert reader.read_bytes("two/layer.tar") == b"layer"
        assert reader.read_bytes("three/layer.tar") == b"layer"


@pytest.mark.parametrize(("members", "name", "message"), [
    ([("a", b"x")], "b", "member 'b' is missing"),
    ([_link("loop", "loop")], "loop", "loop of links"),
    ([_link("dangling", "nowhere")], "dangling", "member 'dangling' is missing"),
])
def test_bad_members_are_named(tmp_path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], name: str,
                               message: str) -> None:
    with ArchiveReader(_archive(tmp_path / "a.tar", members)) as reader, pytest.raises(ArchiveError,
                                                                                        match=message):
        reader.open(name)


def test_directory_is_not_a_readable_member(tmp_path: Path) -> None:
    directory = tarfile.TarInfo("blobs")
    directory.type = tarfile.DIRTYPE
    with ArchiveReader(_archive(tmp_path / "a.tar", [directory])) as reader, pytest.raises(
        ArchiveError, match="not a regular file"
    ):
        reader.open("blobs")


def test_invalid_json_names_the_member(tmp_path: Path) -> None:
    with ArchiveReader(_archive(tmp_path / "a.tar", [("manifest.json", b"{nope")])) as reader, pytest.raises(
        ArchiveError, match=r"'manifest\.json' is not valid JSON"
    ):
        reader.read_json("manifest.json")


def test_a_file_that_is_no_tar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 100)
    with pytest.raises(ArchiveError, match="is not a tar archive"):
        ArchiveReader(path)


def test_gzip_compressed_archives_are_read(tmp_path: Path) -> None:
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("index.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    with ArchiveReader(path) as reader:
        assert reader.read_json("index.json") == {}


def test_docker_manifest_round_trips_and_untagged_is_null(tmp_path: Path) -> None:
    entries = [DockerManifestEntry("blobs/sha256/aa", ("busybox:latest",), ("blobs/sha256/bb",)),
               DockerManifestEntry("blobs/sha256/cc", (), ())]
    data = docker_manifest_json(entries)
    assert json.loads(data)[1]["RepoTags"] is None
    with ArchiveReader(_archive(tmp_path / "a.tar", [("manifest.json", data)])) as reader:
        assert read_docker_manifest(reader) == entries


@pytest.mark.parametrize(("document", "message"), [
    ({"Config": "x.json"}, "is not a list"),
    ([{"RepoTags": None, "Layers": []}], "entry 0 has no Config"),
    ([{"Config": "c.json", "RepoTags": "busybox", "Layers": []}], "entry 0 RepoTags must be a list"),
    ([{"Config": "c.json", "RepoTags": None}], "entry 0 Layers must be a list"),
])
def test_bad_docker_manifest_names_the_entry(tmp_path: Path, document: object, message: str) -> None:
    path = _archive(tmp_path / "a.tar", [("manifest.json", json.dumps(document).encode())])
    with ArchiveReader(path) as reader, pytest.raises(ArchiveError, match=message):
        read_docker_manifest(reader)


def test_repositories_map_familiar_names_to_top_layers() -> None:
    from labcore.digest import Digest
    from labcore.image.archive_docker import repositories_json

    top = Digest("sha256", "ab" * 32)
    tagged = [(parse_reference("busybox:1"), top), (parse_reference("localhost:5000/app:v2"), top)]
    data = repositories_json(tagged)
    assert json.loads(data) == {"busybox": {"1": "ab" * 32}, "localhost:5000/app": {"v2": "ab" * 32}}

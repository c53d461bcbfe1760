"""Build small real images in a store for tests: tar layers from a list of entries."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labcore.digest import Digest
from labcore.fs.compression import Compression, open_compressed
from labcore.image import mediatypes
from labcore.image.imageconfig import ContainerConfig, HistoryEntry, ImageConfig
from labcore.image.manifest import Manifest
from labcore.image.record import ImageRecord
from labcore.image.store import Store


@dataclass(frozen=True)
class Entry:
    """One tar member: ``kind`` is file, dir, symlink or whiteout/opaque markers as plain files."""

    name: str
    kind: str = "file"
    data: bytes = b""
    target: str = ""
    mode: int = 0o644


def file(name: str, data: bytes | str, mode: int = 0o644) -> Entry:
    return Entry(name, "file", data.encode() if isinstance(data, str) else data, mode=mode)


def directory(name: str, mode: int = 0o755) -> Entry:
    return Entry(name, "dir", mode=mode)


def symlink(name: str, target: str) -> Entry:
    return Entry(name, "symlink", target=target)


def whiteout(path: str) -> Entry:
    parent, _, base = path.rpartition("/")
    return Entry(f"{parent}/.wh.{base}" if parent else f".wh.{base}")


def opaque(directory_path: str) -> Entry:
    return Entry(f"{directory_path}/.wh..wh..opq")


def layer_tar(entries: Sequence[Entry]) -> bytes:
    """An uncompressed PAX tar with ``entries`` in order, owned by 0:0, mtime 0."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mode = entry.mode
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif entry.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                archive.addfile(info)
            else:
                info.size = len(entry.data)
                archive.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


def compress(data: bytes, compression: Compression) -> bytes:
    if compression is Compression.GZIP:
        return gzip.compress(data, mtime=0)
    out = io.BytesIO()
    with open_compressed(out, compression) as writer:
        writer.write(data)
    return out.getvalue()


def put_image(
    store: Store,
    layers: Sequence[Sequence[Entry]],
    names: Sequence[str] = (),
    *,
    compression: Compression = Compression.GZIP,
    cmd: tuple[str, ...] | None = ("/bin/sh",),
    created: str = "2024-01-02T03:04:05Z",
    diff_ids: Sequence[Digest] | None = None,
) -> ImageRecord:
    """Store an image with these layers (base first) and return its record (or the untagged one)."""
    layer_descriptors = []
    computed = []
    history = []
    for number, entries in enumerate(layers):
        raw = layer_tar(entries)
        computed.append(Digest.of_bytes(raw))
        layer_descriptors.append(
            store.put_bytes(compress(raw, compression), mediatypes.OCI_LAYER + compression.suffix)
        )
        history.append(HistoryEntry(created=created, created_by=f"layer {number}"))
    config = ImageConfig(
        architecture="amd64",
        os="linux",
        diff_ids=tuple(diff_ids if diff_ids is not None else computed),
        config=ContainerConfig(cmd=cmd, env=("PATH=/bin",)),
        history=(*history, HistoryEntry(created=created, created_by="CMD", empty_layer=True)),
        created=created,
    )
    manifest = Manifest(config=store.put_json(config), layers=tuple(layer_descriptors))
    return store.add_image(store.put_json(manifest), names)[0]


# two layers whose top one deletes a file (whiteout) and hides a directory's lower contents (opaque)
LAYERED_BASE = [
    directory("etc"),
    file("etc/a", "A"),
    file("etc/b", "B"),
    directory("data"),
    file("data/x", "x"),
    directory("data/sub"),
    file("data/sub/y", "y"),
]
LAYERED_TOP = [
    directory("etc"),
    whiteout("etc/a"),
    file("etc/c", "C"),
    directory("data"),
    opaque("data"),
    file("data/z", "z"),
]


def tree(root: Path) -> dict[str, str]:
    """Every path below ``root`` with its content (files) or kind."""
    found = {}
    for directory_path, dirnames, filenames in os.walk(root):
        for name in dirnames:
            found[os.path.relpath(os.path.join(directory_path, name), root)] = "<dir>"
        for name in filenames:
            path = os.path.join(directory_path, name)
            found[os.path.relpath(path, root)] = Path(path).read_text()
    return found


EXPECTED_LAYERED = {"etc": "<dir>", "etc/b": "B", "etc/c": "C", "data": "<dir>", "data/z": "z"}

"""Build ``docker save`` archives in the format Docker wrote before version 25, by hand.

Layout: ``<layer id>/layer.tar`` (uncompressed), ``<layer id>/json``, ``<layer id>/VERSION``,
``<config sha256 hex>.json``, ``manifest.json`` and ``repositories``. A layer already written
for an earlier image is linked (``../<id>/layer.tar``), as Docker does.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field


def layer_tar(files: dict[str, bytes]) -> bytes:
    """An uncompressed layer holding ``files`` (``path: content``), parents created."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directories = sorted({"/".join(path.split("/")[:depth]) for path in files
                              for depth in range(1, path.count("/") + 1)})
        for directory in directories:
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.uid, info.gid = len(content), 0o640, 1000, 100
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class LegacyImage:
    """One image of the archive: its layers (bytes, base first), tags and command."""

    layers: list[bytes]
    repo_tags: list[str] | None
    cmd: list[str] = field(default_factory=lambda: ["sh"])

    @property
    def config(self) -> bytes:
        diff_ids = [f"sha256:{sha256_hex(layer)}" for layer in self.layers]
        return json.dumps({
            "architecture": "amd64", "os": "linux", "created": "2020-01-01T00:00:00Z",
            "config": {"Cmd": self.cmd, "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"layer {number}"} for number in range(len(self.layers))],
        }).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def legacy_archive(images: list[LegacyImage], *, config_name: str | None = None,
                   overrides: dict[str, bytes] | None = None) -> bytes:
    """The archive's bytes; ``overrides`` replaces members' content (to make broken archives)."""
    overrides = overrides or {}
    buffer = io.BytesIO()
    manifest, repositories = [], {}
    written: dict[str, str] = {}
    layer_ids: set[str] = set()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for image in images:
            parent, layer_names = "", []
            for layer in image.layers:
                layer_id = sha256_hex(f"{parent} {sha256_hex(layer)}".encode())
                name = f"{layer_id}/layer.tar"
                digest = sha256_hex(layer)
                if name in layer_ids:  # the same layer on the same parent: the same id, written once
                    layer_names.append(name)
                    parent = layer_id
                    continue
                layer_ids.add(name)
                if digest in written:
                    link = tarfile.TarInfo(name)
                    link.type, link.linkname = tarfile.SYMTYPE, f"../{written[digest]}"
                    tar.addfile(link)
                else:
                    _add(tar, name, overrides.get(name, layer))
                    written[digest] = name
                _add(tar, f"{layer_id}/VERSION", b"1.0")
                _add(tar, f"{layer_id}/json", json.dumps({"id": layer_id, "parent": parent}).encode())
                layer_names.append(name)
                parent = layer_id
            config = image.config
            name = config_name or f"{sha256_hex(config)}.json"
            _add(tar, name, overrides.get(name, config))
            manifest.append({"Config": name, "RepoTags": image.repo_tags, "Layers": layer_names})
            for tag in image.repo_tags or []:
                repository, _, version = tag.rpartition(":")
                repositories.setdefault(repository, {})[version] = parent
        _add(tar, "manifest.json", overrides.get("manifest.json", json.dumps(manifest).encode()))
        _add(tar, "repositories", json.dumps(repositories).encode())
    return buffer.getvalue()

"""The build cache: which image a step made from a given parent, instruction and inputs.

Like Docker's classic builder, a step is reused when its parent image, its instruction and (for
COPY/ADD) the content of what it copies are the same. Entries are small JSON files under
``$LABCORE_ROOT/buildcache``, so the cache survives across processes; the images they name are
kept as blobs (not in ``index.json``). ``labcore system prune`` clears the cache, after which the
blobs of intermediate images are collected.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from labcore.config import settings
from labcore.digest import Digest
from labcore.fs.atomic import write_atomic
from labcore.image.descriptor import Descriptor
from labcore.image.record import ImageRecord
from labcore.image.store import Store

__all__ = ["BuildCache", "cache_key"]


def cache_key(parent: Digest | None, instruction: str, inputs: str = "") -> str:
    """The key of one step: parent manifest digest, the expanded instruction, and its inputs' hash."""
    text = json.dumps([str(parent) if parent else "scratch", instruction, inputs])
    return hashlib.sha256(text.encode()).hexdigest()


class BuildCache:
    """Cache entries in one directory, each naming the manifest a step produced."""

    def __init__(self, directory: Path | None = None, store: Store | None = None) -> None:
        self.directory = directory or settings().root / "buildcache"
        self.store = store or Store()

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def lookup(self, key: str) -> ImageRecord | None:
        """The image a step with this key made, if it and all its blobs are still there."""
        try:
            entry = json.loads(self._path(key).read_bytes())
            descriptor = Descriptor.from_dict(entry["manifest"], "build cache entry")
        except (OSError, ValueError, KeyError):
            return None
        if not self.store.has_blob(descriptor.digest):
            return None
        manifest = self.store.read_manifest(descriptor)
        if not all(self.store.has_blob(blob.digest) for blob in (manifest.config, *manifest.layers)):
            return None
        return ImageRecord(None, descriptor, descriptor, manifest, self.store.read_config(manifest.config))

    def record(self, key: str, image: ImageRecord, created_by: str) -> None:
        """Remember that the step with ``key`` made ``image``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        entry = {"manifest": image.manifest_descriptor.to_dict(), "created_by": created_by}
        write_atomic(self._path(key), json.dumps(entry).encode())

    def entries(self) -> list[Path]:
        """The cache files."""
        return sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []

    def clear(self) -> int:
        """Forget every entry; return how many there were."""
        removed = 0
        for path in self.entries():
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def size(self) -> int:
        """Bytes of the intermediate images' layers the cache refers to (an upper bound)."""
        total = 0
        for path in self.entries():
            try:
                descriptor = Descriptor.from_dict(json.loads(path.read_bytes())["manifest"], str(path))
                total += sum(layer.size for layer in self.store.read_manifest(descriptor).layers[-1:])
            except (OSError, ValueError, KeyError):
                continue
        return total

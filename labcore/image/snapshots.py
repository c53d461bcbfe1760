"""Unpacked layers, one directory per chain id, shared by every image that has that layer stack.

``settings().snapshots/<chain-id-hex>/`` holds exactly one layer's diff, its whiteouts in overlayfs
form, so the snapshots of an image, top first, are the ``lowerdir`` stack of its rootfs mount.
A snapshot is named by the *chain id* (the layer and everything below it), not the layer's own
diff id, because a whiteout only means something on top of the layers it was made against.

A layer is unpacked into a temporary directory, its diff id checked against the image config,
and the directory renamed into place; a mismatch raises :class:`DigestError` and leaves nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from labcore.config import settings
from labcore.digest import Digest
from labcore.errors import StoreError
from labcore.fs.atomic import locked
from labcore.image.descriptor import Descriptor
from labcore.image.record import ImageRecord
from labcore.image.store import Store

__all__ = ["SnapshotStore", "layer_stack"]

_TEMP_PREFIX = ".unpack-"


def layer_stack(image: ImageRecord) -> list[tuple[Descriptor, Digest, Digest]]:
    """``(layer descriptor, diff id, chain id)`` for each layer of ``image``, base first."""
    if len(image.layers) != len(image.diff_ids):
        raise StoreError(
            f"image {image.display_name}: the manifest has {len(image.layers)} layers "
            f"but the config lists {len(image.diff_ids)} diff ids",
            hint="the image is broken; pull or build it again",
        )
    return list(zip(image.layers, image.diff_ids, image.chain_ids, strict=True))


class SnapshotStore:
    """The unpacked layers under ``root`` (default ``settings().snapshots``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else settings().snapshots
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.root / ".lock"

    def path(self, chain_id: Digest) -> Path:
        """The directory of the snapshot ``chain_id`` (whether or not it exists)."""
        return self.root / chain_id.encoded

    def has(self, chain_id: Digest) -> bool:
        """True when the snapshot is unpacked."""
        return self.path(chain_id).is_dir()

    def chain_ids(self) -> list[Digest]:
        """Every snapshot present."""
        return sorted(
            Digest("sha256", entry.name)
            for entry in self.root.iterdir()
            if not entry.name.startswith(".") and entry.is_dir()
        )

    def prepare(self, image: ImageRecord, store: Store | None = None) -> list[Path]:
        """Unpack whatever layers of ``image`` are missing; return its snapshot dirs, base first."""
        store = store or Store()
        paths = []
        with locked(self._lock_path, shared=True):
            for layer, diff_id, chain_id in layer_stack(image):
                if not self.has(chain_id):
                    self._unpack(store, layer, diff_id, chain_id)
                paths.append(self.path(chain_id))
        return paths

    def _unpack(self, store: Store, layer: Descriptor, diff_id: Digest, chain_id: Digest) -> None:
        from labcore.fs.apply import apply_layer  # only when a layer is unpacked: keeps `run` light
        from labcore.image.layerstream import open_layer

        temp = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=self.root))
        try:
            os.chmod(temp, 0o755)  # noqa: S103 - the layer root becomes a world-readable directory
            with open_layer(store, layer) as tar:
                # whiteouts stored as overlayfs's own: the snapshot is used as an overlay lower dir
                apply_layer(tar, temp, expected_diff_id=diff_id, overlay_whiteouts=True)
            try:
                os.rename(temp, self.path(chain_id))
            except OSError:
                if not self.has(chain_id):
                    raise
                # another process unpacked the same layer meanwhile: keep theirs
                shutil.rmtree(temp)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise

    def prune(self, keep: Iterable[Digest] | Callable[[], Iterable[Digest]]) -> tuple[list[Digest], int]:
        """Remove snapshots not in ``keep`` and leftovers of interrupted unpacks.

        ``keep`` may be a function, called once the lock is held, so that an image added while
        prune waited keeps its snapshots. Waits until no :meth:`prepare` is running. Returns the
        chain ids removed and the bytes freed.
        """
        removed, freed = [], 0
        with locked(self._lock_path):
            kept = set(keep() if callable(keep) else keep)
            for entry in self.root.iterdir():
                if entry.name.startswith(_TEMP_PREFIX):
                    freed += _remove_tree(entry)
                    continue
                if entry.name.startswith(".") or not entry.is_dir():
                    continue
                chain_id = Digest("sha256", entry.name)
                if chain_id not in kept:
                    freed += _remove_tree(entry)
                    removed.append(chain_id)
        return removed, freed


def _remove_tree(path: Path) -> int:
    size = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                size += os.lstat(os.path.join(directory, name)).st_size
    shutil.rmtree(path)
    return size

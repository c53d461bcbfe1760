"""The ``index.json`` and ``oci-layout`` files of an OCI image layout.

``index.json`` lists the manifests the layout holds; a manifest's tag is its
``org.opencontainers.image.ref.name`` annotation. Every change happens under an exclusive
``flock`` and is written atomically, so concurrent writers (several ``labcore`` processes) lose
nothing and readers never see half a file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from labcore.fs.atomic import locked, write_atomic
from labcore.image import mediatypes
from labcore.image.canonical import canonical_json
from labcore.image.descriptor import Descriptor
from labcore.image.manifest import Index

__all__ = ["IndexFile", "ensure_layout"]


def ensure_layout(layout: Path) -> None:
    """Create an empty OCI image layout at ``layout`` unless one is there already."""
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / ".labcore").mkdir(exist_ok=True)
    marker = layout / "oci-layout"
    if not marker.exists():
        write_atomic(marker, canonical_json({"imageLayoutVersion": mediatypes.OCI_LAYOUT_VERSION}))
    index = layout / "index.json"
    if not index.exists():
        with locked(layout / ".labcore" / "index.lock"):
            if not index.exists():
                write_atomic(index, Index(manifests=()).to_json())


class IndexFile:
    """Read and update the ``index.json`` of one layout."""

    def __init__(self, layout: Path) -> None:
        self.path = layout / "index.json"
        self.lock_path = layout / ".labcore" / "index.lock"

    def read(self) -> Index:
        """The current index (an empty one if the file does not exist yet)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Index(manifests=())
        return Index.from_json(data, what=str(self.path))

    @contextlib.contextmanager
    def update(self) -> Iterator[list[Descriptor]]:
        """Lock, read the manifests into a list for the caller to change, then write it back.

        Nothing is written when the block raises or leaves the list unchanged.
        """
        with locked(self.lock_path):
            current = self.read()
            manifests = list(current.manifests)
            yield manifests
            if manifests != list(current.manifests):
                updated = Index(manifests=tuple(manifests), annotations=current.annotations)
                write_atomic(self.path, updated.to_json())

"""``system prune`` and ``system df`` for everything labcore keeps on disk, open to other modules.

The image layer does not know about containers (they live in a higher layer), so higher layers
*contribute*: a :class:`GcContribution` can name roots that must survive (the image blobs and
snapshots a container still uses), prune its own things first (stopped containers), and report
its disk usage. Contributions are passed in by the caller (the CLI collects them), so nothing
here imports a higher layer and nothing is registered at import time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labcore.digest import Digest
from labcore.image.snapshots import SnapshotStore
from labcore.image.store import Store

__all__ = ["GcContribution", "PruneResult", "Roots", "UsageRow", "disk_usage", "system_prune"]


@dataclass(frozen=True)
class Roots:
    """Things garbage collection must keep although no image name reaches them."""

    blobs: frozenset[Digest] = frozenset()
    chain_ids: frozenset[Digest] = frozenset()


@dataclass(frozen=True)
class PruneResult:
    """What one prune step removed: ``removed`` names what (ids, names), ``freed`` counts bytes."""

    kind: str
    removed: tuple[str, ...] = ()
    freed: int = 0


@dataclass(frozen=True)
class UsageRow:
    """One line of ``system df``: TYPE, TOTAL, ACTIVE, SIZE and RECLAIMABLE (bytes)."""

    kind: str
    total: int
    active: int
    size: int
    reclaimable: int


@dataclass(frozen=True)
class GcContribution:
    """What a higher layer adds to ``system prune`` / ``system df``; every part is optional.

    ``prune`` runs before images are collected (so the roots of removed containers are gone);
    ``roots`` is asked after that.
    """

    name: str
    roots: Callable[[], Roots] | None = None
    prune: Callable[[], PruneResult] | None = None
    usage: Callable[[], UsageRow] | None = None


def _collect_roots(contributions: Sequence[GcContribution]) -> Roots:
    blobs: set[Digest] = set()
    chains: set[Digest] = set()
    for contribution in contributions:
        if contribution.roots is not None:
            roots = contribution.roots()
            blobs |= roots.blobs
            chains |= roots.chain_ids
    return Roots(frozenset(blobs), frozenset(chains))


def _image_chain_ids(store: Store) -> set[Digest]:
    return {chain for image in store.images() for chain in image.chain_ids}


def system_prune(
    contributions: Sequence[GcContribution] = (),
    *,
    store: Store | None = None,
    snapshots: SnapshotStore | None = None,
) -> list[PruneResult]:
    """Run every contribution's prune, then drop unreferenced blobs and snapshots."""
    store = store or Store()
    snapshots = snapshots or SnapshotStore()
    results = [contribution.prune() for contribution in contributions if contribution.prune is not None]
    roots = _collect_roots(contributions)
    blob_freed = store.prune(extra_roots=roots.blobs)
    results.append(PruneResult("blobs", (), blob_freed))
    removed, snapshot_freed = snapshots.prune(keep=lambda: _image_chain_ids(store) | roots.chain_ids)
    results.append(PruneResult("snapshots", tuple(str(chain) for chain in removed), snapshot_freed))
    return results


def _tree_size(path: Path) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except FileNotFoundError:
                continue
    return total


def disk_usage(
    contributions: Sequence[GcContribution] = (),
    *,
    store: Store | None = None,
    snapshots: SnapshotStore | None = None,
) -> list[UsageRow]:
    """One :class:`UsageRow` for images, one for unpacked snapshots, then one per contribution."""
    store = store or Store()
    snapshots = snapshots or SnapshotStore()
    roots = _collect_roots(contributions)
    images = store.images()
    active_images = {image.id for image in images if image.digest in roots.blobs or image.id in roots.blobs}
    blob_total, blob_reclaimable = store.disk_usage()
    rows = [
        UsageRow(
            "Images", len({image.id for image in images}), len(active_images), blob_total, blob_reclaimable
        )
    ]
    in_use = _image_chain_ids(store) | roots.chain_ids
    snapshot_total = snapshot_reclaimable = 0
    present = snapshots.chain_ids()
    for chain in present:
        size = _tree_size(snapshots.path(chain))
        snapshot_total += size
        if chain not in in_use:
            snapshot_reclaimable += size
    active_snapshots = len([chain for chain in present if chain in roots.chain_ids])
    rows.append(
        UsageRow("Layer snapshots", len(present), active_snapshots, snapshot_total, snapshot_reclaimable)
    )
    rows.extend(contribution.usage() for contribution in contributions if contribution.usage is not None)
    return rows

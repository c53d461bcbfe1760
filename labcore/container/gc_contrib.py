"""What containers add to ``labcore system prune`` and ``system df`` (found by the CLI by name).

Prune first reaps containers whose supervisor died, then removes every stopped container, as
``docker system prune`` does; the images of the remaining containers stay (their blobs and
snapshots are roots).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from labcore.digest import Digest
from labcore.errors import LabcoreError
from labcore.image.gc import GcContribution, PruneResult, Roots, UsageRow

__all__ = ["gc_contribution"]


def _tree_size(path: Path) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def _prune() -> PruneResult:
    from labcore.container import reaper
    from labcore.container.lifecycle import list_containers, remove
    from labcore.container.state import Status

    reaper.reap()
    removed, freed = [], 0
    for container in list_containers(all=True):
        if container.status is Status.RUNNING:
            continue
        size = _tree_size(container.paths.config_dir)
        with contextlib.suppress(LabcoreError):
            remove(container)
            removed.append(container.id)
            freed += size
    _remove_parent_cgroup()
    return PruneResult("containers", tuple(removed), freed)


def _remove_parent_cgroup() -> None:
    """The containers' parent group stays between containers (as Docker's); prune removes it when empty."""
    from labcore.runtime.cgroups import remove_if_empty
    from labcore.runtime.spec import ContainerSpec

    with contextlib.suppress(OSError):
        remove_if_empty(ContainerSpec.cgroup_parent)


def _roots() -> Roots:
    from labcore.container.lookup import all_records
    from labcore.image.store import Store

    blobs: set[Digest] = set()
    chains: set[Digest] = set()
    store = Store()
    for record in all_records():
        try:
            image = store.resolve(record.image_id)
        except LabcoreError:
            continue
        blobs |= {image.manifest_descriptor.digest, image.manifest.config.digest}
        blobs |= {layer.digest for layer in image.layers}
        chains |= set(image.chain_ids)
    return Roots(frozenset(blobs), frozenset(chains))


def _usage() -> UsageRow:
    from labcore.container.lookup import all_records
    from labcore.container.state import ContainerPaths, Status, derive_status, load_state

    total = active = size = reclaimable = 0
    for record in all_records():
        paths = ContainerPaths.of(record.id)
        used = _tree_size(paths.upper_dir)
        total += 1
        size += used
        if derive_status(load_state(paths)) is Status.RUNNING:
            active += 1
        else:
            reclaimable += used
    return UsageRow("Containers", total, active, size, reclaimable)


def gc_contribution() -> GcContribution:
    """The containers' part of ``system prune`` and ``system df``."""
    return GcContribution("containers", roots=_roots, prune=_prune, usage=_usage)

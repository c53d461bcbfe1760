"""Fill the lab registry with the local base images, so ``docker.io`` pulls hit the local mirror.

``./lab up`` calls :func:`seed_lab_registry` after starting the registry: each base image found in
the store (busybox, hello-world, debian; any tag) is pushed as ``<registry>/library/<name>:<tag>``,
which is where the lab's docker.io mirror looks for ``busybox`` and friends.
"""

from __future__ import annotations

from collections.abc import Sequence

from labcore.config import settings
from labcore.image.store import Store
from labcore.registry.hosts import RegistryHosts
from labcore.registry.progress import Progress
from labcore.registry.push import PushResult, push_image

__all__ = ["BASE_IMAGES", "seed_lab_registry"]

BASE_IMAGES = ("busybox", "hello-world", "debian")


def seed_lab_registry(
    store: Store | None = None,
    registry: str | None = None,
    names: Sequence[str] = BASE_IMAGES,
    *,
    hosts: RegistryHosts | None = None,
    progress: Progress | None = None,
) -> list[PushResult]:
    """Push every local ``docker.io/library/<name>`` image to ``registry``; return what was pushed.

    Images that are not in the store are skipped; a registry that refuses raises its error.
    """
    store = store or Store()
    registry = registry or settings().registry
    results = []
    for image in store.images():
        name = image.name
        if name is None or name.domain != "docker.io" or name.tag is None:
            continue
        if name.path.removeprefix("library/") not in names or not name.path.startswith("library/"):
            continue
        target = f"{registry}/{name.path}:{name.tag}"
        results.append(push_image(str(name), target, store=store, hosts=hosts, progress=progress))
    return results

"""Base images made on this host, no registry needed: busybox, hello-world and debian.

``busybox_image()``, ``hello_image()`` and ``debian_image()`` each build a one-layer image and tag
it in the store (``busybox:latest``, ``hello-world:latest``, ``debian:bookworm``). They are
imported lazily: :mod:`labcore.image.store` uses :mod:`labcore.image.base.platform`, and an eager
import here would make the two packages import each other.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labcore.image.base.images import (
        BUSYBOX_TAG,
        DEBIAN_TAG,
        HELLO_TAG,
        busybox_image,
        debian_image,
        hello_image,
    )

__all__ = ["BUSYBOX_TAG", "DEBIAN_TAG", "HELLO_TAG", "busybox_image", "debian_image", "hello_image"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("labcore.image.base.images"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

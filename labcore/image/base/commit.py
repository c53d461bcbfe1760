"""Turn one layer, written by a recipe, into a tagged single-layer image in the store.

The layer is streamed once (see :func:`labcore.image.mutate.write_layer`): the tar bytes are
hashed on their way into a gzip compressor that writes straight into a new blob.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import BinaryIO

from labcore.image.imageconfig import ContainerConfig, HistoryEntry
from labcore.image.mutate import Addition, new_image, write_layer
from labcore.image.record import ImageRecord
from labcore.image.store import Store

__all__ = ["DEFAULT_PATH_ENV", "LayerStep", "commit_single_layer", "rfc3339", "source_epoch"]

DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: A recipe that writes an uncompressed layer tarball into the stream it is given.
LayerStep = Callable[[BinaryIO], None]


def source_epoch(default: float) -> int:
    """``$SOURCE_DATE_EPOCH`` if set (reproducible builds), else ``default`` (an input's mtime)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else int(default)


def rfc3339(epoch: int) -> str:
    """``epoch`` as the UTC timestamp image configs use, e.g. ``2024-05-01T12:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def commit_single_layer(
    store: Store,
    step: LayerStep,
    *,
    tag: str,
    created: int,
    layer_created_by: str,
    container: ContainerConfig,
    later_steps: Sequence[str] = (),
    comment: str = "",
) -> ImageRecord:
    """Write the layer ``step`` makes, a config and a manifest; tag the image ``tag`` and return it.

    ``layer_created_by`` describes the step that made the layer and each of ``later_steps``
    (``CMD [...]``...) becomes an ``empty_layer`` history entry, as Docker records a Dockerfile.
    Every timestamp is ``created``, so the same inputs give the same digests.
    """
    timestamp = rfc3339(created)
    with store.writing():
        layer, diff_id = write_layer(store, step)
        additions = [Addition(HistoryEntry(created=timestamp, created_by=layer_created_by, comment=comment),
                              layer, diff_id)]
        additions += [Addition(HistoryEntry(created=timestamp, created_by=later, comment=comment))
                      for later in later_steps]
        return new_image(store, None, additions, container, names=[tag], created=timestamp)

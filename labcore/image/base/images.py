"""The three base images labcore can make without a registry: busybox, hello-world and debian."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import BinaryIO

from labcore.errors import SystemSetupError
from labcore.image.base import busybox, debian, hello
from labcore.image.base.commit import DEFAULT_PATH_ENV, commit_single_layer, source_epoch
from labcore.image.base.tarwriter import LayerWriter
from labcore.image.imageconfig import ContainerConfig
from labcore.image.record import ImageRecord
from labcore.image.store import Store

__all__ = ["BUSYBOX_TAG", "DEBIAN_TAG", "HELLO_TAG", "busybox_image", "debian_image", "hello_image"]

BUSYBOX_TAG = "busybox:latest"
HELLO_TAG = "hello-world:latest"
DEBIAN_TAG = "debian:bookworm"
_COMMENT = "labcore base image"


def busybox_image(store: Store | None = None, tag: str = BUSYBOX_TAG,
                  binary: Path = busybox.BUSYBOX_BINARY) -> ImageRecord:
    """Make the busybox image from the host's static ``binary``: ``/bin/sh`` and friends, ``CMD ["sh"]``."""
    busybox.check_busybox_binary(binary)
    store = store if store is not None else Store()
    created = source_epoch(binary.stat().st_mtime)

    def write(stream: BinaryIO) -> None:
        with LayerWriter(stream, mtime=created) as writer:
            busybox.write_busybox_rootfs(writer, binary)

    version = busybox.busybox_version(binary) or "unknown"
    return commit_single_layer(
        store, write, tag=tag, created=created,
        layer_created_by=f"COPY busybox-rootfs / # busybox {version}, applet links from busybox --list-full",
        container=ContainerConfig(env=(DEFAULT_PATH_ENV,), cmd=("sh",)),
        later_steps=['CMD ["sh"]'], comment=_COMMENT,
    )


def hello_image(store: Store | None = None, tag: str = HELLO_TAG) -> ImageRecord:
    """Make hello-world: ``FROM scratch``, ``COPY hello /``, ``CMD ["/hello"]``, compiling hello.c first."""
    store = store if store is not None else Store()
    binary = hello.build_hello()
    created = source_epoch(hello.HELLO_SOURCE.stat().st_mtime)

    def write(stream: BinaryIO) -> None:
        with LayerWriter(stream, mtime=created) as writer:
            writer.file_copy("hello", binary, 0o755)

    return commit_single_layer(
        store, write, tag=tag, created=created,
        layer_created_by="COPY hello / # labcore",
        container=ContainerConfig(env=(DEFAULT_PATH_ENV,), cmd=("/hello",)),
        later_steps=['CMD ["/hello"]'], comment=_COMMENT,
    )


def debian_image(store: Store | None = None, tag: str = DEBIAN_TAG, suite: str = "bookworm",
                 variant: str = "minbase") -> ImageRecord:
    """Make a Debian image with debootstrap (cached under ``$LABCORE_CACHE``), ``CMD ["bash"]``."""
    store = store if store is not None else Store()
    tarball = debian.debian_rootfs_tarball(suite, variant=variant)
    created = source_epoch(tarball.stat().st_mtime)

    def write(stream: BinaryIO) -> None:
        with tarball.open("rb") as source:
            while chunk := source.read(1 << 20):
                stream.write(chunk)

    _check_tarball(tarball)
    return commit_single_layer(
        store, write, tag=tag, created=created,
        layer_created_by=f"debootstrap --variant={variant} {suite} / # labcore",
        container=ContainerConfig(env=(DEFAULT_PATH_ENV,), cmd=("bash",)),
        later_steps=['CMD ["bash"]'], comment=_COMMENT,
    )


def _check_tarball(tarball: Path) -> None:
    if not tarfile.is_tarfile(tarball):
        tarball.unlink()
        raise SystemSetupError(f"cached rootfs {tarball} was not a tar archive; removed it",
                                      hint="run the command again to debootstrap afresh")

"""Where a step runs: the parent image mounted as an overlay; the step's changes become a layer."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from labcore.config import settings
from labcore.container.users import ResolvedUser
from labcore.digest import Digest
from labcore.fs.diff import overlay_upper_to_layer
from labcore.image.descriptor import Descriptor
from labcore.image.mutate import write_layer
from labcore.image.record import ImageRecord
from labcore.image.rootfs import RootfsMount, mount_rootfs
from labcore.image.store import Store
from labcore.linux.namespaces import Namespace
from labcore.runtime.process import ExecFailedError, create
from labcore.runtime.spec import DEFAULT_NAMESPACES, ContainerSpec, ProcessSpec, User

__all__ = ["RunOutcome", "mounted", "run_command", "upper_to_layer"]

OutputSink = Callable[[str], None]
_TAIL_LINES = 20


@contextlib.contextmanager
def mounted(image: ImageRecord, store: Store) -> Iterator[RootfsMount]:
    """Mount ``image``'s rootfs in a fresh build directory; unmount and remove it afterwards."""
    directory = settings().run / "build" / secrets.token_hex(6)
    directory.parent.mkdir(parents=True, exist_ok=True)
    rootfs = None
    try:
        rootfs = mount_rootfs(image, directory, store=store)
        yield rootfs
    finally:
        if rootfs is not None:
            rootfs.unmount()
        shutil.rmtree(directory, ignore_errors=True)


def upper_to_layer(store: Store, rootfs: RootfsMount) -> tuple[Descriptor, Digest]:
    """Turn what the step changed (the overlay's upper dir) into a layer blob in the store."""
    return write_layer(store, lambda out: overlay_upper_to_layer(rootfs.upper, out))


class RunOutcome:
    """How a RUN step ended: its exit code and the last lines of its output."""

    def __init__(self, exit_code: int, tail: list[str]) -> None:
        self.exit_code = exit_code
        self.tail = tail


def run_command(
    rootfs: Path, argv: tuple[str, ...], env: list[str], cwd: str, user: ResolvedUser, output: OutputSink,
    announce: OutputSink = lambda _: None,
) -> RunOutcome:
    """Run ``argv`` in a container on ``rootfs`` (host network), streaming its output lines."""
    container_id = f"build-{secrets.token_hex(6)}"
    announce(container_id)
    read_fd, write_fd = os.pipe()
    null_fd = os.open(os.devnull, os.O_RDONLY)
    spec = ContainerSpec(
        id=container_id,
        rootfs=rootfs,
        process=ProcessSpec(args=list(argv), env=env, cwd=cwd or "/",
                            user=User(user.uid, user.gid, user.additional_gids)),
        hostname="labcore-build",
        # RUN steps share the host's network, so that package managers can download
        namespaces=DEFAULT_NAMESPACES - {Namespace.NET},
    )
    tail: list[str] = []
    try:
        init = create(spec, (null_fd, write_fd, write_fd))
    finally:
        os.close(write_fd)
        os.close(null_fd)
    try:
        try:
            init.start()
        except ExecFailedError as error:
            tail.append(error.message)
            output(error.message)
        with os.fdopen(read_fd, "rb", closefd=True) as pipe:
            read_fd = -1
            for raw in pipe:
                line = raw.decode(errors="replace").rstrip("\n")
                output(line)
                tail = [*tail[-(_TAIL_LINES - 1):], line]
        code = init.wait()
    finally:
        if read_fd != -1:
            os.close(read_fd)
        init.destroy()
    return RunOutcome(code, tail)

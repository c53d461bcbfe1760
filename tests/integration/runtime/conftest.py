"""Fixtures for runtime integration tests: a busybox root filesystem and a way to run containers in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from labcore.linux.mount import UmountFlag, mount, umount
from labcore.runtime import forkserver
from labcore.runtime.process import ExecFailedError, create
from labcore.runtime.spec import ContainerSpec, ProcessSpec

BUSYBOX = Path("/bin/busybox")
HOSTILE_SOURCE = Path(__file__).with_name("hostile.c")


@pytest.fixture(scope="session")
def busybox_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only lower dir: busybox with every applet linked, /etc/passwd, /etc/group, bin/hostile."""
    if not BUSYBOX.exists():
        pytest.skip("needs busybox-static at /bin/busybox")
    root = tmp_path_factory.mktemp("busybox-root")
    for directory in ("bin", "etc", "tmp", "root", "home/user"):
        (root / directory).mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/:/bin/false\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nuser:x:1000:\nextra:x:2000:\nnogroup:x:65534:\n")
    (root / "tmp").chmod(0o1777)
    if shutil.which("musl-gcc"):
        subprocess.run(
            ["musl-gcc", "-static", "-O1", "-o", str(root / "bin" / "hostile"), str(HOSTILE_SOURCE)],
            check=True,
            capture_output=True,
        )
    return root


@pytest.fixture
def rootfs(busybox_root: Path, tmp_path: Path) -> Iterator[Path]:
    """An overlay over the busybox root, mounted for this test only."""
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    for directory in (upper, work, merged):
        directory.mkdir()
    mount("overlay", merged, "overlay", 0, f"lowerdir={busybox_root},upperdir={upper},workdir={work}")
    try:
        yield merged
    finally:
        umount(merged, UmountFlag.DETACH)


@dataclass
class Result:
    """What a finished test container left behind."""

    code: int
    out: str
    err: str
    oom_killed: bool
    extra: dict[str, Any] = field(default_factory=dict)


def new_id() -> str:
    """A container id no other test (or helper) uses."""
    return "test-" + uuid.uuid4().hex[:12]


@pytest.fixture(params=["fork", "forkserver"])
def creation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """How the container's processes are made: forked by this process, or by its fork server."""
    if request.param == "fork":
        monkeypatch.setenv("LABCORE_NO_FORKSERVER", "1")
    else:
        monkeypatch.delenv("LABCORE_NO_FORKSERVER", raising=False)
        assert forkserver.start(wait=30) is not None
    served = forkserver.served()
    yield request.param
    if request.param == "fork":
        assert forkserver.served() == served, "the fork server made a process although it was turned off"
    else:
        assert forkserver.served() > served, "the fork server made none of the test's processes"


@pytest.fixture
def run_container(rootfs: Path, tmp_path: Path, creation: str) -> Callable[..., Result]:
    """Run ``args`` in a fresh container on ``rootfs`` (once per ``creation``); exit code, output, OOM state."""

    def run(
        args: list[str],
        *,
        stdin: bytes = b"",
        during: Callable[..., Any] | None = None,
        process: dict[str, Any] | None = None,
        **spec_fields: Any,
    ) -> Result:
        spec = ContainerSpec(
            id=new_id(),
            rootfs=rootfs,
            process=ProcessSpec(args=args, **(process or {})),
            **spec_fields,
        )
        out_path, err_path = tmp_path / f"{spec.id}.out", tmp_path / f"{spec.id}.err"
        stdin_read, stdin_write = os.pipe()
        os.write(stdin_write, stdin)
        os.close(stdin_write)
        extra: dict[str, Any] = {}
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                init = create(spec, (stdin_read, out.fileno(), err.fileno()))
            finally:
                os.close(stdin_read)
        try:
            try:
                init.start()
            except ExecFailedError as error:
                extra["exec_error"] = error
            if during is not None:
                extra["during"] = during(init)
            code = init.wait()
            oom = init.cgroup.oom_killed()
        finally:
            init.destroy()
        return Result(code, out_path.read_text(), err_path.read_text(), oom, extra)

    return run

"""Fixtures for runtime integration tests: a busybox root filesystem and a way to run containers in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from labcore.linux.mount import UmountFlag, mount, umount
from labcore.linux.namespaces import Namespace
from labcore.runtime import cinit, forkserver
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


@pytest.fixture(params=["fork", "forkserver", "ahead-python", "ahead-c"])
def creation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """How the container's processes are made: forked by this process, by its fork server, or
    by an init the fork server cloned ahead, running the Python or the C init.

    In the ``ahead`` modes :func:`run_container` first runs a throwaway container with the same
    namespaces, so that the server clones the next init ahead; it then checks that its container
    got that init.
    """
    if request.param == "fork":
        monkeypatch.setenv("LABCORE_NO_FORKSERVER", "1")
    else:
        monkeypatch.delenv("LABCORE_NO_FORKSERVER", raising=False)
        assert forkserver.start(wait=30) is not None
    if request.param == "ahead-python":
        monkeypatch.setenv("LABCORE_C_INIT", "0")
    elif request.param == "ahead-c":
        monkeypatch.delenv("LABCORE_C_INIT", raising=False)
        if cinit.binary_path() is None:
            if shutil.which("cc"):
                pytest.fail(f"the C init is not built: python -m labcore.runtime.cinit (to {cinit.default_path()})")
            pytest.skip("no C compiler to build the C init")
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
        start: bool = False,
        before_start: Callable[..., Any] | None = None,
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
        kind = creation.removeprefix("ahead-") if creation.startswith("ahead-") else None
        if kind is not None and Namespace.USER not in spec.namespaces:
            _clone_next_init_ahead(replace(spec, id=new_id(), process=ProcessSpec(args=["true"])))
            served_ahead = forkserver.served_ahead(kind)
        else:
            kind = None
        out_path, err_path = tmp_path / f"{spec.id}.out", tmp_path / f"{spec.id}.err"
        stdin_read, stdin_write = os.pipe()
        os.write(stdin_write, stdin)
        os.close(stdin_write)
        extra: dict[str, Any] = {}
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                init = create(spec, (stdin_read, out.fileno(), err.fileno()), start=start)
            finally:
                os.close(stdin_read)
                if kind is not None:
                    assert forkserver.served_ahead(kind) == served_ahead + 1, f"not created by a {kind} init ahead"
        try:
            if before_start is not None:
                extra["before_start"] = before_start(init, out_path)
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


def _clone_next_init_ahead(throwaway: ContainerSpec) -> None:
    """Run a container (whatever becomes of it) so that the fork server clones the next init ahead."""
    with open(os.devnull, "r+b") as null:
        try:
            init = create(throwaway, (null.fileno(), null.fileno(), null.fileno()))
        except Exception:  # a spec meant to fail fails here too; the init is cloned ahead all the same
            pass
        else:
            try:
                init.start()
                init.wait()
            finally:
                init.destroy()
    assert forkserver.ahead_pid(wait=10) is not None, "the fork server cloned no init ahead"

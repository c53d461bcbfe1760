"""Shared fixtures: a private LABCORE_ROOT per test and a check that nothing leaks."""

from __future__ import annotations

import contextlib
import getpass
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcore.linux.mount import UmountFlag, umount
from labcore.linux.mountinfo import mount_points_under
from labcore.linux.proc import is_alive
from labcore.runtime import forkserver
from tests.leakcheck import HostState

IS_ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``root`` when not root, saying why."""
    if IS_ROOT:
        return
    skip_root = pytest.mark.skip(reason="needs root: run `sudo ./lab test`")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip_root)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Unmount what an earlier, killed test session left mounted in its temporary directories.

    A session killed mid-test (SIGKILL, a timeout) skips its fixtures' cleanup, so an overlay
    mounted under its ``pytest-NNN`` directory stays; pytest would later delete that directory
    through the mount. A session is dead when its ``.lock`` (pytest writes its pid there and
    removes it at exit) names a process that no longer runs; live sessions are left alone.
    """
    if not IS_ROOT:
        return
    base = Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"
    for lock in base.glob("pytest-*/.lock"):
        try:
            owner = int(lock.read_text().strip())
        except (OSError, ValueError):
            continue
        if is_alive(owner, None):
            continue
        for point in reversed(mount_points_under(str(lock.parent))):  # the deepest first
            with contextlib.suppress(OSError):
                umount(point, UmountFlag.DETACH)


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves mounts, netns, links, cgroups or child processes behind."""
    if "no_leak_check" in request.keywords:
        yield
        return
    before = HostState.capture()
    yield
    # this process's fork server (labcore.runtime.forkserver) outlives a test on purpose; stopped
    # here, so that the check below also sees that it ends when asked
    forkserver.stop()
    leaks: list[str] = []
    # processes and lazy unmounts can take a moment to go away after a kill
    for _ in range(50):
        leaks = HostState.capture().leaks_since(before)
        if not leaks:
            return
        time.sleep(0.1)
    pytest.fail("test left host state behind:\n  " + "\n  ".join(leaks), pytrace=False)


@pytest.fixture(autouse=True)
def labcore_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LABCORE_ROOT (and run dir beside it) for every test: no test touches the lab's own."""
    root = tmp_path / "labcore"
    root.mkdir()
    monkeypatch.setenv("LABCORE_ROOT", str(root))
    monkeypatch.delenv("LABCORE_RUN", raising=False)
    return root

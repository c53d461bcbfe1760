"""The suite unmounts what a killed earlier session left mounted (tests/conftest.py)."""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcore.linux.mount import UmountFlag, mount, umount
from labcore.linux.mountinfo import mount_points_under
from tests.conftest import pytest_sessionstart

pytestmark = pytest.mark.root


@pytest.fixture
def session_dir() -> Iterator[Path]:
    """A directory shaped like a pytest session's, with an overlay-like mount inside."""
    base = Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"
    directory = base / f"pytest-stale-check-{uuid.uuid4().hex[:8]}"
    (directory / "test_x0" / "merged").mkdir(parents=True)
    mount("tmpfs", directory / "test_x0" / "merged", "tmpfs", 0, "size=1m")
    try:
        yield directory
    finally:
        for point in reversed(mount_points_under(str(directory))):
            umount(point, UmountFlag.DETACH)
        shutil.rmtree(directory)


def test_a_dead_sessions_mounts_are_unmounted(session_dir: Path) -> None:
    (session_dir / ".lock").write_text("999999999")  # no such process
    pytest_sessionstart(None)  # type: ignore[arg-type]
    assert mount_points_under(str(session_dir)) == []


def test_a_live_sessions_mounts_stay(session_dir: Path) -> None:
    (session_dir / ".lock").write_text(str(os.getpid()))
    pytest_sessionstart(None)  # type: ignore[arg-type]
    assert mount_points_under(str(session_dir)) == [str(session_dir / "test_x0" / "merged")]

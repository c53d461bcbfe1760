"""Break-out attempts from a default (unprivileged) container must all fail."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Result

pytestmark = [pytest.mark.root, pytest.mark.integration]
Run = Callable[..., Result]


@pytest.fixture
def host_marker(tmp_path: Path) -> Path:
    """A file that exists only on the host: seeing it from inside means an escape."""
    marker = tmp_path / f"host-only-{os.getpid()}"
    marker.write_text("host\n")
    return marker


@pytest.fixture
def hostile(busybox_root: Path) -> str:
    if not (busybox_root / "bin" / "hostile").exists():
        pytest.skip("needs musl-gcc to build the hostile test program")
    return "hostile"


def test_marker_is_visible_to_the_same_program_on_the_host(busybox_root: Path, host_marker: Path) -> None:
    # the control: outside a container the program does see the marker
    import subprocess

    program = busybox_root / "bin" / "hostile"
    if not program.exists():
        pytest.skip("needs musl-gcc to build the hostile test program")
    done = subprocess.run([program, "fds", str(host_marker)], capture_output=True, text=True, check=False)
    assert done.stdout.strip().endswith("ESCAPED")


def test_chroot_break_out_through_dotdot_fails(run_container: Run, hostile: str, host_marker: Path) -> None:
    result = run_container([hostile, "chroot", str(host_marker)])
    assert result.out.strip() == "contained", result.err
    assert result.code == 1


def test_no_directory_fd_leads_out(run_container: Run, hostile: str, host_marker: Path) -> None:
    result = run_container([hostile, "fds", str(host_marker)])
    assert "inherited directory fd" not in result.out
    assert result.out.strip() == "contained"


def test_only_stdio_is_inherited(run_container: Run) -> None:
    result = run_container(["ls", "/proc/self/fd"])
    # 0-2 plus the directory ls itself opened to list
    assert sorted(int(fd) for fd in result.out.split()) == [0, 1, 2, 3]


def test_proc_sys_and_sysrq_trigger_are_read_only(run_container: Run) -> None:
    result = run_container(
        ["sh", "-c", "echo x > /proc/sys/kernel/domainname; echo h > /proc/sysrq-trigger; echo done"]
    )
    assert "Read-only file system" in result.err
    assert "sysrq-trigger" in result.err  # refused: read-only where it exists, not creatable where not
    assert result.out.strip() == "done"


def _host_disk() -> tuple[int, int]:
    for disk in sorted(os.listdir("/sys/block")):
        if disk.startswith(("loop", "ram", "zram")):
            continue
        major, minor = Path(f"/sys/block/{disk}/dev").read_text().split(":")
        return int(major), int(minor)
    return 8, 0  # /dev/sda


@pytest.mark.parametrize("where", ["/tmp", "/dev", "/dev/shm"])
def test_mknod_of_a_disk_cannot_be_read(run_container: Run, where: str) -> None:
    major, minor = _host_disk()
    result = run_container(
        ["sh", "-c", f"mknod {where}/disk b {major} {minor} && echo made; head -c 512 {where}/disk | wc -c"]
    )
    assert result.out.split()[0] == "made"  # CAP_MKNOD is in Docker's default set...
    assert result.out.split()[1] == "0"  # ...but the node cannot be opened
    assert "Permission denied" in result.err


def test_mount_is_refused(run_container: Run) -> None:
    result = run_container(["sh", "-c", "mkdir -p /mnt/x && mount -t tmpfs none /mnt/x; echo $?"])
    assert result.out.strip() != "0"
    assert "permission denied" in result.err.lower() or "not permitted" in result.err


def test_host_processes_are_invisible_and_unkillable(run_container: Run) -> None:
    me = os.getpid()
    result = run_container(["sh", "-c", f"test -e /proc/{me}; echo $?; kill -9 {me}; echo $?"])
    assert result.out.split() == ["1", "1"]


def test_reboot_is_refused(run_container: Run) -> None:
    result = run_container(["sh", "-c", "reboot -f; echo still here $?"])
    assert result.out.strip().startswith("still here")
    assert result.code == 0

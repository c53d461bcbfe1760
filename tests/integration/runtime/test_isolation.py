"""A default container is isolated: its own PID 1, hostname, namespaces, mounts, user and capabilities."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from labcore.linux.capabilities import mask_of
from labcore.linux.namespaces import Namespace
from labcore.runtime.spec import DEFAULT_CAPS, DEFAULT_NAMESPACES, MountSpec, User

from .conftest import Result

pytestmark = [pytest.mark.root, pytest.mark.integration]
Run = Callable[..., Result]


def test_command_is_pid_1_and_sees_only_its_processes(run_container: Run) -> None:
    result = run_container(["sh", "-c", "echo $$; ls /proc | grep -E '^[0-9]+$'"])
    assert result.code == 0, result.err
    pid, *visible = result.out.split()
    assert pid == "1"
    # sh, ls, maybe grep, and nothing else: none of the host's processes
    numbers = sorted(int(number) for number in visible)
    assert numbers[0] == 1
    assert len(numbers) <= 3 and numbers[-1] <= 10, numbers


def test_hostname_is_the_containers(run_container: Run) -> None:
    result = run_container(["hostname"], hostname="inside-box")
    assert result.out.strip() == "inside-box"
    assert os.uname().nodename != "inside-box"


def test_every_namespace_asked_for_is_new(run_container: Run) -> None:
    names = [kind.proc_name for kind in DEFAULT_NAMESPACES]
    script = "; ".join(f"readlink /proc/self/ns/{name}" for name in names)
    result = run_container(["sh", "-c", script])
    inside = dict(zip(names, result.out.split(), strict=True))
    for name in names:
        assert inside[name] != os.readlink(f"/proc/self/ns/{name}"), name


def test_namespaces_not_asked_for_are_shared(run_container: Run) -> None:
    result = run_container(
        ["readlink", "/proc/self/ns/net"], namespaces=frozenset({Namespace.MNT, Namespace.PID})
    )
    assert result.out.strip() == os.readlink("/proc/self/ns/net")


def test_mount_table_shows_only_the_containers_mounts(run_container: Run, rootfs: Path) -> None:
    result = run_container(["cat", "/proc/self/mountinfo"])
    targets = [line.split()[4] for line in result.out.splitlines()]
    assert targets[0] == "/"
    assert str(rootfs) not in result.out
    allowed = ("/", "/proc", "/dev", "/sys")
    assert all(target == "/" or target.startswith(allowed[1:]) for target in targets), targets
    assert {"/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"} <= set(targets)


def test_kernel_is_the_hosts(run_container: Run) -> None:
    assert run_container(["uname", "-r"]).out.strip() == os.uname().release


def test_env_workdir_and_user_are_applied(run_container: Run, rootfs: Path) -> None:
    result = run_container(
        ["sh", "-c", "echo $GREETING; pwd; id -u; id -g; id -G"],
        process={
            "env": ["PATH=/bin", "GREETING=hello there"],
            "cwd": "/srv/app/data",
            "user": User(1000, 1000, (2000,)),
        },
    )
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["hello there", "/srv/app/data", "1000", "1000", "1000 2000"]
    assert (rootfs / "srv/app/data").is_dir()  # created, as Docker creates a missing WORKDIR


def _capabilities(status: str) -> dict[str, int]:
    return {
        line.split(":")[0]: int(line.split()[1], 16) for line in status.splitlines() if line.startswith("Cap")
    }


def test_capabilities_are_dockers_default_set(run_container: Run) -> None:
    caps = _capabilities(run_container(["cat", "/proc/self/status"]).out)
    expected = mask_of(set(DEFAULT_CAPS))
    assert caps["CapBnd"] == expected
    assert caps["CapEff"] == expected
    assert caps["CapPrm"] == expected
    assert caps["CapInh"] == 0 and caps["CapAmb"] == 0  # as Docker: nothing passes on through exec


def test_a_non_root_user_has_no_effective_capabilities(run_container: Run) -> None:
    caps = _capabilities(run_container(["cat", "/proc/self/status"], process={"user": User(1000, 1000)}).out)
    assert caps["CapBnd"] == mask_of(set(DEFAULT_CAPS))
    assert caps["CapEff"] == caps["CapPrm"] == caps["CapAmb"] == 0


def test_no_new_privs_is_set(run_container: Run) -> None:
    status = run_container(["cat", "/proc/self/status"]).out
    assert "NoNewPrivs:\t1" in status


def test_privileged_keeps_every_capability_and_no_masks(run_container: Run) -> None:
    result = run_container(
        ["sh", "-c", "cat /proc/self/status; cat /proc/self/mountinfo"],
        privileged=True,
        process={"capabilities": None, "no_new_privileges": False},
    )
    caps = _capabilities(result.out)
    assert caps["CapBnd"] == _capabilities(Path("/proc/self/status").read_text())["CapBnd"]
    assert " /proc/sys " not in result.out  # no read-only overlay mounts


def test_stdin_reaches_the_command(run_container: Run) -> None:
    assert run_container(["cat"], stdin=b"through the pipe\n").out == "through the pipe\n"


def test_dev_has_dockers_nodes_and_links(run_container: Run) -> None:
    result = run_container(
        ["sh", "-c", "ls /dev; readlink /dev/ptmx; readlink /dev/fd; head -c 4 /dev/zero | wc -c"]
    )
    listing = result.out.split()
    for name in (
        "null",
        "zero",
        "full",
        "random",
        "urandom",
        "tty",
        "pts",
        "shm",
        "stdin",
        "stdout",
        "stderr",
    ):
        assert name in listing
    assert "pts/ptmx" in listing and "/proc/self/fd" in listing
    assert listing[-1] == "4"


def test_sys_is_read_only(run_container: Run) -> None:
    result = run_container(
        ["sh", "-c", "touch /sys/kernel/labcore-test 2>&1; grep ' /sys ' /proc/self/mountinfo"]
    )
    assert "Read-only file system" in result.out
    assert " ro," in result.out.splitlines()[-1]


def test_bind_and_tmpfs_mounts(run_container: Run, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello.txt").write_text("from the host\n")
    mounts = (
        MountSpec("/data", "bind", str(shared), ("rbind", "ro")),
        MountSpec("/scratch", "tmpfs", "tmpfs", ("size=1m", "mode=1777")),
    )
    result = run_container(
        ["sh", "-c", "cat /data/hello.txt; touch /data/new 2>&1; echo x > /scratch/f && cat /scratch/f"],
        mounts=mounts,
    )
    assert result.out.splitlines()[0] == "from the host"
    assert "Read-only file system" in result.out
    assert result.out.splitlines()[-1] == "x"
    assert not (shared / "new").exists()


def test_missing_command_exits_127_with_dockers_message(run_container: Run) -> None:
    result = run_container(["no-such-command"])
    assert result.code == 127
    error = result.extra["exec_error"]
    assert error.exit_code == 127
    assert 'exec: "no-such-command": executable file not found in $PATH' in error.message


def test_non_executable_command_exits_126(run_container: Run) -> None:
    result = run_container(["/etc/passwd"])
    assert result.code == 126
    assert "permission denied" in result.extra["exec_error"].message


def test_sigpipe_is_not_ignored_in_the_container(run_container: Run) -> None:
    # Python ignores SIGPIPE; exec keeps ignored signals, so the runtime must reset them
    result = run_container(["sh", "-c", "yes | head -n 1; grep SigIgn /proc/self/status"])
    assert result.code == 0
    assert result.out.splitlines()[0] == "y"


def test_read_only_root_keeps_its_mounts_writable(run_container: Run) -> None:
    result = run_container(
        [
            "sh",
            "-c",
            "touch /new 2>&1; echo x > /scratch/f && cat /scratch/f; echo y > /dev/shm/g && cat /dev/shm/g",
        ],
        readonly_rootfs=True,
        mounts=(MountSpec("/scratch", "tmpfs", "tmpfs"),),
    )
    lines = result.out.splitlines()
    assert "Read-only file system" in lines[0]
    assert lines[1:] == ["x", "y"]


def test_a_new_network_namespace_has_its_loopback_up(run_container: Run) -> None:
    # as Docker's --network none: lo is up, with the addresses the kernel gives it
    result = run_container(["sh", "-c", "ip addr show lo; ping -c 1 -W 2 127.0.0.1"])
    assert result.code == 0, result.out + result.err
    assert "LOOPBACK,UP" in result.out and "inet 127.0.0.1/8" in result.out
    assert "1 packets received" in result.out


def test_created_with_start_the_command_runs_without_waiting_for_start(run_container: Run) -> None:
    def output_before_start(init: object, out_path: Path) -> str:
        deadline = time.monotonic() + 10
        while not out_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        return out_path.read_text()

    result = run_container(["echo", "ran"], start=True, before_start=output_before_start)
    assert result.extra["before_start"] == "ran\n"  # it ran although start() was not called yet
    assert (result.code, result.out) == (0, "ran\n")


def test_created_with_start_a_missing_command_is_reported_by_start(run_container: Run) -> None:
    result = run_container(["no-such-command"], start=True)
    assert result.code == 127
    assert "executable file not found" in str(result.extra["exec_error"])

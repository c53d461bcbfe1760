"""Attached runs are supervised by the calling process itself (no forked supervisor).

What must still hold: other processes can wait for and stop such a container, Ctrl-C reaches the
container (a second one kills it), and a caller killed with SIGKILL leaves a container that the
next labcore command cleans up, as after a dead supervisor.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import labcore.container as containers
from labcore.container.state import Status

pytestmark = [pytest.mark.root, pytest.mark.integration]

LABCORE = [sys.executable, "-m", "labcore.cli.main"]


def _wait_until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _running(name: str) -> bool:
    return any(item.name == name for item in containers.list())


def _cgroup_dirs(container_id: str) -> list[Path]:
    return [path for path in Path("/sys/fs/cgroup").glob(f"*/labcore/{container_id}") if path.exists()]


def test_attached_run_records_the_caller_as_its_foreground_supervisor(busybox):
    outcome: dict[str, object] = {}

    def attached() -> None:
        outcome["result"] = containers.run(busybox, ["sleep", "60"], name="fg-state")

    thread = threading.Thread(target=attached)
    thread.start()
    try:
        _wait_until(lambda: _running("fg-state"), "the attached container to run")
        state = containers.Container(containers.inspect("fg-state")["Id"], "fg-state").state
        assert state is not None and state.foreground and state.supervisor_pid == os.getpid()
        # another process stops it; it must not wait for this (still living) caller to exit
        stopped = subprocess.run([*LABCORE, "stop", "-t", "0", "fg-state"], capture_output=True, text=True,
                                 timeout=60, env=os.environ)  # fmt: skip
        assert stopped.returncode == 0, stopped.stderr
    finally:
        thread.join(60)
    result = outcome["result"]
    assert isinstance(result, containers.RunResult) and result.exit_code == 137
    assert containers.wait("fg-state", timeout=10) == 137
    container = containers.Container(result.container_id, "fg-state")
    assert container.status is Status.STOPPED and container.state.torn_down
    assert _cgroup_dirs(result.container_id) == []
    containers.remove("fg-state")


def _start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*LABCORE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ)  # fmt: skip


def test_ctrl_c_reaches_the_container(busybox):
    script = 'trap "echo got INT; exit 3" INT; echo ready; while true; do sleep 0.1; done'
    cli = _start_cli("run", "--rm", "--name", "fg-int", busybox, "sh", "-c", script)
    assert cli.stdout is not None
    assert cli.stdout.readline() == "ready\n"  # relayed by the supervising loop: it is serving
    cli.send_signal(signal.SIGINT)
    out, err = cli.communicate(timeout=30)
    assert cli.returncode == 3, err
    assert out == "got INT\n"
    assert containers.list(all=True) == []  # --rm: removed before the command ended


def test_a_second_ctrl_c_kills_a_container_that_ignores_the_first(busybox):
    # as PID 1 without a handler, sleep ignores SIGINT
    cli = _start_cli("run", "--rm", "--name", "fg-int2", busybox, "sh", "-c", "echo ready; exec sleep 60")
    assert cli.stdout is not None
    assert cli.stdout.readline() == "ready\n"
    cli.send_signal(signal.SIGINT)
    time.sleep(0.2)
    assert cli.poll() is None
    cli.send_signal(signal.SIGINT)
    cli.communicate(timeout=30)
    assert cli.returncode == 137
    assert containers.list(all=True) == []


def test_a_killed_caller_leaves_a_container_the_reaper_cleans(busybox):
    cli = _start_cli("run", "--name", "fg-kill", busybox, "sh", "-c", "echo ready; exec sleep 60")
    assert cli.stdout is not None
    assert cli.stdout.readline() == "ready\n"
    record = containers.inspect("fg-kill")
    assert _cgroup_dirs(record["Id"])
    cli.kill()
    cli.communicate(timeout=30)
    listed = containers.list(all=True)  # any container command runs the reaper
    assert [item.name for item in listed] == ["fg-kill"]
    container = listed[0]
    assert container.status is Status.STOPPED and container.exit_code == 137 and container.state.torn_down
    assert _cgroup_dirs(container.id) == []
    assert str(container.paths.rootfs) not in Path("/proc/self/mountinfo").read_text()
    containers.remove(container)

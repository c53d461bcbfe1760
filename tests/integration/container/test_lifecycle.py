import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import labcore.container as containers
from labcore.container.errors import (
    ContainerNotFoundError,
    ContainerStartError,
    IllegalStateError,
    NameInUseError,
)
from labcore.container.state import Status
from labcore.errors import NotFoundError, UsageError

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_attached_run_returns_exit_code_and_output(busybox):
    result = containers.run(busybox, ["sh", "-c", "echo out; echo err >&2; exit 3"], remove=True)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert containers.list(all=True) == []


def test_missing_and_unexecutable_commands_exit_127_and_126(busybox):
    missing = containers.run(busybox, ["no-such-command"], remove=True)
    assert missing.exit_code == 127
    assert "no-such-command" in missing.stderr
    not_executable = containers.run(busybox, ["/etc/passwd"], remove=True)
    assert not_executable.exit_code == 126


def test_image_config_and_overrides_are_applied(busybox):
    script = 'echo "$GREETING|$(pwd)|$(id -u):$(id -g)|$(hostname)|$HOME"'
    result = containers.run(
        busybox,
        ["sh", "-c", script],
        env=["GREETING=hi"],
        workdir="/tmp",
        user="www-data",
        hostname="box",
        remove=True,
    )
    assert result.stdout.strip() == "hi|/tmp|33:33|box|/var/www"
    numeric = containers.run(busybox, ["id"], user="1234:99", remove=True)
    assert numeric.stdout.startswith("uid=1234 gid=99")


def test_entrypoint_override_drops_image_cmd(busybox):
    result = containers.run(busybox, ["hello"], entrypoint="echo", remove=True)
    assert result.stdout == "hello\n"


def test_transitions_and_illegal_moves(busybox):
    container = containers.create(busybox, ["sleep", "60"], name="mover")
    assert container.status is Status.CREATED
    containers.start(container)
    assert container.status is Status.RUNNING and container.pid
    with pytest.raises(IllegalStateError, match="already running"):
        containers.start("mover")
    with pytest.raises(IllegalStateError, match="cannot delete container mover: it is running"):
        containers.remove("mover")
    containers.stop("mover", timeout=1)
    assert container.status is Status.STOPPED
    assert container.exit_code == 137  # sleep as pid 1 ignores SIGTERM, so SIGKILL came
    with pytest.raises(IllegalStateError, match="not running"):
        containers.kill("mover")
    containers.start("mover")  # a stopped container starts again, keeping its layer
    assert container.status is Status.RUNNING
    containers.kill("mover", "TERM")  # pid 1 ignores it: still running
    containers.remove("mover", force=True)
    with pytest.raises(ContainerNotFoundError):
        containers.inspect("mover")


def test_stop_uses_sigterm_first(busybox):
    script = "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done"
    container = containers.run(busybox, ["sh", "-c", script], detach=True)
    # a signal that comes before the trap is set would be ignored by pid 1: wait for it
    assert next(entry.text for entry in containers.logs(container, follow=True)) == "ready\n"
    containers.stop(container, timeout=30)
    assert container.exit_code == 42


def test_names_are_unique(busybox):
    first = containers.create(busybox, ["true"], name="same")
    with pytest.raises(NameInUseError, match=f"already in use by container {first.short_id}"):
        containers.create(busybox, ["true"], name="same")
    generated = containers.create(busybox, ["true"])
    assert "_" in generated.name and len(generated.id) == 64


def test_detached_container_outlives_the_cli(busybox):
    command = [sys.executable, "-m", "labcore.cli.main", "run", "-d", "--name", "bg", busybox,
               "sh", "-c", "echo hello; sleep 1; echo bye; exit 7"]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ)
    container_id = finished.stdout.strip()
    assert len(container_id) == 64
    assert [item.id for item in containers.list()] == [container_id]
    assert containers.wait("bg") == 7
    assert [entry.text for entry in containers.logs("bg")] == ["hello\n", "bye\n"]
    info = containers.inspect("bg")
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 7
    assert info["State"]["FinishedAt"] > info["State"]["StartedAt"]


def test_logs_follow_streams_until_exit(busybox):
    container = containers.run(busybox, ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done"], detach=True)
    assert [entry.text for entry in containers.logs(container, follow=True)] == ["1\n", "2\n", "3\n"]


def _cgroup_dirs(container_id):
    return [path for path in Path("/sys/fs/cgroup").glob(f"*/labcore/{container_id}") if path.exists()]


def test_reaper_cleans_after_a_killed_supervisor(busybox):
    container = containers.run(busybox, ["sleep", "60"], detach=True)
    state = container.state
    assert _cgroup_dirs(container.id)
    rootfs = str(container.paths.rootfs)
    assert rootfs in Path("/proc/self/mountinfo").read_text()
    supervisor = os.pidfd_open(state.supervisor_pid)
    try:
        signal.pidfd_send_signal(supervisor, signal.SIGKILL)
        select.select([supervisor], [], [])  # readable once it has died
    finally:
        os.close(supervisor)
    listed = containers.list(all=True)  # any container command runs the reaper
    assert [item.id for item in listed] == [container.id]
    assert container.status is Status.STOPPED
    assert container.state.torn_down and container.exit_code == 137
    assert _cgroup_dirs(container.id) == []
    assert rootfs not in Path("/proc/self/mountinfo").read_text()
    containers.remove(container)
    assert not container.paths.config_dir.exists() and not container.paths.run_dir.exists()


def test_memory_limit_oom_kill_is_reported(busybox):
    result = containers.run(busybox, ["sh", "-c", "tail /dev/zero"], memory="16m", remove=True)
    assert result.exit_code == 137 and result.oom_killed


def test_pids_limit_stops_forks(busybox):
    script = "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait"
    result = containers.run(busybox, ["sh", "-c", script], pids_limit=4, remove=True)
    assert "can't fork" in result.stderr


def test_exec_runs_inside_with_env_and_user(busybox):
    container = containers.run(busybox, ["sleep", "60"], detach=True, env=["A=1"])
    result = containers.exec(
        container.id, ["sh", "-c", "echo $A $B; id -u; cat /proc/1/cmdline"], env=["B=2"], user="nobody"
    )
    assert result.exit_code == 0
    assert result.stdout.split("\n")[:2] == ["1 2", "65534"]
    assert "sleep" in result.stdout
    assert containers.exec(container, ["sh", "-c", "exit 9"]).exit_code == 9  # a handle works too
    containers.stop(container, timeout=0)
    with pytest.raises(IllegalStateError):
        containers.exec(container.id, ["true"])


def test_stats_reports_cgroup_usage(busybox):
    container = containers.run(busybox, ["sleep", "60"], detach=True, memory="32m")
    sample = containers.stats(container)
    assert sample.pids == 1 and sample.memory_limit == 32 << 20 and sample.memory_bytes > 0
    assert sample.cpu_usage_ns >= 0
    containers.stop(container, timeout=0)
    with pytest.raises(IllegalStateError, match=r"cannot read stats of container .*: it is exited"):
        containers.stats(container)


def test_bad_input_is_reported_with_hints(busybox):
    with pytest.raises(NotFoundError, match="no such image: nothere"):
        containers.run("nothere", ["true"])
    with pytest.raises(UsageError, match="--memory"):
        containers.run(busybox, ["true"], memory="lots")
    with pytest.raises(UsageError, match="--cpus"):
        containers.run(busybox, ["true"], cpus="-2")
    with pytest.raises(ContainerStartError, match="unable to find user 'ghost'") as caught:
        containers.run(busybox, ["true"], user="ghost", detach=True)
    assert caught.value.hint
    with pytest.raises(ContainerNotFoundError, match="no such container: ghost"):
        containers.stop("ghost")
    cli = subprocess.run([sys.executable, "-m", "labcore.cli.main", "run", "--memory", "-1", busybox],
                         capture_output=True, text=True, env=os.environ)  # fmt: skip
    assert cli.returncode == 125
    assert "--memory" in cli.stderr and "hint:" in cli.stderr


def test_detached_rm_removes_the_container_when_it_exits(busybox):
    container = containers.run(busybox, ["sh", "-c", "exit 5"], detach=True, remove=True, volumes=["/anon"])
    assert containers.wait(container) == 5
    assert containers.list(all=True) == []
    assert not container.paths.config_dir.exists()
    from labcore.runtime import volumes

    assert volumes.list_volumes() == []  # its anonymous volume went with it


def _root_is_volatile(mountinfo: str) -> bool:
    root = next(line for line in mountinfo.splitlines() if line.split()[4] == "/")
    options = root.split(" - ")[1].split()[2].split(",")
    return "volatile" in options or "fsync=volatile" in options  # the second since Linux 6.11


def test_rm_containers_skip_syncing_their_layer(busybox):
    throwaway = containers.run(busybox, ["cat", "/proc/self/mountinfo"], remove=True)
    assert _root_is_volatile(throwaway.stdout)
    kept = containers.run(busybox, ["cat", "/proc/self/mountinfo"], name="kept")
    try:
        assert not _root_is_volatile(kept.stdout)
    finally:
        containers.remove("kept")


def test_a_volatile_layer_mounts_again_after_a_clean_unmount(busybox):
    from labcore.container.record import load_record
    from labcore.container.rootfs import mount_rootfs, unmount_rootfs

    container = containers.create(busybox, ["true"], remove=True)
    record = load_record(container.paths)
    try:
        for _ in range(2):  # overlay refuses a work dir marked by a volatile mount, unless labcore clears it
            rootfs = mount_rootfs(record, container.paths)
            assert (rootfs / "bin" / "busybox").exists()
            assert (container.paths.work_dir / "work" / "incompat" / "volatile").is_dir()
            unmount_rootfs(container.paths)
    finally:
        containers.remove(container, force=True)

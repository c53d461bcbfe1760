import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.root, pytest.mark.integration]


def labcore(*args, check=True, stdin=None):
    done = subprocess.run([sys.executable, "-m", "labcore.cli.main", *args], capture_output=True, text=True,
                          env=os.environ, input=stdin, timeout=120)  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_create_start_wait_logs_rm(busybox):
    container_id = labcore("create", "--name", "c1", busybox, "sh", "-c", "echo hi; echo oops >&2").stdout.strip()
    assert "Created" in labcore("ps", "-a").stdout
    assert labcore("ps", "-q").stdout == ""
    labcore("start", "c1")
    assert labcore("wait", "c1").stdout == "0\n"
    logs = labcore("logs", "c1")
    assert (logs.stdout, logs.stderr) == ("hi\n", "oops\n")
    listing = labcore("ps", "-a", "--no-trunc").stdout
    assert container_id in listing and "Exited (0)" in listing
    info = json.loads(labcore("container", "inspect", "c1").stdout)[0]
    assert info["Id"] == container_id and info["State"]["Status"] == "exited"
    labcore("rm", "c1")
    missing = labcore("container", "inspect", "c1", check=False)
    assert missing.returncode == 1 and "no such container: c1" in missing.stderr


def test_run_attached_exit_codes_and_stdin(busybox):
    assert labcore("run", "--rm", "-e", "A=1", busybox, "sh", "-c", "echo $A").stdout == "1\n"
    assert labcore("run", "--rm", busybox, "sh", "-c", "exit 3", check=False).returncode == 3
    assert labcore("run", "--rm", busybox, "no-such-command", check=False).returncode == 127
    unknown = labcore("run", "--rm", "nothere", check=False)
    assert unknown.returncode == 125 and "no such image: nothere" in unknown.stderr
    echoed = labcore("run", "--rm", "-i", busybox, "sh", "-c", "read line; echo got $line", stdin="hello\n")
    assert echoed.stdout == "got hello\n"


def test_volume_commands(busybox):
    assert labcore("volume", "create", "v1").stdout == "v1\n"
    assert "v1" in labcore("volume", "ls").stdout
    assert json.loads(labcore("volume", "inspect", "v1").stdout)[0]["Name"] == "v1"
    container_id = labcore("create", "-v", "v1:/data", busybox, "true").stdout.strip()
    refused = labcore("volume", "rm", "v1", check=False)
    assert refused.returncode == 1 and container_id[:12] in refused.stderr and "hint:" in refused.stderr
    labcore("rm", container_id)
    labcore("volume", "rm", "v1")
    assert labcore("volume", "ls", "-q").stdout == ""


def test_stop_kill_stats(busybox):
    labcore("run", "-d", "--name", "long", "--memory", "32m", busybox, "sleep", "60")
    stats = labcore("stats", "--no-stream", "long").stdout
    assert "long" in stats and "32.0MiB" in stats
    labcore("kill", "-s", "TERM", "long")  # pid 1 ignores TERM without a handler
    assert "Up" in labcore("ps").stdout
    labcore("stop", "-t", "0", "long")
    assert labcore("wait", "long").stdout == "137\n"
    assert labcore("rm", "long", check=False).returncode == 0


def test_system_prune_removes_stopped_containers_only(busybox):
    stopped = labcore("create", busybox, "true").stdout.strip()
    labcore("run", "-d", "--name", "keep", busybox, "sleep", "60")
    pruned = labcore("system", "prune", "-f").stdout
    assert f"Deleted containers: {stopped}" in pruned
    assert labcore("ps", "-a", "-q").stdout.split() == [labcore("ps", "-q").stdout.strip()]


def test_the_parent_cgroup_stays_between_containers_until_system_prune(busybox):
    from pathlib import Path

    labcore("run", "--rm", busybox, "true")
    parents = list(Path("/sys/fs/cgroup").glob("*/labcore"))
    assert parents  # kept for the next container, as Docker keeps its docker group
    assert all(not any(child.is_dir() for child in parent.iterdir()) for parent in parents)
    labcore("system", "prune")
    assert not list(Path("/sys/fs/cgroup").glob("*/labcore"))

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import labcore.container as containers

pytestmark = [pytest.mark.root, pytest.mark.integration, pytest.mark.slow]

ROUNDS = 40  # x 5 kinds = 200 containers


def _attached(image):
    result = containers.run(image, ["true"], remove=True)
    assert result.exit_code == 0
    return result.container_id


def _detached(image):
    container = containers.run(image, ["sh", "-c", "echo hi"], detach=True)
    assert containers.wait(container) == 0
    containers.remove(container)
    return container.id


def _killed(image):
    container = containers.run(image, ["sleep", "30"], detach=True)
    containers.kill(container)
    assert containers.wait(container) == 137
    containers.remove(container)
    return container.id


def _oom_killed(image):
    result = containers.run(image, ["sh", "-c", "tail /dev/zero"], memory="8m", remove=True)
    assert result.exit_code == 137 and result.oom_killed
    return result.container_id


def _bad_command(image):
    result = containers.run(image, ["no-such-command"], remove=True)
    assert result.exit_code == 127
    return result.container_id


def _supervisors_of(ids):
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if any(ident in cmdline for ident in ids):
            found.append(entry.name)
    return found


def test_200_containers_leave_nothing_behind(busybox, labcore_root):
    kinds = [_attached, _detached, _killed, _oom_killed, _bad_command] * ROUNDS
    with ThreadPoolExecutor(max_workers=2) as pool:
        ids = list(pool.map(lambda kind: kind(busybox), kinds))
    assert len(set(ids)) == 200
    assert containers.list(all=True) == []
    leftovers = [name for name in os.listdir(labcore_root / "containers") if not name.startswith(".")]
    assert leftovers == []
    run_dir = labcore_root.with_name("labcore.run") / "containers"
    assert not run_dir.exists() or os.listdir(run_dir) == []
    assert _supervisors_of(ids) == []
    assert str(labcore_root) not in Path("/proc/self/mountinfo").read_text()

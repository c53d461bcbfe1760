import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labcore.preflight import Status, doctor

pytestmark = [pytest.mark.root, pytest.mark.integration]


def mounted_fstypes() -> dict[str, str]:
    with open("/proc/self/mounts") as file:
        return {line.split()[1]: line.split()[2] for line in file}


def test_doctor_passes_on_this_host(labcore_root: Path) -> None:
    report = doctor(registry="127.0.0.1:1")
    required_failures = [c for c in report.failed() if c.required]
    assert report.ok, required_failures
    for kind in ("mnt", "pid", "uts", "ipc", "net", "user", "cgroup"):
        assert report[f"namespace:{kind}"].status is Status.OK
    assert report["overlayfs"].status is Status.OK
    assert report["registry"].status is Status.FAIL  # port 1: nothing listens there


def test_cgroup_mode_matches_the_mount_table() -> None:
    fstypes = mounted_fstypes()
    has_v2 = "cgroup2" in fstypes.values()
    has_v1 = any(t == "cgroup" for t in fstypes.values())
    expected = {(True, True): "hybrid", (True, False): "v1", (False, True): "v2"}[(has_v1, has_v2)]
    report = doctor(registry="127.0.0.1:1")
    assert report["cgroups"].facts["mode"] == expected
    for controller in ("memory", "pids", "cpu"):
        check = report[f"cgroup:{controller}"]
        assert check.status is Status.OK, check
        v1_mount = Path("/sys/fs/cgroup") / controller
        if fstypes.get(str(v1_mount)) == "cgroup":
            assert check.facts["version"] == "v1"


def test_missing_busybox_fails_the_report_with_its_hint(labcore_root: Path, tmp_path: Path) -> None:
    report = doctor(busybox=tmp_path / "no-busybox", registry="127.0.0.1:1")
    assert not report.ok
    assert report["busybox"].hint == "install it: apt-get install busybox-static"


def test_cli_json_and_exit_code(labcore_root: Path) -> None:
    env = os.environ | {"LABCORE_REGISTRY": "127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-m", "labcore", "doctor", "--json"],
                            capture_output=True, text=True, env=env, check=False)
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["ok"] is True
    names = {check["name"] for check in data["checks"]}
    assert {"kernel", "overlayfs", "cgroups", "busybox", "registry", "disk"} <= names
    table = subprocess.run([sys.executable, "-m", "labcore", "doctor"], capture_output=True, text=True,
                           env=env, check=False)
    assert "hint: start the lab's registry" in table.stdout


def test_top_level_api_is_the_same_check(labcore_root: Path) -> None:
    import labcore

    report = labcore.doctor(registry="127.0.0.1:1")
    assert [check.name for check in report.checks] == [check.name for check in doctor(registry="127.0.0.1:1").checks]
    assert report.ok

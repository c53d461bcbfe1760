"""The ./lab entry point: refusals, up and down on loopback, idempotent provisioning."""

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.tools import REPO, free_port, listening_addresses, require_tool

LAB = str(REPO / "lab")


def run_lab(*args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LAB, *args], capture_output=True, text=True, env=env or dict(os.environ),
                          timeout=timeout, check=False)


def test_refuses_non_root_with_a_hint() -> None:
    # fed on stdin so that the unprivileged user needs no access to the checkout
    with open(LAB) as script:
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 "bash", "-s", "--", "up"], stdin=script, capture_output=True,
                                text=True, cwd="/", timeout=60, check=False)
    assert result.returncode != 0
    assert "must run as root" in result.stderr
    assert "sudo ./lab up" in result.stderr


@pytest.mark.root
def test_refuses_a_host_that_is_not_debian(tmp_path: Path) -> None:
    os_release = tmp_path / "os-release"
    os_release.write_text('ID=fedora\nID_LIKE="rhel centos"\n')
    result = run_lab("provision", env=os.environ | {"LABCORE_OS_RELEASE": str(os_release)})
    assert result.returncode == 1
    assert "'fedora', not Debian or Ubuntu" in result.stderr
    assert "vagrant up" in result.stderr
    os_release.write_text("ID=ubuntu\nID_LIKE=debian\n")
    assert run_lab("provision", env=os.environ | {"LABCORE_OS_RELEASE": str(os_release)}).returncode == 0


def test_unknown_command_is_refused() -> None:
    result = run_lab("frobnicate")
    assert result.returncode == 1 and "unknown command 'frobnicate'" in result.stderr


@pytest.mark.root
@pytest.mark.integration
def test_second_provision_is_quick() -> None:
    run_lab("provision")  # whatever the state, this one brings it up to date
    started = time.monotonic()
    result = run_lab("provision")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stdout, "a provisioned machine should install nothing"
    print(f"second provision took {elapsed:.2f} s")


@pytest.fixture
def lab_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings for a private lab instance on free loopback ports; `down` runs whatever happens."""
    env = os.environ | {
        "LABCORE_ROOT": str(tmp_path / "root"),
        "LABCORE_RUN": str(tmp_path / "run"),
        "LABCORE_REGISTRY": f"127.0.0.1:{free_port()}",
        "LABCORE_JUPYTER_PORT": str(free_port()),
    }
    yield env
    run_lab("down", env=env)


def pid_in(env: dict[str, str], name: str) -> int:
    return int((Path(env["LABCORE_RUN"]) / f"{name}.pid").read_text())


@pytest.mark.root
@pytest.mark.integration
@pytest.mark.slow
def test_up_serves_jupyter_and_registry_on_loopback_and_down_stops_them(lab_env: dict[str, str]) -> None:
    result = run_lab("up", env=lab_env)
    assert result.returncode == 0, result.stderr
    jupyter_port = int(lab_env["LABCORE_JUPYTER_PORT"])
    token = (Path(lab_env["LABCORE_ROOT"]) / "lab" / "jupyter-token").read_text().strip()
    assert f"http://127.0.0.1:{jupyter_port}/lab?token={token}" in result.stdout

    status = f"http://127.0.0.1:{jupyter_port}/api/status"
    assert httpx.get(status).status_code == 403
    answer = httpx.get(status, headers={"Authorization": f"token {token}"})
    assert answer.status_code == 200 and "started" in answer.json()
    registry = lab_env["LABCORE_REGISTRY"]
    assert httpx.get(f"http://{registry}/v2/").status_code == 200

    assert listening_addresses(jupyter_port) == {"127.0.0.1"}
    assert listening_addresses(int(registry.rsplit(":", 1)[1])) == {"127.0.0.1"}

    again = run_lab("up", env=lab_env)
    assert "already running" in again.stdout

    pids = [pid_in(lab_env, "jupyter"), pid_in(lab_env, "registry")]
    assert run_lab("down", env=lab_env).returncode == 0
    for pid in pids:
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{pid}").exists(), f"pid {pid} survived ./lab down"
    assert "stopped" in run_lab("status", env=lab_env).stdout


@pytest.mark.integration
def test_vagrantfile_validates() -> None:
    vagrant = require_tool("vagrant")
    result = subprocess.run([vagrant, "validate", "--ignore-provider"], cwd=REPO, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout

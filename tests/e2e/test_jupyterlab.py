"""End to end: JupyterLab in headless Chromium runs a student notebook and its graded check.

JupyterLab gets its own port, token, Jupyter dirs and LABCORE_ROOT, rooted at a freshly built
student folder; Chromium is Debian's, driven by Playwright. The student types a wrong answer to
exercise 1, runs all cells and sees the check's hint; then types the right one and the check passes.
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from labcore.course.builder import build
from labcore.course.kernel import install_kernel

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.integration, pytest.mark.root, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# generous limits: a loaded 2-core machine can take a while to start a kernel (not a speed test)
LIMIT_MS = 240_000
WRONG = 'cgroup_mode = "v0"'
RIGHT = 'cgroup_mode = report["cgroups"].facts["mode"]'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def jupyterlab(tmp_path: Path, labcore_root: Path) -> Iterator[str]:
    """A JupyterLab server on a built student folder; yields its notebook URL with the token."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    result = build(tmp_path / "build", kernel=False)
    jupyter = tmp_path / "jupyter"
    install_kernel(jupyter)
    # no "get Jupyter news?" toast over the notebook, and no look at the real user's settings
    settings_dir = jupyter / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings_dir.mkdir(parents=True)
    (settings_dir / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_PATH=str(jupyter / "share" / "jupyter"),
               JUPYTER_CONFIG_DIR=str(jupyter / "config"), JUPYTER_DATA_DIR=str(jupyter / "data"),
               JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"), LABCORE_ROOT=str(labcore_root))
    log = (tmp_path / "jupyter.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("jupyter-lab")), "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", "--port-retries=0", f"--ServerApp.token={token}",
         f"--ServerApp.root_dir={result.student_dir}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--LabApp.user_settings_dir={jupyter / 'lab-settings'}",
         f"--LabApp.workspaces_dir={jupyter / 'lab-workspaces'}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/status?token={token}", server)
        yield f"http://127.0.0.1:{port}/lab/tree/00-setup.ipynb?token={token}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        shutil.rmtree(jupyter / "runtime", ignore_errors=True)


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("JupyterLab did not answer within a minute")


def _set_answer(page: Page, text: str) -> None:
    cell = page.locator(".jp-CodeCell").filter(has_text="cgroup_mode").first
    cell.scroll_into_view_if_needed()
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def _run_all(page: Page) -> None:
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
    check = page.locator(".jp-CodeCell").filter(has_text='mode = answer("cgroup_mode")').first
    # done when the check cell has an execution number and nothing is queued or running
    page.wait_for_function(
        """(cell) => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
            const own = cell.querySelector('.jp-InputPrompt').textContent;
            return /\\[\\d+\\]/.test(own) && !prompts.some(p => p.textContent.includes('*'));
        }""",
        arg=check.element_handle(), timeout=LIMIT_MS,
    )


def test_a_student_runs_the_notebook_and_the_check_answers(jupyterlab: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(LIMIT_MS)
            page.goto(jupyterlab)
            page.locator(".jp-CodeCell").filter(has_text="exercise 1: set cgroup_mode").first.wait_for()
            _set_answer(page, WRONG)
            _run_all(page)
            check = page.locator(".jp-CodeCell").filter(has_text='mode = answer("cgroup_mode")').first
            check.locator(".jp-OutputArea").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "e2e-00-setup-wrong.png"))
            check.screenshot(path=str(ARTIFACTS / "e2e-00-setup-wrong-check.png"))
            doctor = page.locator(".jp-CodeCell").filter(has_text="report = doctor()").first
            assert "overlayfs" in doctor.locator(".jp-OutputArea").inner_text()  # the worked cell ran
            failure = check.locator(".jp-OutputArea").inner_text()
            assert "check failed" in failure
            assert "hint: cgroup_mode is one of 'v1', 'v2' or 'hybrid'" in failure
            assert "found: 'v0'" in failure

            _set_answer(page, RIGHT)
            _run_all(page)
            check.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "e2e-00-setup-right.png"))
            assert "check failed" not in check.locator(".jp-OutputArea").inner_text()
            stub = page.locator(".jp-CodeCell").filter(has_text="exercise 2: set kernel_release").first
            assert "NotImplementedError" in stub.locator(".jp-OutputArea").inner_text()
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "e2e-00-setup-failure.png"))
            raise
        finally:
            browser.close()

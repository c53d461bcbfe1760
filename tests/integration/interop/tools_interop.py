"""Running peer tools (skopeo, umoci, buildah) from interop tests, with their errors shown."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

from tests.tools import require_tool


def run_tool(*command: str | Path, env: dict[str, str] | None = None) -> str:
    """Run a peer tool; fail the test with its stderr when it fails; return its stdout."""
    require_tool(str(command[0]))
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stderr}"
    return result.stdout


def extract_archive(archive: Path, directory: Path) -> Path:
    """Unpack an OCI archive (trusted: made by a tool in this test) into ``directory``."""
    directory.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(directory)
    return directory

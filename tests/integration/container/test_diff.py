import subprocess
import sys

import pytest

import labcore.container as containers

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_diff_lists_added_changed_deleted(busybox):
    script = "echo new > /added; echo more >> /etc/passwd; rm /bin/vi; mkdir -p /srv/app; echo x > /srv/app/f"
    container = containers.run(busybox, ["sh", "-c", script], detach=True)
    assert containers.wait(container) == 0
    changes = containers.diff(container.id)
    assert ("A", "/added") in changes
    assert ("C", "/etc") in changes and ("C", "/etc/passwd") in changes
    assert ("D", "/bin/vi") in changes
    assert ("A", "/srv/app/f") in changes
    cli = subprocess.run([sys.executable, "-m", "labcore.cli.main", "diff", container.name],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert "D /bin/vi" in cli.stdout.splitlines()

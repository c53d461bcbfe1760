import sys

import pytest

import labcore.container as containers
from tests.tools import run_on_terminal

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_run_t_gives_the_container_a_terminal(busybox):
    script = "test -t 0 && test -t 1 && echo is-a-tty; exit 6"
    code, output = run_on_terminal(
        [sys.executable, "-m", "labcore.cli.main", "run", "--rm", "-t", busybox, "sh", "-c", script]
    )
    assert code == 6
    assert b"is-a-tty" in output
    assert containers.list(all=True) == []


def test_run_it_relays_keys_to_the_shell(busybox):
    argv = [
        sys.executable,
        "-m",
        "labcore.cli.main",
        "run",
        "--rm",
        "-it",
        busybox,
        "sh",
        "-c",
        "read line; echo got-$line",
    ]
    code, output = run_on_terminal(argv, keys=b"abc\r")
    assert code == 0
    assert b"got-abc" in output


def test_exec_t_terminal_lives_in_the_container(busybox):
    container = containers.run(busybox, ["sleep", "60"], detach=True)
    argv = [sys.executable, "-m", "labcore.cli.main", "exec", "-t", container.id, "tty"]
    code, output = run_on_terminal(argv)
    assert code == 0
    assert b"/dev/pts/" in output  # the name resolves inside the container's own devpts

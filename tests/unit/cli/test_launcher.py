import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import labcore
from labcore.cli.launcher import decode_request, encode_request, server_socket_path
from labcore.cli.launcher_script import main as launcher_script_main
from labcore.cli.launcher_script import write_launcher_script
from labcore.cli.server import SourceWatch, source_fingerprint
from labcore.config import settings


def test_a_request_round_trips() -> None:
    argv = ["run", "--rm", "-e", "A=b c", "busybox", "sh", "-c", "echo 'ü'"]
    environ = {"PATH": "/usr/bin", "EMPTY": "", "WITH_EQUALS": "a=b"}
    encoded = encode_request(argv, "/tmp/some dir", environ, 0o027)
    assert int.from_bytes(encoded[:4], "big") == len(encoded) - 4
    assert decode_request(encoded[4:]) == (argv, "/tmp/some dir", environ, 0o027)


def test_an_empty_command_line_round_trips() -> None:
    assert decode_request(encode_request([], "/", {})[4:]) == ([], "/", {}, 0o022)


@pytest.mark.parametrize(
    "fields",
    [
        [b""],
        [b"other-protocol", b"/", b"22", b"0"],  # another protocol
        [b"labcore-cli-1", b"/", b"22", b"5", b"only-one"],  # fewer arguments than announced
        [b"labcore-cli-1", b"/", b"22", b"0", b"NOEQUALS"],  # an environment entry without "="
        [b"labcore-cli-1", b"/", b"9999", b"0"],  # not a umask
    ],
)
def test_anything_else_is_refused(fields: list[bytes]) -> None:
    with pytest.raises(ValueError):
        decode_request(b"\0".join(fields))


def test_nul_bytes_cannot_be_sent() -> None:
    with pytest.raises(ValueError):
        encode_request(["a\0b"], "/", {})


@pytest.mark.parametrize(
    "environ",
    [{}, {"LABCORE_ROOT": "/srv/lab"}, {"LABCORE_ROOT": "/srv/lab/"}, {"LABCORE_ROOT": "/var/lib/labcore"},
     {"LABCORE_ROOT": "/srv/lab", "LABCORE_RUN": "/run/other"}],
)  # fmt: skip
def test_the_launcher_finds_the_socket_where_settings_put_the_run_dir(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LABCORE_ROOT", raising=False)
    monkeypatch.delenv("LABCORE_RUN", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert server_socket_path(environ) == str(settings().run / "cli.sock")


def _package(tmp_path: Path) -> Path:
    (tmp_path / "pkg" / "sub" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("B = 1\n")
    return tmp_path / "pkg"


@pytest.mark.parametrize(
    "edit",
    [
        lambda pkg: (pkg / "sub" / "b.py").write_text("B = 2\n"),  # written, in a subpackage
        lambda pkg: (pkg / "c.py").write_text(""),  # added
        lambda pkg: (pkg / "a.py").unlink(),  # removed
        lambda pkg: (pkg / "a.py").rename(pkg / "d.py"),  # renamed
        lambda pkg: (pkg / "new").mkdir(),  # a new subpackage directory
        lambda pkg: os.utime(pkg / "a.py", ns=(1, 2)),  # touched
    ],
)
def test_the_source_watch_sees_every_kind_of_edit(tmp_path: Path, edit: Any) -> None:
    package = _package(tmp_path)
    watch = SourceWatch(source_fingerprint(package), package)
    try:
        assert watch.inotify is not None
        assert not watch.changed()
        edit(package)
        assert watch.changed()
        assert watch.changed()  # and it stays changed
    finally:
        watch.close()


def test_the_source_watch_ignores_bytecode_and_other_files(tmp_path: Path) -> None:
    package = _package(tmp_path)
    watch = SourceWatch(source_fingerprint(package), package)
    try:
        (package / "sub" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"")
        (package / "__pycache__").mkdir()
        (package / ".a.py.swp").write_text("")
        assert not watch.changed()
    finally:
        watch.close()


def test_the_source_watch_counts_an_edit_made_before_it_started(tmp_path: Path) -> None:
    package = _package(tmp_path)
    loaded = source_fingerprint(package)
    (package / "c.py").write_text("")  # between the imports and the watch
    watch = SourceWatch(loaded, package)
    try:
        assert watch.changed()
    finally:
        watch.close()


def test_the_source_fingerprint_changes_with_any_edit(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("B = 1\n")
    first = source_fingerprint(tmp_path / "pkg")
    assert first[0] == 2
    os.utime(tmp_path / "pkg" / "sub" / "b.py", ns=(1, first[1] + 10**9))
    edited = source_fingerprint(tmp_path / "pkg")
    assert edited != first
    (tmp_path / "pkg" / "c.py").write_text("")
    assert source_fingerprint(tmp_path / "pkg")[0] == 3


def test_the_launcher_script_starts_python_without_site_and_finds_this_labcore(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "labcore"
    assert write_launcher_script(script, python=sys.executable) is True
    assert write_launcher_script(script, python=sys.executable) is False  # unchanged: not rewritten
    text = script.read_text()
    assert text.splitlines()[0] == f"#!{sys.executable} -S"
    assert repr(str(Path(labcore.__file__).resolve().parents[1])) in text
    assert script.stat().st_mode & 0o777 == 0o755
    # without a server the command runs in-process: the launcher must load site for that itself
    env = dict(os.environ, LABCORE_NO_SERVER="1")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: labcore" in done.stdout


def test_the_launcher_script_command_needs_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert launcher_script_main([]) == 2
    assert "usage" in capsys.readouterr().err

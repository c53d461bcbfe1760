from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from labcore.errors import UsageError
from labcore.registry.credentials import (
    Credentials,
    auth_config_path,
    forget_credentials,
    lookup_credentials,
    save_credentials,
)


def test_saved_credentials_are_docker_compatible_and_private(labcore_root: Path) -> None:
    path = save_credentials("127.0.0.1:5000", Credentials("alice", "s3cret"))
    assert path == labcore_root / "auth" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data == {"auths": {"127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"}}}  # base64("alice:s3cret")
    assert lookup_credentials("127.0.0.1:5000") == Credentials("alice", "s3cret")
    assert lookup_credentials("other:5000") is None


def test_docker_hub_uses_dockers_legacy_key_and_other_keys_survive(labcore_root: Path) -> None:
    path = auth_config_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"credsStore": "desktop", "auths": {"keep.me": {"auth": "eDp5"}}}))
    save_credentials("docker.io", Credentials("bob", "pw:with:colons"))
    data = json.loads(path.read_text())
    assert data["credsStore"] == "desktop"
    assert "https://index.docker.io/v1/" in data["auths"]
    assert lookup_credentials("docker.io") == Credentials("bob", "pw:with:colons")
    assert lookup_credentials("keep.me") == Credentials("x", "y")


def test_forget_removes_only_that_registry(labcore_root: Path) -> None:
    save_credentials("a:1", Credentials("u", "p"))
    save_credentials("b:2", Credentials("v", "q"))
    assert forget_credentials("a:1") is True
    assert forget_credentials("a:1") is False
    assert lookup_credentials("a:1") is None
    assert lookup_credentials("b:2") == Credentials("v", "q")


def test_labcore_auth_env_moves_the_file(labcore_root: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABCORE_AUTH", str(tmp_path / "elsewhere"))
    save_credentials("r:1", Credentials("u", "p"))
    assert (tmp_path / "elsewhere" / "config.json").is_file()
    assert not (labcore_root / "auth").exists()


def test_password_never_shows_in_repr() -> None:
    assert "hunter2" not in repr(Credentials("alice", "hunter2"))


def test_a_garbled_entry_names_the_registry(labcore_root: Path) -> None:
    path = auth_config_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"auths": {"r:1": {"auth": "bm9jb2xvbg=="}}}))  # "nocolon"
    with pytest.raises(UsageError, match="'r:1'") as caught:
        lookup_credentials("r:1")
    assert "labcore login" in caught.value.hint

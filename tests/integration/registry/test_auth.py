"""Logins and pulls against real registries with htpasswd Basic auth and with a token service."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from labcore.cli.main import main
from labcore.image.record import ImageRecord
from labcore.image.store import ImageNotFoundError, Store
from labcore.registry.credentials import Credentials, auth_config_path, lookup_credentials
from labcore.registry.errors import AuthenticationError
from labcore.registry.login import check_credentials
from labcore.registry.pull import pull_image
from labcore.registry.push import push_image
from tests.registry_support import RegistryServer, TokenServer

pytestmark = pytest.mark.integration


def login(monkeypatch: pytest.MonkeyPatch, registry: str, password: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["login", "-u", "alice", "--password-stdin", registry])


# session scope: the servers must start before the leak check's "before" snapshot of the first test
@pytest.fixture(scope="session", params=["basic", "token"])
def secured(request: pytest.FixtureRequest) -> RegistryServer:
    if request.param == "basic":
        server: RegistryServer = request.getfixturevalue("basic_registry")
        return server
    server, _ = request.getfixturevalue("token_registry")
    return server


def test_wrong_password_is_refused_and_nothing_is_saved(secured: RegistryServer, labcore_root: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert login(monkeypatch, secured.host, "not-the-password") == 1
    err = capsys.readouterr().err
    assert "labcore login" in err
    assert "not-the-password" not in err
    assert not auth_config_path().exists()


def test_anonymous_access_is_refused_with_a_login_hint(secured: RegistryServer, store: Store) -> None:
    with pytest.raises(AuthenticationError) as caught:
        pull_image(f"{secured.host}/auth/nothing:1", store=store)
    assert f"labcore login {secured.host}" in caught.value.hint
    assert store.images() == []


def test_login_then_push_and_pull(secured: RegistryServer, busybox: ImageRecord, store: Store,
                                  monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path) -> None:
    assert login(monkeypatch, secured.host, "wonderland") == 0
    assert "Login succeeded" in capsys.readouterr().out
    assert lookup_credentials(secured.host) == Credentials("alice", "wonderland")
    target = f"{secured.host}/auth/busybox:1"
    assert push_image("busybox", target, store=store).digest == busybox.digest
    fresh = Store(tmp_path / "fresh-store")
    assert pull_image(target, store=fresh).digest == busybox.digest

    assert main(["logout", secured.host]) == 0
    with pytest.raises(AuthenticationError):
        pull_image(target, store=Store(tmp_path / "third-store"))


def test_token_service_check_credentials_directly(token_registry: tuple[RegistryServer, TokenServer]) -> None:
    server, tokens = token_registry
    before = len(tokens.requests)
    check_credentials(server.host, Credentials("alice", "wonderland"))
    assert tokens.requests[before]["service"] == ["labcore-test-registry"]
    with pytest.raises(AuthenticationError, match="refused the user name or password"):
        check_credentials(server.host, Credentials("alice", "wrong"))


def test_cross_repository_mount_through_the_token_service(token_registry: tuple[RegistryServer, TokenServer],
                                                          busybox: ImageRecord, store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    server, tokens = token_registry
    assert login(monkeypatch, server.host, "wonderland") == 0
    source = f"{server.host}/mount/source:1"
    push_image("busybox", source, store=store)
    pull_image(source, store=store)  # the store now knows the blobs live in mount/source
    result = push_image(source, f"{server.host}/mount/target:1", store=store)
    assert (result.mounted, result.uploaded) == (2, 0)
    assert any("repository:mount/source:pull" in request.get("scope", []) for request in tokens.requests)
    with pytest.raises(ImageNotFoundError):
        store.resolve(f"{server.host}/mount/target:1")  # pushing does not name anything locally

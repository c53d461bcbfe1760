"""Real registries for the registry integration tests, started once per session (see registry_support)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labcore.image.base import busybox_image
from labcore.image.record import ImageRecord
from labcore.image.store import Store
from tests.registry_support import (
    RegistryServer,
    TokenServer,
    have_registry_tools,
    running_registry,
    write_htpasswd,
)

USERS = {"alice": "wonderland"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if have_registry_tools():
        return
    skip = pytest.mark.skip(reason="needs docker-registry, skopeo, umoci and htpasswd (apt-get install them)")
    for item in items:
        if "integration/registry" in str(item.path):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def plain_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """An anonymous registry shared by the session; use a repository name unique to the test."""
    with running_registry(tmp_path_factory.mktemp("plain-registry")) as server:
        yield server


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A registry with htpasswd (bcrypt) Basic auth for USERS."""
    directory = tmp_path_factory.mktemp("basic-registry")
    htpasswd = write_htpasswd(directory / "htpasswd", USERS)
    auth: dict[str, object] = {"htpasswd": {"realm": "labcore-test", "path": str(htpasswd)}}
    with running_registry(directory, auth) as server:
        yield server


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RegistryServer, TokenServer]]:
    """A registry behind a token service (signed JWTs) that knows USERS."""
    directory = tmp_path_factory.mktemp("token-registry")
    with TokenServer(USERS) as tokens, running_registry(directory, tokens.registry_auth(directory)) as server:
        yield server, tokens


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    """A registry for this test alone (for tests that damage or stop it)."""
    with running_registry(tmp_path / "own-registry") as server:
        yield server


@pytest.fixture
def store(labcore_root: Path) -> Store:
    return Store()


@pytest.fixture
def busybox(store: Store) -> ImageRecord:
    """labcore's busybox base image (from the host's busybox-static), in this test's store."""
    return busybox_image(store)

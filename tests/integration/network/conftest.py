"""Fixtures for network tests: named namespaces made and removed per test, and a full teardown."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labcore.runtime import network
from labcore.runtime.network import firewall
from tests.fixtures_images import busybox, busybox_cache  # noqa: F401

_counter = itertools.count()


@pytest.fixture(scope="session", autouse=True)
def netns_run_dir() -> None:
    """Make /run/netns a shared mount once, before any leak check, as `ip netns` would."""
    name = f"lcprep{os.getpid()}"
    network.create_netns(name)
    network.remove_netns(name)


@pytest.fixture
def make_netns() -> Iterator[Callable[[], str]]:
    """A factory of fresh named network namespaces (only ``lo``), all removed at the end."""
    made: list[str] = []

    def factory() -> str:
        name = f"lct{os.getpid()}n{next(_counter)}"
        made.append(name)
        return network.create_netns(name)

    yield factory
    for name in made:
        network.remove_netns(name)


@pytest.fixture(autouse=True)
def network_teardown(labcore_root: Path) -> Iterator[None]:
    """Detach every endpoint and remove every network this test's root made, default bridge too.

    Only this root's state is touched: other helpers may use labcore networks at the same time.
    """
    yield
    mine = [net.short_id for net in network.list_networks()]
    for endpoint in network.all_endpoints():
        network.cleanup(endpoint.container_id)
    network.prune_networks(include_default=True)
    left = [rule for rule in firewall.list_rules() if any(short in str(rule.get("comment", "")) for short in mine)]
    assert not left, left

from __future__ import annotations

from pathlib import Path

import pytest

from labcore.errors import UsageError
from labcore.registry.hosts import Endpoint, load_hosts


def test_defaults_mirror_docker_hub_through_the_lab_registry(labcore_root: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABCORE_REGISTRY", "127.0.0.1:5999")
    hosts = load_hosts()
    assert hosts.pull_endpoints("docker.io") == [
        Endpoint("http://127.0.0.1:5999", mirror=True),
        Endpoint("https://registry-1.docker.io"),
    ]
    assert hosts.push_endpoint("docker.io") == Endpoint("https://registry-1.docker.io")


def test_only_insecure_registries_speak_plain_http(labcore_root: Path) -> None:
    hosts = load_hosts()
    assert hosts.origin("localhost:5000").base_url == "http://localhost:5000"
    assert hosts.origin("127.0.0.1:41234").base_url == "http://127.0.0.1:41234"
    assert hosts.origin("registry.example.com").base_url == "https://registry.example.com"
    assert hosts.origin("registry.example.com:5000").base_url == "https://registry.example.com:5000"


def test_registries_json_sets_mirrors_and_insecure_hosts(labcore_root: Path) -> None:
    (labcore_root / "registries.json").write_text(
        '{"mirrors": {"quay.io": ["http://10.0.0.1:5000/", "https://m.example"]}, "insecure": ["10.0.0.1"]}'
    )
    hosts = load_hosts()
    assert [e.base_url for e in hosts.pull_endpoints("quay.io")] == [
        "http://10.0.0.1:5000", "https://m.example", "https://quay.io",
    ]
    assert hosts.origin("10.0.0.1:5000").base_url == "http://10.0.0.1:5000"
    # a file without a docker.io mirror means docker.io goes straight to the origin
    assert [e.base_url for e in hosts.pull_endpoints("docker.io")] == ["https://registry-1.docker.io"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"mirrors": ', "line 1"),
        ("[]", "top level"),
        ('{"mirrors": {"docker.io": "http://x"}}', '"mirrors"'),
        ('{"mirrors": {"docker.io": ["no-scheme"]}}', '"mirrors"'),
        ('{"insecure": "localhost"}', '"insecure"'),
    ],
)
def test_a_broken_registries_json_is_named_in_the_error(labcore_root: Path, text: str, fragment: str) -> None:
    (labcore_root / "registries.json").write_text(text)
    with pytest.raises(UsageError) as caught:
        load_hosts()
    assert "registries.json" in caught.value.message
    assert fragment in caught.value.message
    assert caught.value.hint

from __future__ import annotations

from labcore.registry.auth import merge_scopes
from labcore.registry.challenge import Challenge, parse_challenge


def test_bearer_challenge_parameters() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    assert challenge == Challenge(
        "bearer",
        {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
         "scope": "repository:samalba/my-app:pull,push"},
    )


def test_basic_challenge_and_escapes() -> None:
    challenge = parse_challenge(r'Basic realm="a \"quoted\" realm", charset=UTF-8')
    assert challenge is not None
    assert challenge.scheme == "basic"
    assert challenge.realm == 'a "quoted" realm'
    assert challenge.params["charset"] == "UTF-8"


def test_empty_header_is_no_challenge() -> None:
    assert parse_challenge("") is None


def test_scopes_merge_per_repository() -> None:
    scopes = ["repository:a:pull", "repository:a:push", "repository:b:pull", "registry:catalog:*"]
    assert merge_scopes(scopes) == [
        "registry:catalog:*", "repository:a:pull,push", "repository:b:pull",
    ]

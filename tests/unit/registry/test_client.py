from __future__ import annotations

import json

import httpx
import pytest

from labcore.digest import Digest
from labcore.errors import DigestError, RegistryError
from labcore.registry.client import RegistryClient
from labcore.registry.credentials import Credentials
from labcore.registry.errors import (
    AccessDeniedError,
    AuthenticationError,
    RateLimitedError,
    RegistryNotFoundError,
    RegistryServerError,
    RegistryUnreachableError,
    UnsupportedManifestError,
)
from labcore.registry.hosts import Endpoint
from tests.unit.registry.fake_registry import FakeRegistry, make_image, publish


def client_for(fake: FakeRegistry, credentials: Credentials | None = None) -> RegistryClient:
    return RegistryClient(fake.host, Endpoint(f"https://{fake.host}"), credentials=credentials,
                          use_saved_credentials=False, transport=fake.transport())


@pytest.mark.parametrize(
    ("status", "error", "hint_fragment"),
    [
        (401, AuthenticationError, "labcore login"),
        (403, AccessDeniedError, "access"),
        (404, RegistryNotFoundError, "labcore search"),
        (429, RateLimitedError, "after 7s"),
        (500, RegistryServerError, "retry later"),
        (503, RegistryServerError, "retry later"),
    ],
)
def test_each_failure_status_says_what_to_do(
    status: int, error: type[RegistryError], hint_fragment: str
) -> None:
    fake = FakeRegistry(status={r"/manifests/": status})
    with client_for(fake) as client, pytest.raises(error) as caught:
        client.get_manifest("team/app", "1.0")
    assert f"HTTP {status}" in caught.value.message
    assert "manifest team/app:1.0" in caught.value.message
    assert "FAULT: injected" in caught.value.message  # the registry's own error code is kept
    assert hint_fragment in caught.value.hint


def test_unreachable_registry_is_a_clear_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = RegistryClient("down:5000", Endpoint("http://down:5000"), use_saved_credentials=False,
                            transport=httpx.MockTransport(refuse))
    with client, pytest.raises(RegistryUnreachableError, match="cannot reach http://down:5000") as caught:
        client.ping()
    assert "./lab up" in caught.value.hint


def test_schema1_manifests_are_refused_with_the_reason() -> None:
    fake = FakeRegistry()
    fake.add_manifest("old/app", "v1", "application/vnd.docker.distribution.manifest.v1+prettyjws",
                      json.dumps({"schemaVersion": 1, "name": "old/app", "fsLayers": []}).encode())
    with client_for(fake) as client, pytest.raises(UnsupportedManifestError, match="schema 1") as caught:
        client.get_manifest("old/app", "v1")
    assert "signatures" in caught.value.message


def test_manifest_whose_content_disagrees_with_its_digest_header_is_refused() -> None:
    fake = FakeRegistry(lie_about_manifest=True)
    publish(fake, "app", "1", make_image())
    with client_for(fake) as client, pytest.raises(DigestError, match="claims digest"):
        client.get_manifest("app", "1")


def test_tags_and_catalog_follow_pagination() -> None:
    fake = FakeRegistry(page_size=2)
    for tag in ("a", "b", "c", "d", "e"):
        publish(fake, "one", tag, make_image(layers=(tag.encode(),)))
    publish(fake, "two", "x", make_image())
    publish(fake, "three", "x", make_image())
    with client_for(fake) as client:
        assert client.tags("one") == ["a", "b", "c", "d", "e"]
        assert client.catalog() == ["one", "three", "two"]
    assert sum(1 for _, path in fake.log if path.endswith("/tags/list")) == 3


def test_basic_auth_is_sent_only_after_a_challenge_and_wrong_passwords_fail() -> None:
    fake = FakeRegistry(auth="basic", users={"alice": "pw"})
    with client_for(fake, Credentials("alice", "pw")) as client:
        client.ping()
    with client_for(fake, Credentials("alice", "wrong")) as client, pytest.raises(AuthenticationError):
        client.ping()
    with client_for(fake) as client, pytest.raises(AuthenticationError, match="HTTP 401"):
        client.ping()


def test_bearer_tokens_cover_every_scope_asked_for() -> None:
    fake = FakeRegistry(auth="bearer")
    image = make_image()
    publish(fake, "team/app", "1", image)
    with client_for(fake) as client:
        client.ping()
        fetched = client.get_manifest("team/app", "1")
        assert fetched.digest == Digest.parse(image.digest)
        client.auth.want_scopes(["repository:team/other:pull,push"])
        assert client.start_upload("team/other") is not None
    assert fake.token_requests[0]["service"] == ["fake"]
    assert fake.token_requests[0].get("scope") is None  # /v2/ needs no scope
    assert fake.token_requests[1]["scope"] == ["repository:team/app:pull"]
    assert sorted(fake.token_requests[-1]["scope"]) == [
        "repository:team/app:pull", "repository:team/other:pull,push",
    ]


def test_bearer_token_service_refusing_the_password_is_an_authentication_error() -> None:
    fake = FakeRegistry(auth="bearer", users={"alice": "pw"})
    client = client_for(fake, Credentials("alice", "nope"))
    with client, pytest.raises(AuthenticationError) as caught:
        client.get_manifest("team/app", "1")
    assert "refused the user name or password" in caught.value.message
    assert "nope" not in str(caught.value)


def test_blob_and_manifest_delete() -> None:
    fake = FakeRegistry()
    image = make_image()
    digest = publish(fake, "app", "1", image)
    with client_for(fake) as client:
        assert client.blob_size("app", Digest.parse(fake.add_blob("app", b"xyz"))) == 3
        assert client.blob_size("app", Digest.of_bytes(b"absent")) is None
        client.delete_manifest("app", Digest.parse(digest))
        assert client.head_manifest("app", digest) is None
        with pytest.raises(RegistryNotFoundError):
            client.delete_manifest("app", Digest.parse(digest))

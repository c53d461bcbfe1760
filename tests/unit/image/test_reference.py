from __future__ import annotations

import pytest

from labcore.digest import Digest
from labcore.errors import InvalidReferenceError
from labcore.image.reference import parse_reference

HEX = "a" * 64

NORMALISED = [
    # text, full form with default tag, familiar form
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("library/busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("team/app", "docker.io/team/app:latest", "team/app:latest"),
    ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
    ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"),
    ("127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app:latest", "127.0.0.1:5000/team/app:latest"),
    ("quay.io/org/app:1.0-rc_1", "quay.io/org/app:1.0-rc_1", "quay.io/org/app:1.0-rc_1"),
    (
        f"host:5000/team/app@sha256:{HEX}",
        f"host:5000/team/app@sha256:{HEX}",
        f"host:5000/team/app@sha256:{HEX}",
    ),
    (f"busybox:1@sha256:{HEX}", f"docker.io/library/busybox:1@sha256:{HEX}", f"busybox:1@sha256:{HEX}"),
    ("a__b/c--d.e_f", "docker.io/a__b/c--d.e_f:latest", "a__b/c--d.e_f:latest"),
]


@pytest.mark.parametrize(("text", "full", "familiar"), NORMALISED)
def test_normalisation(text: str, full: str, familiar: str) -> None:
    reference = parse_reference(text).with_default_tag()
    assert str(reference) == full
    assert reference.familiar == familiar
    # the full form parses to the same reference
    assert parse_reference(full) == reference


def test_parts_of_a_reference() -> None:
    reference = parse_reference(f"localhost:5000/team/app:v2@sha256:{HEX}")
    assert reference.domain == "localhost:5000"
    assert reference.path == "team/app"
    assert reference.tag == "v2"
    assert reference.digest == Digest("sha256", HEX)
    assert reference.name == "localhost:5000/team/app"


def test_domain_detection() -> None:
    # a first component is a registry only with a dot, a port or as localhost
    assert parse_reference("team/app").domain == "docker.io"
    assert parse_reference("my.registry/app").domain == "my.registry"
    assert parse_reference("host:80/app").domain == "host:80"
    assert parse_reference("localhost/app").domain == "localhost"
    assert parse_reference("localhostx/app").domain == "docker.io"


def test_digest_only_reference_keeps_no_tag() -> None:
    reference = parse_reference(f"busybox@sha256:{HEX}").with_default_tag()
    assert reference.tag is None
    assert reference.digest is not None


INVALID = [
    ("", "empty"),
    ("Busybox", "lowercase"),
    ("team/App:1", "lowercase"),
    ("busybox:", "tag"),
    ("busybox:-bad", "tag"),
    ("busybox:" + "t" * 129, "tag"),
    ("bad..name", "path component"),
    ("-app", "path component"),
    ("app/", "path component"),
    ("busybox@sha256:1234", "digest"),
    ("busybox@md5:" + "a" * 32, "digest algorithm"),
    (HEX, "image id"),
    ("a" * 250 + "/" + "b" * 10, "longer than"),
    ("ho_st:5000/app", "registry host"),
]


@pytest.mark.parametrize(("text", "rule"), INVALID)
def test_invalid_references_name_the_reference_and_the_rule(text: str, rule: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference(text)
    assert rule in caught.value.message
    assert repr(text) in caught.value.message
    assert caught.value.hint


def test_with_tag_validates_the_tag() -> None:
    reference = parse_reference("busybox")
    assert str(reference.with_tag("1.36")) == "docker.io/library/busybox:1.36"
    with pytest.raises(InvalidReferenceError):
        reference.with_tag("no/slash")

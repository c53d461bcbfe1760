"""Manifests, indexes and configs: round trips, canonical bytes, validation, schema conformance."""

from __future__ import annotations

import hashlib
import json

import pytest

from labcore.digest import Digest
from labcore.image import mediatypes
from labcore.image._json import InvalidDocumentError
from labcore.image.descriptor import Descriptor, Platform
from labcore.image.imageconfig import ContainerConfig, Healthcheck, HistoryEntry, ImageConfig, chain_ids
from labcore.image.manifest import Index, Manifest, parse_manifest_or_index
from tests.unit.image.oci_schemas import validate

D1 = Digest.of_bytes(b"one")
D2 = Digest.of_bytes(b"two")
D3 = Digest.of_bytes(b"three")


def full_config() -> ImageConfig:
    return ImageConfig(
        architecture="amd64",
        os="linux",
        diff_ids=(D1, D2),
        config=ContainerConfig(
            user="1000:1000",
            exposed_ports=("80/tcp", "53/udp"),
            env=("PATH=/usr/bin", "A=b"),
            entrypoint=("/entry",),
            cmd=("run", "--fast"),
            volumes=("/data",),
            working_dir="/srv",
            labels={"z": "last", "a": "first"},
            stop_signal="SIGTERM",
            healthcheck=Healthcheck(test=("CMD", "true"), interval=30_000_000_000, retries=3),
            on_build=("RUN make",),
        ),
        history=(
            HistoryEntry(created="2024-01-01T00:00:00Z", created_by="ADD rootfs.tar /", comment="base"),
            HistoryEntry(created="2024-01-01T00:00:01.123456789Z", created_by="CMD run", empty_layer=True),
        ),
        created="2024-01-01T00:00:01.123456789Z",
        author="lab",
    )


def test_config_round_trip_and_schema() -> None:
    config = full_config()
    data = config.to_json()
    validate("config", data)
    assert ImageConfig.from_json(data) == config
    # canonical: compact, free-form maps sorted, deterministic
    assert b": " not in data and b", " not in data
    assert data.index(b'"a":"first"') < data.index(b'"z":"last"')
    assert config.to_json() == data


def test_docker_config_fields_survive_parsing() -> None:
    document = {
        "architecture": "arm64",
        "variant": "v8",
        "os": "linux",
        "config": {"Cmd": None, "Entrypoint": ["/bin/sh", "-c"], "Volumes": None, "Labels": None},
        "rootfs": {"type": "layers", "diff_ids": [str(D1)]},
    }
    config = ImageConfig.from_json(json.dumps(document))
    assert config.variant == "v8"
    assert config.config.cmd is None
    assert config.config.entrypoint == ("/bin/sh", "-c")
    assert config.diff_ids == (D1,)


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}, "architecture"),
        ({"architecture": "amd64", "os": "linux"}, "rootfs"),
        ({"architecture": "amd64", "os": "linux", "rootfs": {"type": "tar", "diff_ids": []}}, "rootfs.type"),
        (
            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["x"]}},
            "diff_ids",
        ),
        ({"architecture": 5, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}, "architecture"),
        (
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": []},
                "config": {"Env": "A=b"},
            },
            "Env",
        ),
    ],
)
def test_bad_configs_are_refused_naming_the_field(document: dict[str, object], complaint: str) -> None:
    with pytest.raises(InvalidDocumentError) as caught:
        ImageConfig.from_json(json.dumps(document), what="config of test")
    assert "config of test" in caught.value.message
    assert complaint in caught.value.message


def test_manifest_round_trip_and_schema() -> None:
    manifest = Manifest(
        config=Descriptor(mediatypes.OCI_CONFIG, D1, 123),
        layers=(
            Descriptor(mediatypes.OCI_LAYER_GZIP, D2, 456),
            Descriptor(mediatypes.OCI_LAYER_ZSTD, D3, 789, annotations={"k": "v"}),
        ),
        annotations={"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    )
    data = manifest.to_json()
    validate("manifest", data)
    assert Manifest.from_json(data) == manifest
    descriptor = manifest.descriptor()
    assert descriptor.digest == Digest("sha256", hashlib.sha256(data).hexdigest())
    assert descriptor.size == len(data)


def test_docker_schema2_manifest_is_recognised() -> None:
    document = {
        "schemaVersion": 2,
        "mediaType": mediatypes.DOCKER_MANIFEST,
        "config": {"mediaType": mediatypes.DOCKER_CONFIG, "digest": str(D1), "size": 1},
        "layers": [{"mediaType": mediatypes.DOCKER_LAYER_GZIP, "digest": str(D2), "size": 2}],
    }
    manifest = parse_manifest_or_index(json.dumps(document).encode())
    assert isinstance(manifest, Manifest)
    assert manifest.media_type == mediatypes.DOCKER_MANIFEST
    assert mediatypes.is_layer(manifest.layers[0].media_type)


def test_index_and_manifest_list_round_trip() -> None:
    index = Index(
        manifests=(
            Descriptor(mediatypes.OCI_MANIFEST, D1, 10, platform=Platform("amd64", "linux")),
            Descriptor(mediatypes.OCI_MANIFEST, D2, 20, platform=Platform("arm64", "linux", variant="v8")),
        )
    )
    data = index.to_json()
    validate("index", data)
    assert Index.from_json(data) == index
    docker_list = {
        "schemaVersion": 2,
        "mediaType": mediatypes.DOCKER_MANIFEST_LIST,
        "manifests": [
            {
                "mediaType": mediatypes.DOCKER_MANIFEST,
                "digest": str(D1),
                "size": 1,
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
    parsed = parse_manifest_or_index(json.dumps(docker_list).encode())
    assert isinstance(parsed, Index)
    assert str(parsed.manifests[0].platform) == "linux/amd64"


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"schemaVersion": 1, "config": {}, "layers": []}, "schemaVersion 1"),
        ({"schemaVersion": 2, "layers": []}, "config"),
        ({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "config": {}, "layers": []}, "mediaType"),
        (
            {
                "schemaVersion": 2,
                "config": {"mediaType": "a/b", "digest": "sha256:12", "size": 1},
                "layers": [],
            },
            "digest",
        ),
        (
            {"schemaVersion": 2, "config": {"mediaType": "a/b", "digest": str(D1), "size": -1}, "layers": []},
            "negative size",
        ),
        (
            {"schemaVersion": 2, "config": {"mediaType": "a/b", "digest": str(D1), "size": 1}, "layers": [7]},
            "layers[0]",
        ),
    ],
)
def test_bad_manifests_are_refused(document: dict[str, object], complaint: str) -> None:
    with pytest.raises(InvalidDocumentError) as caught:
        Manifest.from_json(json.dumps(document))
    assert complaint in caught.value.message


def test_not_json_is_refused() -> None:
    with pytest.raises(InvalidDocumentError, match="not valid JSON"):
        Manifest.from_json(b"\x00garbage")
    with pytest.raises(InvalidDocumentError, match="expected a JSON object"):
        Index.from_json(b"[]")


def test_chain_ids_follow_the_oci_formula() -> None:
    chains = chain_ids([D1, D2, D3])
    assert chains[0] == D1
    second = Digest("sha256", hashlib.sha256(f"{D1} {D2}".encode()).hexdigest())
    assert chains[1] == second
    assert chains[2] == Digest("sha256", hashlib.sha256(f"{second} {D3}".encode()).hexdigest())
    assert chain_ids([]) == []


def test_a_known_chain_id() -> None:
    # ChainID(L0|L1) for diff ids a..a and b..b, computed independently with sha256sum
    a, b = Digest("sha256", "a" * 64), Digest("sha256", "b" * 64)
    expected = hashlib.sha256(("sha256:" + "a" * 64 + " sha256:" + "b" * 64).encode()).hexdigest()
    assert chain_ids([a, b])[1].encoded == expected

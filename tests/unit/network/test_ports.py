import pytest

from labcore.runtime.network import PortMapping, PortSpecError, parse_publish, publish_all


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("80", PortMapping(80, 0, "", "tcp")),
        ("8080:80", PortMapping(80, 8080, "", "tcp")),
        ("8080:80/udp", PortMapping(80, 8080, "", "udp")),
        ("127.0.0.1:8080:80", PortMapping(80, 8080, "127.0.0.1", "tcp")),
        ("127.0.0.1::80/tcp", PortMapping(80, 0, "127.0.0.1", "tcp")),
        ("0.0.0.0:53:53/UDP", PortMapping(53, 53, "", "udp")),
    ],
)
def test_parse_publish_accepts_docker_forms(spec: str, expected: PortMapping) -> None:
    assert parse_publish(spec) == expected


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("", "empty"),
        ("80/sctp", "'sctp'"),
        ("http:80", "'http'"),
        ("8080:0", "0"),
        ("70000:80", "70000"),
        ("localhost:8080:80", "'localhost'"),
        ("8000-8001:80-81", "8000-8001:80-81"),
        ("1.2.3.4:5:6:7", "'1.2.3.4:5'"),
    ],
)
def test_parse_publish_rejects_bad_specs_naming_the_part(spec: str, named: str) -> None:
    with pytest.raises(PortSpecError) as caught:
        parse_publish(spec)
    assert named in caught.value.message
    assert "HOSTPORT:CONTAINERPORT" in caught.value.hint


def test_publish_all_maps_exposed_ports_to_random_host_ports() -> None:
    assert publish_all(["80/tcp", "53/udp", "8080"]) == [
        PortMapping(80, 0, "", "tcp"),
        PortMapping(53, 0, "", "udp"),
        PortMapping(8080, 0, "", "tcp"),
    ]
    with pytest.raises(PortSpecError, match="'x'"):
        publish_all(["x/tcp"])


def test_port_mapping_prints_like_docker_port() -> None:
    assert str(PortMapping(80, 8080, "", "tcp")) == "80/tcp -> 0.0.0.0:8080"
    assert str(PortMapping(53, 5353, "127.0.0.1", "udp")) == "53/udp -> 127.0.0.1:5353"

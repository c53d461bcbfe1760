import multiprocessing
from pathlib import Path

import pytest

from labcore.runtime.network import Endpoint, Network, PortMapping, SubnetFullError, firewall, ipam, leases
from labcore.runtime.network.hostfiles import resolv_content


def make_network(subnet: str = "10.90.0.0/24", gateway: str = "10.90.0.1", name: str = "test") -> Network:
    return Network("f" * 64, name, "lc-ffffffffffff", subnet, gateway, "2026-01-01T00:00:00+00:00")


def test_records_round_trip_through_json() -> None:
    network = make_network()
    assert Network.from_json(network.to_json()) == network
    endpoint = Endpoint(
        "test",
        network.id,
        "c" * 64,
        "web",
        "10.90.0.2",
        24,
        "02:42:0a:5a:00:02",
        "10.90.0.1",
        "lcv000000000000",
        "eth0",
        "/run/netns/x",
        ("www",),
        (PortMapping(80, 8080, "", "tcp"),),
    )
    assert Endpoint.from_json(endpoint.to_json()) == endpoint


def test_leases_start_after_the_gateway_and_are_reused_after_release(labcore_root: Path) -> None:
    network = make_network()
    assert ipam.allocate(network, "a") == "10.90.0.2"
    assert ipam.allocate(network, "b") == "10.90.0.3"
    assert ipam.allocate(network, "a") == "10.90.0.2"  # idempotent per container
    assert ipam.release(network, "a") == ["10.90.0.2"]
    assert ipam.allocate(network, "c") == "10.90.0.2"
    assert leases(network) == {"10.90.0.2": "c", "10.90.0.3": "b"}
    assert (labcore_root / "networks" / network.id / "leases.json").is_file()


def test_a_full_subnet_is_refused_by_name(labcore_root: Path) -> None:
    network = make_network("10.90.0.0/30", "10.90.0.1", name="tiny")
    assert ipam.allocate(network, "a") == "10.90.0.2"
    with pytest.raises(SubnetFullError) as caught:
        ipam.allocate(network, "b")
    assert caught.value.message == "network 'tiny' (10.90.0.0/30) has no free address"


def _allocate_many(args: tuple[str, int]) -> list[str]:
    prefix, count = args
    network = make_network("10.90.0.0/22", "10.90.0.1")
    return [ipam.allocate(network, f"{prefix}-{n}") for n in range(count)]


def test_concurrent_processes_never_get_the_same_address(labcore_root: Path) -> None:
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.map(_allocate_many, [(f"p{n}", 25) for n in range(4)])
    addresses = [address for batch in results for address in batch]
    assert len(addresses) == 100
    assert len(set(addresses)) == 100
    assert len(leases(make_network("10.90.0.0/22", "10.90.0.1"))) == 100


def test_mac_is_derived_from_the_address() -> None:
    assert ipam.mac_for("10.88.0.2") == "02:42:0a:58:00:02"


def test_resolv_conf_drops_loopback_nameservers(tmp_path: Path) -> None:
    host = tmp_path / "resolv.conf"
    host.write_text("search lab\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions edns0\n")
    assert resolv_content(host) == "search lab\nnameserver 192.0.2.53\noptions edns0\n"
    host.write_text("nameserver 127.0.0.53\n")
    assert resolv_content(host) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"


def test_firewall_rules_for_a_network_and_its_ports() -> None:
    network = make_network()
    rules = firewall.network_rules(network)
    assert ("postrouting", 'ip saddr 10.90.0.0/24 oifname != "lc-ffffffffffff" masquerade') in rules
    assert any(chain == "forward" and '"labcore0"' in rule and "reject" in rule for chain, rule in rules)
    ports = firewall.endpoint_rules(
        "10.90.0.2", [PortMapping(80, 8080, "", "tcp"), PortMapping(53, 5353, "127.0.0.1", "udp")]
    )
    assert ports == [
        ("ports", "tcp dport 8080 dnat to 10.90.0.2:80"),
        ("ports", "ip daddr 127.0.0.1 udp dport 5353 dnat to 10.90.0.2:53"),
    ]
    assert firewall.endpoint_unit(network, "c" * 64) == f"lc-ep:ffffffffffff:{'c' * 64}"

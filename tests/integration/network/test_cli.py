"""``labcore network ...`` and ``labcore port`` drive the same state as the library."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from labcore.cli.main import main
from labcore.runtime import network
from labcore.runtime.network import links
from tests.tools import free_port

pytestmark = [pytest.mark.root, pytest.mark.integration]

A = "a" * 64


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_network_create_ls_inspect_port_rm(capsys: pytest.CaptureFixture[str], make_netns: Callable[[], str]) -> None:
    status, out, _ = run(capsys, "network", "create", "--subnet", "10.93.0.0/24", "web")
    assert status == 0
    network_id = out.strip()
    assert len(network_id) == 64
    status, out, _ = run(capsys, "network", "ls")
    lines = out.splitlines()
    assert lines[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SUBNET", "BRIDGE"]
    assert any(line.split()[:2] == [network_id[:12], "web"] and "10.93.0.0/24" in line for line in lines)
    assert any(line.split()[:2] == ["-", "none"] for line in lines)

    port = free_port()
    ep = network.attach("web", A, make_netns(), name="shop", ports=[network.parse_publish(f"{port}:80")])
    status, out, _ = run(capsys, "network", "inspect", "web")
    (info,) = json.loads(out)
    assert info["IPAM"]["Config"] == [{"Subnet": "10.93.0.0/24", "Gateway": "10.93.0.1"}]
    container = info["Containers"][A]
    assert container["IPv4Address"] == f"{ep.ip}/24"
    assert container["MacAddress"] == ep.mac
    assert container["Ports"] == [f"80/tcp -> 0.0.0.0:{port}"]

    assert run(capsys, "port", "shop")[:2] == (0, f"80/tcp -> 0.0.0.0:{port}\n")
    assert run(capsys, "port", A[:12], "80/tcp")[:2] == (0, f"0.0.0.0:{port}\n")
    status, _, err = run(capsys, "port", "shop", "81")
    assert status == 1 and "no public port '81'" in err

    status, _, err = run(capsys, "network", "rm", "web")
    assert status == 1
    assert "network 'web' is in use by 1 container(s)" in err and "hint:" in err
    assert run(capsys, "network", "disconnect", "web", "shop")[0] == 0
    assert run(capsys, "network", "rm", "web")[:2] == (0, "web\n")
    assert not links.link_exists(f"lc-{network_id[:12]}")


def test_network_connect_with_an_explicit_namespace(
    capsys: pytest.CaptureFixture[str], make_netns: Callable[[], str]
) -> None:
    ns = make_netns()
    network.create_network("extra")
    network.attach("bridge", A, ns, name="box")
    status, out, _ = run(capsys, "network", "connect", "--netns", ns, "extra", "box")
    assert status == 0 and out.startswith("eth1 10.89.")
    assert links.netns_links(ns) == ["eth0", "eth1", "lo"]
    status, _, err = run(capsys, "network", "disconnect", "extra", "box")
    assert status == 0
    status, _, err = run(capsys, "network", "disconnect", "extra", "box")
    assert status == 1 and "is not connected to network 'extra'" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("network", "create", "--subnet", "10.94.0.0/31", "x"), "subnet 10.94.0.0/31 has no room"),
        (("network", "create", "--subnet", "10.94.0.1/24", "x"), "invalid subnet '10.94.0.1/24'"),
        (("network", "create", "bridge"), "network name 'bridge' is reserved"),
        (("network", "rm", "nosuch"), "no such network: 'nosuch'"),
        (("network", "rm", "bridge"), "the default network 'bridge' cannot be removed"),
    ],
)
def test_bad_requests_get_clear_errors(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 1
    assert message in err
    assert "hint:" in err
    assert network.list_networks() == []

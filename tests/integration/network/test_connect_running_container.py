"""``labcore network connect`` joins a running labcore container (started with --network none)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from labcore.cli.main import main
from labcore.runtime import network
from tests.integration.network.nsprocs import server_in

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_connect_and_disconnect_a_running_container(
    busybox: str, make_netns: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    import labcore.container as containers

    net = network.create_network("late")
    peer_ns = make_netns()
    peer = network.attach(net, "p" * 64, peer_ns, name="peer")
    container = containers.run(busybox, ["sleep", "600"], detach=True, name="box", network="none")
    assert containers.exec(container.name, ["cat", "/sys/class/net/eth0/address"]).exit_code != 0

    assert main(["network", "connect", "late", "box"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("eth0 10.")
    (endpoint,) = network.container_endpoints(container.id)
    assert endpoint.name == "box"
    shown = containers.exec(container.name, ["ip", "-4", "-o", "addr", "show", "eth0"])
    assert f"inet {endpoint.ip}/24" in shown.stdout
    with server_in(peer_ns, 7010, b"peer"):
        got = containers.exec(container.name, ["sh", "-c", f"echo hi | nc {peer.ip} 7010"])
        assert got.stdout.startswith(f"peer:hi\n:{endpoint.ip}")

    assert main(["network", "disconnect", "late", "box"]) == 0
    assert containers.exec(container.name, ["cat", "/sys/class/net/eth0/address"]).exit_code != 0
    assert network.leases(net) == {peer.ip: "p" * 64}

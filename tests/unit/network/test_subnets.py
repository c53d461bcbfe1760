import ipaddress
import re

import pytest

from labcore.errors import UsageError
from labcore.runtime.network import SubnetFullError, SubnetOverlapError
from labcore.runtime.network.subnets import allocate_subnet, check_no_overlap, default_subnet, parse_subnet

N = ipaddress.IPv4Network


def test_parse_subnet_refuses_host_bits_and_garbage() -> None:
    assert parse_subnet("10.90.0.0/24") == N("10.90.0.0/24")
    with pytest.raises(UsageError, match=re.escape("10.90.0.1/24")):
        parse_subnet("10.90.0.1/24")
    with pytest.raises(UsageError, match="'nonsense'"):
        parse_subnet("nonsense")


@pytest.mark.parametrize("subnet", ["10.90.0.0/31", "10.90.0.0/32"])
def test_parse_subnet_refuses_a_subnet_with_no_room(subnet: str) -> None:
    with pytest.raises(SubnetFullError, match="no room"):
        parse_subnet(subnet)


def test_overlap_names_what_it_overlaps() -> None:
    taken = [(N("192.0.2.0/24"), "host route 192.0.2.0/24 on eth0")]
    check_no_overlap(N("10.88.0.0/16"), taken)
    expected = "192.0.2.0/25 overlaps host route 192.0.2.0/24 on eth0"
    with pytest.raises(SubnetOverlapError, match=re.escape(expected)):
        check_no_overlap(N("192.0.2.0/25"), taken)


def test_pool_allocation_skips_every_overlap() -> None:
    taken = [(N("10.89.0.0/24"), "a"), (N("10.89.1.128/25"), "b"), (N("10.89.2.7/32"), "c")]
    assert allocate_subnet(taken) == N("10.89.3.0/24")
    with pytest.raises(SubnetFullError, match="no free /24"):
        allocate_subnet([(N("10.89.0.0/16"), "everything")])


def test_default_subnet_can_be_moved_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_subnet() == N("10.88.0.0/16")
    monkeypatch.setenv("LABCORE_BRIDGE_SUBNET", "172.30.0.0/16")
    assert default_subnet() == N("172.30.0.0/16")

"""Interface flags by ioctl: what the loopback of a new network namespace is brought up with."""

import errno

import pytest

from labcore.linux.netdev import IFF_UP, interface_flags, set_interface_up


def test_the_hosts_loopback_is_up() -> None:
    assert interface_flags("lo") & IFF_UP


def test_an_unknown_interface_is_an_oserror_naming_it() -> None:
    with pytest.raises(OSError) as raised:
        interface_flags("nosuchif0")
    assert raised.value.errno == errno.ENODEV and raised.value.filename == "nosuchif0"


@pytest.mark.parametrize("name", ["", "a-name-far-too-long"])
def test_a_name_the_kernel_cannot_hold_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="1 to 15 bytes"):
        set_interface_up(name)

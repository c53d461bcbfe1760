from __future__ import annotations

import pytest

from labcore.errors import SystemSetupError
from labcore.image.base import platform
from labcore.image.base.commit import rfc3339, source_epoch


def test_rfc3339_is_utc_with_z() -> None:
    assert rfc3339(0) == "1970-01-01T00:00:00Z"
    assert rfc3339(1_700_000_000) == "2023-11-14T22:13:20Z"


def test_source_date_epoch_wins_over_the_input_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234")
    assert source_epoch(99.9) == 1234
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not-a-number")
    assert source_epoch(99.9) == 99
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert source_epoch(42.5) == 42


@pytest.mark.parametrize(("machine", "oci", "debian"), [
    ("x86_64", "amd64", "amd64"), ("aarch64", "arm64", "arm64"), ("armv7l", "arm", "armhf"),
])
def test_architectures_in_oci_and_debian_spelling(monkeypatch: pytest.MonkeyPatch, machine: str, oci: str,
                                                  debian: str) -> None:
    monkeypatch.setattr(platform._platform, "machine", lambda: machine)
    assert (platform.oci_architecture(), platform.debian_architecture()) == (oci, debian)


def test_unknown_machine_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform._platform, "machine", lambda: "pdp11")
    with pytest.raises(SystemSetupError, match="pdp11"):
        platform.oci_architecture()

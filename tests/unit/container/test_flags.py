import pytest

from labcore.container.flags import (
    cpu_quota,
    merge_env,
    parse_cpus,
    parse_env,
    parse_memory,
    parse_pids_limit,
)
from labcore.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("64m", 64 << 20), ("1g", 1 << 30), ("512k", 512 << 10), ("100", 100), ("100b", 100), ("2M", 2 << 20)],
)
def test_memory_units(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["-1m", "abc", "", "12x", "0", "m"])
def test_bad_memory_names_flag_and_value(text):
    with pytest.raises(UsageError) as caught:
        parse_memory(text)
    assert "--memory" in caught.value.message
    assert repr(text) in caught.value.message
    assert caught.value.hint


def test_cpus_to_nano_and_quota():
    assert parse_cpus("0.5") == 500_000_000
    assert cpu_quota(parse_cpus("1.5")) == 150_000


@pytest.mark.parametrize("text", ["0", "-1", "lots", "nan"])
def test_bad_cpus(text):
    with pytest.raises(UsageError, match="--cpus"):
        parse_cpus(text)


def test_pids_limit():
    assert parse_pids_limit("64") == 64
    assert parse_pids_limit("-1") is None
    with pytest.raises(UsageError, match="--pids-limit"):
        parse_pids_limit("-5")
    with pytest.raises(UsageError, match="--pids-limit"):
        parse_pids_limit("many")


def test_env_forms():
    host = {"FROM_HOST": "yes"}
    assert parse_env(["A=1", "B=", "FROM_HOST", "MISSING"], host) == ["A=1", "B=", "FROM_HOST=yes"]
    with pytest.raises(UsageError, match="'=x'"):
        parse_env(["=x"], host)


def test_merge_env_overrides_in_place():
    assert merge_env(["PATH=/bin", "A=1"], ["A=2", "B=3"]) == ["PATH=/bin", "A=2", "B=3"]

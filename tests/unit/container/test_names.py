import re

import pytest

from labcore.container.names import generate_name, new_id, short_id, validate_name
from labcore.errors import UsageError


def test_ids_are_64_hex_and_short_is_12():
    ident = new_id()
    assert re.fullmatch(r"[0-9a-f]{64}", ident)
    assert short_id(ident) == ident[:12]
    assert new_id() != ident


def test_generated_names_are_adjective_noun_and_avoid_taken():
    name = generate_name()
    assert re.fullmatch(r"[a-z]+_[a-z]+\d*", name)
    taken = {generate_name() for _ in range(50)}
    assert generate_name(taken) not in taken


@pytest.mark.parametrize("bad", ["", "-x", "a b", "a/b", "é"])
def test_bad_names(bad):
    with pytest.raises(UsageError, match="invalid container name"):
        validate_name(bad)
    assert validate_name("web_1.a-b") == "web_1.a-b"

from __future__ import annotations

import pytest

from labcore.image.changes import ChangeError, apply_change, apply_changes
from labcore.image.imageconfig import ContainerConfig


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ('CMD ["/bin/sh", "-c", "echo hi"]', "cmd", ("/bin/sh", "-c", "echo hi")),
        ("CMD echo hi", "cmd", ("/bin/sh", "-c", "echo hi")),
        ('ENTRYPOINT ["/init"]', "entrypoint", ("/init",)),
        ("ENV A=1 B='two words'", "env", ("A=1", "B=two words")),
        ("ENV LEGACY value with spaces", "env", ("LEGACY=value with spaces",)),
        ('LABEL maintainer="lab team" tier=1', "labels", {"maintainer": "lab team", "tier": "1"}),
        ("EXPOSE 80 53/udp", "exposed_ports", ("53/udp", "80/tcp")),
        ("VOLUME /data /logs", "volumes", ("/data", "/logs")),
        ('VOLUME ["/data"]', "volumes", ("/data",)),
        ("USER 1000:1000", "user", "1000:1000"),
        ("workdir /srv", "working_dir", "/srv"),
        ("STOPSIGNAL SIGINT", "stop_signal", "SIGINT"),
        ("ONBUILD RUN make", "on_build", ("RUN make",)),
    ],
)
def test_each_instruction(line: str, field: str, value: object) -> None:
    assert getattr(apply_change(ContainerConfig(), line), field) == value


def test_env_replaces_an_existing_key() -> None:
    config = apply_changes(ContainerConfig(env=("A=1", "PATH=/bin")), ["ENV A=2"])
    assert config.env == ("PATH=/bin", "A=2")


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("RUN make", "'RUN' cannot be used"),
        ("CMD", "needs an argument"),
        ('CMD ["unterminated"', "JSON array"),
        ("CMD [1, 2]", "JSON array"),
        ("ENV =x", "not KEY=value"),
    ],
)
def test_bad_changes_name_the_line(line: str, complaint: str) -> None:
    with pytest.raises(ChangeError) as caught:
        apply_change(ContainerConfig(), line)
    assert repr(line) in caught.value.message
    assert complaint in caught.value.message

import pytest

import labcore.container as containers
from labcore.container.commit import commit
from labcore.errors import UsageError
from labcore.image.store import Store

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_commit_round_trip_keeps_additions_and_deletions(busybox):
    script = "echo made > /made; rm /bin/vi; rm -rf /etc; mkdir /etc; echo only > /etc/only"
    container = containers.run(busybox, ["sh", "-c", script], detach=True)
    assert containers.wait(container) == 0
    image = commit(container.id, "snap:v1", changes=["CMD cat /made", "ENV MODE=committed", "WORKDIR /srv"],
                   message="a test commit")  # fmt: skip
    assert image.config.config.cmd == ("/bin/sh", "-c", "cat /made")
    assert image.config.history[-1].comment == "a test commit"
    assert len(image.layers) == len(Store().resolve(busybox).layers) + 1
    assert containers.run("snap:v1", remove=True).stdout == "made\n"
    check = "ls /bin/vi; ls /etc; echo $MODE; pwd"
    result = containers.run("snap:v1", ["sh", "-c", check], remove=True)
    assert "No such file" in result.stderr  # the deleted file stays deleted
    assert result.stdout == "only\ncommitted\n/srv\n"  # the opaque /etc hides the image's files


def test_commit_rejects_bad_change(busybox):
    container = containers.create(busybox, ["true"])
    with pytest.raises(UsageError, match="FROM"):
        commit(container.id, "bad:v1", changes=["FROM scratch"])

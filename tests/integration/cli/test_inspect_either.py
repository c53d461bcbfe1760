import json

import pytest

from labcore import container
from labcore.cli.main import main
from labcore.image.store import Store

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_inspect_takes_an_image_or_a_container(base_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    box = container.run("busybox", ["sleep", "30"], detach=True, name="inspected")
    assert isinstance(box, container.Container)
    try:
        assert main(["inspect", "busybox", "inspected"]) == 0
        image_doc, container_doc = json.loads(capsys.readouterr().out)
        assert image_doc["Id"].startswith("sha256:")
        assert container_doc["Name"] == "/inspected" and container_doc["State"]["Running"] is True
        assert main(["inspect", "neither"]) == 1
        assert "and no container has that name" in capsys.readouterr().err
    finally:
        container.remove(box, force=True)

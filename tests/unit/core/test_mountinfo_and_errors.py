from labcore.errors import LabcoreError, UnsafeLayerError
from labcore.linux.mountinfo import _unescape, mounts


def test_unescape_octal_sequences() -> None:
    assert _unescape(r"/mnt/with\040space\011tab") == "/mnt/with space\ttab"
    assert _unescape("/plain") == "/plain"


def test_own_mount_table_has_root() -> None:
    assert any(entry.target == "/" for entry in mounts())


def test_error_renders_message_and_hint() -> None:
    error = LabcoreError("image 'nope' not found", hint="pull it first")
    assert str(error) == "image 'nope' not found\nhint: pull it first"
    assert UnsafeLayerError("entry '../x' escapes the root").hint.startswith("the layer is hostile")

"""overlay_options: the mount data string and its one-page limit."""

from __future__ import annotations

import pytest

from labcore.errors import LayerError
from labcore.fs.overlay import MOUNT_OPTIONS_LIMIT, overlay_options


def test_lowers_are_listed_top_first_with_upper_and_work() -> None:
    options = overlay_options(["/l/top", "/l/bottom"], "/c/upper", "/c/work")
    assert options == ("lowerdir=/l/top:/l/bottom,upperdir=/c/upper,workdir=/c/work,redirect_dir=off,metacopy=off")


def test_read_only_overlay_has_only_lowers() -> None:
    assert overlay_options(["/a", "/b"]) == "lowerdir=/a:/b"


def test_colons_and_backslashes_are_escaped() -> None:
    assert overlay_options(["/odd:name", "/back\\slash"]) == "lowerdir=/odd\\:name:/back\\\\slash"


def test_commas_are_refused_by_name() -> None:
    with pytest.raises(LayerError, match="'/a,b' contains a comma"):
        overlay_options(["/a,b"])


def test_upper_without_work_is_refused() -> None:
    with pytest.raises(LayerError, match="both an upper and a work"):
        overlay_options(["/a"], "/upper", None)


def test_no_lowers_is_refused() -> None:
    with pytest.raises(LayerError, match="at least one lower"):
        overlay_options([])


def test_too_many_layers_says_how_many_fit() -> None:
    lowers = [f"/var/lib/labcore/snapshots/{index:064d}" for index in range(100)]
    with pytest.raises(LayerError, match=r"overlay of 100 layers .* only (\d+) of these layers fit") as raised:
        overlay_options(lowers, "/u", "/w")
    fitting = int(raised.value.message.rsplit("only ", 1)[1].split()[0])
    assert len(overlay_options(lowers[:fitting], "/u", "/w")) <= MOUNT_OPTIONS_LIMIT
    with pytest.raises(LayerError):
        overlay_options(lowers[: fitting + 1], "/u", "/w")
    assert "squash" in raised.value.hint

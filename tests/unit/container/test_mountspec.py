import pytest

from labcore.errors import UsageError
from labcore.runtime.mountspec import MountRequest, MountSpecError, parse_mount, parse_tmpfs, parse_volume


def test_v_bind_creates_source_and_ro():
    assert parse_volume("/srv/data:/data:ro") == MountRequest("bind", "/data", "/srv/data", True, True)


def test_v_named_and_anonymous_volume():
    assert parse_volume("cache:/var/cache") == MountRequest("volume", "/var/cache", "cache")
    assert parse_volume("cache:/c:nocopy").nocopy
    assert parse_volume("/scratch") == MountRequest("volume", "/scratch", None)


def test_mount_bind_does_not_create_source():
    request = parse_mount("type=bind,source=/srv,target=/srv,readonly")
    assert request == MountRequest("bind", "/srv", "/srv", readonly=True, create_source=False)


def test_mount_volume_and_tmpfs():
    assert parse_mount("type=volume,src=v1,dst=/v,volume-nocopy").nocopy
    request = parse_mount("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770")
    assert (request.kind, request.tmpfs_size, request.tmpfs_mode) == ("tmpfs", 1 << 20, 0o1770)


def test_tmpfs_flag():
    request = parse_tmpfs("/run:size=64k,mode=755")
    assert (request.target, request.tmpfs_size, request.tmpfs_mode) == ("/run", 64 << 10, 0o755)


@pytest.mark.parametrize(
    ("parser", "spec", "words"),
    [
        (parse_volume, "data:relative", "not absolute"),
        (parse_volume, "a:b:c:d", "invalid volume spec"),
        (parse_volume, "/h:/c:bogus", "unknown option 'bogus'"),
        (parse_volume, "bad name!:/c", "invalid volume name"),
        (parse_volume, "/h:/", "cannot mount on"),
        (parse_mount, "type=nfs,target=/x", "unknown type 'nfs'"),
        (parse_mount, "type=bind,source=/x", "target is required"),
        (parse_mount, "type=bind,source=rel,target=/x", "absolute source"),
        (parse_mount, "type=tmpfs,target=/x,tmpfs-size=-1", "invalid size"),
        (parse_mount, "type=tmpfs,target=/x,tmpfs-mode=99", "invalid mode"),
        (parse_mount, "type=bind,source=/a,target=/b,colour=red", "unknown field(s) colour"),
        (parse_mount, "type=bind,type=volume,target=/b", "given twice"),
        (parse_tmpfs, "/x:size=lots", "invalid size"),
        (parse_tmpfs, "x", "not absolute"),
    ],
)
def test_bad_specs_name_spec_and_problem(parser, spec, words):
    with pytest.raises(MountSpecError) as caught:
        parser(spec)
    assert isinstance(caught.value, UsageError)
    assert words in caught.value.message
    assert repr(spec) in caught.value.message or spec.split(":")[0] in caught.value.message

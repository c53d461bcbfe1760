import pytest

from labcore.container.users import ResolvedUser, resolve_user
from labcore.errors import UsageError


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
    )
    (tmp_path / "etc/group").write_text("root:x:0:\nwww:x:33:\nalice:x:1000:\nwheel:x:10:alice,www\naudio:x:29:alice\n")
    return tmp_path


def test_name_resolves_uid_gid_groups_home(rootfs):
    assert resolve_user("alice", rootfs) == ResolvedUser(1000, 1000, (10, 29), "/home/alice")


def test_numeric_uid_takes_passwd_primary_group(rootfs):
    assert resolve_user("33", rootfs) == ResolvedUser(33, 33, (10,), "/var/www")
    assert resolve_user("4242", rootfs) == ResolvedUser(4242, 0, (), "/")
    assert resolve_user("4242:7", rootfs).gid == 7


def test_group_by_name(rootfs):
    assert resolve_user("www:wheel", rootfs).gid == 10


def test_default_is_root(rootfs):
    assert resolve_user(None, rootfs) == ResolvedUser(0, 0, (), "/root")


@pytest.mark.parametrize(
    ("spec", "words"), [("bob", "user 'bob'"), ("alice:staff", "group 'staff'"), (":1", "invalid user")]
)
def test_unknown_names_are_usage_errors(rootfs, spec, words):
    with pytest.raises(UsageError, match=words):
        resolve_user(spec, rootfs)


def test_symlinked_passwd_is_not_followed(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").symlink_to("/etc/passwd")
    with pytest.raises(UsageError):
        resolve_user("root", tmp_path)

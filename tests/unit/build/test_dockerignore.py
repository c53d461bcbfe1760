import pytest

from labcore.build.dockerignore import IgnoreRules
from labcore.errors import UsageError

RULES = IgnoreRules.parse("""
# comment
*.md
!README*.md
README-secret.md
node_modules
**/*.go
/tmp/
temp?
*/temp*
""")


@pytest.mark.parametrize(("path", "excluded"), [
    ("a.md", True),
    ("README.md", False),
    ("README-secret.md", True),
    ("node_modules", True),
    ("node_modules/x/y.js", True),
    ("x/y/z.go", True),
    ("z.go", True),
    ("tmp/a", True),
    ("tempa", True),
    ("tempab", False),
    ("sub/temporary.txt", True),
    ("sub/sub/temp", False),
    ("keep.txt", False),
])
def test_docker_rules(path: str, excluded: bool) -> None:
    assert RULES.excludes(path) is excluded


def test_last_matching_line_wins() -> None:
    rules = IgnoreRules.parse("*\n!src\nsrc/secret\n")
    assert rules.excludes("build.log")
    assert not rules.excludes("src/main.c")
    assert rules.excludes("src/secret")
    assert rules.has_exceptions


def test_character_classes_and_escapes() -> None:
    rules = IgnoreRules.parse("file[0-9]\nx[^a]\nstar\\*\n")
    assert rules.excludes("file7") and not rules.excludes("filex")
    assert rules.excludes("xb") and not rules.excludes("xa")
    assert rules.excludes("star*") and not rules.excludes("starry")


@pytest.mark.parametrize(("text", "message"), [
    ("!\n", ".dockerignore:1: a lone '!'"),
    ("ok\nbad[\n", ".dockerignore:2: pattern 'bad[' has an unterminated ["),
])
def test_bad_lines_name_the_line(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        IgnoreRules.parse(text)

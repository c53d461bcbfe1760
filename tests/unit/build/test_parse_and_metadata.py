import pytest

from labcore.build.cache import cache_key
from labcore.build.errors import BuildError
from labcore.build.expand import expand
from labcore.build.metadata import apply_metadata, history_text
from labcore.build.parse import parse_dockerfile
from labcore.digest import sha256_bytes
from labcore.errors import UsageError
from labcore.image.imageconfig import ContainerConfig

SHELL = ("/bin/sh", "-c")


def steps(text: str):  # type: ignore[no-untyped-def]
    return parse_dockerfile(text)[1][-1].steps


@pytest.mark.parametrize(("text", "expected"), [
    ("$A", "1"), ("${A}x", "1x"), ("${B:-def}", "def"), ("${E:-d}", "d"), ("${E-d}", ""),
    ("${A:+alt}", "alt"), ("${B:+alt}", ""), ("a\\$A", "a$A"), ("${B:-$A}", "1"), ("$", "$"),
])
def test_expand(text: str, expected: str) -> None:
    assert expand(text, {"A": "1", "E": ""}) == expected


def test_expand_refuses_bad_substitution() -> None:
    with pytest.raises(UsageError, match="missing '}'"):
        expand("${A", {})


def test_stages_args_and_names() -> None:
    global_args, stages = parse_dockerfile("ARG V=1\nFROM debian:bookworm AS build\nRUN make\n"
                                           "FROM busybox\nCOPY --from=build /out /out\n")
    assert [arg.original for arg in global_args] == ["ARG V=1"]
    assert [(stage.name, stage.base) for stage in stages] == [("build", "debian:bookworm"), (None, "busybox")]
    assert stages[1].steps[0].flag("from") == "build"
    assert stages[1].steps[0].line == 5


@pytest.mark.parametrize(("text", "message"), [
    ("FROM x\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO"),
    ("RUN true\n", "Dockerfile:1: RUN before the first FROM"),
    ("# only a comment\n", "no FROM instruction"),
    ("FROM a b c d\n", "Dockerfile:1: FROM wants IMAGE [AS NAME]"),
])
def test_errors_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(BuildError) as error:
        parse_dockerfile(text)
    assert message in str(error.value)


def test_heredoc_is_kept() -> None:
    run = steps("FROM x\nRUN <<EOT\necho hi\nEOT\n")[0]
    assert run.heredocs == ("echo hi\n",)


def test_metadata_instructions_change_the_config() -> None:
    config = ContainerConfig(env=("PATH=/bin",))
    variables: dict[str, str] = {"WHO": "you", "PATH": "/bin"}  # the builder passes ENV values too
    for step in steps('FROM x\nENV A=1 B="two words"\nENV PATH=/usr/bin:$PATH\nLABEL who=$WHO\n'
                      "EXPOSE 80 53/udp\nWORKDIR /app\nWORKDIR sub\nUSER nobody\nCMD echo hi\n"
                      'ENTRYPOINT ["/init"]\nVOLUME /data\nSTOPSIGNAL SIGINT\n'
                      "HEALTHCHECK --interval=1m30s --retries=3 CMD wget -q localhost\n"
                      "ONBUILD RUN make\n"):
        config = apply_metadata(step, config, variables, SHELL)
    assert config.env == ("PATH=/usr/bin:/bin", "A=1", "B=two words")
    assert config.labels == {"who": "you"}
    assert config.exposed_ports == ("53/udp", "80/tcp")
    assert config.working_dir == "/app/sub"
    assert config.user == "nobody"
    assert config.cmd == ("/bin/sh", "-c", "echo hi")
    assert config.entrypoint == ("/init",)
    assert config.volumes == ("/data",)
    assert config.stop_signal == "SIGINT"
    assert config.healthcheck is not None
    assert config.healthcheck.test == ("CMD-SHELL", "wget -q localhost")
    assert config.healthcheck.interval == 90 * 10**9 and config.healthcheck.retries == 3
    assert config.on_build == ("RUN make",)


def test_bad_expose_names_the_line() -> None:
    with pytest.raises(BuildError, match="Dockerfile:2: bad port 'eighty'"):
        apply_metadata(steps("FROM x\nEXPOSE eighty\n")[0], ContainerConfig(), {}, SHELL)


def test_history_reads_like_buildkit() -> None:
    run, copy, cmd = steps('FROM x\nRUN echo hi\nCOPY a /b\nCMD ["/hello"]\n')
    assert history_text(run, SHELL) == "RUN /bin/sh -c echo hi # buildkit"
    assert history_text(copy, SHELL) == "COPY a /b # buildkit"
    assert history_text(cmd, SHELL) == 'CMD ["/hello"]'


def test_cache_key_depends_on_every_input() -> None:
    parent = sha256_bytes(b"parent")
    key = cache_key(parent, "RUN make", "env")
    assert key == cache_key(parent, "RUN make", "env")
    assert key != cache_key(sha256_bytes(b"other"), "RUN make", "env")
    assert key != cache_key(parent, "RUN make install", "env")
    assert key != cache_key(parent, "RUN make", "env2")
    assert key != cache_key(None, "RUN make", "env")

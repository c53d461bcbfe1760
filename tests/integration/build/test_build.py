"""Dockerfile builds on the real kernel: RUN in containers, layers from overlay upper dirs, the cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from labcore import container
from labcore.build import BuildError, build
from labcore.image.base.hello import build_hello
from labcore.image.store import Store

pytestmark = [pytest.mark.root, pytest.mark.integration]


def write(context: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = context / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return context


def quiet(_: str) -> None:
    pass


def run_image(image: str, *args: str) -> container.RunResult:
    result = container.run(image, list(args) or None, remove=True)
    assert isinstance(result, container.RunResult)
    return result


def test_hello_world_from_scratch_is_one_layer_that_runs(base_store: Store, tmp_path: Path) -> None:
    shutil.copy(build_hello(tmp_path / "cache"), tmp_path / "hello")
    write(tmp_path, {"Dockerfile": 'FROM scratch\nCOPY hello /\nCMD ["/hello"]\n'})
    result = build(tmp_path, tags=["hello-built:1"], output=quiet)
    image = base_store.resolve("hello-built:1")
    assert len(image.layers) == 1
    assert image.config.config.cmd == ("/hello",)
    assert [entry.created_by for entry in image.config.history] == ["COPY hello / # buildkit", 'CMD ["/hello"]']
    assert [entry.empty_layer for entry in image.config.history] == [False, True]
    assert [step.cached for step in result.steps] == [True, False, False]
    run = run_image("hello-built:1")
    assert run.exit_code == 0
    assert "Hello" in run.stdout


def test_run_copy_env_workdir_and_user_reach_the_image(base_store: Store, tmp_path: Path) -> None:
    write(tmp_path, {
        "Dockerfile": "FROM busybox\nARG WHO=world\nENV GREETING=hi\nWORKDIR /app\nCOPY src/ ./\n"
                      'RUN echo "$GREETING $WHO" > out.txt && chown nobody out.txt\nUSER nobody\n'
                      'CMD ["cat", "/app/out.txt"]\n',
        "src/a.txt": "A\n",
        "src/sub/b.txt": "B\n",
    })
    build(tmp_path, tags=["app:1"], build_args={"WHO": "class"}, output=quiet)
    run = run_image("app:1", "sh", "-c", "cat /app/out.txt; cat /app/a.txt /app/sub/b.txt; id -u; pwd")
    assert run.stdout.split() == ["hi", "class", "A", "B", "65534", "/app"]


def test_second_build_is_fully_cached_and_edits_invalidate_from_there_on(base_store: Store, tmp_path: Path) -> None:
    write(tmp_path, {
        "Dockerfile": "FROM busybox\nCOPY one.txt /one.txt\nARG FLAVOR=plain\nRUN echo $FLAVOR > /flavor\n"
                      "COPY two.txt /two.txt\nRUN cat /one.txt /two.txt > /both\n",
        "one.txt": "1\n",
        "two.txt": "2\n",
    })
    first = build(tmp_path, tags=["cache:1"], output=quiet)
    again = build(tmp_path, tags=["cache:1"], output=quiet)
    assert all(step.cached for step in again.steps)
    assert again.image.id == first.image.id

    (tmp_path / "two.txt").write_text("changed\n")
    touched = build(tmp_path, output=quiet)
    assert [step.cached for step in touched.steps] == [True, True, True, True, False, False]

    other_arg = build(tmp_path, build_args={"FLAVOR": "spicy"}, output=quiet)
    assert [step.cached for step in other_arg.steps] == [True, True, True, False, False, False]
    assert run_image(str(other_arg.image.id), "cat", "/flavor").stdout == "spicy\n"

    uncached = build(tmp_path, no_cache=True, output=quiet)
    assert not any(step.cached for step in uncached.steps[1:])


def test_dockerignore_and_globs_select_what_is_copied(base_store: Store, tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "FROM busybox\nCOPY *.txt /data/\nCOPY sub /sub\n",
                     ".dockerignore": "secret.txt\nsub/*.log\n",
                     "a.txt": "a", "b.txt": "b", "secret.txt": "s", "sub/keep": "k", "sub/drop.log": "d"})
    build(tmp_path, tags=["glob:1"], output=quiet)
    listing = run_image("glob:1", "sh", "-c", "ls /data /sub").stdout.split()
    assert listing == ["/data:", "a.txt", "b.txt", "/sub:", "keep"]


def test_add_extracts_a_local_tarball(base_store: Store, tmp_path: Path) -> None:
    source = write(tmp_path / "payload", {"etc/motd": "welcome\n"})
    shutil.make_archive(str(tmp_path / "ctx" / "payload"), "gztar", source)
    write(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nADD payload.tar.gz /opt/\n"})
    build(tmp_path / "ctx", tags=["add:1"], output=quiet)
    assert run_image("add:1", "cat", "/opt/etc/motd").stdout == "welcome\n"


def test_multi_stage_copies_from_an_earlier_stage_and_target_stops_early(
        base_store: Store, tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "FROM busybox AS build\nRUN mkdir /out && echo built > /out/artifact\n"
                                   "FROM busybox\nCOPY --from=build /out/artifact /artifact\n"
                                   'CMD ["cat", "/artifact"]\n'})
    build(tmp_path, tags=["multi:1"], output=quiet)
    assert run_image("multi:1").stdout == "built\n"
    first_stage = build(tmp_path, target="build", output=quiet)
    assert len(first_stage.steps) == 2


@pytest.mark.slow
def test_realistic_multi_stage_c_program(base_store: Store, tmp_path: Path) -> None:
    from labcore.image.base import debian_image

    if not Path("/usr/sbin/debootstrap").exists():
        pytest.fail("debootstrap is missing: ./lab provision installs it")
    debian_image(base_store)
    write(tmp_path, {
        "hello.c": '#include <stdio.h>\nint main(void) { puts("built in debian, run in busybox"); return 0; }\n',
        "Dockerfile": "FROM debian:bookworm AS build\nCOPY hello.c /src/\n"
                      # the minbase rootfs has no compiler: fetched from Debian's archive, as apt does
                      "RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev "
                      ">/dev/null && gcc -static -O2 -o /src/hello /src/hello.c\n"
                      "FROM busybox\nCOPY --from=build /src/hello /usr/local/bin/hello\nCMD [\"hello\"]\n",
    })
    result = build(tmp_path, tags=["cprog:1"], output=quiet)
    assert len(result.image.layers) == len(base_store.resolve("busybox").layers) + 1
    run = run_image("cprog:1")
    assert (run.exit_code, run.stdout) == (0, "built in debian, run in busybox\n")


@pytest.mark.parametrize(("dockerfile", "files", "message"), [
    ("FROM busybox\nFROB x\n", {}, "Dockerfile:2: unknown instruction: FROB"),
    ("FROM busybox\nCOPY missing.txt /\n", {}, "Dockerfile:2: 'missing.txt' not found in the build context"),
    ("FROM busybox\nCOPY ../outside /\n", {}, "Dockerfile:2: '../outside' is outside the build context"),
    ("FROM busybox\nCOPY --from=nowhere /x /x\n", {}, "Dockerfile:2: --from=nowhere: unknown stage or image"),
    ("FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\n", {},
     "Dockerfile:2: --from=b refers to its own stage or a later one: that is a cycle"),
    ("FROM busybox\nCOPY ignored.txt /\n", {"ignored.txt": "x", ".dockerignore": "ignored.txt\n"},
     "(it is excluded by .dockerignore)"),
])
def test_errors_name_the_file_and_line(base_store: Store, tmp_path: Path, dockerfile: str,
                                       files: dict[str, str], message: str) -> None:
    write(tmp_path, {"Dockerfile": dockerfile, **files})
    before = {image.id for image in base_store.images()}
    with pytest.raises(BuildError) as error:
        build(tmp_path, tags=["broken:1"], output=quiet)
    assert message in str(error.value)
    assert {image.id for image in base_store.images()} == before


def test_failing_run_reports_exit_code_and_output_and_leaves_nothing(base_store: Store, tmp_path: Path) -> None:
    write(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo about to fail && echo oops >&2 && exit 3\n"})
    images_before = {image.id for image in base_store.images()}
    with pytest.raises(BuildError) as error:
        build(tmp_path, tags=["fails:1"], output=quiet)
    assert error.value.exit_code == 3
    assert "Dockerfile:2: RUN" in str(error.value) and "exit code 3" in str(error.value)
    assert "about to fail" in error.value.output_tail and "oops" in error.value.output_tail
    assert {image.id for image in base_store.images()} == images_before
    build_dir = Path(os.environ["LABCORE_ROOT"] + ".run") / "build"
    assert not build_dir.exists() or not any(build_dir.iterdir())


def test_system_prune_clears_the_cache_and_frees_intermediate_images(base_store: Store, tmp_path: Path) -> None:
    from labcore.cli.main import main

    write(tmp_path, {"Dockerfile": "FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n"})
    build(tmp_path, tags=["pruned:1"], output=quiet)
    assert main(["rmi", "pruned:1"]) == 0
    blobs_before = len(list((base_store.root / "blobs" / "sha256").iterdir()))
    assert main(["system", "prune"]) == 0
    assert len(list((base_store.root / "blobs" / "sha256").iterdir())) < blobs_before
    rebuilt = build(tmp_path, output=quiet)
    assert not any(step.cached for step in rebuilt.steps[1:])

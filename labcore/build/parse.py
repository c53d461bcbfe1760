"""Read a Dockerfile with BuildKit's own parser (the ``dockerfile`` package) into stages of steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labcore.build.errors import BuildError

__all__ = ["KNOWN_INSTRUCTIONS", "Instruction", "Stage", "parse_dockerfile"]

KNOWN_INSTRUCTIONS = frozenset({
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
})


@dataclass(frozen=True)
class Instruction:
    """One instruction as the parser gave it, with where it came from."""

    cmd: str
    value: tuple[str, ...]
    flags: tuple[str, ...]
    json: bool
    original: str
    line: int
    file: str
    heredocs: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        """``Dockerfile:LINE`` for error messages."""
        return f"{self.file}:{self.line}"

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value``, or None when absent."""
        prefix = f"--{name}="
        for flag in self.flags:
            if flag.startswith(prefix):
                return flag[len(prefix):]
        return None


@dataclass
class Stage:
    """A ``FROM`` and the instructions after it."""

    index: int
    base: str
    name: str | None
    platform: str | None
    origin: Instruction
    steps: list[Instruction] = field(default_factory=list)


def parse_dockerfile(text: str, file: str = "Dockerfile") -> tuple[list[Instruction], list[Stage]]:
    """Split a Dockerfile into the ``ARG`` lines before the first ``FROM`` and its stages."""
    import dockerfile

    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as error:
        if "no instructions" in str(error):
            raise BuildError(file, "no FROM instruction: the file has no instructions",
                             hint="a Dockerfile starts with FROM IMAGE (or FROM scratch)") from None
        raise BuildError(file, f"cannot parse: {error}", hint="check the syntax near the line named") from None
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    for command in commands:
        instruction = Instruction(
            cmd=command.cmd.upper(), value=tuple(command.value), flags=tuple(command.flags),
            json=bool(command.json), original=command.original, line=command.start_line, file=file,
            heredocs=tuple(getattr(doc, "content", str(doc)) for doc in command.heredocs),
        )
        if instruction.cmd not in KNOWN_INSTRUCTIONS:
            raise BuildError(instruction.location, f"unknown instruction: {command.cmd}",
                             hint="see the Dockerfile reference for the instructions there are")
        if instruction.cmd == "FROM":
            stages.append(_stage(instruction, len(stages)))
        elif not stages:
            if instruction.cmd != "ARG":
                raise BuildError(instruction.location, f"{instruction.cmd} before the first FROM",
                                 hint="only ARG may come before FROM")
            global_args.append(instruction)
        else:
            stages[-1].steps.append(instruction)
    if not stages:
        raise BuildError(file, "no FROM instruction", hint="a Dockerfile starts with FROM IMAGE (or FROM scratch)")
    return global_args, stages


def _stage(instruction: Instruction, index: int) -> Stage:
    words = list(instruction.value)
    name = None
    if len(words) == 3 and words[1].upper() == "AS":
        name = words[2].lower()
        words = words[:1]
    if len(words) != 1:
        raise BuildError(instruction.location, f"FROM wants IMAGE [AS NAME], got {instruction.original!r}",
                         hint="e.g. FROM busybox AS build")
    return Stage(index=index, base=words[0], name=name, platform=instruction.flag("platform"),
                 origin=instruction)


def read_dockerfile(path: Path) -> tuple[list[Instruction], list[Stage]]:
    """Parse the Dockerfile at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError(str(path), "no such Dockerfile",
                         hint="pass -f PATH or add a Dockerfile to the context") from None
    return parse_dockerfile(text, path.name)

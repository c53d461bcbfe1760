"""Instructions that change only the image config: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, ..."""

from __future__ import annotations

import dataclasses
import json
import re

from labcore.build.errors import BuildError
from labcore.build.expand import expand
from labcore.build.parse import Instruction
from labcore.image.imageconfig import ContainerConfig, Healthcheck

__all__ = ["CONFIG_ONLY", "apply_metadata", "command_words", "key_values", "set_env"]

CONFIG_ONLY = frozenset({"CMD", "ENTRYPOINT", "ENV", "LABEL", "MAINTAINER", "EXPOSE", "VOLUME", "USER",
                         "WORKDIR", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD", "SHELL", "ARG"})
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)")
_NANOS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def command_words(instruction: Instruction, shell: tuple[str, ...]) -> tuple[str, ...]:
    """The argv of CMD/ENTRYPOINT/RUN: exec form as given, shell form wrapped in ``shell``."""
    if instruction.json:
        return instruction.value
    return (*shell, " ".join(instruction.value))


def key_values(instruction: Instruction, variables: dict[str, str]) -> list[tuple[str, str]]:
    """``K=V`` pairs of ENV or LABEL (also the legacy ``ENV K V`` form), with variables expanded.

    BuildKit's parser hands them over as alternating keys and values.
    """
    words = list(instruction.value)
    if len(words) % 2 or not words:
        raise BuildError(instruction.location, f"{instruction.cmd} wants KEY=VALUE pairs",
                         hint=f"e.g. {instruction.cmd} NAME=value")
    pairs = []
    for key, value in zip(words[::2], words[1::2], strict=True):
        if not key:
            raise BuildError(instruction.location, f"{instruction.cmd} has an empty key",
                             hint=f"e.g. {instruction.cmd} NAME=value")
        pairs.append((expand(key, variables), _unquote(expand(value, variables))))
    return pairs


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def set_env(env: tuple[str, ...], key: str, value: str) -> tuple[str, ...]:
    """``env`` with ``key`` set to ``value``, replacing an earlier setting in place."""
    prefix = f"{key}="
    if any(item.startswith(prefix) for item in env):
        return tuple(f"{key}={value}" if item.startswith(prefix) else item for item in env)
    return (*env, f"{key}={value}")


def _duration(text: str, instruction: Instruction) -> int:
    total, position = 0, 0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            break
        total += int(float(match[1]) * _NANOS[match[2]])
        position = match.end()
    if position != len(text) or not text:
        raise BuildError(instruction.location, f"bad duration {text!r}", hint="use e.g. 30s, 1m30s or 500ms")
    return total


def _healthcheck(instruction: Instruction, shell: tuple[str, ...]) -> Healthcheck:
    words = list(instruction.value)
    if words and words[0].upper() == "NONE":
        return Healthcheck(test=("NONE",))
    if not words or words[0].upper() != "CMD":
        raise BuildError(instruction.location, "HEALTHCHECK wants CMD COMMAND or NONE",
                         hint="e.g. HEALTHCHECK --interval=30s CMD wget -q -O- localhost || exit 1")
    rest = words[1:]
    if instruction.json or (len(rest) == 1 and rest[0].startswith("[")):
        test = ("CMD", *json.loads(rest[0])) if not instruction.json else ("CMD", *rest)
    else:
        test = ("CMD-SHELL", " ".join(rest))
    values = {name: instruction.flag(name) for name in ("interval", "timeout", "start-period", "retries")}
    return Healthcheck(
        test=test,
        interval=_duration(values["interval"], instruction) if values["interval"] else 0,
        timeout=_duration(values["timeout"], instruction) if values["timeout"] else 0,
        start_period=_duration(values["start-period"], instruction) if values["start-period"] else 0,
        retries=int(values["retries"]) if values["retries"] else 0,
    )


def apply_metadata(
    instruction: Instruction, config: ContainerConfig, variables: dict[str, str], shell: tuple[str, ...]
) -> ContainerConfig:
    """The config after ``instruction``; ``variables`` are the ARG and ENV values in scope."""
    cmd = instruction.cmd
    words = [expand(word, variables) for word in instruction.value]
    replace = dataclasses.replace
    if cmd == "CMD":
        return replace(config, cmd=command_words(instruction, shell))
    if cmd == "ENTRYPOINT":
        return replace(config, entrypoint=command_words(instruction, shell))
    if cmd == "ENV":
        env = config.env
        for key, value in key_values(instruction, variables):
            env = set_env(env, key, value)
            variables[key] = value
        return replace(config, env=env)
    if cmd in ("LABEL", "MAINTAINER"):
        pairs = key_values(instruction, variables) if cmd == "LABEL" else [("maintainer", " ".join(words))]
        return replace(config, labels={**config.labels, **dict(pairs)})
    if cmd == "EXPOSE":
        ports = set(config.exposed_ports)
        for word in words:
            port, _, protocol = word.partition("/")
            if not port.isdigit() or protocol not in ("", "tcp", "udp", "sctp"):
                raise BuildError(instruction.location, f"bad port {word!r}", hint="use e.g. EXPOSE 80 or 53/udp")
            ports.add(f"{port}/{protocol or 'tcp'}")
        return replace(config, exposed_ports=tuple(sorted(ports)))
    if cmd == "VOLUME":
        paths = json.loads(" ".join(instruction.value)) if instruction.json else words
        return replace(config, volumes=tuple(sorted({*config.volumes, *paths})))
    if cmd == "USER":
        return replace(config, user=words[0] if words else "")
    if cmd == "WORKDIR":
        target = words[0] if words else "/"
        base = config.working_dir or "/"
        return replace(config, working_dir=target if target.startswith("/") else f"{base.rstrip('/')}/{target}")
    if cmd == "STOPSIGNAL":
        return replace(config, stop_signal=words[0] if words else "")
    if cmd == "HEALTHCHECK":
        return replace(config, healthcheck=_healthcheck(instruction, shell))
    if cmd == "ONBUILD":
        trigger = instruction.original.split(None, 1)[1] if " " in instruction.original else ""
        return replace(config, on_build=(*config.on_build, trigger))
    return config


def history_text(instruction: Instruction, shell: tuple[str, ...]) -> str:
    """What ``docker history`` shows for this step, in BuildKit's style."""
    if instruction.cmd == "RUN":
        return f"RUN {' '.join(command_words(instruction, shell))} # buildkit"
    if instruction.cmd in ("COPY", "ADD"):
        return f"{instruction.original} # buildkit"
    return instruction.original

"""Dockerfile instructions given to ``import --change`` (``CMD``, ``ENV``, ...), applied to a config.

Only the instructions that change the config are allowed (as ``docker import`` allows):
CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import replace

from labcore.errors import UsageError
from labcore.image.imageconfig import ContainerConfig

__all__ = ["ChangeError", "apply_change", "apply_changes"]


class ChangeError(UsageError):
    """A ``--change`` instruction that cannot be applied."""

    default_hint = "use e.g. --change 'CMD [\"/bin/sh\"]' or --change 'ENV KEY=value'"


def _exec_form(argument: str, line: str) -> tuple[str, ...]:
    """A JSON array (exec form) as is; anything else in shell form: ``/bin/sh -c ARGUMENT``."""
    if argument.startswith("["):
        try:
            parsed = json.loads(argument)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ChangeError(f"change {line!r}: the exec form must be a JSON array of strings")
        return tuple(parsed)
    return ("/bin/sh", "-c", argument)


def _pairs(argument: str, line: str) -> list[tuple[str, str]]:
    """``KEY=value KEY2="v 2"`` or the legacy ``KEY value with spaces``."""
    words = shlex.split(argument)
    if not words:
        raise ChangeError(f"change {line!r}: needs KEY=value")
    if "=" not in words[0]:
        key, _, value = argument.partition(" ")
        return [(key, value.strip())]
    pairs = []
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or not key:
            raise ChangeError(f"change {line!r}: {word!r} is not KEY=value")
        pairs.append((key, value))
    return pairs


def _set_env(env: tuple[str, ...], key: str, value: str) -> tuple[str, ...]:
    kept = tuple(item for item in env if item.partition("=")[0] != key)
    return (*kept, f"{key}={value}")


def apply_change(config: ContainerConfig, line: str) -> ContainerConfig:
    """``config`` with one Dockerfile instruction applied; :class:`ChangeError` names a bad one."""
    instruction, _, argument = line.strip().partition(" ")
    instruction, argument = instruction.upper(), argument.strip()
    if not argument:
        raise ChangeError(f"change {line!r}: {instruction or 'the instruction'} needs an argument")
    if instruction == "CMD":
        return replace(config, cmd=_exec_form(argument, line))
    if instruction == "ENTRYPOINT":
        return replace(config, entrypoint=_exec_form(argument, line))
    if instruction == "ENV":
        env = config.env
        for key, value in _pairs(argument, line):
            env = _set_env(env, key, value)
        return replace(config, env=env)
    if instruction == "LABEL":
        return replace(config, labels={**config.labels, **dict(_pairs(argument, line))})
    if instruction == "EXPOSE":
        ports = {port if "/" in port else f"{port}/tcp" for port in argument.split()}
        return replace(config, exposed_ports=tuple(sorted(set(config.exposed_ports) | ports)))
    if instruction == "VOLUME":
        volumes = _exec_form(argument, line) if argument.startswith("[") else tuple(argument.split())
        return replace(config, volumes=tuple(sorted(set(config.volumes) | set(volumes))))
    if instruction == "USER":
        return replace(config, user=argument)
    if instruction == "WORKDIR":
        return replace(config, working_dir=argument)
    if instruction == "STOPSIGNAL":
        return replace(config, stop_signal=argument)
    if instruction == "ONBUILD":
        return replace(config, on_build=(*config.on_build, argument))
    raise ChangeError(f"change {line!r}: {instruction!r} cannot be used with --change")


def apply_changes(config: ContainerConfig, lines: list[str] | tuple[str, ...]) -> ContainerConfig:
    """``config`` with every instruction in ``lines`` applied in order."""
    for line in lines:
        config = apply_change(config, line)
    return config

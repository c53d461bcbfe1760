"""Errors specific to containers, each a subclass of the shared :mod:`labcore.errors` tree."""

from __future__ import annotations

from labcore.errors import ConflictError, LabcoreError, NotFoundError

__all__ = ["ContainerNotFoundError", "ContainerStartError", "IllegalStateError", "NameInUseError"]


class ContainerNotFoundError(NotFoundError):
    """No container has this id, id prefix or name."""

    default_hint = "run `labcore ps -a` to list containers"


class IllegalStateError(ConflictError):
    """The container's status forbids the requested move (e.g. rm of a running container)."""


class NameInUseError(ConflictError):
    """Another container already has the requested name."""

    default_hint = "choose another --name, or remove that container with `labcore rm`"


class ContainerStartError(LabcoreError):
    """The container could not be created or its command could not be started.

    ``exit_code`` follows Docker: 125 for a labcore error, 126 when the command cannot be executed,
    127 when it is not found.
    """

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = 125) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code

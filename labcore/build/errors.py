"""Build errors: each names the Dockerfile and the line."""

from __future__ import annotations

from labcore.errors import LabcoreError

__all__ = ["BuildError"]


class BuildError(LabcoreError):
    """A build step failed or the Dockerfile is wrong; ``location`` is ``file:line``."""

    def __init__(self, location: str, message: str, *, hint: str | None = None,
                 output_tail: str = "", exit_code: int | None = None) -> None:
        text = f"{location}: {message}"
        if output_tail:
            text += "\n--- last lines of output ---\n" + output_tail.rstrip("\n")
        super().__init__(text, hint=hint)
        self.location = location
        self.output_tail = output_tail
        self.exit_code = exit_code

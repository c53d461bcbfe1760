"""What a build prints while it runs, in Docker's classic format, and the per-step records.

::

    Step 3/9 : RUN make
     ---> Running in labcore-build
    ...output...
     ---> 1a2b3c4d5e6f
    Step 4/9 : COPY app /app
     ---> Using cache
     ---> 6f5e4d3c2b1a

Output goes through ``print`` (or a given callable), so it shows in a terminal and in Jupyter alike.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labcore.image.record import ImageRecord

__all__ = ["Progress", "StepRecord"]


@dataclass(frozen=True)
class StepRecord:
    """One step of a build: was it cached, how long it took, the image and layer it made.

    A ``FROM`` step builds nothing (it looks the base image up), so it always counts as cached.
    """

    number: int
    instruction: str
    line: int
    cached: bool
    seconds: float
    image_id: str
    layer_digest: str | None
    layer_size: int


class Progress:
    """Prints steps; ``mode`` is ``auto``/``plain`` (everything) or ``quiet`` (only the final id)."""

    def __init__(self, mode: str = "auto", write: Callable[[str], None] | None = None) -> None:
        if mode not in ("auto", "plain", "quiet"):
            from labcore.errors import UsageError

            raise UsageError(f"unknown --progress {mode!r}", hint="use auto, plain or quiet")
        self.mode = mode
        self._write = write or (lambda line: print(line, file=sys.stdout, flush=True))
        self.total = 0
        self._count = 0

    def _say(self, line: str) -> None:
        if self.mode != "quiet":
            self._write(line)

    def step(self, text: str) -> None:
        """A step begins."""
        self._count += 1
        self._say(f"Step {self._count}/{self.total} : {text}")

    def running(self, container: str) -> None:
        """A RUN step starts its container."""
        self._say(f" ---> Running in {container}")

    def output(self, line: str) -> None:
        """A line a RUN step printed."""
        self._say(line)

    def finished(self, record: StepRecord) -> None:
        """A step ended."""
        if record.cached and not record.instruction.upper().startswith("FROM"):
            self._say(" ---> Using cache")
        self._say(f" ---> {record.image_id.split(':')[-1][:12]}")

    def warn(self, message: str) -> None:
        """A warning about the build as a whole."""
        self._say(f"[Warning] {message}")

    def done(self, image: ImageRecord) -> None:
        """The build succeeded."""
        if self.mode == "quiet":
            self._write(str(image.id))
            return
        self._say(f"Successfully built {image.id.short}")
        if image.name is not None:
            self._say(f"Successfully tagged {image.name.familiar}")

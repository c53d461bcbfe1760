"""Dockerfile builds: parse with BuildKit's parser, run each step for real, cache like Docker's builder.

``build(context, tags=[...])`` returns a :class:`BuildResult` with the image and a
:class:`StepRecord` per step (cached or not, time, layer digest and size).
"""

from labcore.build.builder import BuildOptions, BuildResult, build
from labcore.build.errors import BuildError
from labcore.build.progress import StepRecord

__all__ = ["BuildError", "BuildOptions", "BuildResult", "StepRecord", "build"]

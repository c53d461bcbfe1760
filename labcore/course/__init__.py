"""The course: chapter sources, student and instructor notebooks, grading and slides.

* :func:`build` writes the student and instructor notebooks (``labcore course build``);
* :func:`install_kernel` installs the ``labcore`` Jupyter kernel (``labcore course kernel``);
* :func:`grade` grades handed-in notebooks (``labcore grade``);
* :func:`build_slides` writes one reveal.js deck per chapter (``labcore course slides``);
* :mod:`labcore.course.check` is what the notebooks' test cells use.

The functions are imported on first use, so that ``import labcore.course.check`` in a notebook stays
light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["build", "build_slides", "grade", "install_kernel"]

_HOMES = {
    "build": "labcore.course.builder",
    "build_slides": "labcore.course.slides",
    "grade": "labcore.course.grader",
    "install_kernel": "labcore.course.kernel",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'labcore.course' has no attribute {name!r}")

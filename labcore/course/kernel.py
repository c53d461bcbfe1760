"""The ``labcore`` Jupyter kernel: IPython running in the lab's own venv."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from labcore.course.variants import KERNELSPEC

__all__ = ["KERNEL_NAME", "install_kernel"]

KERNEL_NAME = KERNELSPEC["name"]


def install_kernel(prefix: Path | None = None) -> Path:
    """Write the kernelspec into ``<prefix>/share/jupyter/kernels/labcore`` and return that folder.

    ``prefix`` defaults to the running interpreter's prefix (the venv), where Jupyter started from
    that venv finds it; the kernel runs this same interpreter, so it sees labcore.
    """
    from labcore.fs.atomic import write_atomic

    prefix = prefix or Path(sys.prefix)
    folder = prefix / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                 "-f", "{connection_file}"],
        "display_name": KERNELSPEC["display_name"],
        "language": KERNELSPEC["language"],
        "metadata": {"debugger": True},
    }
    write_atomic(folder / "kernel.json", (json.dumps(spec, indent=1) + "\n").encode())
    return folder

"""Where the course lives in a checkout: chapter sources, the build folder and the slides folder."""

from __future__ import annotations

from pathlib import Path

from labcore.config import package_parent

__all__ = ["default_build_dir", "default_slides_dir", "default_source_dir", "repo_root"]


def repo_root() -> Path:
    """The checkout labcore is installed from (editable install: the folder above the package)."""
    return Path(package_parent())


def default_source_dir() -> Path:
    """``notebooks/``: one jupytext Markdown source per chapter."""
    return repo_root() / "notebooks"


def default_build_dir() -> Path:
    """``notebooks/build/``: generated student and instructor notebooks (git-ignored)."""
    return default_source_dir() / "build"


def default_slides_dir() -> Path:
    """``slides/``: the reveal.js copy (``node_modules``) and the built decks (``build/``)."""
    return repo_root() / "slides"

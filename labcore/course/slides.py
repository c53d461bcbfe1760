"""``labcore course slides``: one reveal.js deck per chapter, openable with no internet.

Decks come from the instructor notebooks (exercise and test cells are skipped by default) through
nbconvert's reveal exporter with the ``labcore-reveal`` template in ``slides/template/``, which
loads reveal.js and require.js from ``slides/node_modules`` (``npm ci`` in ``slides/``) by
relative URLs and nothing from a CDN.
"""

from __future__ import annotations

import os
from pathlib import Path

from labcore.course.chapter import load_chapters
from labcore.course.errors import CourseNotFoundError
from labcore.course.paths import default_slides_dir, default_source_dir
from labcore.course.variants import Variant, make_notebook

__all__ = ["build_slides"]

TEMPLATE = "labcore-reveal"


def build_slides(
    out: Path | None = None, *, source: Path | None = None, slides_dir: Path | None = None
) -> list[Path]:
    """Write ``<chapter>.slides.html`` for every chapter into ``out`` (``slides/build``); return them."""
    from nbconvert import SlidesExporter

    from labcore.fs.atomic import write_atomic

    slides_dir = slides_dir or default_slides_dir()
    out = out or slides_dir / "build"
    modules = slides_dir / "node_modules"
    for needed in (modules / "reveal.js" / "dist" / "reveal.js", modules / "requirejs" / "require.js"):
        if not needed.is_file():
            raise CourseNotFoundError(
                f"{needed} is missing: the slides need a local reveal.js and require.js",
                hint=f"run `npm ci` in {slides_dir} (./lab provision does it)",
            )
    out.mkdir(parents=True, exist_ok=True)
    relative_modules = Path(os.path.relpath(modules, out)).as_posix()
    exporter = SlidesExporter(  # type: ignore[no-untyped-call]
        extra_template_basedirs=[str(slides_dir / "template")],
        template_name=TEMPLATE,
        reveal_url_prefix=f"{relative_modules}/reveal.js",
        reveal_theme="white",
        reveal_transition="none",
        require_js_url=f"{relative_modules}/requirejs/require.js",
    )
    decks = []
    for chapter in load_chapters(source or default_source_dir()):
        notebook = make_notebook(chapter, Variant.INSTRUCTOR)
        notebook.metadata["title"] = chapter.title
        body, _ = exporter.from_notebook_node(notebook)
        deck = out / f"{chapter.chapter_id}.slides.html"
        write_atomic(deck, body.encode())
        decks.append(deck)
    return decks

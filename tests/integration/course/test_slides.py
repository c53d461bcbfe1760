"""Every chapter's deck builds from the local reveal.js and references nothing remote."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labcore.course.chapter import load_chapters
from labcore.course.paths import default_source_dir
from labcore.course.slides import build_slides

pytestmark = [pytest.mark.integration]

REMOTE = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import\s+["']https?:""",
    re.IGNORECASE,
)
LOCAL_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"'#][^"']*)["']""")
CSS_IMPORT = re.compile(r"""@import\s+url\(\s*["']?([^"')]+)""")


def _css_is_offline(css: Path, seen: set[Path]) -> None:
    """A style sheet and the sheets it imports load nothing from the network."""
    if css in seen:
        return
    seen.add(css)
    text = css.read_text(errors="replace")
    assert REMOTE.findall(text) == [], f"{css} loads a remote resource"
    for ref in CSS_IMPORT.findall(text):
        _css_is_offline((css.parent / ref).resolve(), seen)


def test_every_deck_builds_offline(tmp_path: Path) -> None:
    decks = build_slides(tmp_path / "decks")
    chapters = load_chapters(default_source_dir())
    assert [deck.name for deck in decks] == [f"{chapter.chapter_id}.slides.html" for chapter in chapters]
    for deck in decks:
        html = deck.read_text()
        assert REMOTE.findall(html) == [], f"{deck.name} references a remote URL"
        assert "cdnjs" not in html and "unpkg" not in html
        for ref in LOCAL_REF.findall(html):
            target = (deck.parent / ref).resolve()
            assert target.is_file(), f"{deck.name}: {ref} does not exist"
            if target.suffix == ".css":
                _css_is_offline(target, set())
        assert 'class="slides"' in html
        assert "reveal.js/dist/reveal.js" in html

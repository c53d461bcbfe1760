"""``labcore course build``: write the student and instructor notebooks of every chapter.

The build folder holds ``student/`` and ``instructor/`` with one ``.ipynb`` per chapter. A student
copy that was edited since the last build is kept (students work in it), unless ``force`` is set;
``.labcore-build.json`` records the digest of each student copy written, to tell the two apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labcore.course.chapter import Chapter, load_chapters
from labcore.course.paths import default_build_dir, default_source_dir
from labcore.course.variants import Variant, make_notebook
from labcore.digest import sha256_bytes, sha256_file

__all__ = ["BuildResult", "build", "notebook_bytes", "write_notebook"]

_STAMP = ".labcore-build.json"


@dataclass
class BuildResult:
    """What a build wrote, what it kept, and where the kernelspec went."""

    out: Path
    chapters: list[Chapter] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    kernel: Path | None = None

    @property
    def student_dir(self) -> Path:
        """Where the student notebooks are (JupyterLab's root in the lab)."""
        return self.out / Variant.STUDENT.value

    @property
    def instructor_dir(self) -> Path:
        """Where the instructor notebooks (with solutions) are."""
        return self.out / Variant.INSTRUCTOR.value


def notebook_bytes(notebook: nbformat.NotebookNode) -> bytes:
    """The ``.ipynb`` text of ``notebook``, as Jupyter writes it."""
    text: str = nbformat.writes(notebook)  # type: ignore[no-untyped-call]
    return (text + "\n").encode()


def write_notebook(path: Path, notebook: nbformat.NotebookNode) -> None:
    """Write ``notebook`` to ``path`` atomically (temp file, fsync, rename)."""
    from labcore.fs.atomic import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, notebook_bytes(notebook))


def build(
    out: Path | None = None, *, source: Path | None = None, kernel: bool = True, force: bool = False
) -> BuildResult:
    """Build every chapter in ``source`` (``notebooks/``) into ``out`` (``notebooks/build/``).

    With ``kernel`` the ``labcore`` kernelspec is installed into the venv too. A student copy edited
    since the last build is kept unless ``force``.
    """
    from labcore.fs.atomic import write_atomic

    result = BuildResult(out or default_build_dir())
    result.chapters = load_chapters(source or default_source_dir())
    stamp_path = result.out / _STAMP
    stamps = _read_stamps(stamp_path)
    for chapter in result.chapters:
        instructor = result.instructor_dir / f"{chapter.chapter_id}.ipynb"
        write_notebook(instructor, make_notebook(chapter, Variant.INSTRUCTOR))
        result.written.append(instructor)
        student = result.student_dir / f"{chapter.chapter_id}.ipynb"
        if not force and student.exists() and stamps.get(student.name) != _digest_of(student):
            result.kept.append(student)
            continue
        data = notebook_bytes(make_notebook(chapter, Variant.STUDENT))
        student.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(student, data)
        stamps[student.name] = str(sha256_bytes(data))
        result.written.append(student)
    write_atomic(stamp_path, (json.dumps(stamps, indent=1, sort_keys=True) + "\n").encode())
    if kernel:
        from labcore.course.kernel import install_kernel

        result.kernel = install_kernel()
    return result


def _digest_of(path: Path) -> str:
    return str(sha256_file(str(path)))


def _read_stamps(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {str(key): str(value) for key, value in data.items()} if isinstance(data, dict) else {}

"""Solution markers in answer cells, and the stub that replaces a solution in the student copy."""

from __future__ import annotations

__all__ = ["BEGIN_SOLUTION", "END_SOLUTION", "solution_lines_ok", "strip_solutions"]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"


def solution_lines_ok(source: str) -> bool:
    """True when ``source`` has at least one BEGIN/END pair and every pair is balanced, not nested."""
    depth = pairs = 0
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            if depth:
                return False
            depth = 1
        elif marker == END_SOLUTION:
            if not depth:
                return False
            depth, pairs = 0, pairs + 1
    return depth == 0 and pairs > 0


def strip_solutions(source: str, pointer: str) -> str:
    """Replace each marked solution by ``raise NotImplementedError(pointer)`` at the marker's indent."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({pointer!r})")
        elif marker == END_SOLUTION:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)

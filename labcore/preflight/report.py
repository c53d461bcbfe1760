"""Results of the pre-flight checks."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Check", "Report", "Status"]


class Status(enum.StrEnum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One check: what was checked, how it came out, what was found and how to fix a failure."""

    name: str
    status: Status
    detail: str
    hint: str = ""
    required: bool = True
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True unless the check failed."""
        return self.status is not Status.FAIL


@dataclass(frozen=True)
class Report:
    """Every check that ``doctor()`` ran, in order."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when no required check failed."""
        return all(check.passed or not check.required for check in self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def failed(self) -> list[Check]:
        """The checks that failed, required or not."""
        return [check for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: ``{"ok": bool, "checks": [...]}``."""
        return {
            "ok": self.ok,
            "checks": [asdict(check) | {"status": check.status.value} for check in self.checks],
        }

    def table(self) -> str:
        """A fixed-width table for people, with hints under failed or warned checks."""
        width = max(len(check.name) for check in self.checks)
        lines = []
        for check in self.checks:
            mark = {Status.OK: "ok  ", Status.WARN: "warn", Status.FAIL: "FAIL"}[check.status]
            optional = "" if check.required or check.passed else " (optional)"
            lines.append(f"{mark}  {check.name.ljust(width)}  {check.detail}{optional}")
            if check.hint and check.status is not Status.OK:
                lines.append(f"      {' ' * width}  hint: {check.hint}")
        verdict = "all required checks passed" if self.ok else "some required checks failed"
        lines.append(f"\n{verdict}")
        return "\n".join(lines)

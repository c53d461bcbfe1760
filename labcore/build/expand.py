r"""Variable expansion in instructions, as Docker's shell lexer does it for ARG and ENV values.

Supported: ``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME:+alternative}``, ``${NAME-default}``,
``${NAME+alternative}``, and ``\\$`` for a literal dollar (with the default ``\\`` escape character).
"""

from __future__ import annotations

from collections.abc import Mapping

from labcore.errors import UsageError

__all__ = ["expand"]


def _name_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return end


def expand(text: str, variables: Mapping[str, str], escape: str = "\\") -> str:
    """``text`` with the variables it mentions replaced; unknown variables become empty."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == escape and i + 1 < len(text) and text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if char != "$" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        if text[i + 1] == "{":
            close = text.find("}", i + 2)
            if close == -1:
                raise UsageError(f"missing '}}' in {text!r}", hint="write ${NAME} with both braces")
            out.append(_braced(text[i + 2:close], variables, text))
            i = close + 1
            continue
        end = _name_end(text, i + 1)
        if end == i + 1:
            out.append("$")
            i += 1
            continue
        out.append(variables.get(text[i + 1:end], ""))
        i = end
    return "".join(out)


def _braced(body: str, variables: Mapping[str, str], whole: str) -> str:
    end = _name_end(body, 0)
    name, rest = body[:end], body[end:]
    if not name:
        raise UsageError(f"bad substitution ${{{body}}} in {whole!r}", hint="a variable name is letters, digits, _")
    value = variables.get(name)
    if not rest:
        return value or ""
    for operator in (":-", ":+", "-", "+"):
        if rest.startswith(operator):
            word = expand(rest[len(operator):], variables)
            set_and_nonempty = bool(value) if operator.startswith(":") else value is not None
            if operator.endswith("-"):
                return value if set_and_nonempty and value is not None else word
            return word if set_and_nonempty else ""
    raise UsageError(f"unsupported substitution ${{{body}}} in {whole!r}",
                     hint="use ${NAME}, ${NAME:-default} or ${NAME:+alternative}")

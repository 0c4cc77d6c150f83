"""Split a SQL script into statements: ClickHouse's native protocol takes one per query."""

from __future__ import annotations


def split_statements(script: str) -> list[str]:
    """Statements of ``script`` without ``--`` comments, split on ``;`` outside string literals."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(script):
        char = script[i]
        if quote:
            current.append(char)
            if char == "\\" and i + 1 < len(script):
                current.append(script[i + 1])
                i += 2
                continue
            if char == quote:
                quote = None
        elif char in ("'", '"', "`"):
            quote = char
            current.append(char)
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = len(script) if end == -1 else end
            continue
        elif char == ";":
            _flush(current, statements)
        else:
            current.append(char)
        i += 1
    _flush(current, statements)
    return statements


def _flush(current: list[str], statements: list[str]) -> None:
    statement = "".join(current).strip()
    if statement:
        statements.append(statement)
    current.clear()

"""Where a failing SQL statement stands in the answer itself: a check reports a line and a column in the
script it ran (one block, or the answer's schema blocks joined), which is not what the reader sees."""

from __future__ import annotations

from agentnb.checks.result import FAILED


def schema_pieces(artifacts) -> list[tuple[int, object]]:
    """(first line in ``artifacts.schema``, artifact) for each schema block."""
    return artifacts.schema_pieces()


def answer_line(pieces: list[tuple[int, object]], line: int) -> int | None:
    """The answer's line for ``line`` of the script made of ``pieces``."""
    for start, artifact in reversed(pieces):
        if line >= start:
            return artifact.line + line - start
    return None


def locate(row, pieces: list[tuple[int, object]]) -> None:
    """Add the failing statement's place in the answer to a failed row: ``details["answer_line"]`` and
    ``["answer_column"]``, and a second line of its message (line, column and the statement)."""
    if row is None or row.status != FAILED or not isinstance(row.details.get("line"), int) or not pieces:
        return
    line = answer_line(pieces, row.details["line"])
    if line is None:
        return
    column = row.details.get("column")
    row.details["answer_line"], row.details["answer_column"] = line, column
    statement = (row.details.get("statement") or "").strip()
    place = f"line {line}" + (f", column {column}" if column else "")
    row.message = f"{row.message}\nat {place} of the answer" + (f": {statement}" if statement else "")

"""SQL syntax checks with PostgreSQL's own parser (pglast, in process: a few milliseconds, no server).

``check_syntax`` parses every statement and, on an error, reports PostgreSQL's message, the statement
and the line and column in the text the user sees. ``split_statements`` cuts a script into statements
where PostgreSQL's parser does (its scanner when the script does not parse), so ``$$`` bodies, strings,
comments and ``BEGIN ATOMIC`` bodies that hold semicolons stay whole; the last script's cut is kept for
the next check of the same script. pglast is imported on first use, never at import time.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult

__all__ = ["Statement", "check_syntax", "split_statements", "statement_spans", "line_col"]


@dataclass(frozen=True)
class Statement:
    """One statement of a script: ``text`` is ``sql[start:end]``, from its first token to its last."""

    text: str
    start: int        # character offset in the script
    end: int
    line: int         # 1-based line of the first token


class LineIndex:
    """The offsets where the lines of a text start: line and column of any offset by bisection, so a
    script of n statements is located in O(n log n), not by counting newlines from the start each time."""

    def __init__(self, text: str):
        self.length = len(text)
        starts = [0]
        find, at = text.find, text.find("\n")
        while at != -1:
            starts.append(at + 1)
            at = find("\n", at + 1)
        self.starts = starts

    def line_col(self, index: int) -> tuple[int, int]:
        index = max(0, min(index, self.length))
        line = bisect_right(self.starts, index)
        return line, index - self.starts[line - 1] + 1


_last_index: tuple[str, LineIndex] | None = None     # the script being checked: located many times


def line_index(sql: str) -> LineIndex:
    global _last_index
    cached = _last_index
    if cached is None or cached[0] is not sql:
        cached = _last_index = (sql, LineIndex(sql))
    return cached[1]


def line_col(sql: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` in ``sql``."""
    return line_index(sql).line_col(index)


_COMMENTS = {"SQL_COMMENT", "C_COMMENT"}


_last_spans: tuple[str, list[Statement], bool] | None = None   # the syntax check's, for the next check


def statement_spans(sql: str) -> list[Statement]:
    """The statements of ``sql``, from first token to last; comments between statements dropped.

    Raises ``pglast.parser.ParseError`` when the scanner itself fails (an unterminated string,
    quoted identifier, dollar quote or comment); its second argument is the character index.
    """
    return list(_spans(sql)[0])


def forget() -> None:
    """Drop the kept cut of the last script (a benchmark times each check cold)."""
    global _last_spans
    _last_spans = None


def _spans(sql: str) -> tuple[list[Statement], bool]:
    """``(spans, whether the whole script parses)``. A script that parses is cut where PostgreSQL's
    parser says (one pass in C); one that does not, by its scanner, which a syntax error does not stop.
    The last script's answer is kept: the syntax check, the PostgreSQL check and the DuckDB copy all
    cut the same script."""
    global _last_spans
    cached = _last_spans
    if cached is not None and cached[0] == sql:
        return cached[1], cached[2]
    from pglast import parser

    try:
        slices = parser.split(sql, with_parser=True, only_slices=True)
    except parser.ParseError:
        spans, parsed = _scanned_spans(sql), False
    else:
        spans, parsed = _parsed_spans(sql, slices), True
    _last_spans = (sql, spans, parsed)
    return spans, parsed


def _parsed_spans(sql: str, slices) -> list[Statement]:
    """The statements at the parser's cuts. A cut starts at the first token and ends at the semicolon:
    a comment before it (rare) is trimmed by scanning that statement alone."""
    from pglast import parser

    lines = LineIndex(sql)
    spans = []
    for cut in slices:
        start, end = cut.start, cut.stop
        text = sql[start:end]
        if "--" in text or "/*" in text:
            tokens = [t for t in parser.scan(text) if t.name not in _COMMENTS]
            if tokens:
                end = start + tokens[-1].end + 1
                text = sql[start:end]
        spans.append(Statement(text, start, end, lines.line_col(start)[0]))
    return spans


def _scanned_spans(sql: str) -> list[Statement]:
    """The statements of a script that does not parse, cut at semicolons by PostgreSQL's scanner."""
    from pglast import parser

    # pglast's own scanner split drops statements that begin with an unknown word ("SELEC 1;"),
    # and its parser split fails on the first syntax error, so the cut is made here from the tokens.
    tokens = parser.scan(sql)
    spans: list[Statement] = []
    first = last = None
    atomic_depth = 0
    previous = None
    routine = False       # in CREATE [OR REPLACE] FUNCTION / PROCEDURE: the only place a body can be

    lines = LineIndex(sql)

    def close() -> None:
        if first is not None:
            spans.append(Statement(sql[first:last + 1], first, last + 1, lines.line_col(first)[0]))

    for token in tokens:
        name = token.name
        if name in _COMMENTS:
            continue
        if name == "ASCII_59" and atomic_depth == 0:   # ';'
            close()
            first = last = None
            previous = None
            routine = False
            continue
        if first is None:
            first = token.start
            routine = name == "CREATE"
        elif routine and previous in ("CREATE", "REPLACE"):
            routine = name in ("OR", "REPLACE", "FUNCTION", "PROCEDURE")
        last = token.end
        # CREATE FUNCTION ... BEGIN ATOMIC ...; ...; END: semicolons inside the body do not end it
        # ("SELECT begin atomic FROM ..." is a column and its alias: no body, the ';' ends it)
        if name == "ATOMIC" and previous == "BEGIN_P" and routine:
            atomic_depth += 1
        elif atomic_depth and name == "CASE":
            atomic_depth += 1
        elif atomic_depth and name == "END_P":
            atomic_depth -= 1
        previous = name
    close()
    return spans


def split_statements(sql: str) -> list[tuple[str, int]]:
    """``[(statement text, 1-based start line), ...]``; the text has no trailing semicolon."""
    return [(s.text, s.line) for s in statement_spans(sql)]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def check_syntax(sql: str, name: str = "SQL syntax") -> CheckResult:
    """Parse every statement of ``sql`` with PostgreSQL's parser.

    Failed: ``message`` is PostgreSQL's message; ``details`` has ``statement`` (its first line),
    ``statement_text``, ``line`` and ``column`` in ``sql``, ``errors`` (every statement that failed).
    """
    from pglast import parser

    try:
        spans, parsed = _spans(sql)
    except parser.ParseError as exc:
        message, index = exc.args[0], (exc.args[1] if len(exc.args) > 1 else None)
        details: dict = {"statement": "", "statement_text": ""}
        if index is not None:
            line, col = line_col(sql, index)
            details.update(line=line, column=col)
            details["statement"] = sql.splitlines()[line - 1].strip() if sql.splitlines() else ""
        details["errors"] = [dict(details, message=message)]
        return CheckResult(name, FAILED, message, details)

    if not spans:
        return CheckResult(name, SKIPPED, "no SQL statements")

    errors = []
    # the usual case: the whole script parses (the cut was the parser's); only a failure needs the
    # statement-by-statement pass that locates every error
    failing = [] if parsed else spans
    for span in failing:
        try:
            parser.parse_sql_json(span.text)
        except parser.ParseError as exc:
            message = exc.args[0]
            index = exc.args[1] if len(exc.args) > 1 else None
            line, col = line_col(sql, span.start + index) if index is not None else (span.line, None)
            errors.append({"message": message, "statement": _first_line(span.text),
                           "statement_text": span.text, "line": line, "column": col,
                           "statement_line": span.line})
    if errors:
        first = errors[0]
        details = {k: first[k] for k in ("statement", "statement_text", "line", "column", "statement_line")}
        details["errors"] = errors
        details["statements"] = len(spans)
        return CheckResult(name, FAILED, first["message"], details)
    n = len(spans)
    return CheckResult(name, PASSED, f"{n} statement{'s' if n != 1 else ''} parsed",
                       {"statements": n})

"""What an ``agentnb run`` batch gave: each run's result (:class:`RunResult`), the batch's
(:class:`Batch`), and :func:`collect`, which reads the tokens, cost and checks agentnb left in an
executed notebook's output metadata (the format is ``agentnb.render.metadata``'s)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from agentnb.render import metadata


@dataclass
class RunResult:
    """What one run gave: its status, the failing cell, and what :func:`collect` read from its outputs."""

    id: str
    notebook: str
    parameters: dict
    output: str
    html: str | None
    status: str                                   # "ok" | "failed" | "interrupted" (Ctrl-C: unfinished)
    duration_s: float
    error: dict | None = None                     # {"cell", "execution_count", "source", "ename", "evalue"}
    checks: list[dict] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: int = 0
    exchanges: int = 0
    tokens: dict | None = None                    # summed usage; None when the notebook could not be read
    cost_usd: float | None = None                 # list price of every exchange (replayed ones too)
    billed_usd: float | None = None               # live exchanges only
    unread: int = 0                               # outputs whose agentnb metadata could not be read
    unchecked: int = 0                            # calls (in the session log) whose checks could not be read
    notes: list[str] = field(default_factory=list)
    # things the reader must know to trust the row (its parameters may not have taken effect)
    warnings: list[str] = field(default_factory=list)
    parameters_cell: bool | None = None           # False: the values were injected at the notebook's top

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def name(self) -> str:
        return Path(self.output).stem

    def error_parts(self) -> tuple[str, str, str]:
        """Where the run failed (``cell In [2]``), that cell's first line, and the error; each may be ""."""
        if not self.error:
            return "", "", ""
        e = self.error
        where = f"cell In [{e['execution_count']}]" if e.get("execution_count") else (
            f"cell {e['cell']}" if e.get("cell") is not None else "")
        what = f"{e['ename']}: {e['evalue']}" if e.get("evalue") else e.get("ename", "")
        return where, e.get("source") or "", what

    def error_text(self, code: Callable[[str], str] = lambda source: f"`{source}`",
                   text: Callable[[str], str] = str) -> str:
        """The error in one line; ``code`` marks up the cell's source and ``text`` the rest (Markdown by
        default; the HTML summary passes <code> and escaping)."""
        where, source, what = self.error_parts()
        if not where:
            return text(what)
        return text(where) + (f" {code(source)}" if source else "") + f": {text(what)}"

    def line(self) -> str:
        """One line for a log: status, name, time, checks, cost, and the error if any."""
        parts = [f"{self.status:<6} {self.name}", f"{self.duration_s:.1f}s"]
        if self.checks:
            parts.append(f"checks {self.checks_passed} passed, {self.checks_failed} failed")
        if self.cost_usd is not None:
            parts.append(money(self.cost_usd, self.billed_usd))
        text = "  ".join(parts)
        return f"{text}  — {self.error_text()}" if self.error else text


@dataclass
class Batch:
    """A finished batch: every run's result, in plan order, and where the summary was written."""

    results: list[RunResult]
    started: str
    duration_s: float
    jobs: int
    out: str
    paths: dict[str, str]                         # "md" / "html" / "json" -> path
    settings: dict = field(default_factory=dict)
    interrupted: bool = False                     # stopped by Ctrl-C: the unfinished runs say "interrupted"
    fail_on_check: bool = False                   # --fail-on-check: a failed (or unreadable) check fails it

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def unfinished(self) -> list[RunResult]:
        return [r for r in self.results if r.status == "interrupted"]

    @property
    def checks_failed(self) -> int:
        return sum(r.checks_failed for r in self.results)

    @property
    def warned(self) -> list[RunResult]:
        return [r for r in self.results if r.warnings]

    @property
    def unread(self) -> int:
        return sum(r.unread for r in self.results)

    @property
    def unchecked(self) -> int:
        return sum(r.unchecked for r in self.results)

    def verdict(self, fail_on_check: bool | None = None) -> tuple[int, list[str]]:
        """The exit code, and why it is not 0 (one reason a line, for the console and every summary).
        ``fail_on_check`` defaults to the batch's own ``--fail-on-check``."""
        strict = self.fail_on_check if fail_on_check is None else fail_on_check
        reasons = []
        if self.interrupted:
            reasons.append(f"interrupted (Ctrl-C): {_runs(self.unfinished)} did not finish")
        if self.failed:
            reasons.append(f"{_runs(self.failed)} failed")
        if strict and self.checks_failed:
            failing = [r for r in self.results if r.checks_failed]
            reasons.append(f"--fail-on-check: {self.checks_failed} check(s) failed, in {_runs(failing)}")
        if strict and self.unread:
            # with outputs it cannot read, the batch cannot say that no check failed
            unread = [r for r in self.results if r.unread]
            reasons.append(f"--fail-on-check: {self.unread} output(s) could not be read, so their checks "
                           f"cannot be vouched for, in {_runs(unread)}")
        if strict and self.unchecked:
            unchecked = [r for r in self.results if r.unchecked]
            reasons.append(f"--fail-on-check: {self.unchecked} call(s) not shown by a magic, whose checks "
                           f"cannot be read, in {_runs(unchecked)}")
        code = 130 if self.interrupted else 1 if reasons else 0    # 130: as a shell reports SIGINT
        return code, reasons

    def exit_code(self, fail_on_check: bool | None = None) -> int:
        return self.verdict(fail_on_check)[0]

    def status(self, fail_on_check: bool | None = None) -> str:
        """``passed``, ``failed`` or ``interrupted``: the batch's outcome in one word."""
        return {0: "passed", 130: "interrupted"}.get(self.exit_code(fail_on_check), "failed")

    def headline(self, fail_on_check: bool | None = None) -> str:
        strict = self.fail_on_check if fail_on_check is None else fail_on_check
        ok = sum(r.ok for r in self.results)
        text = f"{len(self.results)} run(s): {ok} ok, {len(self.failed)} failed"
        if self.interrupted:
            text += f", {len(self.unfinished)} interrupted (Ctrl-C)"
        passed = sum(r.checks_passed for r in self.results)
        if passed or self.checks_failed:
            text += f"; checks {passed} passed, {self.checks_failed} failed"
            if self.checks_failed and strict:
                text += " (--fail-on-check)"
        if self.unread:
            text += f"; {self.unread} output(s) unread (see the notes)"
        if self.unchecked:
            text += f"; {self.unchecked} call(s) unchecked"
        if self.warned:
            text += f"; {len(self.warned)} run(s) with warnings"
        cost = total(r.cost_usd for r in self.results)
        if cost is not None:
            text += f"; {money(cost, total(r.billed_usd for r in self.results))}"
        return text + f"; {self.duration_s:.1f}s"


def _runs(results: list[RunResult], shown: int = 5) -> str:
    """``2 runs (a, b)``: how many, and which (the first few)."""
    names = ", ".join(r.name for r in results[:shown]) + (f" and {len(results) - shown} more"
                                                            if len(results) > shown else "")
    return f"{len(results)} run{'s' if len(results) != 1 else ''} ({names})"


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch, once the summary of what finished is written: ``batch`` holds it."""

    def __init__(self, batch: Batch):
        super().__init__("agentnb run interrupted")
        self.batch = batch


# -------------------------------------------------------------------------------------------- reading results

def collect(nb) -> dict:
    """What agentnb left in an executed notebook's outputs (their ``agentnb`` metadata, read by
    ``agentnb.render.metadata``): the number of exchanges, summed tokens, cost (list price, and billed =
    live calls only), and the checks.

    Read defensively: a notebook node or a plain dict; missing or odd entries are skipped. A notebook
    that made no call costs 0; the cost is ``None`` (unknown) when its calls were to a model without a
    known price, or when outputs could not be read. The same entry shown twice in one cell (a display
    and its update, say) counts once. Outputs in a format this agentnb cannot read are counted in
    ``unread`` and explained in ``notes``: never silently taken for "no cost, no checks".
    """
    exchanges = 0
    usage = {k: 0 for k in metadata.USAGE_KEYS}
    cost = billed = None
    checks: list[dict] = []
    unread: dict[str, list[int]] = {}
    for index, cell in enumerate(_get(nb, "cells") or []):
        if _get(cell, "cell_type") != "code":
            continue
        seen: set[str] = set()
        for output in _get(cell, "outputs") or []:
            try:
                record = metadata.read(_get(output, "metadata"))
            except metadata.FormatError as err:
                unread.setdefault(str(err), []).append(index)
                continue
            if record is None:
                continue
            key = json.dumps(_get(output, "metadata")[metadata.KEY], sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            if record.usage is not None:
                exchanges += 1
                for k in metadata.USAGE_KEYS:
                    usage[k] += record.usage[k]
            if record.cost_usd is not None:
                cost = (cost or 0.0) + record.cost_usd
                if not record.replayed:
                    billed = (billed or 0.0) + record.cost_usd
                elif billed is None:
                    billed = 0.0
            checks += [{**check, "cell": index} for check in record.checks]
    if not exchanges and not unread:
        cost = billed = 0.0
    notes = [f"{len(cells)} output(s) not read (cell index {', '.join(map(str, sorted(set(cells))))}): {reason}; "
             "their tokens, cost and checks are not counted" for reason, cells in unread.items()]
    return {
        "exchanges": exchanges,
        "tokens": usage if exchanges or not unread else None,
        "cost_usd": cost,
        "billed_usd": billed,
        "checks": checks,
        "checks_passed": sum(c["status"] == "passed" for c in checks),
        "checks_failed": sum(c["status"] == "failed" for c in checks),
        "unread": sum(len(cells) for cells in unread.values()),
        "notes": notes,
    }


def _get(obj, key):
    try:
        return obj.get(key)
    except AttributeError:
        return None


# ------------------------------------------------------------------------------------------------- wording

def total(values: Iterable[float | None]) -> float | None:
    """The sum of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def money(cost: float | None, billed: float | None) -> str:
    if cost is None:
        return "unknown"
    if billed is not None and abs(billed - cost) > 1e-12:
        return f"${cost:.4f} (billed ${billed:.4f})"
    return f"${cost:.4f}"


def shorten(text: str, limit: int = 200) -> str:
    """The first line of ``text``, without ANSI colours (IPython tracebacks have them), at most ``limit``
    characters."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text)).strip()
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= limit else first[:limit - 1] + "…"

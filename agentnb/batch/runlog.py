"""What the session log says a run of ``agentnb run`` really called.

A notebook's outputs show the calls a magic displayed; ``agentnb.ask()``, a helper or a loop makes calls
that no output records, yet they spend and their answers are checked. The session log holds every call,
so a run's totals come from it (:func:`calls`, :func:`apply`), and the outputs only add the checks of the
calls they show.

Which rows are a run's. Every run's kernel shares the batch's session log (one ``AGENTNB_HOME``) and
gets ``AGENTNB_RUN_ID``. A row is the run's when

- it carries that id in a ``run_id`` column, once the session log writes one (read when its view has
  the column: nothing to change here then);
- else, when a kernel of the run wrote it: the session log keeps one file per process,
  ``<yyyymmdd>-<pid>-<random>.jsonl``, and the batch knows its kernels' process ids. Rows from before
  the run started or after it ended are left out (a process id can be used again later).

A call logs a ``started`` row and then a ``done`` row with the same ``call_id`` (session log v2); a call
with no ``done`` row never finished (its kernel was killed). v1 rows are each a finished call.

Checks: a call's row carries ``checks_passed`` / ``checks_failed`` once the session log records them;
until then the checks of a call no output shows cannot be read, and the run says so (``unchecked``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from agentnb.render.metadata import USAGE_KEYS

CHECK_COLUMNS = ("checks_passed", "checks_failed")


def calls(home: str | Path, run_id: str, pids: list[int], since: dt.datetime, until: dt.datetime,
          notebook: str | None = None) -> list[dict]:
    """The calls the run made, one dict a call (the session log's columns), oldest first. Raises
    OSError or ValueError when the log cannot be read."""
    from agentnb import sessionlog

    if "run_id" in getattr(sessionlog, "VIEW_COLUMNS", ()):
        return sessionlog.rows(home, run_id=run_id)
    rows = []
    folder = Path(home) / "log"
    for pid in sorted(set(pids)):
        for path in sorted(folder.glob(f"*-{pid}-*.jsonl")):
            if not re.fullmatch(rf"\d{{8}}-{pid}-[0-9a-f]+\.jsonl", path.name):
                continue
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue                # a row being written, or torn by a crash
                if isinstance(row, dict) and _within(row.get("time"), since, until) and (
                        notebook is None or row.get("notebook") in (None, notebook)):
                    rows.append(row)
    return _one_row_a_call(rows)


def _within(time: object, since: dt.datetime, until: dt.datetime) -> bool:
    try:
        when = dt.datetime.fromisoformat(str(time))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return since <= when <= until


def _one_row_a_call(rows: list[dict]) -> list[dict]:
    """v2 logs a ``started`` and a ``done`` row a call: keep the ``done`` one when there is one. Check
    counts may come in a later row of the same call (the checks run after the answer is logged): they
    are taken from whichever row has them."""
    by_call: dict[str, dict] = {}
    checks: dict[str, dict] = {}
    single = []
    for row in rows:
        call_id = row.get("call_id")
        if not call_id:
            single.append(row)
            continue
        if all(row.get(c) is not None for c in CHECK_COLUMNS):
            checks[call_id] = {c: row[c] for c in CHECK_COLUMNS}
        state = row.get("state") or "done"
        if state in ("started", "done") and (call_id not in by_call or state == "done"):
            by_call[call_id] = row
    calls = [{**row, **checks.get(call_id, {})} for call_id, row in by_call.items()]
    return sorted(single + calls, key=lambda row: str(row.get("time")))


def totals(rows: list[dict]) -> dict:
    """Counts and sums of a run's calls: tokens and list price of every call (replayed ones too),
    billed (live calls only), and the checks when every row carries them (else None)."""
    finished = [r for r in rows if (r.get("state") or "done") == "done"]
    tokens = {k: sum(int(r.get(k) or 0) for r in finished) for k in USAGE_KEYS}
    priced = [r for r in finished if r.get("cost_usd") is not None]
    unpriced = [r for r in finished if r.get("cost_usd") is None and not r.get("error")
                and any(r.get(k) for k in USAGE_KEYS)]
    checked = [r for r in rows if all(r.get(c) is not None for c in CHECK_COLUMNS)]
    return {
        "calls": len(rows),
        "unfinished": len(rows) - len(finished),
        "tokens": tokens,
        "cost_usd": sum(float(r["cost_usd"]) for r in priced),
        "billed_usd": sum(float(r["cost_usd"]) for r in priced if not r.get("replayed")),
        "unpriced": len(unpriced),
        "checked": len(checked),
        "checks_passed": sum(int(r["checks_passed"]) for r in checked),
        "checks_failed": sum(int(r["checks_failed"]) for r in checked),
    }


def apply(result, rows: list[dict] | None, home: str | Path, problem: str | None = None) -> None:
    """Take ``result``'s calls, tokens and cost from the session log's ``rows`` (the checks of the calls
    its outputs show stay theirs), and say what could not be known. ``rows`` None: the log could not
    be read (``problem`` says why)."""
    if rows is None:
        result.notes.append(f"the session log at {home} could not be read ({problem}): tokens, cost and "
                            "checks are those of the notebook's outputs only")
        return
    if not rows:
        if result.exchanges:
            result.notes.append(f"the session log at {home} holds no call of this run: tokens and cost are "
                                "those of the notebook's outputs")
        return
    shown = result.exchanges
    got = totals(rows)
    result.exchanges = got["calls"]
    result.tokens = got["tokens"]
    result.cost_usd = None if got["unpriced"] else got["cost_usd"]
    result.billed_usd = None if got["unpriced"] else got["billed_usd"]
    hidden = max(0, got["calls"] - shown)
    if got["unpriced"]:
        result.notes.append(f"{got['unpriced']} call(s) to a model without a known price: the cost is unknown")
    if got["unfinished"]:
        result.warnings.append(f"{got['unfinished']} call(s) started and never finished (the kernel stopped "
                               "mid-call): what they spent is not known")
    if got["checked"] == got["calls"]:
        # every call's checks are in the log: they count, the outputs' rows give the details
        extra = got["checks_failed"] - result.checks_failed
        result.checks_passed, result.checks_failed = got["checks_passed"], got["checks_failed"]
        if extra > 0:
            result.warnings.append(f"{extra} check(s) failed in calls no output shows (agentnb.ask() ...): "
                                   "see the session log")
    elif hidden:
        result.unchecked = hidden
        result.warnings.append(
            f"{hidden} of {got['calls']} call(s) not shown by a magic (agentnb.ask() ...): their tokens and "
            "cost are counted from the session log, but their checks cannot be read (the session log does "
            "not record checks)")

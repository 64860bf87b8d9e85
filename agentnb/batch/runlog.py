"""What the session log says a run of ``agentnb run`` really called.

A notebook's outputs show the calls a magic displayed; ``agentnb.ask()``, a helper or a loop makes calls
that no output records, yet they spend and their answers are checked. The session log holds every call,
so a run's totals come from it (:func:`calls`, :func:`apply`), and the outputs only add the checks of the
calls they show.

Which rows are a run's. Every run's kernel shares the batch's session log (one ``AGENTNB_HOME``) and
gets ``AGENTNB_RUN_ID``, which the session log writes into each row (``run_id``): calls from helper
processes the notebook starts count too. The log's view gives one row a call (its ``done`` row, else
the ``started`` row of a call that never finished) with its checks folded in.

Checks: a call's row carries ``checks_passed`` / ``checks_failed`` once its checks have run; a call made
with ``check=False`` (or one that failed) has none, and the run says so (``unchecked``).
"""

from __future__ import annotations

from pathlib import Path

from agentnb.llm.models import USAGE_KEYS

CHECK_COLUMNS = ("checks_passed", "checks_failed")


def calls(home: str | Path, run_id: str) -> list[dict]:
    """The calls the run made, one dict a call (the session log's columns), oldest first. Raises
    OSError or ValueError when the log cannot be read."""
    from agentnb import sessionlog

    return sessionlog.rows(home, run_id=run_id)


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

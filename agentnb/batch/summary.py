"""The summary of an ``agentnb run`` batch: Markdown, HTML and JSON, one row per run (parameters,
status, checks passed and failed, tokens, cost, duration)."""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path
from typing import Iterable

from agentnb.batch.results import Batch, RunResult, money, total
from agentnb.llm.models import USAGE_KEYS, input_total
from agentnb.text import one_line

SUMMARY_NAMES = ("summary.md", "summary.html", "summary.json")


def write_summary(batch: Batch) -> dict[str, str]:
    """``summary.json``, ``summary.md`` and ``summary.html`` in the batch's folder; returns their paths."""
    out = Path(batch.out)
    paths = {"md": str(out / "summary.md"), "html": str(out / "summary.html"), "json": str(out / "summary.json")}
    batch.paths = paths
    data = summary_dict(batch)
    Path(paths["json"]).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                                   encoding="utf-8")
    Path(paths["md"]).write_text(summary_markdown(batch), encoding="utf-8")
    Path(paths["html"]).write_text(summary_html(batch), encoding="utf-8")
    return paths


def summary_dict(batch: Batch) -> dict:
    runs = []
    for r in batch.results:
        row = asdict(r)
        row["output"] = _rel(r.output, batch.out)
        row["html"] = _rel(r.html, batch.out) if r.html else None
        runs.append(row)
    code, reasons = batch.verdict()
    return {
        "status": batch.status(),          # passed | failed | interrupted: what the exit code says
        "exit_code": code,
        "reasons": reasons,                # why it is not 0
        "started": batch.started,
        "interrupted": batch.interrupted,
        "duration_s": round(batch.duration_s, 3),
        "jobs": batch.jobs,
        "settings": batch.settings,
        "totals": {
            "runs": len(batch.results),
            "ok": sum(r.ok for r in batch.results),
            "failed": len(batch.failed),
            "interrupted": len(batch.unfinished),
            "checks_passed": sum(r.checks_passed for r in batch.results),
            "checks_failed": batch.checks_failed,
            "calls_unchecked": batch.unchecked,
            "tokens": _sum_tokens(r.tokens for r in batch.results),
            "cost_usd": total(r.cost_usd for r in batch.results),
            "billed_usd": total(r.billed_usd for r in batch.results),
        },
        "runs": runs,
    }


_COLUMNS = ["run", "parameters", "status", "checks", "tokens in / out", "cost", "time"]


def _row_cells(r: RunResult) -> list[str]:
    params = ", ".join(f"{k}={_value(v)}" for k, v in r.parameters.items()) or "-"
    if r.parameters_cell is False:
        params += " (⚠ no parameters cell: injected at the top)"
    checks = f"{r.checks_passed} passed, {r.checks_failed} failed" if r.checks or r.checks_passed or r.checks_failed else "-"
    if r.unchecked:
        checks = ("" if checks == "-" else checks + "; ") + f"{r.unchecked} call(s) unchecked"
    return [r.name, params, r.status, checks, _tokens(r.tokens), money(r.cost_usd, r.billed_usd),
            f"{r.duration_s:.1f}s"]


def summary_markdown(batch: Batch) -> str:
    code, reasons = batch.verdict()
    lines = [f"# agentnb run: {batch.status()}", "", f"{batch.headline()}.", ""]
    if reasons:
        lines += [f"**The batch {batch.status()}** (exit {code}):", ""] + [f"- {_md(r)}" for r in reasons] + [""]
    lines += [f"Started {batch.started}, {batch.jobs} at a time.", "",
             "| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for r in batch.results:
        cells = _row_cells(r)
        link = _rel(r.html, batch.out) if r.html else _rel(r.output, batch.out)
        cells[0] = f"[{_md(cells[0])}]({link})"
        lines.append("| " + " | ".join([cells[0]] + [_md(c) for c in cells[1:]]) + " |")
    warnings = [f"- **{_md(r.name)}**: {_md(w)}" for r in batch.results for w in r.warnings]
    if warnings:
        lines += ["", "## Warnings", ""] + warnings
    failures = []
    for r in batch.results:
        if r.error:
            failures.append(f"- **{_md(r.name)}** failed at {_md(r.error_text())}")
        failures += [f"- **{_md(r.name)}** check *{_md(c['name'])}* failed"
                     + (f": {_md(one_line(c['message']))}" if c["message"] else "")
                     for c in r.checks if c["status"] == "failed"]
    if failures:
        lines += ["", "## Failures", ""] + failures
    notes = [f"- **{_md(r.name)}**: {_md(note)}" for r in batch.results for note in r.notes]
    if notes:
        lines += ["", "## Notes", ""] + notes
    return "\n".join(lines) + "\n"


def summary_html(batch: Batch) -> str:
    esc = html.escape
    code, reasons = batch.verdict()
    verdict = (f"<div class='failed'><b>The batch {esc(batch.status())}</b> (exit {code}):<ul>"
               + "".join(f"<li>{esc(r)}</li>" for r in reasons) + "</ul></div>") if reasons else ""
    head = "".join(f"<th>{esc(c)}</th>" for c in _COLUMNS)
    body = []
    for r in batch.results:
        cells = [esc(c) for c in _row_cells(r)]
        target = _rel(r.html, batch.out) if r.html else _rel(r.output, batch.out)
        cells[0] = f"<a href='{esc(target)}'>{cells[0]}</a>"
        cells[2] = f"<span class='{'ok' if r.ok else 'failed'}'>{cells[2]}</span>"  # interrupted: red too
        details = [f"<div class='warning'>⚠ {esc(w)}</div>" for w in r.warnings]
        if r.error:
            failed_at = r.error_text(code=lambda source: f"<code>{esc(source)}</code>", text=esc)
            details.append(f"<div class='failed'>failed at {failed_at}</div>")
        for c in r.checks:
            if c["status"] == "failed":
                details.append(f"<div class='failed'>check <b>{esc(c['name'])}</b> failed"
                               + (f": {esc(one_line(c['message']))}" if c["message"] else "") + "</div>")
        details += [f"<div class='note'>{esc(n)}</div>" for n in r.notes]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        if details:
            body.append(f"<tr class='details'><td></td><td colspan='{len(_COLUMNS) - 1}'>{''.join(details)}</td></tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agentnb run</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ text-align: left; padding: 4px 10px; border-bottom: 1px solid #ddd; vertical-align: top; }}
tr.details td {{ border-bottom: 1px solid #ddd; padding-top: 0; }}
.ok {{ color: #1a7f37; font-weight: 600; }} .failed {{ color: #cf222e; }} .note {{ color: #777; }}
.warning {{ color: #9a6700; font-weight: 600; }}
</style></head><body>
<h1>agentnb run: <span class='{"ok" if code == 0 else "failed"}'>{esc(batch.status())}</span></h1>
<p>{esc(batch.headline())}. Started {esc(batch.started)}, {batch.jobs} at a time.</p>
{verdict}
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""


# ------------------------------------------------------------------------------------------------- helpers

def _sum_tokens(values: Iterable[dict | None]) -> dict | None:
    known = [v for v in values if v]
    return {k: sum(v.get(k, 0) for v in known) for k in USAGE_KEYS} if known else None


def _tokens(tokens: dict | None) -> str:
    if not tokens:
        return "unknown"
    return f"{input_total(tokens):,} / {tokens['output_tokens']:,}"


def _value(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rel(path: str, folder: str) -> str:
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return str(path)

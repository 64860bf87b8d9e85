"""Small tables for ``%agents``, ``%agentnb`` and ``%agentnb usage``: HTML in a notebook, text elsewhere."""

from __future__ import annotations

import html
import os

from agentnb.text import plural


class Table:
    def __init__(self, title: str, columns: list[str], rows: list[list], notes: list[str] | None = None):
        self.title, self.columns, self.rows, self.notes = title, columns, rows, notes or []

    def __repr__(self) -> str:
        cells = [self.columns] + [[str(c) for c in r] for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = [self.title] + ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(2, "  ".join("-" * w for w in widths))
        return "\n".join(lines + self.notes)

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(c))}</td>" for c in r)
                       + "</tr>" for r in self.rows)
        notes = "".join(f"<div>{html.escape(n)}</div>" for n in self.notes)
        return (f"<div><b>{html.escape(self.title)}</b><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>{notes}</div>")


def agents_table(catalog) -> Table:
    rows = [[catalog.invocation(magic), a.name, a.model or "(default)", ", ".join(a.tools) or "-", str(a.path or "")]
            for magic, a in catalog.by_magic().items()]
    notes = [f"skipped: {e}" for e in catalog.errors] + [f"warning: {w}" for w in catalog.warnings]
    return Table(plural(len(rows), "agent"), ["magic", "name", "model", "tools", "file"], rows, notes)


def status(session) -> Table:
    s = session.settings
    key = "set" if (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")) else "not set"
    rows = [
        ["record mode", s.resolved_record_mode()],
        ["recordings", str(s.resolved_recordings())],
        ["session log", str(s.resolved_home())],
        ["max tokens", s.resolved_max_tokens()],
        ["endpoint", os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com (SDK default)"],
        ["credentials", f"ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN {key}"],
        ["agents", len(session.catalog.agents)],
        ["conversations", ", ".join(f"{a}/{t} ({len(c.turns)} turns)" for (a, t), c in
                                    session.conversations.items()) or "none"],
        ["model overrides", ", ".join(f"{a}: {m}" for a, m in s.model_overrides.items()) or "none"],
        ["billed this session", f"${session.billed_usd:.4f}"],
    ]
    return Table("agentnb", ["setting", "value"], rows)


def usage(session) -> Table:
    from agentnb import sessionlog

    home = session.settings.resolved_home()
    rows = []
    for label, kwargs in (("this session", {"session": session.id}), ("all time", {})):
        t = sessionlog.totals(home=home, **kwargs)
        rows.append([label, t["exchanges"], t["live"], t["replayed"], t["errors"], t["input_tokens"],
                     t["cache_creation_input_tokens"], t["cache_read_input_tokens"], t["output_tokens"],
                     f"${t['cost_usd']:.4f}"])
    return Table(f"usage (log: {home})", ["scope", "calls", "live", "replayed", "errors", "in", "cache write",
                                          "cache read", "out", "cost"], rows)

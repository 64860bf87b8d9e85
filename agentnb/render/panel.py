"""The panel under an answer: its artifacts and checks in sections (and the ER diagram's output). Each
output has a ``text/plain`` form and ``agentnb`` metadata (see ``agentnb.render.metadata``).

The panel is built only from what JupyterLab's sanitizer keeps, so that it looks and works the same in a
notebook JupyterLab does not trust (an ``agentnb run`` output, a shipped notebook, a colleague's): the
sanitizer (``@jupyterlab/apputils`` ``Sanitizer``, sanitize-html) removes ``<style>``, disables
``<input>``, renames ids and drops inline ``<svg>``, and keeps an inline ``style`` declaration only when
its value matches its allow-list (no ``var()``, no ``transform``). So:

- sections are ``<details>``/``<summary>`` (no radio buttons, no stylesheet, no JavaScript); an exported
  HTML file shows them too. With ``AGENTNB_DISPLAY=widgets`` under a Jupyter server they are ipywidgets
  tabs instead (see widgets_wanted);
- styles are inline, with colours that read on JupyterLab's light and dark themes alike: text inherits the
  theme's colour, backgrounds and borders are translucent grey, status colours are mid-tones (or white on
  a coloured badge), code tokens have a contrast of 3:1 or more on white and on near-black;
- the ER diagram is an ``<img>`` of the SVG as a ``data:`` URI (kept for ``img``), at its own size in a
  scrolling box, and a separate output holds it as a Mermaid fence, which JupyterLab 4.1+ draws itself.

Everything is deterministic so that a replayed notebook compares equal.
"""

from __future__ import annotations

import base64
import html
import os

from agentnb import settings
from agentnb.render import metadata
from agentnb.render.code import GREY, highlight
from agentnb.text import plural

EMPTY = "<p class='anb-empty'>"      # how a section with nothing in it starts
EMPTY_NOTE = "<p style='opacity:0.7'>"  # a part of a section with nothing in it
STATUS_ICON = {"passed": "✅", "failed": "❌", "skipped": "⏭️"}    # text/plain and the terminal
# colours that read on a white and on a near-black background (contrast 3:1 or more on both)
RED, GREEN = "#d32f2f", "#2e7d32"
BORDER = "rgba(128,128,128,0.45)"
SHADE = "rgba(128,128,128,0.12)"
FAILED_ROW = "rgba(229,57,53,0.14)"
MONO = "font-family:monospace"
# status icons as CSS shapes (an emoji renders as an empty box without an emoji font): a green disc, a red
# square, a grey ring; shape and colour both differ
SHAPE = {"passed": f"display:inline-block;width:10px;height:10px;border-radius:50%;background-color:{GREEN}",
         "failed": f"display:inline-block;width:10px;height:10px;background-color:{RED}",
         "skipped": f"display:inline-block;width:6px;height:6px;border-radius:50%;border:2px solid {GREY}"}


def badge(text: str, color: str) -> str:
    """White on a coloured pill: readable whatever the theme's background."""
    return (f"<span style='display:inline-block;background-color:{color};color:#ffffff;border-radius:8px;"
            f"padding:0 7px;margin-left:6px;font-size:12px;font-weight:600;line-height:18px'>"
            f"{html.escape(text)}</span>")


def status_icon(status: str) -> str:
    shape = SHAPE.get(status, SHAPE["skipped"])
    return f"<span title='{html.escape(status)}' style='{shape};vertical-align:middle'></span>"


def widgets_wanted() -> bool:
    """ipywidgets tabs only when asked for (``AGENTNB_DISPLAY=widgets``) and a Jupyter server started
    the kernel (it sets JPY_SESSION_NAME). JupyterLab does not save widget state by default, so a
    reopened notebook shows "Error displaying widget: model not found" where each widget was; the
    static tabs look the same, switch the same, and survive saving, exports, nbval and papermill."""
    mode = settings.display_mode()
    return mode == "widgets" and bool(os.environ.get("JPY_SESSION_NAME"))


def _code_block(artifact) -> str:
    label = artifact.filename or artifact.title or f"block {artifact.index + 1}"
    return (f"<div style='margin:6px 0'><div style='font-weight:600'>{html.escape(label)} "
            f"<span style='opacity:0.7;font-weight:400'>{html.escape(artifact.kind)} · "
            f"{html.escape(artifact.language or 'text')}</span></div>"
            # lines as written: a long one scrolls, none is cut mid-word
            f"<div style='border:1px solid {BORDER};border-radius:4px;background-color:{SHADE};padding:6px;"
            f"overflow-x:auto'>"
            f"{highlight(artifact.code, artifact.language)}</div></div>")


# words wrap at spaces, a word longer than the line breaks only then (JupyterLab's output <pre> breaks
# anywhere: "break-all")
WRAP = "white-space:pre-wrap;word-break:normal;overflow-wrap:break-word"


def _pre(text: str) -> str:
    return f"<pre style='{WRAP};margin:2px 0;{MONO}'>{html.escape(text)}</pre>"


def _table(columns: list[str], rows: list[list[str]], row_styles: list[str] | None = None) -> str:
    cell = "text-align:left;vertical-align:top;padding:2px 8px;word-break:normal;overflow-wrap:break-word"
    head = "".join(f"<th style='{cell}'>{html.escape(c)}</th>" for c in columns)
    styles = row_styles or [""] * len(rows)
    body = "".join((f"<tr style='{style}'>" if style else "<tr>")
                   + "".join(f"<td style='{cell}'>{c}</td>" for c in row) + "</tr>"
                   for row, style in zip(rows, styles))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- tab contents --------------------------------------------------------------------------------------

def schema_tab(response) -> str:
    arts = response.artifacts
    parts = [_code_block(a) for a in arts.by_kind("schema")]
    parts += [_code_block(a) for a in arts.by_kind("prisma")]
    from agentnb.render.schema_focus import READABLE, large_schema_html

    if response.schema_model is not None and len(response.schema_model.tables) > READABLE:
        from agentnb.render import erd

        def diagram(schema):
            return diagram_img(erd.svg(schema), len(schema.tables))

        parts.append(large_schema_html(response.schema_model, response, diagram))
    elif response.schema_model is not None and response.schema_model.tables:
        from agentnb.render import erd

        parts.append("<div style='margin-top:8px;font-weight:600'>ER diagram (as the database sees it)</div>"
                     + diagram_img(erd.svg(response.schema_model), len(response.schema_model.tables)))
    return "".join(parts) or EMPTY + "No schema in this answer.</p>"


def migrations_tab(response) -> str:
    parts = []
    for pair in response.artifacts.migrations:
        parts.append(f"<h4 style='margin:6px 0'>Migration {html.escape(str(pair.id))}</h4>")
        sides = [pair.up] if pair.up is pair.down else [pair.up, pair.down]   # Alembic: one file, both ways
        parts.extend(_code_block(a) for a in sides if a is not None)
    report = response.check_report
    if report is not None and report.diff is not None:
        differences = report.diff.details.get("differences") or []
        parts.append("<h4 style='margin:6px 0'>Schema changes since the previous answer</h4>"
                     + ("<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in differences) + "</ul>"
                        if differences else _pre(report.diff.message)))
    if report is not None and report.implied_migration:
        parts.append("<h4 style='margin:6px 0'>The migration these changes imply (none in the answer)</h4>"
                     "<div>up</div>" + highlight(report.implied_migration["up"] or "-- nothing", "sql")
                     + "<div>down</div>" + highlight(report.implied_migration["down"] or "-- nothing", "sql"))
    return "".join(parts) or EMPTY + "No migration in this answer.</p>"


def diagram_img(svg: str, tables: int) -> str:
    """The SVG as an image JupyterLab shows untrusted (it drops inline ``<svg>``, keeps ``data:`` images),
    at its own size: a narrow window scrolls it rather than shrinking its text."""
    import re

    size = re.search(r'width="(\d+)" height="(\d+)"', svg)
    width, height = (int(size.group(1)), int(size.group(2))) if size else (600, 400)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    alt = f"ER diagram: {plural(tables, 'table')}"
    return (f"<div style='overflow-x:auto;max-width:100%'><img alt='{alt}' width='{width}' height='{height}' "
            f"style='max-width:none;width:{width}px;min-width:{width}px;height:{height}px' "
            f"src='data:image/svg+xml;base64,{data}'></div>")


def code_tab(response) -> str:
    shown = ("python", "typescript", "javascript", "graphql", "proto", "dockerfile", "compose", "query", "shell",
             "json", "yaml", "other")
    parts = [_code_block(a) for a in response.artifacts if a.kind in shown]
    return "".join(parts) or EMPTY + "No code in this answer.</p>"


def api_tab(response) -> str:
    """REST, GraphQL and gRPC operations side by side: a heading a protocol (``agentnb.render.api``), a
    table of the same columns for each of its sections; the OpenAPI contract itself below its table."""
    from agentnb.render import api

    parts = []
    for heading, sections in api.PROTOCOLS:
        found = sections(response)
        if not found:
            continue
        parts.append(f"<h4 style='margin:6px 0'>{html.escape(heading)}</h4>")
        for title, rows in found:
            if title:
                parts.append(f"<div style='font-weight:600'>{html.escape(title)}</div>")
            cells = [[f"<code>{html.escape(r['operation'])}</code>"] + [html.escape(str(r.get(c) or ""))
                                                                        for c in api.COLUMNS[1:]] for r in rows]
            parts.append(_table(api.COLUMNS, cells) if cells else EMPTY_NOTE + "nothing readable: the checks say "
                         "why</p>")
        if heading.startswith("REST") and response.artifacts.openapi is not None:
            parts.append("<details><summary>contract</summary>" + _code_block(response.artifacts.openapi)
                         + "</details>")
    return "".join(parts) or EMPTY + "No API in this answer (OpenAPI, GraphQL or .proto).</p>"


def examples_tab(response) -> str:
    parts = [_code_block(a) for a in response.artifacts.examples]
    env = response.artifacts.env
    if env:
        rows = [[f"<code>{html.escape(v.name)}</code>", html.escape(v.description or ""),
                 html.escape(v.example or ""), html.escape(v.source)] for v in env]
        parts.append("<h4 style='margin:6px 0'>Environment variables</h4>"
                     + _table(["variable", "description", "example", "from"], rows))
    return "".join(parts) or EMPTY + "No request examples in this answer.</p>"


def check_families(rows) -> list[tuple[str, list, dict[str, int]]]:
    """The rows under their family headings (``CheckResult.family``): (family, rows, counts by status),
    families with a failed row first, then in ``FAMILIES`` order; rows keep their order."""
    from agentnb.checks.result import family_order

    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.family, []).append(r)
    out = [(family, members, {s: sum(r.status == s for r in members) for s in ("passed", "failed", "skipped")})
           for family, members in groups.items()]
    return sorted(out, key=lambda g: (not g[2]["failed"], family_order(g[0])))


def counts_text(counts: dict[str, int]) -> str:
    """``3 passed, 1 failed`` (the statuses that occur)."""
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n)


def checks_tab(response) -> str:
    """The rows under a heading a family (SQL / PostgreSQL, OpenAPI / HTTP, GraphQL...) with its counts,
    families with a failure first. A failed row has a red edge and background and a red status badge,
    besides its red square icon."""
    sections = []
    for family, members, counts in check_families(response.checks):
        rows, styles = [], []
        for r in members:
            failed = r.status == "failed"
            status = badge("failed", RED) if failed else html.escape(r.status)
            name = f"<b>{html.escape(r.name)}</b>" if failed else html.escape(r.name)
            rows.append([status_icon(r.status), name, status, _pre(r.message)])
            styles.append(f"background-color:{FAILED_ROW};box-shadow:inset 4px 0 0 {RED}" if failed else "")
        note = " ".join(html.escape(f"{n} {s}") if s != "failed" else badge(f"{n} failed", RED)
                        for s, n in counts.items() if n)
        sections.append(f"<details open style='margin:2px 0 6px 0'><summary style='cursor:pointer;font-weight:600'>"
                        f"{html.escape(family)} <span style='font-weight:400;opacity:0.85'>{note}</span></summary>"
                        + _table(["", "check", "status", "message"], rows, styles) + "</details>")
    return "".join(sections) or EMPTY + "No checks ran.</p>"


TABS = (("Schema", schema_tab), ("Migrations", migrations_tab), ("Code", code_tab), ("API", api_tab),
        ("Examples", examples_tab), ("Checks", checks_tab))


def checks_summary(response) -> str:
    counts = {s: sum(r.status == s for r in response.checks) for s in ("passed", "failed", "skipped")}
    return f"checks: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"


_PLURALS = {"schema": "schemas", "migration": "migrations", "query": "queries", "example": "examples"}


def panel_text(response) -> str:
    """The artifacts and checks as text (a terminal, a ``text/plain`` output): the checks under their
    family headings with counts, each check's whole message, its first line after the check's name and
    its other lines indented below it."""
    from agentnb.text import indent_rest

    kinds: dict[str, int] = {}
    for a in response.artifacts:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    counted = [plural(n, kind, _PLURALS.get(kind, kind)) for kind, n in kinds.items()]
    lines = ["artifacts: " + (", ".join(counted) or "none"), checks_summary(response)]
    for family, members, counts in check_families(response.checks):
        lines.append(f"  {family} ({counts_text(counts)})")
        lines += [f"    {STATUS_ICON.get(r.status, r.status)} {r.name}: {indent_rest(r.message, ' ' * 8)}"
                  for r in members]
    return "\n".join(lines)


def build_tabs(response) -> list[tuple[str, str]]:
    """(name, HTML content) of every tab, built once for the HTML sections and the widget alike."""
    return [(name, build(response)) for name, build in TABS]


def panel_html(response, tabs: list[tuple[str, str]] | None = None) -> str:
    """One ``<details>`` section a kind of artifact, then the checks; the section to open is the first
    with something in it, or Checks when a check failed (its summary then carries a red count)."""
    tabs = tabs if tabs is not None else build_tabs(response)
    first = _first_open(response, tabs)
    sections = []
    for i, (name, content) in enumerate(tabs):
        empty = content.startswith(EMPTY)
        label = html.escape(name) + _summary_note(response, name)
        summary = (f"<summary style='cursor:pointer;padding:4px 8px;background-color:{SHADE};font-weight:600"
                   f"{';opacity:0.6' if empty else ''}'>{label}</summary>")
        sections.append(f"<details{' open' if i == first else ''} style='border:1px solid {BORDER};"
                        f"border-radius:4px;margin:0 0 4px 0'>{summary}"
                        f"<div style='padding:6px 8px;overflow-x:auto'>{content}</div></details>")
    return (f"<div class='agentnb-panel'>{''.join(sections)}"
            f"<div style='opacity:0.7;margin-top:4px'>{html.escape(checks_summary(response))}</div></div>")


def _summary_note(response, name: str) -> str:
    if name != "Checks":
        return ""
    failed = sum(r.status == "failed" for r in response.checks)
    passed = sum(r.status == "passed" for r in response.checks)
    note = " " + badge(f"{failed} failed", RED) if failed else ""
    if passed:
        note += f" <span style='font-weight:400;opacity:0.75;margin-left:6px'>{passed} passed</span>"
    return note


def _first_open(response, tabs: list[tuple[str, str]]) -> int:
    """Checks when a check failed; otherwise the first section with something in it."""
    if any(r.status == "failed" for r in response.checks):
        return len(tabs) - 1
    return _first_filled(tabs)


def _first_filled(tabs: list[tuple[str, str]]) -> int:
    """The tab to open on: the first with something in it (an API answer opens on its contract)."""
    return next((i for i, (_, content) in enumerate(tabs) if not content.startswith(EMPTY)), len(tabs) - 1)


def panel_widget(response, tabs: list[tuple[str, str]] | None = None):
    import ipywidgets as widgets

    tabs = tabs if tabs is not None else build_tabs(response)
    tab = widgets.Tab(children=[widgets.HTML(content) for _, content in tabs])
    tab.titles = [name for name, _ in tabs]
    tab.selected_index = _first_open(response, tabs)
    return tab


def panel_bundle(response, widgets: bool = False) -> tuple[dict, dict]:
    """The tabs' output: static HTML (or ipywidgets tabs), the summary as its text/plain form, the checks
    as metadata."""
    tabs = build_tabs(response)
    data = {"text/html": panel_html(response, tabs), "text/plain": panel_text(response)}
    if widgets:
        bundle = panel_widget(response, tabs)._repr_mimebundle_() or {}
        bundle = bundle[0] if isinstance(bundle, tuple) else bundle
        view = "application/vnd.jupyter.widget-view+json"
        data = {**data, view: bundle[view]}    # the summary stays the text/plain form
    return data, metadata.for_panel(response)


def erd_bundle(schema) -> tuple[dict, dict]:
    from agentnb.render import erd

    # Mermaid only: JupyterLab draws it; the SVG for exports and other front ends is in the Schema section
    tables = len(schema.tables)
    return ({"text/markdown": f"```mermaid\n{erd.mermaid(schema)}\n```\n",
             "text/plain": f"ER diagram: {plural(tables, 'table')}"},
            metadata.for_erd(schema))


"""The panel under an answer: its artifacts and checks in tabs (and the ER diagram's output). Each output
has a ``text/plain`` form and ``agentnb`` metadata (see ``agentnb.render.metadata``):

- the tabs are static HTML whose switching is pure CSS: they work in JupyterLab, survive saving and
  reopening, and an exported HTML file shows everything without JavaScript or network. With
  ``AGENTNB_DISPLAY=widgets`` under a Jupyter server they are ipywidgets instead (see widgets_wanted);
- the Schema tab holds the ER diagram as SVG (no JavaScript, no system package), and a separate
  output holds it as a Mermaid fence, which JupyterLab 4.1+ draws itself.

Everything is deterministic (ids are hashes of the content) so that a replayed notebook compares equal.
"""

from __future__ import annotations

import hashlib
import html
import os

from agentnb.render import metadata

_shown: dict[str, int] = {}
EMPTY = "<p class='anb-empty'>"      # how a tab with nothing in it starts
STATUS_ICON = {"passed": "✅", "failed": "❌", "skipped": "⏭️"}
LEXERS = {"sql": "postgresql", "python": "python", "typescript": "typescript", "javascript": "javascript",
          "yaml": "yaml", "json": "json", "bash": "bash", "shell": "bash", "sh": "bash", "prisma": "text",
          "graphql": "graphql", "dockerfile": "docker", "dotenv": "bash", "tsx": "tsx", "jsx": "jsx"}


def widgets_wanted() -> bool:
    """ipywidgets tabs only when asked for (``AGENTNB_DISPLAY=widgets``) and a Jupyter server started
    the kernel (it sets JPY_SESSION_NAME). JupyterLab does not save widget state by default, so a
    reopened notebook shows "Error displaying widget: model not found" where each widget was; the
    static tabs look the same, switch the same, and survive saving, exports, nbval and papermill."""
    mode = os.environ.get("AGENTNB_DISPLAY", "static").lower()
    return mode == "widgets" and bool(os.environ.get("JPY_SESSION_NAME"))


def highlight(code: str, language: str) -> str:
    from pygments import highlight as _highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(LEXERS.get(language, language or "text"))
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    # inline styles: survive JupyterLab's sanitizer and an exported file without a stylesheet
    return _highlight(code, lexer, HtmlFormatter(noclasses=True, nobackground=True,
                                                 prestyles="margin:0;white-space:pre-wrap;font-family:var(--jp-code-font-family,monospace)"))


def _code_block(artifact) -> str:
    label = artifact.filename or artifact.title or f"block {artifact.index + 1}"
    return (f"<div style='margin:6px 0'><div style='font-weight:600'>{html.escape(label)} "
            f"<span style='color:#888;font-weight:400'>{html.escape(artifact.kind)} · "
            f"{html.escape(artifact.language or 'text')}</span></div>"
            f"<div style='border:1px solid #ddd;border-radius:4px;padding:6px'>"
            f"{highlight(artifact.code, artifact.language)}</div></div>")


def _pre(text: str) -> str:
    return (f"<pre style='white-space:pre-wrap;margin:2px 0;font-family:var(--jp-code-font-family,monospace)'>"
            f"{html.escape(text)}</pre>")


def _table(columns: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left;vertical-align:top;padding:2px 8px'>{c}</td>"
                                    for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- tab contents --------------------------------------------------------------------------------------

def schema_tab(response) -> str:
    arts = response.artifacts
    parts = [_code_block(a) for a in arts.by_kind("schema")]
    parts += [_code_block(a) for a in arts.by_kind("prisma")]
    if response.schema_model is not None and response.schema_model.tables:
        from agentnb.render import erd

        parts.append("<div style='margin-top:8px;font-weight:600'>ER diagram (as the database sees it)</div>"
                     f"<div style='overflow-x:auto;max-width:100%'>{erd.svg(response.schema_model)}</div>")
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


def code_tab(response) -> str:
    shown = ("python", "typescript", "javascript", "graphql", "dockerfile", "compose", "query", "shell",
             "json", "yaml", "other")
    parts = [_code_block(a) for a in response.artifacts if a.kind in shown]
    return "".join(parts) or EMPTY + "No code in this answer.</p>"


def openapi_operations(document: dict) -> list[dict]:
    """Method, path, summary, request and responses of each operation of an OpenAPI document. A
    malformed contract (the checks say what is wrong with it) gives what can be read, never an error."""
    mapping = lambda v: v if isinstance(v, dict) else {}      # noqa: E731
    listing = lambda v: v if isinstance(v, list) else []      # noqa: E731
    ops = []
    for path, item in mapping(document.get("paths")).items():
        item = mapping(item)
        for method in ("get", "post", "put", "patch", "delete", "head", "options"):
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            request = []
            for p in listing(item.get("parameters")) + listing(op.get("parameters")):
                if isinstance(p, dict) and "name" in p:
                    request.append(f"{p.get('in', '?')} {p['name']}")
                elif isinstance(p, dict) and isinstance(p.get("$ref"), str):
                    request.append(p["$ref"].rsplit("/", 1)[-1])
            body = mapping(op.get("requestBody"))
            for media, spec in mapping(body.get("content")).items():
                ref = mapping(mapping(spec).get("schema")).get("$ref", "")
                ref = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""
                request.append(f"body {media}{(' ' + ref) if ref else ''}")
            if isinstance(body.get("$ref"), str):
                request.append("body " + body["$ref"].rsplit("/", 1)[-1])
            responses = [str(code) for code in mapping(op.get("responses"))]
            summary = op.get("summary") or op.get("description") or ""
            ops.append({"method": method.upper(), "path": str(path), "summary": str(summary),
                        "request": ", ".join(request), "responses": ", ".join(responses)})
    return ops


def api_tab(response) -> str:
    artifact = response.artifacts.openapi
    if artifact is None:
        return EMPTY + "No OpenAPI contract in this answer.</p>"
    document = response.openapi
    parts = []
    if isinstance(document, dict):
        info = document.get("info") if isinstance(document.get("info"), dict) else {}
        parts.append(f"<div style='font-weight:600'>{html.escape(str(info.get('title', '')))} "
                     f"{html.escape(str(info.get('version', '')))}</div>")
        rows = [[f"<code>{html.escape(o['method'])}</code>", f"<code>{html.escape(o['path'])}</code>",
                 html.escape(o["summary"]), html.escape(o["request"]), html.escape(o["responses"])]
                for o in openapi_operations(document)]
        parts.append(_table(["method", "path", "summary", "request", "responses"], rows))
    parts.append("<details><summary>contract</summary>" + _code_block(artifact) + "</details>")
    return "".join(parts)


def examples_tab(response) -> str:
    parts = [_code_block(a) for a in response.artifacts.examples]
    env = response.artifacts.env
    if env:
        rows = [[f"<code>{html.escape(v.name)}</code>", html.escape(v.description or ""),
                 html.escape(v.example or ""), html.escape(v.source)] for v in env]
        parts.append("<h4 style='margin:6px 0'>Environment variables</h4>"
                     + _table(["variable", "description", "example", "from"], rows))
    return "".join(parts) or EMPTY + "No request examples in this answer.</p>"


def checks_tab(response) -> str:
    rows = [[STATUS_ICON.get(r.status, r.status), html.escape(r.name), html.escape(r.status), _pre(r.message)]
            for r in response.checks]
    return _table(["", "check", "status", "message"], rows) if rows else EMPTY + "No checks ran.</p>"


TABS = (("Schema", schema_tab), ("Migrations", migrations_tab), ("Code", code_tab), ("API", api_tab),
        ("Examples", examples_tab), ("Checks", checks_tab))


def checks_summary(response) -> str:
    counts = {s: sum(r.status == s for r in response.checks) for s in ("passed", "failed", "skipped")}
    return f"checks: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"


def panel_text(response) -> str:
    kinds: dict[str, int] = {}
    for a in response.artifacts:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    lines = ["artifacts: " + (", ".join(f"{n} {k}" for k, n in kinds.items()) or "none"),
             checks_summary(response)]
    lines += [f"  {STATUS_ICON.get(r.status, r.status)} {r.name}: {r.message.splitlines()[0] if r.message else ''}"
              for r in response.checks]
    return "\n".join(lines)


def panel_html(response) -> str:
    """Tabs that switch with CSS radio buttons: no JavaScript. Without the stylesheet (a sanitizer
    removing it), every pane simply shows, one after the other."""
    digest = hashlib.sha1((response.text + response.agent).encode("utf-8")).hexdigest()[:10]
    # the same answer shown twice (r.show()) must not share radio names: the second would drive the first;
    # counting keeps the ids deterministic for a replayed notebook
    _shown[digest] = _shown.get(digest, 0) + 1
    uid = f"anb{digest}" + (f"-{_shown[digest]}" if _shown[digest] > 1 else "")
    tabs = [(name, build(response)) for name, build in TABS]
    first = _first_filled(tabs)
    css = [f".{uid} > input{{display:none}}",
           f".{uid} > label{{display:inline-block;padding:4px 12px;border:1px solid #ccc;border-bottom:none;"
           f"border-radius:4px 4px 0 0;margin-right:2px;cursor:pointer;background:#f4f4f4}}",
           f".{uid} > .pane{{display:none;border:1px solid #ccc;padding:8px}}"]
    body = []
    for i, (name, _) in enumerate(tabs):
        tid = f"{uid}-{i}"
        css.append(f"#{tid}:checked ~ .pane-{i}{{display:block}} #{tid}:checked + label{{background:#fff;"
                   "font-weight:600}")
        body.append(f"<input type='radio' name='{uid}' id='{tid}'{' checked' if i == first else ''}>"
                    f"<label for='{tid}'>{html.escape(name)}</label>")
    panes = "".join(f"<div class='pane pane-{i}'><h3 class='{uid}-title'>{html.escape(name)}</h3>{content}</div>"
                    for i, (name, content) in enumerate(tabs))
    css.append(f".{uid}-title{{display:none}}")
    return (f"<div class='{uid}'><style>{' '.join(css)}</style>{''.join(body)}{panes}"
            f"<div style='color:#666;margin-top:4px'>{html.escape(checks_summary(response))}</div></div>")


def _first_filled(tabs: list[tuple[str, str]]) -> int:
    """The tab to open on: the first with something in it (an API answer opens on its contract)."""
    return next((i for i, (_, content) in enumerate(tabs) if not content.startswith(EMPTY)), len(tabs) - 1)


def panel_widget(response):
    import ipywidgets as widgets

    tabs = [(name, build(response)) for name, build in TABS]
    tab = widgets.Tab(children=[widgets.HTML(content) for _, content in tabs])
    tab.titles = [name for name, _ in tabs]
    tab.selected_index = _first_filled(tabs)
    return tab


def panel_bundle(response, widgets: bool = False) -> tuple[dict, dict]:
    """The tabs' output: static HTML (or ipywidgets tabs), the summary as its text/plain form, the checks
    as metadata."""
    data = {"text/html": panel_html(response), "text/plain": panel_text(response)}
    if widgets:
        bundle = panel_widget(response)._repr_mimebundle_() or {}
        bundle = bundle[0] if isinstance(bundle, tuple) else bundle
        view = "application/vnd.jupyter.widget-view+json"
        data = {**data, view: bundle[view]}    # the summary stays the text/plain form
    return data, metadata.for_panel(response)


def erd_bundle(schema) -> tuple[dict, dict]:
    from agentnb.render import erd

    # Mermaid only: JupyterLab draws it; the SVG for exports and other front ends is in the Schema tab
    tables = len(schema.tables)
    return ({"text/markdown": f"```mermaid\n{erd.mermaid(schema)}\n```\n",
             "text/plain": f"ER diagram: {tables} table{'s' if tables != 1 else ''}"},
            metadata.for_erd(schema))


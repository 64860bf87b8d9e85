"""The response object: what a cell returns and what the next cell can use."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property


@dataclass
class Response:
    """One answer. ``text`` is the answer as the model wrote it; ``usage`` holds the four token counts;
    ``cost_usd`` is the list price of the call (None for a model without a known price), billed only
    when ``replayed`` is false."""

    text: str
    agent: str
    model: str
    thread: str = "default"
    stop_reason: str | None = None
    usage: dict = field(default_factory=dict)
    cost_usd: float | None = None
    replayed: bool = False
    latency_s: float | None = None
    ttft_s: float | None = None
    recording: str | None = None
    warnings: list[str] = field(default_factory=list)
    notebook_total_usd: float | None = None   # billed in this session so far, this call included
    prompt: str = ""
    check_report: object | None = field(default=None, repr=False)   # checks.CheckReport, once run
    shown_in: int | None = field(default=None, repr=False)   # the cell that already showed it in full

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"<Response {self.agent} {self.model} {len(self.text):,} chars: {first[:60]!r}>"

    @property
    def input_tokens(self) -> int:
        return sum(self.usage.get(k, 0) or 0 for k in
                   ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))

    @property
    def output_tokens(self) -> int:
        return self.usage.get("output_tokens", 0) or 0

    @property
    def truncated(self) -> bool:
        return self.stop_reason == "max_tokens"

    @cached_property
    def artifacts(self):
        """The answer's fenced blocks, typed (see ``agentnb.artifacts``)."""
        from agentnb.artifacts import extract

        return extract(self.text)

    # the artifacts by kind, so that the next cell can use them
    @property
    def schema(self) -> str | None:
        """The answer's SQL DDL (its schema blocks joined), or None."""
        return self.artifacts.schema

    @property
    def migrations(self):
        return self.artifacts.migrations

    @property
    def examples(self):
        return self.artifacts.examples

    @property
    def env(self):
        return self.artifacts.env

    @property
    def code(self):
        return self.artifacts.code

    @cached_property
    def openapi(self) -> dict | None:
        """The OpenAPI contract, parsed (None when absent or unreadable)."""
        artifact = self.artifacts.openapi
        if artifact is None:
            return None
        import json

        import yaml

        try:
            document = json.loads(artifact.code) if artifact.language == "json" else yaml.safe_load(artifact.code)
        except (ValueError, yaml.YAMLError):
            return None
        return document if isinstance(document, dict) else None

    @property
    def checks(self) -> list:
        """Check rows (name, status passed/failed/skipped, message); empty until checks ran."""
        return list(self.check_report.rows) if self.check_report is not None else []

    @property
    def schema_model(self):
        """The schema as the database reflected it (``dbschema.Schema``), when the DDL ran."""
        return getattr(self.check_report, "schema", None)

    def apply(self, directory, *, overwrite: bool = False, executable_scripts: bool = False):
        """Write the artifacts that have file names under ``directory`` (never outside it), all or
        nothing. A file whose content differs is replaced only with ``overwrite``; scripts (``#!``) are
        made executable only with ``executable_scripts``. Returns an ``ApplyResult``."""
        from agentnb.apply import write_artifacts

        return write_artifacts(self.artifacts, directory, overwrite=overwrite,
                               executable_scripts=executable_scripts)

    def show(self) -> None:
        """Display the answer, its artifacts and checks, and the ER diagram, as the magics do."""
        from agentnb.render.panel import show

        show(self)

    def footer(self) -> str:
        u = self.usage
        parts = [self.model,
                 f"in {self.input_tokens:,} (cache write {u.get('cache_creation_input_tokens', 0):,}, "
                 f"cache read {u.get('cache_read_input_tokens', 0):,})",
                 f"out {u.get('output_tokens', 0):,}"]
        if self.cost_usd is None:
            parts.append("cost unknown")
        elif self.replayed:
            parts.append(f"${self.cost_usd:.4f} at list price, replayed: not billed")
        else:
            parts.append(f"${self.cost_usd:.4f}")
        if self.notebook_total_usd is not None:
            parts.append(f"notebook ${self.notebook_total_usd:.4f} billed")
        return " · ".join(parts)

    def _notes(self) -> list[str]:
        notes = list(self.warnings)
        if self.truncated:
            notes.append("the answer stopped at max_tokens: it is incomplete. Run again with a larger "
                         "--max-tokens, or ask the agent to continue.")
        return notes

    def answer_markdown(self) -> str:
        """The answer for a Markdown renderer: notes, the text, a footer. Dollar signs outside code are
        escaped, or JupyterLab would typeset the text between two of them as mathematics."""
        from agentnb.render.panel import escape_dollars

        notes = "".join(f"> ⚠️ {escape_dollars(n)}\n\n" for n in self._notes())
        footer = html.escape(self.footer()).replace("$", "&#36;")
        # MathJax typesets the page after Markdown, entities decoded: only its ignore class keeps the
        # footer's dollars literal (checked in JupyterLab 4.6, trusted and untrusted)
        return f"{notes}{escape_dollars(self.text)}\n\n---\n<sub class=\"mathjax_ignore\">{footer}</sub>\n"

    def _repr_markdown_(self) -> str:
        return self.answer_markdown()

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The cell that streamed this answer already shows it in full; its result is then a one-line
        # summary. Anywhere else (a variable shown in a later cell) the whole answer shows again.
        if self.shown_in is not None and self.shown_in == _execution_count():
            text = self.summary()
            markdown = f'<sub class="mathjax_ignore">{html.escape(text).replace("$", "&#36;")}</sub>'
            return ({"text/plain": text, "text/markdown": markdown},
                    {"agentnb": {"summary": text}})
        markdown = self.answer_markdown()
        if self.check_report is not None and len(self.artifacts):
            from agentnb.render.panel import panel_text

            markdown += "\n```text\n" + panel_text(self) + "\n```\n"
        return {"text/markdown": markdown, "text/plain": f"{self.text}\n\n-- {self.footer()}"}

    def summary(self) -> str:
        text = f"{self.agent}: {len(self.text):,} characters, {len(self.artifacts)} artifact(s)"
        if self.check_report is not None and self.checks:
            from agentnb.render.panel import checks_summary

            text += f", {checks_summary(self)}"
        return f"<Response {text}>"

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("agent", "model", "thread", "stop_reason", "usage", "cost_usd",
                                              "replayed", "recording", "warnings", "text")}


def _execution_count() -> int | None:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None

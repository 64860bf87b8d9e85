"""The response object: what a cell returns and what the next cell can use. Data only: how it is shown
is ``agentnb.render``'s business (the ``_repr_*_`` methods hand over to it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from agentnb.llm.models import input_total


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

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"<Response {self.agent} {self.model} {len(self.text):,} chars: {first[:60]!r}>"

    @property
    def input_tokens(self) -> int:
        return input_total(self.usage)

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

    migrations = property(lambda self: self.artifacts.migrations, doc="The migrations, up and down paired.")
    examples = property(lambda self: self.artifacts.examples, doc="The request examples (curl, HTTPie, HTTP).")
    env = property(lambda self: self.artifacts.env, doc="The environment variables the answer documents.")
    code = property(lambda self: self.artifacts.code, doc="The Python, TypeScript and JavaScript blocks.")

    @cached_property
    def openapi(self) -> dict | None:
        """The OpenAPI contract, parsed (None when absent or unreadable)."""
        artifact = self.artifacts.openapi
        if artifact is None:
            return None
        from agentnb.checks.documents import load_document

        # the bounded loader: the contract is the model's text (an alias bomb must not reach yaml)
        document = load_document(artifact.code, "OpenAPI contract", artifact.language).doc
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

    # How a response looks is agentnb.render's business: these methods are its entry points, and import
    # it when called, so that the response stays data and importing it stays cheap.

    def show(self) -> None:
        """Display the answer, its artifacts and checks, and the ER diagram, as the magics do."""
        from agentnb.render.live import show

        show(self)

    def footer(self) -> str:
        """Model, tokens, cost: the line under the answer."""
        from agentnb.render.answer import footer

        return footer(self)

    def _repr_markdown_(self) -> str:
        from agentnb.render.answer import answer_markdown

        return answer_markdown(self)

    def _repr_mimebundle_(self, include=None, exclude=None):
        from agentnb.render.live import result_bundle

        return result_bundle(self)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("agent", "model", "thread", "stop_reason", "usage", "cost_usd",
                                              "replayed", "recording", "warnings", "text")}


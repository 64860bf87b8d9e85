"""The ``agentnb`` output metadata: what the display writes into each output's metadata, and what
``agentnb run`` reads back from an executed notebook. Defined here only, so that a renamed key breaks a
test instead of silently turning a batch's costs into "unknown" and its checks into none.

Every output agentnb displays carries ``metadata["agentnb"]``, a mapping with ``version`` and some of:

- the answer: ``agent``, ``model``, ``thread``, ``usage`` (the four token counts), ``cost_usd`` (list
  price; None for a model without a price), ``replayed`` (a replayed call is not billed);
- the panel: ``checks`` (each ``name``, ``status``, ``message``, ``family``: the Checks tab's heading)
  and ``artifacts``;
- the ER diagram: ``erd`` (``tables``);
- a cell's one-line result: ``summary``.

Version 1 is the first format; outputs saved before the version was written (the shipped notebooks)
carry no ``version`` and are read as version 1. A reader meeting a newer version raises
:class:`FormatError` rather than guess. nbval does not compare output metadata (its ``skip_compare``
holds ``metadata``), so writing the version changes nothing a saved notebook is compared on.

A key added inside an entry, which an older reader ignores without misreading the rest (a check's
``family``), keeps the version; a reader fills it in for outputs written before it. A change an older
reader would misread (a key renamed, a meaning changed) takes the next version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentnb.checks.result import family_of
from agentnb.llm.models import USAGE_KEYS

KEY = "agentnb"
VERSION = 1
FIELDS = frozenset({"agent", "model", "thread", "usage", "cost_usd", "replayed", "checks", "artifacts", "erd",
                    "summary"})

# check statuses as hand-made or older metadata may spell them
_STATUS = {"ok": "passed", "pass": "passed", "success": "passed", "fail": "failed", "error": "failed"}


class FormatError(ValueError):
    """Output metadata in a format this agentnb cannot read (written by a newer one)."""


def build(**fields) -> dict:
    """An output's metadata: ``{"agentnb": {"version": VERSION, **fields}}``. A field outside the format
    raises TypeError: a key no reader knows would be lost without a word."""
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        raise TypeError(f"not a field of the agentnb output metadata: {', '.join(unknown)}")
    return {KEY: {"version": VERSION, **fields}}


def for_answer(response) -> dict:
    return build(agent=response.agent, model=response.model, thread=response.thread, usage=dict(response.usage),
                 cost_usd=response.cost_usd, replayed=response.replayed)


def for_panel(response) -> dict:
    return build(checks=[{"name": r.name, "status": r.status, "message": r.message, "family": r.family}
                         for r in response.checks],
                 artifacts=response.artifacts.to_dict()["artifacts"] if response.text else [])


def for_erd(schema) -> dict:
    return build(erd={"tables": [t.name for t in schema.tables]})


def for_result(summary: str) -> dict:
    return build(summary=summary)


@dataclass
class OutputRecord:
    """What one output's metadata says about cost and checks, read leniently."""

    version: int
    usage: dict | None = None              # the four token counts, when the output is an answer
    cost_usd: float | None = None
    replayed: bool = False
    checks: list[dict] = field(default_factory=list)     # name, status (passed/failed/...), message, family


def read(metadata) -> OutputRecord | None:
    """The record of an output's ``metadata`` (a dict or a notebook node), or None when it carries no
    agentnb mapping. Odd entries (a check that is not a mapping, a count that is not a number) are
    skipped. Raises :class:`FormatError` for a version this agentnb does not know."""
    meta = metadata.get(KEY) if isinstance(metadata, dict) else None
    if not isinstance(meta, dict):
        return None
    version = meta.get("version", 1)
    if not _number(version) or not float(version).is_integer() or not 1 <= version <= VERSION:
        raise FormatError(f"agentnb output metadata version {version!r}; this agentnb reads version "
                          f"{VERSION}{' and older' if VERSION > 1 else ''}: upgrade agentnb to read it")
    record = OutputRecord(version=int(version), replayed=bool(meta.get("replayed")))
    usage = meta.get("usage")
    if isinstance(usage, dict):
        record.usage = {k: int(usage[k]) if _number(usage.get(k)) else 0 for k in USAGE_KEYS}
    if _number(meta.get("cost_usd")):
        record.cost_usd = float(meta["cost_usd"])
    checks = meta.get("checks")
    for check in checks if isinstance(checks, list) else []:
        if isinstance(check, dict) and check.get("name") is not None:
            status = str(check.get("status", "")).lower()
            family = check.get("family")
            record.checks.append({"name": str(check["name"]), "status": _STATUS.get(status, status),
                                  "message": str(check.get("message") or ""),
                                  "family": family if isinstance(family, str) and family
                                  else family_of(str(check["name"]))})
    return record


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

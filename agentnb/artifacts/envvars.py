"""The environment variables an answer documents: .env blocks, tables and bullet lists."""

from __future__ import annotations

import re

from agentnb.artifacts.fences import looks_like_path
from agentnb.artifacts.kinds import ENV_LINE
from agentnb.artifacts.model import Artifact, EnvVar

# --- environment variables -----------------------------------------------------------------------

_UPPER = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_COL_NAME = re.compile(r"^(?:variables?|name|nom|env|clés?|cles?|keys?|var)\b", re.I)
_COL_DESC = re.compile(
    r"^(?:description|rôle|role|usage|signification|purpose|meaning|utilité|but|effet)\b", re.I)
_COL_EXAMPLE = re.compile(r"^(?:exemples?|examples?|ex\.?|e\.g\.?)\b", re.I)
_COL_DEFAULT = re.compile(r"^(?:default|défaut|defaut|valeur|value|par défaut)\b", re.I)
_BULLET_VAR = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])\s+(?:\*\*|__)?`([A-Z][A-Z0-9_]*)`(?:\*\*|__)?\s*(?::|—|–|-)\s*(.+?)\s*$")
_INLINE_EXAMPLE = re.compile(
    r"(?:par défaut|défaut|default|exemple|example|e\.g\.|ex\.|p\. ?ex\.)\s*:?\s*`([^`]+)`", re.I)
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(s)]


def _unmark(s: str) -> str:
    return s.strip().strip("*_").strip().strip("`").strip()


_ENV_CONTEXT = re.compile(
    r"\benv|environ|variable|config|setting|param[eè]t|r[ée]glage|secret", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def env_from_prose(prose: list[tuple[int, str]]) -> list[tuple[int, EnvVar]]:
    """Tables and bullet lists of variables. A table whose name column is headed Variable/Env, or a
    name with an underscore, is taken as is; a bare ``PORT`` under a generic Name/Nom column or in a
    list needs a heading or lead-in line that talks about configuration (enum values look the same)."""
    found: list[tuple[int, EnvVar]] = []
    heading = lead_in = ""
    k = 0
    while k < len(prose):
        lineno, line = prose[k]
        stripped = line.strip()
        if stripped.startswith("#"):
            heading, lead_in = stripped, ""
        elif stripped and not _LIST_ITEM.match(line) and not stripped.startswith("|"):
            lead_in = stripped
        in_context = bool(_ENV_CONTEXT.search(heading) or _ENV_CONTEXT.search(lead_in))
        if "|" in line and k + 1 < len(prose) and prose[k + 1][0] == lineno + 1 \
                and "-" in prose[k + 1][1] and _TABLE_SEP.match(prose[k + 1][1]):
            header = [_unmark(c) for c in _cells(line)]
            explicit = any(re.match(r"(?:variables?|env)\b", h, re.I) for h in header)
            col = {role: next((i for i, h in enumerate(header) if rx.match(h)), None)
                   for role, rx in (("name", _COL_NAME), ("desc", _COL_DESC),
                                    ("example", _COL_EXAMPLE), ("default", _COL_DEFAULT))}
            k += 2
            while k < len(prose) and "|" in prose[k][1] and prose[k][1].strip():
                row_no, row = prose[k]
                if col["name"] is not None:
                    cells = _cells(row)

                    def cell(role: str) -> str | None:
                        i = col[role]
                        v = _unmark(cells[i]) if i is not None and i < len(cells) else ""
                        return v if v and v not in ("-", "—", "–") else None

                    name = cell("name")
                    if name and _UPPER.match(name) and (explicit or in_context or "_" in name):
                        found.append((row_no, EnvVar(name, cell("desc"), cell("example") or cell("default"),
                                                     "table")))
                k += 1
            continue
        if "`" in line:
            m = _BULLET_VAR.match(line)
            if m and (in_context or "_" in m.group(1)):
                desc = m.group(2)
                ex = _INLINE_EXAMPLE.search(desc)
                found.append((lineno, EnvVar(m.group(1), desc, ex.group(1) if ex else None, "list")))
        k += 1
    return found


def env_from_block(a: Artifact) -> list[tuple[int, EnvVar]]:
    found, comments = [], []
    for offset, line in enumerate(a.code.split("\n")):
        s = line.strip()
        if not s:
            comments = []
            continue
        if s.startswith("#"):
            text = s.lstrip("#").strip()
            if text and not looks_like_path(text):
                comments.append(text)
            continue
        m = ENV_LINE.match(line)
        if not m:
            comments = []
            continue
        value, inline = _env_value(m.group(2))
        desc = inline or (" ".join(comments) if comments else None)
        found.append((a.line + offset, EnvVar(m.group(1), desc, value or None, "env block")))
        comments = []
    return found


def _env_value(raw: str) -> tuple[str, str | None]:
    raw = raw.strip()
    if raw and raw[0] in "\"'":
        q = raw[0]
        end = raw.find(q, 1)
        if end > 0:
            rest = raw[end + 1:].strip()
            return raw[1:end], (rest.lstrip("#").strip() or None) if rest.startswith("#") else None
    value, _, comment = raw.partition(" #")
    return value.strip(), comment.strip() or None


def merge_env(found: list[tuple[int, EnvVar]]) -> list[EnvVar]:
    merged: dict[str, EnvVar] = {}
    for _, var in sorted(found, key=lambda t: t[0]):
        known = merged.get(var.name)
        if known is None:
            merged[var.name] = EnvVar(var.name, var.description, var.example, var.source)
        else:
            known.description = known.description or var.description
            known.example = known.example or var.example
    return list(merged.values())

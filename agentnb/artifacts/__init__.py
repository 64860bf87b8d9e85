"""Take a Markdown answer apart into typed artifacts: every fenced block, what it is, where it goes.

``extract(answer)`` finds every fenced block (``` and ~~~, any fence length, an unclosed last fence
tolerated), gives each a kind (schema, migration, query, python, openapi, example, ...), a normalized
language, the nearest heading as title and, when the answer names one, the file it belongs in. It also
collects the environment variables the answer documents (``.env`` blocks, tables, bullet lists).

Pure stdlib, regex-driven and line-based: a 1,500-line answer takes a few milliseconds. The only
optional dependency is PyYAML, used (when importable) to confirm an OpenAPI contract found by regex.

``code`` is kept exactly as written (the user copies it); a leading ``-- migrations/0002.up.sql``
comment stays in the code and is *also* recorded as ``filename``. For a fence indented inside a list
item, the fence's indentation is removed from each line, as a Markdown renderer shows it.

New kinds can be added with ``register_kind(kind, detect)``: ``detect(artifact) -> bool`` runs before
the built-in rules, in registration order.
"""

from __future__ import annotations

from agentnb.artifacts.envvars import env_from_block, env_from_prose, merge_env
from agentnb.artifacts.fences import (
    LANG_ALIASES,
    filename_from_comment,
    filename_from_line,
    lang_from_filename,
    parse_info,
    scan,
)
from agentnb.artifacts.kinds import classify, guess_language, register_kind
from agentnb.artifacts.migrations import (
    migration_from_filename,
    split_markers,
    title_migration,
)
from agentnb.artifacts.model import KINDS, Artifact, Artifacts, EnvVar, MigrationPair

__all__ = [
    "Artifact", "Artifacts", "EnvVar", "MigrationPair", "KINDS", "extract", "register_kind",
]


# --- entry point ---------------------------------------------------------------------------------

def extract(answer: str) -> Artifacts:
    """Every fenced block of ``answer`` as a typed ``Artifact``, plus the documented env variables."""
    blocks, prose = scan(answer)
    artifacts: list[Artifact] = []
    for b in blocks:
        lang_written, filename = parse_info(b.info)
        filename = filename or filename_from_comment(b.code) or filename_from_line(b.before)
        lang = LANG_ALIASES.get(lang_written, lang_written)
        if not lang:
            lang = (lang_from_filename(filename) if filename else None) or guess_language(b.code)
        parts = split_markers(b.code) if lang == "sql" else None
        if parts:
            for offset, direction, text in parts:
                a = Artifact("migration", lang, text, b.title, filename, b.index,
                             b.line + b.code.count("\n", 0, offset), direction)
                mig = migration_from_filename(filename) if filename else None
                title_mig = title_migration(b.title)
                a.pair = (mig[0] if mig else None) or (title_mig[0] if title_mig else None) \
                    or (filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] if filename else None)
                artifacts.append(a)
            continue
        a = Artifact("other", lang, b.code, b.title, filename, b.index, b.line)
        classify(a)
        artifacts.append(a)
    found = env_from_prose(prose)
    for a in artifacts:
        if a.kind == "env":
            found.extend(env_from_block(a))
    return Artifacts(artifacts, merge_env(found))

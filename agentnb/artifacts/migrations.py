"""Which SQL blocks are migrations, in which direction, and how ups and downs pair up."""

from __future__ import annotations

import re

from agentnb.artifacts.model import Artifact, MigrationPair

# --- migrations ----------------------------------------------------------------------------------

_MIG_DIR = re.compile(r"(?:^|/)(?:migrations?|migrate|alembic/versions|db/migrate)/", re.I)
_MIG_UPDOWN = re.compile(r"^(?P<id>.+?)[._-](?P<dir>up|down|upgrade|downgrade)(?:\.\w+)?$", re.I)
_FLYWAY = re.compile(r"^(?P<d>[VUR])(?P<ver>[\d._]+)__(?P<desc>.+?)\.sql$", re.I)
_TITLE_MIG = re.compile(r"\bmigrations?\b", re.I)
_TITLE_UP = re.compile(r"\b(?:up|upgrade|montante|aller|apply)\b", re.I)
_TITLE_DOWN = re.compile(r"\b(?:down|downgrade|descendante|retour|rollback|revert|annulation)\b", re.I)
_TITLE_ID = re.compile(r"`([^`]+)`|\b(\w*\d[\w-]*)\b")
_MARKER = re.compile(      # group 1: sql-migrate / goose / dbmate markers; group 2: a bare "-- up"
    r"^[ \t]*--[ \t]*(?:\+migrate|\+goose|migrate:)[ \t]*(up|down)\b.*$"
    r"|^[ \t]*--[ \t]*(up|down)[ \t]*:?[ \t]*\r?$",
    re.I | re.M)
TOOL_MARKER = re.compile(r"^[ \t]*--[ \t]*(?:\+migrate|\+goose|migrate:)[ \t]*(up|down)\b", re.I | re.M)


def migration_from_filename(path: str) -> tuple[str, str | None] | None:
    """(id, direction) when the file name says it is a migration."""
    base = path.rsplit("/", 1)[-1]
    m = _FLYWAY.match(base)
    if m:
        return f"{m['ver']}__{m['desc']}", "down" if m["d"].upper() == "U" else "up"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    m = _MIG_UPDOWN.match(stem)
    if m:
        return m["id"], "down" if m["dir"].lower().startswith("down") else "up"
    if base.lower() == "migration.sql" and "/" in path:            # prisma/migrations/<id>/migration.sql
        return path.rsplit("/", 2)[-2], "up"
    if _MIG_DIR.search(path):
        return stem, None
    return None


def title_migration(title: str | None) -> tuple[str | None, str | None] | None:
    if not title or not _TITLE_MIG.search(title):
        return None
    direction = "down" if _TITLE_DOWN.search(title) else "up" if _TITLE_UP.search(title) else None
    m = _TITLE_ID.search(_TITLE_MIG.split(title, 1)[1]) or _TITLE_ID.search(title)
    ident = (m.group(1) or m.group(2)) if m else None
    if re.search(r"sch[ée]ma", title, re.I) and not (direction or ident):
        return None
    return ident, direction


def split_markers(code: str) -> list[tuple[int, str, str]] | None:
    """[(offset, direction, text)] for a block with both up and down sections, else None. Each part
    starts at its marker line; lines before the first marker (a path comment) belong to neither."""
    marks = [(m.start(), (m.group(1) or m.group(2)).lower(), bool(m.group(1)))
             for m in _MARKER.finditer(code)]
    tool = any(t for _, _, t in marks)           # tool markers win over bare "-- up" comments
    marks = [(o, d) for o, d, t in marks if t == tool]
    if {d for _, d in marks} != {"up", "down"}:
        return None
    ends = [o for o, _ in marks[1:]] + [len(code)]
    return [(o, d, code[o:end]) for (o, d), end in zip(marks, ends)]


def pair_migrations(migrations: list[Artifact]) -> list[MigrationPair]:
    pairs: list[MigrationPair] = []
    by_id: dict[str, MigrationPair] = {}

    def find(ident: str, direction: str) -> MigrationPair | None:
        if ident in by_id:
            return by_id[ident]
        digits = re.match(r"\d+", ident)
        if digits:                                   # "0002" (a heading) meets "0002_add_fines" (a file)
            for p in pairs:
                d = re.match(r"\d+", p.id)
                if d and int(d.group(0)) == int(digits.group(0)) and getattr(p, direction) is None:
                    return p
        return None

    for a in migrations:
        if a.direction is None:
            p = MigrationPair(a.pair or f"#{a.index}", up=a,
                              down=a if re.search(r"\bdef downgrade\b|\bdown\s*\(", a.code) else None)
            pairs.append(p)
            by_id.setdefault(p.id, p)
            continue
        direction = a.direction
        p = find(a.pair, direction) if a.pair else None
        if p is None and not a.pair and direction == "down":   # an anonymous down follows its up
            p = next((q for q in reversed(pairs) if q.down is None and q.up is not None
                      and q.up.direction == "up"), None)
        if p is not None and getattr(p, direction) is None:
            setattr(p, direction, a)
            continue
        p = MigrationPair(a.pair or f"#{a.index}")
        setattr(p, direction, a)
        pairs.append(p)
        by_id.setdefault(p.id, p)
    return pairs

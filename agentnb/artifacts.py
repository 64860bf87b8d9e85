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

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "Artifact", "Artifacts", "EnvVar", "MigrationPair", "KINDS", "extract", "register_kind",
]

KINDS = (
    "schema", "migration", "query", "python", "typescript", "javascript", "prisma", "openapi",
    "graphql", "example", "dockerfile", "compose", "env", "shell", "json", "yaml", "other",
)
CODE_KINDS = ("python", "typescript", "javascript")     # the kinds that are program code


@dataclass
class Artifact:
    kind: str
    language: str                   # "sql", "python", "typescript", "tsx", "yaml", "json", "bash", ...
    code: str                       # exactly as written in the answer
    title: str | None = None        # nearest preceding Markdown heading, without the #'s
    filename: str | None = None     # from a path comment, the fence info or the line before the block
    index: int = 0                  # position of the fenced block in the answer (split parts share it)
    line: int = 1                   # 1-based line of the answer where ``code`` starts
    direction: str | None = None    # "up" / "down" for SQL migrations
    pair: str | None = None         # migration id shared by up and down, e.g. "0002_add_fines"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Artifact:
        return cls(**data)


@dataclass
class MigrationPair:
    id: str
    up: Artifact | None = None
    down: Artifact | None = None    # the same artifact as ``up`` for Alembic-style files holding both


@dataclass
class EnvVar:
    name: str
    description: str | None = None
    example: str | None = None
    source: str = "env block"       # "env block", "table" or "list": where it was first seen

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Artifacts(list):
    """The artifacts of one answer, in order, with views by role."""

    def __init__(self, items: Iterable[Artifact] = (), env: Iterable[EnvVar] = ()):
        super().__init__(items)
        self._env = list(env)

    def by_kind(self, kind: str) -> list[Artifact]:
        return [a for a in self if a.kind == kind]

    @property
    def schema(self) -> str | None:
        """The SQL DDL of all schema artifacts, in answer order, or None when there is none."""
        parts = [a.code if a.code.endswith("\n") else a.code + "\n" for a in self if a.kind == "schema"]
        return "\n".join(parts) if parts else None

    @property
    def migrations(self) -> list[MigrationPair]:
        return _pair_migrations(self.by_kind("migration"))

    @property
    def openapi(self) -> Artifact | None:
        return next((a for a in self if a.kind == "openapi"), None)

    @property
    def examples(self) -> list[Artifact]:
        return self.by_kind("example")

    @property
    def code(self) -> list[Artifact]:
        return [a for a in self if a.kind in CODE_KINDS]

    @property
    def env(self) -> list[EnvVar]:
        return list(self._env)

    @property
    def files(self) -> list[Artifact]:
        return [a for a in self if a.filename]

    def file(self, path: str) -> Artifact | None:
        """The first artifact for ``path`` (compared without a leading ``./``)."""
        path = path.removeprefix("./")
        return next((a for a in self if a.filename and a.filename.removeprefix("./") == path), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable; migrations refer to artifacts by their position in ``artifacts``."""
        position = {id(a): i for i, a in enumerate(self)}
        return {
            "artifacts": [a.to_dict() for a in self],
            "migrations": [
                {"id": p.id,
                 "up": position.get(id(p.up)) if p.up else None,
                 "down": position.get(id(p.down)) if p.down else None}
                for p in self.migrations
            ],
            "env": [e.to_dict() for e in self._env],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Artifacts:
        return cls([Artifact.from_dict(a) for a in data.get("artifacts", [])],
                   [EnvVar(**e) for e in data.get("env", [])])

    def __repr__(self) -> str:
        kinds = ", ".join(f"{a.kind}:{a.filename or a.language}" for a in self)
        return f"Artifacts([{kinds}], env={[e.name for e in self._env]})"


# --- registry ------------------------------------------------------------------------------------

_CUSTOM_KINDS: list[tuple[str, Callable[[Artifact], bool]]] = []


def register_kind(kind: str, detect: Callable[[Artifact], bool]) -> None:
    """Add a kind: ``detect`` sees the artifact (language, code, title, filename set) before the
    built-in rules; the first detector returning True gives the kind."""
    _CUSTOM_KINDS.append((kind, detect))


# --- Markdown scanning ---------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*(.*?)[ \t]*\r?$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?$")


@dataclass
class _Block:
    index: int
    info: str
    code: str
    line: int                 # 1-based line of the first code line
    title: str | None
    before: str | None        # the non-blank prose line right before the opening fence


def _scan(text: str) -> tuple[list[_Block], list[tuple[int, str]]]:
    """Split the answer into fenced blocks and prose lines (1-based line numbers)."""
    lines = text.split("\n")
    blocks: list[_Block] = []
    prose: list[tuple[int, str]] = []
    title: str | None = None
    before: str | None = None
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        m = _FENCE_OPEN.match(line) if ("`" in line or "~" in line) else None
        if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
            indent, fence, info = len(m.group(1)), m.group(2), m.group(3)
            close = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*\r?$")
            j = i + 1
            while j < n and not close.match(lines[j]):
                j += 1
            body = lines[i + 1:j]
            if indent:
                body = [_dedent(b, indent) for b in body]
            code = "\n".join(body)
            if j < n and body:             # closed: every code line keeps its newline
                code += "\n"              # (unclosed: runs to the end of the text, as written)
            blocks.append(_Block(len(blocks), info, code, i + 2, title, before))
            before = None
            i = j + 1
            continue
        h = _HEADING.match(line) if line.lstrip(" ").startswith("#") else None
        if h:
            title = (h.group(2) or "").strip() or title
        if line.strip():
            before = line.strip()
        prose.append((i + 1, line))
        i += 1
    return blocks, prose


def _dedent(line: str, indent: int) -> str:
    k = 0
    while k < indent and k < len(line) and line[k] in " \t":
        k += 1
    return line[k:]


# --- languages, paths ----------------------------------------------------------------------------

_LANG_ALIASES = {
    "py": "python", "python3": "python", "py3": "python", "ipython": "python", "python": "python",
    "ts": "typescript", "typescript": "typescript", "tsx": "tsx",
    "js": "javascript", "javascript": "javascript", "node": "javascript", "mjs": "javascript",
    "cjs": "javascript", "jsx": "jsx",
    "sql": "sql", "postgresql": "sql", "postgres": "sql", "pgsql": "sql", "plpgsql": "sql",
    "psql": "sql", "mysql": "sql", "sqlite": "sql", "plsql": "sql", "tsql": "sql",
    "yaml": "yaml", "yml": "yaml", "json": "json", "jsonc": "json", "json5": "json",
    "bash": "bash", "sh": "bash", "shell": "bash", "zsh": "bash",
    "console": "console", "shell-session": "console", "shellsession": "console", "terminal": "console",
    "prisma": "prisma", "graphql": "graphql", "gql": "graphql",
    "dockerfile": "dockerfile", "docker": "dockerfile", "containerfile": "dockerfile",
    "dotenv": "dotenv", "env": "dotenv", "ini": "ini", "toml": "toml",
    "http": "http", "https": "http", "httpie": "bash", "text": "text", "txt": "text",
    "plaintext": "text", "plain": "text", "none": "text", "md": "markdown", "markdown": "markdown",
}
_EXT_LANG = {
    "py": "python", "ts": "typescript", "tsx": "tsx", "js": "javascript", "mjs": "javascript",
    "cjs": "javascript", "jsx": "jsx", "sql": "sql", "yml": "yaml", "yaml": "yaml", "json": "json",
    "prisma": "prisma", "graphql": "graphql", "gql": "graphql", "sh": "bash", "bash": "bash",
    "env": "dotenv", "ini": "ini", "toml": "toml", "md": "markdown", "http": "http",
}
_KNOWN_EXT = set(_EXT_LANG) | {
    "txt", "cfg", "conf", "html", "css", "scss", "go", "rs", "java", "kt", "rb", "php", "xml",
    "proto", "csv", "lock", "mod", "sum", "tf", "hcl", "vue", "svelte", "pyi", "example", "sample",
    "dockerfile", "properties", "mdx", "rst", "cs",
}
_KNOWN_NAMES = {"dockerfile", "containerfile", "makefile", "procfile", "justfile", "gemfile",
                ".env", ".gitignore", ".dockerignore", ".npmrc", ".editorconfig"}
_NOT_FILES = {"node.js", "next.js", "nest.js", "vue.js", "nuxt.js", "express.js", "react.js",
              "three.js", "d3.js", "chart.js", "ember.js", "backbone.js", "angular.js", "deno.js"}
_PATH = re.compile(r"^(?:\.{0,2}/)?[\w.@\[\]()+-]+(?:/[\w.@\[\]()+-]+)*$")


def _looks_like_path(s: str) -> bool:
    if not s or len(s) > 200 or not _PATH.match(s) or s.lower() in _NOT_FILES:
        return False
    base = s.rsplit("/", 1)[-1].lower()
    if base in _KNOWN_NAMES or base.startswith((".env", "dockerfile")):
        return True
    stem, dot, ext = base.rpartition(".")
    return bool(dot and stem and ext in _KNOWN_EXT)


def _lang_from_filename(path: str) -> str | None:
    base = path.rsplit("/", 1)[-1].lower()
    if base.startswith(("dockerfile", "containerfile")) or base.endswith(".dockerfile"):
        return "dockerfile"
    if base.startswith(".env") or base.endswith(".env"):
        return "dotenv"
    return _EXT_LANG.get(base.rpartition(".")[2]) if "." in base else None


_INFO_ATTR = re.compile(r"""\b(?:title|filename|file|name|path)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s}]+))""")


def _parse_info(info: str) -> tuple[str, str | None]:
    """(language as written, filename) from a fence info string."""
    info = info.strip()
    if not info:
        return "", None
    filename = None
    m = _INFO_ATTR.search(info)
    if m:
        filename = next(g for g in m.groups() if g is not None)
    first = re.split(r"[\s{]", info, maxsplit=1)[0].strip(".{}")
    lang = first
    if ":" in first:                                 # ```sql:schema.sql
        lang, _, rest = first.partition(":")
        if _looks_like_path(rest):
            filename = filename or rest
    elif _looks_like_path(first) and first.lower() not in _LANG_ALIASES:
        filename, lang = filename or first, ""       # ```app/main.py
    if filename is None:
        for token in info.split()[1:]:               # ```python app/main.py
            token = token.strip("`'\"")
            if _looks_like_path(token):
                filename = token
                break
    return lang.lower(), filename


_PATH_COMMENT = re.compile(
    r"^[ \t]*(?:--|#(?!!)|//|;|%|/\*|<!--)[ \t]*"
    r"(?:(?:file(?:name)?|fichier|path|chemin)[ \t]*:[ \t]*)?"
    r"`?([^\s`*]+?)`?"
    r"(?:[ \t]+(?:[—–:(-]|\*/|-->).*?)?[ \t]*(?:\*/|-->)?[ \t]*\r?$",
    re.IGNORECASE)


def _filename_from_comment(code: str) -> str | None:
    for line in code.split("\n", 3)[:3]:
        if not line.strip():
            continue
        m = _PATH_COMMENT.match(line)
        return m.group(1) if m and _looks_like_path(m.group(1)) else None
    return None


_LINE_PREFIX = re.compile(r"^(?:file(?:name)?|fichier|nom du fichier|path|chemin)\s*:?\s*", re.I)
_BACKTICKED = re.compile(r"`([^`\s]+)`")


def _filename_from_line(line: str | None) -> str | None:
    """`### app/main.py`, `**app/main.py**`, `` `app/main.py` :`` or prose ending in ':' naming one file."""
    if not line:
        return None
    s = line.lstrip("#").strip().rstrip(":").strip()
    s = _LINE_PREFIX.sub("", s)
    for _ in range(3):
        s = s.strip().strip("*_`").strip()
        s = _LINE_PREFIX.sub("", s)
    if _looks_like_path(s):
        return s
    if line.rstrip().endswith(":"):
        found = [t for t in _BACKTICKED.findall(line) if _looks_like_path(t)]
        if len(found) == 1:
            return found[0]
    return None


# --- content sniffing ----------------------------------------------------------------------------

_SQL_START = re.compile(
    r"^\s*(?:CREATE|ALTER|DROP|SELECT|INSERT|UPDATE|DELETE|WITH|BEGIN|COMMENT\s+ON|GRANT|TRUNCATE)\b",
    re.I | re.M)
_SQL_TOKEN = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\$(\w*)\$.*?\$\1\$|;", re.S)
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*([A-Za-z]+)", re.S)
_DDL = {"CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE", "TRUNCATE"}
_DML = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "MERGE", "COPY", "VALUES", "EXPLAIN", "TABLE"}

_CURL = re.compile(r"(?:^|[\s;|&($])curl\s", re.M)
_HTTPIE = re.compile(
    r"^[ \t]*(?:\$[ \t]*)?(?:http|https|xh)[ \t]+(?:-{1,2}\w|[A-Z]+[ \t]|:\d|:/|localhost|[\w.-]+[:/])",
                     re.M)
_RAW_HTTP = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) +\S+(?: +HTTP/[\d.]+)?\r?$", re.M)
_OPENAPI_YAML = re.compile(r"^[\"']?(?:openapi|swagger)[\"']?[ \t]*:", re.M)
_OPENAPI_JSON = re.compile(r"\"(?:openapi|swagger)\"\s*:")
_COMPOSE_FILE = re.compile(r"(?:docker-)?compose[\w.-]*\.ya?ml$")
_SERVICES = re.compile(r"^services[ \t]*:[ \t]*(?:#.*)?\r?$", re.M)
_ENV_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*?)\r?$")
_DOCKERFILE = re.compile(r"^FROM[ \t]+\S+", re.M)
_PY = re.compile(r"^(?:def |class |import \w|from [\w.]+ import |async def |@\w)", re.M)
_TS = re.compile(r"^(?:import .* from ['\"]|export |interface \w|type \w+ =|const \w+: )", re.M)
_PRISMA = re.compile(r"^(?:datasource|generator|model) \w+ \{", re.M)
_GRAPHQL = re.compile(
    r"^(?:type|input|query|mutation|subscription|schema|extend type|interface)\b[^\n=]*\{", re.M)
_YAML_TOP = re.compile(r"^[\w-]+:(?:[ \t]|\r?$)", re.M)
_SHELL_HINT = re.compile(
    r"^\s*(?:\$ |#!|sudo |docker |npm |npx |pnpm |yarn |pip |uv |psql |export |cd |make "
    r"|alembic |uvicorn |python )",
                         re.M)


def _guess_language(code: str) -> str:
    head = code.lstrip()
    if not head:
        return "text"
    if _CURL.search(code) or _HTTPIE.search(code):
        return "bash"
    if head[0] in "{[":
        try:
            json.loads(code)
            return "json"
        except RecursionError:                            # deep nesting is JSON's shape
            return "json"
        except ValueError:
            pass
    if _DOCKERFILE.match(head) and re.search(r"^(?:RUN|COPY|CMD|ENTRYPOINT|WORKDIR)\b", code, re.M):
        return "dockerfile"
    if _PRISMA.search(code):
        return "prisma"
    if _SQL_START.search(code) and ";" in code:
        return "sql"
    if _PY.search(code):
        return "python"
    if _TS.search(code):
        return "typescript"
    if _GRAPHQL.search(code):
        return "graphql"
    if _is_env_lines(code):
        return "dotenv"
    if _SHELL_HINT.search(code):
        return "bash"
    if _YAML_TOP.search(code):
        return "yaml"
    return "text"


def _is_env_lines(code: str) -> bool:
    seen = False
    for line in code.split("\n"):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if not _ENV_LINE.match(line):
            return False
        seen = True
    return seen


def _sql_statements(code: str) -> list[str]:
    out, start = [], 0
    for m in _SQL_TOKEN.finditer(code):
        if m.group(0) == ";":
            out.append(code[start:m.end()])
            start = m.end()
    if code[start:].strip():
        out.append(code[start:])
    return out


def _sql_kind(code: str) -> str:
    ddl = dml = 0
    for statement in _sql_statements(code):
        m = _FIRST_WORD.match(statement)
        word = m.group(1).upper() if m else ""
        if word in _DDL:
            ddl += 1
        elif word in _DML:
            dml += 1
    return "schema" if ddl and ddl >= dml else "query"


def _is_openapi(code: str, language: str) -> bool:
    if language == "json":
        if not _OPENAPI_JSON.search(code):
            return False
        try:
            data = json.loads(code)
        except (ValueError, RecursionError):             # nested too deeply: the check says so
            return True                                   # a broken contract is still a contract
        return isinstance(data, dict) and ("openapi" in data or "swagger" in data)
    if not _OPENAPI_YAML.search(code):
        return False
    try:
        import yaml
    except ImportError:
        return True
    # Confirm on the event stream, stopping at the first top-level key that says so: loading a
    # whole contract would cost milliseconds, and a contract broken further down is still a contract.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth, is_key = 0, True
    try:
        for event in yaml.parse(code, Loader=loader):
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentStartEvent)):
                continue
            if depth == 0 and not isinstance(event, yaml.MappingStartEvent):
                return False
            if depth == 1:
                if isinstance(event, yaml.MappingEndEvent):
                    return False
                if is_key and isinstance(event, yaml.ScalarEvent) and event.value in ("openapi", "swagger"):
                    return True
                is_key = not is_key
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return True
    return False


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
_TOOL_MARKER = re.compile(r"^[ \t]*--[ \t]*(?:\+migrate|\+goose|migrate:)[ \t]*(up|down)\b", re.I | re.M)


def _migration_from_filename(path: str) -> tuple[str, str | None] | None:
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


def _title_migration(title: str | None) -> tuple[str | None, str | None] | None:
    if not title or not _TITLE_MIG.search(title):
        return None
    direction = "down" if _TITLE_DOWN.search(title) else "up" if _TITLE_UP.search(title) else None
    m = _TITLE_ID.search(_TITLE_MIG.split(title, 1)[1]) or _TITLE_ID.search(title)
    ident = (m.group(1) or m.group(2)) if m else None
    if re.search(r"sch[ée]ma", title, re.I) and not (direction or ident):
        return None
    return ident, direction


def _split_markers(code: str) -> list[tuple[int, str, str]] | None:
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


def _pair_migrations(migrations: list[Artifact]) -> list[MigrationPair]:
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


# --- classification ------------------------------------------------------------------------------

_SHELLS = {"bash", "console", "text", "", "http", "powershell", "ps1", "cmd"}


def _classify(a: Artifact) -> None:
    for kind, detect in _CUSTOM_KINDS:
        if detect(a):
            a.kind = kind
            return
    lang, code, fname = a.language, a.code, a.filename or ""
    base = fname.rsplit("/", 1)[-1].lower()
    mig = _migration_from_filename(fname) if fname else None
    if lang == "sql":
        title_mig = _title_migration(a.title)        # (id, direction) from "Migration 0004 (down)"
        marker = _TOOL_MARKER.search(code)
        if mig or title_mig or marker:
            a.kind = "migration"
            a.direction = ((mig and mig[1]) or (title_mig and title_mig[1])
                           or (marker and marker.group(1).lower()) or "up")
            a.pair = (mig and mig[0]) or (title_mig and title_mig[0]) or None
            return
        a.kind = _sql_kind(code)
        return
    if (mig and lang in ("python", "typescript", "javascript")) or (
            lang == "python" and re.search(r"^def upgrade\(", code, re.M) and "revision" in code):
        a.kind, a.pair = "migration", (mig[0] if mig else _alembic_revision(code))
        return
    if lang == "dotenv" or base.startswith(".env") or (lang == "ini" and _is_env_lines(code)):
        a.kind = "env"
    elif lang in ("python",):
        a.kind = "python"
    elif lang in ("typescript", "tsx"):
        a.kind = "typescript"
    elif lang in ("javascript", "jsx"):
        a.kind = "javascript"
    elif lang == "prisma":
        a.kind = "prisma"
    elif lang == "graphql":
        a.kind = "graphql"
    elif lang == "dockerfile":
        a.kind = "dockerfile"
    elif lang in ("yaml", "json"):
        if _is_openapi(code, lang):
            a.kind = "openapi"
        elif lang == "yaml" and (_SERVICES.search(code) or _COMPOSE_FILE.match(base)):
            a.kind = "compose"
        else:
            a.kind = lang
    elif lang in _SHELLS and (_CURL.search(code) or _HTTPIE.search(code)
                              or (lang == "http" and _RAW_HTTP.search(code))):
        a.kind = "example"
    elif lang in ("bash", "console") and _is_env_lines(code) and "=" in code:
        a.kind = "env"
    elif lang in ("bash", "console", "powershell", "ps1", "cmd"):
        a.kind = "shell"
    else:
        a.kind = "other"


def _alembic_revision(code: str) -> str | None:
    m = re.search(r"^revision(?:\s*:\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", code, re.M)
    return m.group(1) if m else None


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


def _env_from_prose(prose: list[tuple[int, str]]) -> list[tuple[int, EnvVar]]:
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


def _env_from_block(a: Artifact) -> list[tuple[int, EnvVar]]:
    found, comments = [], []
    for offset, line in enumerate(a.code.split("\n")):
        s = line.strip()
        if not s:
            comments = []
            continue
        if s.startswith("#"):
            text = s.lstrip("#").strip()
            if text and not _looks_like_path(text):
                comments.append(text)
            continue
        m = _ENV_LINE.match(line)
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


def _merge_env(found: list[tuple[int, EnvVar]]) -> list[EnvVar]:
    merged: dict[str, EnvVar] = {}
    for _, var in sorted(found, key=lambda t: t[0]):
        known = merged.get(var.name)
        if known is None:
            merged[var.name] = EnvVar(var.name, var.description, var.example, var.source)
        else:
            known.description = known.description or var.description
            known.example = known.example or var.example
    return list(merged.values())


# --- entry point ---------------------------------------------------------------------------------

def extract(answer: str) -> Artifacts:
    """Every fenced block of ``answer`` as a typed ``Artifact``, plus the documented env variables."""
    blocks, prose = _scan(answer)
    artifacts: list[Artifact] = []
    for b in blocks:
        lang_written, filename = _parse_info(b.info)
        filename = filename or _filename_from_comment(b.code) or _filename_from_line(b.before)
        lang = _LANG_ALIASES.get(lang_written, lang_written)
        if not lang:
            lang = (_lang_from_filename(filename) if filename else None) or _guess_language(b.code)
        parts = _split_markers(b.code) if lang == "sql" else None
        if parts:
            for offset, direction, text in parts:
                a = Artifact("migration", lang, text, b.title, filename, b.index,
                             b.line + b.code.count("\n", 0, offset), direction)
                mig = _migration_from_filename(filename) if filename else None
                title_mig = _title_migration(b.title)
                a.pair = (mig[0] if mig else None) or (title_mig[0] if title_mig else None) \
                    or (filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] if filename else None)
                artifacts.append(a)
            continue
        a = Artifact("other", lang, b.code, b.title, filename, b.index, b.line)
        _classify(a)
        artifacts.append(a)
    found = _env_from_prose(prose)
    for a in artifacts:
        if a.kind == "env":
            found.extend(_env_from_block(a))
    return Artifacts(artifacts, _merge_env(found))

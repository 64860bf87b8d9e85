"""Fenced blocks found in Markdown, and what their info string, a path comment or the line before
them say about the block's language and file."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def scan(text: str) -> tuple[list[_Block], list[tuple[int, str]]]:
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

LANG_ALIASES = {
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
    "proto": "proto", "protobuf": "proto", "proto3": "proto",
    "dockerfile": "dockerfile", "docker": "dockerfile", "containerfile": "dockerfile",
    "dotenv": "dotenv", "env": "dotenv", "ini": "ini", "toml": "toml",
    "http": "http", "https": "http", "httpie": "bash", "text": "text", "txt": "text",
    "plaintext": "text", "plain": "text", "none": "text", "md": "markdown", "markdown": "markdown",
}
_EXT_LANG = {
    "py": "python", "ts": "typescript", "tsx": "tsx", "js": "javascript", "mjs": "javascript",
    "cjs": "javascript", "jsx": "jsx", "sql": "sql", "yml": "yaml", "yaml": "yaml", "json": "json",
    "prisma": "prisma", "graphql": "graphql", "gql": "graphql", "proto": "proto", "sh": "bash", "bash": "bash",
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


def looks_like_path(s: str) -> bool:
    if not s or len(s) > 200 or not _PATH.match(s) or s.lower() in _NOT_FILES:
        return False
    base = s.rsplit("/", 1)[-1].lower()
    if base in _KNOWN_NAMES or base.startswith((".env", "dockerfile")):
        return True
    stem, dot, ext = base.rpartition(".")
    return bool(dot and stem and ext in _KNOWN_EXT)


def lang_from_filename(path: str) -> str | None:
    base = path.rsplit("/", 1)[-1].lower()
    if base.startswith(("dockerfile", "containerfile")) or base.endswith(".dockerfile"):
        return "dockerfile"
    if base.startswith(".env") or base.endswith(".env"):
        return "dotenv"
    return _EXT_LANG.get(base.rpartition(".")[2]) if "." in base else None


_INFO_ATTR = re.compile(r"""\b(?:title|filename|file|name|path)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s}]+))""")


def parse_info(info: str) -> tuple[str, str | None]:
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
        if looks_like_path(rest):
            filename = filename or rest
    elif looks_like_path(first) and first.lower() not in LANG_ALIASES:
        filename, lang = filename or first, ""       # ```app/main.py
    if filename is None:
        for token in info.split()[1:]:               # ```python app/main.py
            token = token.strip("`'\"")
            if looks_like_path(token):
                filename = token
                break
    return lang.lower(), filename


_PATH_COMMENT = re.compile(
    r"^[ \t]*(?:--|#(?!!)|//|;|%|/\*|<!--)[ \t]*"
    r"(?:(?:file(?:name)?|fichier|path|chemin)[ \t]*:[ \t]*)?"
    r"`?([^\s`*]+?)`?"
    r"(?:[ \t]+(?:[—–:(-]|\*/|-->).*?)?[ \t]*(?:\*/|-->)?[ \t]*\r?$",
    re.IGNORECASE)


def filename_from_comment(code: str) -> str | None:
    for line in code.split("\n", 3)[:3]:
        if not line.strip():
            continue
        m = _PATH_COMMENT.match(line)
        return m.group(1) if m and looks_like_path(m.group(1)) else None
    return None


_LINE_PREFIX = re.compile(r"^(?:file(?:name)?|fichier|nom du fichier|path|chemin)\s*:?\s*", re.I)
_BACKTICKED = re.compile(r"`([^`\s]+)`")


def filename_from_line(line: str | None) -> str | None:
    """`### app/main.py`, `**app/main.py**`, `` `app/main.py` :`` or prose ending in ':' naming one file."""
    if not line:
        return None
    s = line.lstrip("#").strip().rstrip(":").strip()
    s = _LINE_PREFIX.sub("", s)
    for _ in range(3):
        s = s.strip().strip("*_`").strip()
        s = _LINE_PREFIX.sub("", s)
    if looks_like_path(s):
        return s
    if line.rstrip().endswith(":"):
        found = [t for t in _BACKTICKED.findall(line) if looks_like_path(t)]
        if len(found) == 1:
            return found[0]
    return None

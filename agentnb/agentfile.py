"""One agent file: Markdown with YAML front matter, the Claude Code sub-agent format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentnb.text import magic_name


@dataclass(frozen=True)
class Agent:
    """An agent definition. ``system_prompt`` is the file's body; ``model`` is as written
    (an alias such as ``sonnet``, a full id, ``inherit``, or None when absent)."""

    name: str
    description: str
    system_prompt: str
    path: Path | None = None
    tools: tuple[str, ...] = ()
    model: str | None = None
    # every other front-matter field, documented (color, permissionMode, ...) or not
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def magic_name(self) -> str:
        return magic_name(self.name)


# --- parsing -------------------------------------------------------------------------------------
#
# Claude Code is lenient with agent files, and agents written for it are shared as is: agentnb must
# load what Claude Code loads. So: BOM, CRLF and blank lines before the opening ``---`` are accepted;
# front matter that strict YAML rejects because of an unquoted ``: `` in a one-line value
# (``description: ... Triggers on: 'x'``) is retried with those values quoted; and where YAML still
# fails (a description written over several unquoted lines holding example dialogues), the front
# matter is read as Claude Code reads it: a known key at column 0 starts a field, any other line
# continues the field above.
#
# The front matter is untrusted text (agents come from public collections): it is bounded in size,
# and YAML anchors and aliases (an alias bomb expands a few lines into gigabytes) and deep nesting are
# refused before anything is built from it.

_KNOWN = ("name", "description", "tools", "model")
# the sub-agent fields Claude Code documents, and agentnb's own
_FIELD_KEYS = frozenset({
    "name", "description", "tools", "disallowedTools", "model", "permissionMode", "maxTurns", "skills",
    "mcpServers", "hooks", "memory", "background", "isolation", "color", "effort", "initialPrompt",
    "disabled", "answer-format",
})
MAX_FRONT_MATTER = 64 * 1024     # characters; public agents' front matter is under 10 KB
MAX_DEPTH = 16                   # nesting of lists and mappings; hooks need about 6
# a top-level ``key: value`` line whose value is a one-line plain (unquoted) scalar
_PLAIN_LINE = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*)[ \t]*:[ \t]+(?P<value>[^\s'\"\[{|>&*!%@`#].*?)[ \t]*$")
_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*)[ \t]*:")
# commas split tools, except inside parentheses: ``Bash(git add:*, git commit:*)`` is one entry
_TOOL_SPLIT = re.compile(r",(?![^(]*\))")


def load_agent(path: str | Path) -> Agent:
    """Read and parse one agent file. Raises AgentDefinitionError, never a bare OSError or decode error."""
    from agentnb.errors import AgentDefinitionError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AgentDefinitionError(path, None, f"cannot be read ({exc.strerror or exc}).",
                                   "Check that the path names an existing file you can read.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AgentDefinitionError(
            path, None,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}).",
            "Save the file with UTF-8 encoding.") from None
    return parse_agent(text, path)


def parse_agent(text: str, path: Path | None = None) -> Agent:
    """Parse an agent file's text: YAML front matter between ``---`` lines, then the system prompt.

    ``name`` and ``description`` are required; ``tools`` is a comma-separated string or a list;
    ``model`` is kept as written; every other field goes into ``metadata`` as parsed.
    """
    import frontmatter
    import yaml

    from agentnb.errors import AgentDefinitionError

    path = Path(path) if path is not None else None

    def fail(field: str | None, problem: str, fix: str = "") -> AgentDefinitionError:
        return AgentDefinitionError(path, field, problem, fix)

    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    stripped = text.lstrip(" \t\n")
    # file line of the opening ``---`` (1-based), for YAML error positions
    first_line = text[: len(text) - len(stripped)].count("\n") + 1
    text = stripped

    handler = frontmatter.default_handlers.YAMLHandler()
    if not handler.detect(text):
        raise fail(None, "has no front matter.",
                   "Start the file with a line '---', then 'name: ...' and 'description: ...' "
                   "lines, then a line '---', then the system prompt.")
    try:
        fm, body = handler.split(text)
    except ValueError:
        raise fail(None, "front matter is not closed.",
                   "Add a line '---' after the last front-matter field, before the system prompt.") from None

    if len(fm) > MAX_FRONT_MATTER:
        raise fail(None, f"front matter is {len(fm):,} characters long (agentnb reads at most "
                   f"{MAX_FRONT_MATTER:,}).", "Move long text into the system prompt, below the closing '---'.")
    meta = _load_front_matter(fm, yaml, fail, first_line)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise fail(None, f"front matter is not a set of 'key: value' fields (got a {_kind(meta)}).",
                   "Write one 'key: value' per line between the '---' lines.")

    name = _required_text(meta, "name", fail, "name: my-agent")
    description = _required_text(meta, "description", fail, "description: When to use this agent.")
    tools = _tools(meta.get("tools"), fail)
    model = meta.get("model")
    if model is not None and not isinstance(model, str):
        raise fail("model", f"must be a string, got {_kind(model)} {_brief(model)}.",
                   "Use an alias (sonnet, opus, haiku), a full model id, or 'inherit'.")
    if isinstance(model, str):
        model = model.strip() or None
    _check_answer_format(meta.get("answer-format"), fail)

    body = re.sub(r"\A(?:[ \t]*\n)+", "", body).rstrip()
    metadata = {k: v for k, v in meta.items() if k not in _KNOWN}
    return Agent(name=name, description=description, system_prompt=body, path=path,
                 tools=tools, model=model, metadata=metadata)


def _load_front_matter(fm: str, yaml: Any, fail: Any, first_line: int) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def load(text: str, offset: int = 0) -> Any:     # offset: the front-matter line ``text`` starts at
        return _safe_load(text, yaml, loader, fail,
                          lambda line: (first_line + offset + line, _field_at(fm, offset + line)))

    try:
        return load(fm)
    except yaml.YAMLError:
        pass
    lenient = _read_fields(fm, yaml, load)
    if lenient is not None:
        return lenient
    fixed = _quote_plain_values(fm, yaml, loader)
    try:
        return load(fixed)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is None:
            raise fail(None, f"front matter is not valid YAML: {problem}.",
                       "Fix the YAML between the '---' lines.") from None
        # fm starts with the newline ending the opening '---' line: its line 0 is that line
        where = f"line {first_line + mark.line}, column {mark.column + 1}"
        start = getattr(exc, "context_mark", None)
        context = getattr(exc, "context", None)
        # a flow list or quoted string left open: the error shows where it started, which is the
        # field to fix; "while parsing a block mapping" is the whole front matter, no help
        if start is None or not context or "block mapping" in context or start.line == mark.line:
            start = mark
        else:
            problem += f" ({context} started at line {first_line + start.line})"
        field = _field_at(fm, start.line)
        raise fail(field, f"front matter is not valid YAML at {where}: {problem}.",
                   "Quote the value (key: \"...\") if it contains ': ' or ' #', and check the "
                   "indentation of lists and multi-line values.") from None


def _safe_load(text: str, yaml: Any, loader: Any, fail: Any, where: Any) -> Any:
    """``yaml.load`` after a pass over the parser's events (no node is built): anchors, aliases and
    deep nesting are refused. ``where(line)`` gives (file line, field) for a front-matter line."""
    depth = 0
    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(text, Loader=loader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            line, field = where(event.start_mark.line)
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            raise fail(field, f"front matter uses a YAML {'alias' if sign == '*' else 'anchor'} "
                       f"({sign}{anchor[:40]}) at line {line}: agentnb does not expand anchors and "
                       "aliases in agent files.", "Write each value out in full.")
        if isinstance(event, opening):
            depth += 1
            if depth > MAX_DEPTH:
                line, field = where(event.start_mark.line)
                raise fail(field, f"front matter nests lists or mappings more than {MAX_DEPTH} levels "
                           f"deep (line {line}).", "Agent fields need a few levels at most: flatten it.")
        elif isinstance(event, closing):
            depth -= 1
    try:
        return yaml.load(text, Loader=loader)
    except (ValueError, OverflowError) as exc:    # e.g. an integer of more than 4,300 digits
        raise fail(None, f"front matter holds a value agentnb cannot read ({str(exc)[:120]}).",
                   "Quote long numbers, or shorten them.") from None


def _read_fields(fm: str, yaml: Any, load: Any) -> dict | None:
    """Claude Code's reading where YAML fails: a known key at column 0 starts a field, any other line
    continues the field above. Each field's lines are YAML where they parse on their own; else a value
    that starts as plain text is taken as written, its lines kept. None when neither fits."""
    fields: list[tuple[str, int, list[str]]] = []       # key, line where it starts, its lines
    for number, line in enumerate(fm.split("\n")):
        m = _TOP_KEY.match(line)
        if m and m.group("key") in _FIELD_KEYS:
            fields.append((m.group("key"), number, [line]))
        elif fields:
            fields[-1][2].append(line)
        elif line.strip() and not line.lstrip().startswith("#"):
            return None
    if not fields:
        return None
    meta: dict[str, Any] = {}
    for key, number, lines in fields:
        first = lines[0].split(":", 1)[1].strip()
        plain = bool(first) and first[0] not in "[{\"'|>&*!%@`#"
        try:
            value = load("\n".join(lines), number)
        except yaml.YAMLError:
            value = None
        if isinstance(value, dict) and key in value:
            meta.update(value)   # the field, and any other key YAML reads in its lines (version: 2)
        elif plain:      # the value as written, lines kept: "<example>", "user: ..." continue the field
            meta[key] = "\n".join([first] + [line.rstrip() for line in lines[1:]]).strip()
        else:
            return None          # a flow list, quote or block left open: YAML's message says where
    return meta


def _quote_plain_values(fm: str, yaml: Any, loader: Any) -> str:
    """Single-quote one-line plain values that YAML rejects on their own (e.g. an inner ``: ``)."""
    lines = fm.split("\n")
    for i, line in enumerate(lines):
        m = _PLAIN_LINE.match(line)
        if not m:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt[:1] in (" ", "\t") and nxt.strip():
            continue  # a multi-line value: quoting its first line would break it
        try:
            yaml.load(line, Loader=loader)
        except yaml.YAMLError:
            value = m.group("value").replace("'", "''")
            lines[i] = f"{m.group('key')}: '{value}'"
    return "\n".join(lines)


def _field_at(fm: str, line_index: int) -> str | None:
    """The top-level key on, or nearest above, a front-matter line."""
    lines = fm.split("\n")
    for line in reversed(lines[: line_index + 1]):
        m = _TOP_KEY.match(line)
        if m:
            return m.group("key")
    return None


def _required_text(meta: dict, field: str, fail: Any, example: str) -> str:
    if field not in meta or meta[field] is None:
        raise fail(field, "is missing.", f"Add a line '{example}' to the front matter.")
    value = meta[field]
    if not isinstance(value, str):
        raise fail(field, f"must be a string, got {_kind(value)} {_brief(value)}.",
                   f"Quote the value: {field}: \"...\".")
    if not value.strip():
        raise fail(field, "is empty.", f"Give it a value, e.g. '{example}'.")
    return value.strip()


def _check_answer_format(value: Any, fail: Any) -> None:
    """``answer-format``: absent, a comma-separated string or a list of part names (code, schema, ...)."""
    fix = "Write e.g. 'answer-format: [code, schema, examples, env]', or leave it out."
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list):
        raise fail("answer-format", f"must be a list of parts or a comma-separated string, got "
                   f"{_kind(value)} {_brief(value)}.", fix)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise fail("answer-format", f"entry {i + 1} must be a part name, got {_kind(item)} "
                       f"{_brief(item)}.", fix)


def _tools(value: Any, fail: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(t.strip() for t in _TOOL_SPLIT.split(value) if t.strip())
    if isinstance(value, list):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise fail("tools", f"entry {i + 1} must be a tool name, got {_kind(item)} {_brief(item)}.",
                           "List tool names only, e.g. tools: [Read, Grep].")
        return tuple(t.strip() for t in value if t.strip())
    raise fail("tools", f"must be a comma-separated string or a list, got {_kind(value)}.",
               "Write e.g. 'tools: Read, Write, Edit', or leave it out to allow every tool.")


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number",
            float: "a number", str: "a string"}.get(type(value), f"a {type(value).__name__}")


def _brief(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"

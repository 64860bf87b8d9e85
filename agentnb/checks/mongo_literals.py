"""Literal values as an answer writes them for MongoDB, read without running anything, and where they
stand in the answer: JSON, mongosh's JavaScript object literals (unquoted keys, single quotes, trailing
commas, comments) and Python dict literals (``True``/``None``, tuples), with the few calls that stand for
a value (``NumberInt(5)``, ``ISODate("...")``, ``ObjectId()``, ``new Date()``, pymongo's ``IndexModel(...)``)
kept as ``Call``s and a bare name (a variable, ``pymongo.ASCENDING``) as a ``Name``. Any other
expression (arithmetic, a spread, a function) is ``Unreadable``: its row says so instead of guessing.

Bounded like every parser of the answer's text: ``MAX_DEPTH`` levels, ``MAX_NODES`` values per read;
no recursion past those, no regex that can backtrack on the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentnb.checks.limits import MAX_DEPTH, MAX_NODES

__all__ = ["Call", "Literal", "Name", "Unreadable", "block_name", "is_python", "located", "read_arguments",
           "read_value", "shown"]


class Unreadable(ValueError):
    def __init__(self, message: str, offset: int, refused: bool = False):
        super().__init__(message)
        self.offset = offset
        self.refused = refused       # past a bound (depth, size): the rest of the block is not read either


@dataclass(frozen=True)
class Name:
    name: str                      # a variable or a constant: "schema", "pymongo.ASCENDING"


@dataclass
class Call:
    name: str                      # "NumberInt", "new Date", "IndexModel"
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)


@dataclass
class Literal:
    value: object
    start: int                     # offset of the value in the text
    end: int                       # offset just past it
    places: dict = field(default_factory=dict)   # path (tuple of keys/indexes) -> offset of its key or item

    def offset_of(self, path) -> int:
        """The offset of the value at ``path``, else of its nearest ancestor that has one."""
        path = tuple(path)
        while path and path not in self.places:
            path = path[:-1]
        return self.places.get(path, self.start)


_CONSTANTS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None,
              "undefined": None}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class _Reader:
    def __init__(self, text: str, pos: int, python: bool):
        self.text, self.pos, self.python = text, pos, python
        self.nodes = 0
        self.places: dict = {}

    # --- lexing ---------------------------------------------------------------------------------------
    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r\n":
                self.pos += 1
            elif text.startswith("//", self.pos) and not self.python or c == "#" and self.python:
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif text.startswith("/*", self.pos) and not self.python:
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise Unreadable("a comment that is never closed", self.pos)
                self.pos = end + 2
            else:
                return

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.text[self.pos:self.pos + 20].split("\n")[0] or "the end of the block"
            raise Unreadable(f"expected {char!r} at {found!r}", self.pos)
        self.pos += 1

    def word(self) -> str:
        start = self.pos
        text, n = self.text, len(self.text)
        while self.pos < n and (text[self.pos].isalnum() or text[self.pos] in "_$."):
            self.pos += 1
        return text[start:self.pos]

    def string(self) -> str:
        quote, start = self.text[self.pos], self.pos
        self.pos += 1
        out = []
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c == quote:
                self.pos += 1
                return "".join(out)
            if c == "\\" and self.pos + 1 < n:
                e = text[self.pos + 1]
                if e == "u" and self.pos + 6 <= n:
                    try:
                        out.append(chr(int(text[self.pos + 2:self.pos + 6], 16)))
                        self.pos += 6
                        continue
                    except ValueError:
                        pass
                out.append(_ESCAPES.get(e, e))
                self.pos += 2
                continue
            if c == "\n" and quote != "`":
                break
            if quote == "`" and text.startswith("${", self.pos):
                raise Unreadable("a template string with ${...} (computed)", self.pos)
            out.append(c)
            self.pos += 1
        raise Unreadable("a string that is never closed", start)

    def number(self):
        start, text, n = self.pos, self.text, len(self.text)
        if text[self.pos] in "+-":
            self.pos += 1
        if text.startswith(("0x", "0X"), self.pos):
            self.pos += 2
            while self.pos < n and text[self.pos] in "0123456789abcdefABCDEF_":
                self.pos += 1
            return int(text[start:self.pos].replace("_", ""), 16)
        while self.pos < n and (text[self.pos].isdigit() or text[self.pos] in "._eE" or
                                (text[self.pos] in "+-" and text[self.pos - 1] in "eE")):
            self.pos += 1
        raw = text[start:self.pos].replace("_", "")
        try:
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError:
            raise Unreadable(f"not a number: {raw!r}", start) from None

    # --- values ---------------------------------------------------------------------------------------
    def value(self, path: tuple, depth: int):
        if depth > MAX_DEPTH:
            raise Unreadable(f"nested more than {MAX_DEPTH} levels deep: refused, not checked", self.pos, True)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise Unreadable(f"more than {MAX_NODES:,} values: refused, not checked", self.pos, True)
        c = self.peek()
        if not c:
            raise Unreadable("the block ends where a value was expected", self.pos)
        if c == "{":
            return self.mapping(path, depth)
        if c == "[" or (c == "(" and self.python):
            return self.sequence(path, depth, "]" if c == "[" else ")")
        if c in "'\"`":
            return self.string()
        if c.isdigit() or (c in "+-." and self.pos + 1 < len(self.text) and
                           (self.text[self.pos + 1].isdigit() or self.text[self.pos + 1] == ".")):
            return self.number()
        if c == "/" and not self.python:
            return self.regex()
        if c.isalpha() or c in "_$":
            start = self.pos
            name = self.word()
            if name == "new":
                self.skip()
                name = "new " + self.word()
            if name in _CONSTANTS:
                return _CONSTANTS[name]
            if self.peek() == "(":
                return self.call(name, path, depth)
            if name.endswith("."):
                raise Unreadable(f"an expression ({name!r})", start)
            return Name(name)
        if c == ".":
            raise Unreadable("a spread (...) or an expression", self.pos)
        found = self.text[self.pos:self.pos + 20].split("\n")[0] or "the end of the block"
        raise Unreadable(f"not a literal value at {found!r}", self.pos)

    def regex(self):
        start = self.pos
        self.pos += 1
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] not in "/\n":
            self.pos += 2 if text[self.pos] == "\\" else 1
        if self.pos >= n or text[self.pos] != "/":
            raise Unreadable("a regular expression that is never closed", start)
        self.pos += 1
        self.word()
        return Call("RegExp", [text[start:self.pos]])

    def mapping(self, path: tuple, depth: int) -> dict:
        self.pos += 1
        out: dict = {}
        while True:
            c = self.peek()
            if c == "}":
                self.pos += 1
                return out
            key_at = self.pos
            if not c:
                raise Unreadable("an object that is never closed", self.pos)
            if c in "'\"":
                key = self.string()
            elif c.isalnum() or c in "_$":
                key = self.word() if not c.isdigit() else str(self.number())
            elif c == "[":
                raise Unreadable("a computed key ([...]: ...)", self.pos)
            elif c == ".":
                raise Unreadable("a spread (...) inside an object", self.pos)
            else:
                found = self.text[self.pos:self.pos + 20].split("\n")[0] or "the end of the block"
                raise Unreadable(f"expected a key at {found!r}", self.pos)
            self.expect(":")
            self.places[path + (key,)] = key_at
            out[key] = self.value(path + (key,), depth + 1)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                self.expect("}")

    def sequence(self, path: tuple, depth: int, close: str) -> list:
        self.pos += 1
        out: list = []
        while True:
            if not self.peek():
                raise Unreadable("a list that is never closed", self.pos)
            if self.peek() == close:
                self.pos += 1
                return out
            self.places[path + (len(out),)] = self.pos
            out.append(self.value(path + (len(out),), depth + 1))
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != close:
                self.expect(close)

    def call(self, name: str, path: tuple, depth: int) -> Call:
        args, kwargs = self.arguments(path, depth)
        return Call(name, args, kwargs)

    def arguments(self, path: tuple, depth: int) -> tuple[list, dict]:
        """``(`` args ``)``: positional values, and Python's ``name=value`` keywords."""
        self.expect("(")
        args: list = []
        kwargs: dict = {}
        while True:
            if not self.peek():
                raise Unreadable("a call that is never closed", self.pos)
            if self.peek() == ")":
                self.pos += 1
                return args, kwargs
            if self.python:
                save = self.pos
                word = self.word() if self.peek().isalpha() or self.peek() == "_" else ""
                if word and self.peek() == "=" and not self.text.startswith("==", self.pos):
                    self.pos += 1
                    self.places[path + (word,)] = save
                    kwargs[word] = self.value(path + (word,), depth + 1)
                else:
                    self.pos = save
                    word = ""
                if word:
                    if self.peek() == ",":
                        self.pos += 1
                    elif self.peek() != ")":
                        self.expect(")")
                    continue
            self.places[path + (len(args),)] = self.pos
            args.append(self.value(path + (len(args),), depth + 1))
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != ")":
                self.expect(")")


def read_value(text: str, pos: int, python: bool = False) -> Literal:
    """The literal value starting at ``pos`` (after blanks and comments). Raises ``Unreadable``."""
    reader = _Reader(text, pos, python)
    reader.skip()
    start = reader.pos
    try:
        value = reader.value((), 0)
    except RecursionError:
        raise Unreadable(f"nested more than {MAX_DEPTH} levels deep: refused, not checked", start, True) from None
    return Literal(value, start, reader.pos, reader.places)


def read_arguments(text: str, pos: int, python: bool = False) -> tuple[list, dict, Literal]:
    """The arguments of the call whose ``(`` is at ``pos``: (positional, keywords, their places as one
    Literal whose paths start with the argument's index or keyword). Raises ``Unreadable``."""
    reader = _Reader(text, pos, python)
    try:
        args, kwargs = reader.arguments((), 0)
    except RecursionError:
        raise Unreadable(f"nested more than {MAX_DEPTH} levels deep: refused, not checked", pos, True) from None
    return args, kwargs, Literal([args, kwargs], pos, reader.pos, reader.places)


# --- where a value stands ----------------------------------------------------------------------------

def block_name(a) -> str:
    """How a row names the artifact ``a``: its file, else its block."""
    return a.filename or f"block {a.index + 1} ({a.kind})"


def is_python(a) -> bool:
    return a.language == "python" or a.kind == "python"


def shown(value) -> str:
    """A value as a message quotes it: short, a name or a call by its name."""
    if isinstance(value, (Name, Call)):
        return f"`{value.name}`"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def located(a, offset: int) -> dict:
    """{file, line (in the block), answer_line} of ``offset`` in the artifact ``a``'s code."""
    line = a.code.count("\n", 0, offset) + 1
    return {"file": block_name(a), "line": line, "answer_line": a.line + line - 1}

"""``--with NAME[,NAME]``: objects from the user's namespace attached to a prompt as context."""

from __future__ import annotations

from agentnb.errors import AgentnbError

MAX_CHARS = 20_000          # per variable: a cut value says so in the request and in the cell
SAMPLE_ROWS = 5


class Attached(list):
    """The content blocks of ``--with``, and a note for each value that was cut (shown in the cell)."""

    def __init__(self, blocks=(), notes=()):
        super().__init__(blocks)
        self.notes = list(notes)


def describe(name: str, value) -> str:
    """Text for one object: strings as they are, data frames as schema plus a few rows, earlier
    responses as their text, anything else by its repr."""
    return _describe(name, value)[0]


def cut_note(name: str, length: int) -> str:
    return (f"--with {name}: {length:,} characters, only the first {MAX_CHARS:,} were sent. To send more, "
            f"split it into variables of up to {MAX_CHARS:,} characters (part1 = {name}[:{MAX_CHARS}], ...) "
            "and attach them all: --with part1,part2")


def _describe(name: str, value) -> tuple[str, int | None]:
    """The text of ``describe`` and, when it was cut, the full length."""
    from agentnb.response import Response

    if isinstance(value, Response):
        kind, text = f"earlier answer from {value.agent}", value.text
    elif isinstance(value, str):
        kind, text = "text", value
    elif hasattr(value, "dtypes") and hasattr(value, "head") and hasattr(value, "shape"):
        rows, cols = value.shape
        schema = "\n".join(f"  {col}: {dtype}" for col, dtype in value.dtypes.items())
        kind = f"data frame, {rows:,} rows x {cols} columns"
        text = f"columns:\n{schema}\nfirst rows:\n{value.head(SAMPLE_ROWS).to_string()}"
    elif hasattr(value, "columns") and hasattr(value, "types") and hasattr(value, "limit"):   # DuckDB relation
        schema = "\n".join(f"  {c}: {t}" for c, t in zip(value.columns, value.types))
        kind = "DuckDB relation"
        text = f"columns:\n{schema}\nfirst rows:\n{value.limit(SAMPLE_ROWS)}"
    else:
        kind, text = type(value).__name__, repr(value)
    full = None
    if len(text) > MAX_CHARS:
        full = len(text)
        text = text[:MAX_CHARS] + f"\n... ({len(text) - MAX_CHARS:,} more characters cut)"
    fence = "````" if "```" in text else "```"
    return f"Context `{name}` ({kind}):\n{fence}\n{text}\n{fence}", full


def context_blocks(names: str | list[str] | None, namespace: dict, hidden: dict | None = None) -> Attached:
    """A text block per variable named in ``names``. ``hidden`` holds what the shell itself put in the
    namespace (IPython's ``user_ns_hidden``: In, Out, exit...), left out of the names an error lists."""
    if not names:
        return Attached()
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    attached = Attached()
    for name in filter(None, names):
        if name not in namespace:
            raise AgentnbError(f"--with {name}: no variable named {name!r} in the notebook. Define it in an "
                               f"earlier cell ({_user_names(namespace, hidden or {})}).")
        text, full = _describe(name, namespace[name])
        attached.append({"type": "text", "text": text})
        if full is not None:
            attached.notes.append(cut_note(name, full))
    return attached


def _user_names(namespace: dict, hidden: dict, shown: int = 20) -> str:
    names = sorted(k for k, v in namespace.items()
                   if not k.startswith("_") and not (k in hidden and hidden[k] is v))
    if not names:
        return "no variable defined yet"
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return f"variables defined: {', '.join(names[:shown])}{more}"

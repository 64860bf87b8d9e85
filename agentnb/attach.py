"""``--with NAME[,NAME]``: objects from the user's namespace attached to a prompt as context."""

from __future__ import annotations

from agentnb.errors import AgentnbError

MAX_CHARS = 20_000
SAMPLE_ROWS = 5


def describe(name: str, value) -> str:
    """Text for one object: strings as they are, data frames as schema plus a few rows, earlier
    responses as their text, anything else by its repr."""
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
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + f"\n... ({len(text) - MAX_CHARS:,} more characters cut)"
    fence = "````" if "```" in text else "```"
    return f"Context `{name}` ({kind}):\n{fence}\n{text}\n{fence}"


def context_blocks(names: str | list[str] | None, namespace: dict) -> list[dict]:
    if not names:
        return []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    blocks = []
    for name in filter(None, names):
        if name not in namespace:
            known = sorted(k for k in namespace if not k.startswith("_"))[:20]
            raise AgentnbError(f"--with {name}: no variable named {name!r} in the notebook. "
                               f"Define it in an earlier cell (some names defined: {', '.join(known) or 'none'}).")
        blocks.append({"type": "text", "text": describe(name, namespace[name])})
    return blocks

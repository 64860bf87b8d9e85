"""Models: aliases, retirements, context windows and prices.

Models come and go, so everything dated lives here: the families with their prices, and the dated list
of retired ids. A retired model is answered with a warning and its replacement, never a crash; an
unknown id is sent as written (the API decides) with a note that its cost is unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Mapping

from agentnb.text import plural

# The usage figures of one call, as the API names them (the session log's columns, the batch summary's
# keys); a call's whole input is the three input figures added (``input_total``).
INPUT_USAGE_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
USAGE_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def input_total(usage: Mapping) -> int:
    """A call's whole input from its usage dict: fresh, cache-written and cache-read tokens added (the
    API's ``input_tokens`` alone leaves out what the cache served)."""
    return sum(int(usage.get(k) or 0) for k in INPUT_USAGE_KEYS)

# Aliases as Claude Code's `model:` field uses them; "inherit" means "the session's default".
ALIASES = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
}
DEFAULT_MODEL = "claude-sonnet-5-5"


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cache_write_5m: float
    cache_read: float


@dataclass(frozen=True)
class Family:
    prefix: str            # model ids starting with this belong to the family
    price: Price
    context_window: int
    retires: dt.date | None = None
    replacement: str | None = None


# Prices as listed on 2026-11-26 (docs.claude.com pricing pages, stored copies); per family.
# Cache write at 1.25x input for a 5-minute TTL; cache read 0.1x (0.05x on the 5.5 generation).
PRICES_AS_OF = dt.date(2026, 11, 26)
FAMILIES: tuple[Family, ...] = (
    Family("claude-opus-5-5", Price(4.0, 20.0, 5.0, 0.2), 1_000_000),
    Family("claude-sonnet-5-5", Price(2.0, 10.0, 2.5, 0.1), 1_000_000),
    # Haiku 5.5 bills 5x above 100k prompt tokens; the table holds the lower tier.
    Family("claude-haiku-5-5", Price(0.10, 0.50, 0.125, 0.01), 1_000_000),
    Family("claude-fable-5-1", Price(10.0, 50.0, 12.5, 0.5), 1_000_000),
    Family("claude-opus-4-8", Price(5.0, 25.0, 6.25, 0.5), 200_000),
    Family("claude-opus-4-7", Price(5.0, 25.0, 6.25, 0.5), 200_000),
    Family("claude-opus-4-6", Price(5.0, 25.0, 6.25, 0.5), 200_000),
    Family("claude-opus-4-5", Price(5.0, 25.0, 6.25, 0.5), 200_000,
           retires=dt.date(2027, 1, 22), replacement="claude-opus-5-5"),
    Family("claude-sonnet-4-6", Price(3.0, 15.0, 3.75, 0.3), 200_000),
    Family("claude-sonnet-4-5", Price(3.0, 15.0, 3.75, 0.3), 200_000,
           retires=dt.date(2026, 11, 30), replacement="claude-sonnet-5-5"),
    Family("claude-haiku-4-5", Price(1.0, 5.0, 1.25, 0.1), 200_000),
)
FALLBACK_CONTEXT_WINDOW = 200_000


@dataclass(frozen=True)
class Retired:
    """A model no longer in ``FAMILIES``: its ids (a prefix, as for a family), the day it stopped
    answering and the replacement Anthropic recommended (followed on when that one retired too)."""

    prefix: str
    retires: dt.date
    replacement: str


# Anthropic's model deprecations page (platform.claude.com/docs/en/about-claude/model-deprecations, its
# stored copies and the release notes it cites), read on 2026-11-26. A retired id is replaced the day
# it retires, like a family's; the model then sent is priced by its own family.
RETIREMENTS_AS_OF = dt.date(2026, 11, 26)
_RETIRED_TABLE = """
claude-1.0                  2024-11-06  claude-sonnet-5-5
claude-1.1                  2024-11-06  claude-sonnet-5-5
claude-1.2                  2024-11-06  claude-sonnet-5-5
claude-1.3                  2024-11-06  claude-sonnet-5-5
claude-instant-1.0          2024-11-06  claude-haiku-5-5
claude-instant-1.1          2024-11-06  claude-haiku-5-5
claude-instant-1.2          2024-11-06  claude-haiku-5-5
claude-2.0                  2025-07-21  claude-sonnet-5-5
claude-2.1                  2025-07-21  claude-sonnet-5-5
claude-3-sonnet             2025-07-21  claude-sonnet-5-5
claude-3-5-sonnet           2025-10-22  claude-sonnet-4-5
claude-3-opus               2026-01-05  claude-opus-4-1
claude-3-7-sonnet           2026-02-19  claude-sonnet-4-5
claude-3-5-haiku            2026-02-19  claude-haiku-4-5
claude-sonnet-4-20250514    2026-06-15  claude-sonnet-4-6
claude-sonnet-4-0           2026-06-15  claude-sonnet-4-6
claude-opus-4-20250514      2026-06-15  claude-opus-4-8
claude-opus-4-0             2026-06-15  claude-opus-4-8
claude-opus-4-1             2026-08-05  claude-opus-5-5
"""   # id prefix, retirement day, recommended replacement
RETIRED: tuple[Retired, ...] = tuple(
    Retired(prefix, dt.date.fromisoformat(day), replacement)
    for prefix, day, replacement in (line.split() for line in _RETIRED_TABLE.strip().splitlines()))


def _match(model: str, entries):
    # longest prefix first so that "claude-opus-4-5" never matches "claude-opus-4-50..."
    for entry in sorted(entries, key=lambda e: -len(e.prefix)):
        if model == entry.prefix or model.startswith(entry.prefix + "-"):
            return entry
    return None


def family(model: str) -> Family | None:
    return _match(model, FAMILIES)


def retirement(model: str) -> Family | Retired | None:
    """The dated entry that retires ``model`` (a family with a retirement date, or a retired id)."""
    fam = family(model)
    if fam is not None:
        return fam if fam.retires else None
    return _match(model, RETIRED)


def _successor(model: str, today: dt.date) -> str:
    """``model``'s recommended replacement, followed on while that one is retired as well."""
    for _ in range(len(FAMILIES) + len(RETIRED)):
        entry = retirement(model)
        if entry is None or today < entry.retires:
            return model
        model = entry.replacement or DEFAULT_MODEL
    return DEFAULT_MODEL


@dataclass(frozen=True)
class ModelChoice:
    model: str                 # the id sent to the API
    source: str                # where it came from: "--model", "AGENTNB_MODEL", "agent file", ...
    warning: str | None = None
    known: bool = True


def override_env_var(agent_name: str) -> str:
    from agentnb.text import magic_name

    return f"AGENTNB_MODEL_{magic_name(agent_name).upper().strip('_')}"


def resolve(agent_name: str, agent_model: str | None, *, override: str | None = None,
            session_override: str | None = None, env: Mapping[str, str] | None = None,
            today: dt.date | None = None, clock: Callable[[], dt.date] = dt.date.today) -> ModelChoice:
    """Which model a call uses. First found wins: the cell's ``--model``, ``%agentnb model AGENT
    MODEL``, ``AGENTNB_MODEL_<AGENT>``, ``AGENTNB_MODEL``, the agent file, the default.

    ``env`` holds the ``AGENTNB_MODEL*`` variables (read from the environment when None); the date that
    decides retirements is ``today``, else ``clock()`` (tests inject either)."""
    if env is None:
        from agentnb.settings import model_variables

        env = model_variables()
    per_agent = override_env_var(agent_name)
    candidates = [
        (override, "--model"),
        (session_override, "%agentnb model"),
        (env.get(per_agent), per_agent),
        (env.get("AGENTNB_MODEL"), "AGENTNB_MODEL"),
        (agent_model if agent_model not in (None, "", "inherit") else None, "agent file"),
        (DEFAULT_MODEL, "default"),
    ]
    written, source = next((m.strip(), s) for m, s in candidates if m and m.strip())
    model = ALIASES.get(written.lower(), written)
    fam = family(model)
    today = today or clock()
    how = (f"override with --model MODEL on the cell, `%agentnb model {agent_name} MODEL`, "
           f"or the environment variable {per_agent}")
    gone = retirement(model)
    if gone is not None:
        if today >= gone.retires:
            replacement = _successor(model, today)
            return ModelChoice(
                replacement, source,
                f"{model} (from {source}) was retired on {gone.retires:%Y-%m-%d}; using {replacement} "
                f"instead. To choose another model, {how}.", known=family(replacement) is not None)
        days = (gone.retires - today).days
        replacement = _successor(gone.replacement or DEFAULT_MODEL, gone.retires)
        return ModelChoice(
            model, source,
            f"{model} (from {source}) retires on {gone.retires:%Y-%m-%d} ({plural(days, 'day')} left); "
            f"{replacement} replaces it: {how}.", known=fam is not None)
    if fam is None:
        return ModelChoice(model, source,
                           f"unknown model {model!r} (from {source}): sent as written, cost not "
                           f"counted. Known aliases: {', '.join(ALIASES)}.", known=False)
    return ModelChoice(model, source)


def context_window(model: str) -> int:
    fam = family(model)
    return fam.context_window if fam else FALLBACK_CONTEXT_WINDOW


def cost(model: str, usage) -> float | None:
    """Dollars for one call from its usage (the SDK's Usage or a dict); None for an unknown model."""
    fam = family(model)
    if fam is None:
        return None
    get = usage.get if isinstance(usage, dict) else (lambda k, d=0: getattr(usage, k, d))
    p = fam.price
    rates = dict(zip(USAGE_KEYS, (p.input, p.output, p.cache_write_5m, p.cache_read)))
    return sum((get(k, 0) or 0) * rate for k, rate in rates.items()) / 1_000_000

"""The budget: a policy of the session, checked before each live call (a replay costs nothing and is
never stopped).

``AGENTNB_BUDGET_USD`` (``agentnb run --budget``) caps what live calls may spend. What counts as spent:
this session's live calls, or, with ``AGENTNB_BUDGET_SINCE`` (set by ``agentnb run`` for every kernel
of a batch), every live call in the session log since then, whichever process made it; a call that
started and never finished (a killed kernel) counts at its maximum possible cost. A call goes ahead only
if what it could cost at most still fits.
"""

from __future__ import annotations

from pathlib import Path

from agentnb import settings
from agentnb.errors import BudgetExceeded
from agentnb.llm import models
from agentnb.llm.conversation import estimate_tokens
from agentnb.redact import redact

_HOW = "Raise the budget, lower --max-tokens, or replay recorded answers (AGENTNB_RECORD_MODE=none)."


def input_estimate(body: dict) -> int:
    """A generous estimate of a request's input tokens."""
    return estimate_tokens(body.get("system", "")) + estimate_tokens(body["messages"])


def input_cost(body: dict) -> float | None:
    """What the request's input could cost (the cached prefix written at the cache-write price); None
    for a model without a known price."""
    fam = models.family(body["model"])
    return None if fam is None else input_estimate(body) * fam.price.cache_write_5m / 1_000_000


def worst_cost(body: dict) -> float | None:
    """The most a call with this body can cost: its input estimate plus every allowed output token;
    None for a model without a known price."""
    fam = models.family(body["model"])
    if fam is None:
        return None
    return input_cost(body) + body["max_tokens"] * fam.price.output / 1_000_000


def spent(session_spent: float, home: Path) -> float:
    """Dollars spent so far that count against the budget (see the module docstring)."""
    since = settings.budget_since()
    if since is None:
        return session_spent
    from agentnb import sessionlog

    return sessionlog.spent_since(since, home=home)


def check(body: dict, *, session_spent: float, home: Path, worst: float | None = None) -> None:
    """Before a live call: raise BudgetExceeded if the call could take the spend past the budget, or if a
    budget is set and the model's price is unknown. Nothing when no budget is set. ``worst`` is
    ``worst_cost(body)`` when the caller has it already (estimating a long conversation is not free)."""
    limit = settings.budget_usd()
    if limit is None:
        return
    if worst is None:
        worst = worst_cost(body)
    if worst is None:
        raise BudgetExceeded(
            f"Model {body['model']!r} has no known price, so a budget (${limit:.2f}, AGENTNB_BUDGET_USD or "
            "--budget) cannot bound this call. Nothing was sent. Choose a priced model (--model sonnet), "
            "or run without a budget.")
    try:
        so_far = spent(session_spent, home)
    except Exception as err:        # an unreadable log must not let a call through unbounded
        raise BudgetExceeded(
            f"The spend so far could not be read from the session log under {home} "
            f"({type(err).__name__}: {redact(str(err))}), so the budget cannot be checked. Nothing was sent. "
            "Fix or move that folder (AGENTNB_HOME), or run without a budget.") from None
    if so_far + worst > limit:
        raise BudgetExceeded(
            f"Budget reached: ${so_far:.4f} spent of ${limit:.2f} (AGENTNB_BUDGET_USD), and this call could "
            f"cost up to ${worst:.4f}. Nothing was sent. {_HOW}")

"""Settings: the one reader of every ``AGENTNB_*`` variable, read at call time (never at import), with
per-session overrides from ``%agentnb``. Each reader validates its value and says what to do with a bad
one (a ConfigurationError), so no other module parses these variables."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from agentnb.errors import ConfigurationError

RECORD_MODES = ("once", "none", "all")
DEFAULT_RECORD_MODE = "once"
DEFAULT_MAX_TOKENS = 8192
DEFAULT_HOME = ".agentnb"              # in the current directory
DEFAULT_RECORDINGS = "recordings"      # in the current directory
DEFAULT_CHECK_TIMEOUT_S = 30.0


@dataclass
class Settings:
    """Session overrides (``%agentnb``, ``agentnb ask``); ``None`` means "read the environment"."""

    record_mode: str | None = None
    recordings: Path | None = None
    model_overrides: dict[str, str] = field(default_factory=dict)   # agent name -> model
    tools: bool | None = None          # %agentnb tools on|off
    workspace: Path | None = None      # %agentnb workspace DIR

    def resolved_tools(self) -> bool:
        return self.tools if self.tools is not None else tools_on()

    def resolved_workspace(self) -> str | None:
        return str(self.workspace) if self.workspace else workspace_dir()

    def resolved_record_mode(self) -> str:
        if self.record_mode:
            return record_mode(self.record_mode, "%agentnb record")
        return record_mode(os.environ.get("AGENTNB_RECORD_MODE") or DEFAULT_RECORD_MODE, "AGENTNB_RECORD_MODE")

    def resolved_recordings(self) -> Path:
        value = self.recordings or os.environ.get("AGENTNB_RECORDINGS") or DEFAULT_RECORDINGS
        return Path(value).expanduser().absolute()

    def resolved_home(self) -> Path:
        return home_dir()

    def resolved_max_tokens(self) -> int:
        raw = os.environ.get("AGENTNB_MAX_TOKENS")
        if raw:
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value <= 0:
                raise ConfigurationError(f"AGENTNB_MAX_TOKENS={raw!r} is not a positive integer.")
            return value
        return DEFAULT_MAX_TOKENS


def record_mode(value: str, source: str = "record mode") -> str:
    """``value`` as a record mode (trimmed, lower case), or a ConfigurationError naming ``source``."""
    mode = str(value).strip().lower()
    if mode not in RECORD_MODES:
        raise ConfigurationError(
            f"record mode {mode!r} (from {source}) is not one of {', '.join(RECORD_MODES)}. Use 'once' to "
            "replay or record, 'none' to replay only (CI), 'all' to call live and overwrite.")
    return mode


def home_dir() -> Path:
    """Where agentnb keeps its own files (the session log): ``AGENTNB_HOME``, else ``.agentnb`` here."""
    return Path(os.environ.get("AGENTNB_HOME") or DEFAULT_HOME).expanduser().absolute()


def budget_usd() -> float | None:
    """``AGENTNB_BUDGET_USD``: what live calls may spend, in dollars; None when unset."""
    return _number("AGENTNB_BUDGET_USD", "a number of dollars (e.g. 2.50)", allow_zero=True)


def budget_since() -> str | None:
    """``AGENTNB_BUDGET_SINCE`` (set by ``agentnb run``): the budget counts every live call logged since
    this ISO time, by any process sharing the log."""
    return os.environ.get("AGENTNB_BUDGET_SINCE", "").strip() or None


def check_timeout_s() -> float:
    """``AGENTNB_CHECK_TIMEOUT``: seconds the whole check phase of one answer may take (default 30)."""
    value = _number("AGENTNB_CHECK_TIMEOUT",
                    f"a positive number of seconds (default {DEFAULT_CHECK_TIMEOUT_S:g})", allow_zero=False)
    return DEFAULT_CHECK_TIMEOUT_S if value is None else value


def _number(name: str, expected: str, *, allow_zero: bool) -> float | None:
    """A finite, non-negative (or positive) number from ``name``; None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(f"{name}={raw!r} is not {expected}.")
    return value


def notebook_name() -> str | None:
    """The notebook this process runs: ``AGENTNB_NOTEBOOK`` (set by ``agentnb run``), else the name a
    Jupyter server gives its kernel (``JPY_SESSION_NAME``)."""
    return os.environ.get("AGENTNB_NOTEBOOK") or os.environ.get("JPY_SESSION_NAME") or None


def run_id() -> str | None:
    """The ``agentnb run`` run this process belongs to (``AGENTNB_RUN_ID``, set for each run's kernel), so
    that the batch reads every call of the run from the session log, ``agentnb.ask()`` ones included."""
    return os.environ.get("AGENTNB_RUN_ID", "").strip() or None


def model_variables() -> dict[str, str]:
    """``AGENTNB_MODEL`` and every ``AGENTNB_MODEL_<AGENT>``, for ``models.resolve``."""
    return {k: v for k, v in os.environ.items() if k == "AGENTNB_MODEL" or k.startswith("AGENTNB_MODEL_")}


def postgres_url() -> str | None:
    """``AGENTNB_POSTGRES_URL``: a PostgreSQL server of the user's, instead of a throwaway one."""
    return os.environ.get("AGENTNB_POSTGRES_URL", "").strip() or None


def display_mode() -> str:
    """``AGENTNB_DISPLAY``: ``static`` (HTML tabs, the default) or ``widgets``."""
    return os.environ.get("AGENTNB_DISPLAY", "static").strip().lower() or "static"


def tools_on() -> bool:
    """``AGENTNB_TOOLS``: ``on`` runs every cell in Claude Code with its tools (``--tools``)."""
    raw = os.environ.get("AGENTNB_TOOLS", "").strip().lower()
    if raw in ("", "off", "0", "false", "no"):
        return False
    if raw in ("on", "1", "true", "yes"):
        return True
    raise ConfigurationError(f"AGENTNB_TOOLS={raw!r}: use on or off.")


def workspace_dir() -> str | None:
    """``AGENTNB_WORKSPACE``: the folder tools cells work in (default ``workspace/`` beside the notebook)."""
    return os.environ.get("AGENTNB_WORKSPACE", "").strip() or None


def node_binary() -> str | None:
    """``AGENTNB_NODE``: the Node.js the checks run their npm packages with (default: ``node`` on PATH)."""
    return os.environ.get("AGENTNB_NODE", "").strip() or None


def node_modules_dir() -> Path:
    """``AGENTNB_NODE_MODULES``: where ``agentnb setup`` installs the checks' npm packages and the checks
    look for them (an ``npm install --prefix`` folder); default ``agentnb/node`` in the user's cache
    (``$XDG_CACHE_HOME``, else ``~/.cache``)."""
    raw = os.environ.get("AGENTNB_NODE_MODULES", "").strip()
    if raw:
        return Path(raw).expanduser().absolute()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or "~/.cache"
    return (Path(cache).expanduser() / "agentnb" / "node").absolute()

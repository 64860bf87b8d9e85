"""Settings read from the environment at call time, with per-session overrides from ``%agentnb``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from agentnb.errors import ConfigurationError

RECORD_MODES = ("once", "none", "all")
DEFAULT_MAX_TOKENS = 8192


@dataclass
class Settings:
    """Session overrides; ``None`` means "read the environment"."""

    record_mode: str | None = None
    recordings: Path | None = None
    home: Path | None = None
    max_tokens: int | None = None
    model_overrides: dict[str, str] = field(default_factory=dict)   # agent name -> model
    stream: bool = True

    def resolved_record_mode(self) -> str:
        mode = (self.record_mode or os.environ.get("AGENTNB_RECORD_MODE") or "once").strip().lower()
        if mode not in RECORD_MODES:
            raise ConfigurationError(
                f"record mode {mode!r} (from AGENTNB_RECORD_MODE or %agentnb record) is not one of "
                f"{', '.join(RECORD_MODES)}. Use 'once' to replay or record, 'none' to replay only (CI), "
                "'all' to call live and overwrite.")
        return mode

    def resolved_recordings(self) -> Path:
        value = self.recordings or os.environ.get("AGENTNB_RECORDINGS") or "recordings"
        return Path(value).expanduser().absolute()

    def resolved_home(self) -> Path:
        value = self.home or os.environ.get("AGENTNB_HOME") or ".agentnb"
        return Path(value).expanduser().absolute()

    def resolved_max_tokens(self) -> int:
        if self.max_tokens:
            return self.max_tokens
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

"""One agent file: Markdown with YAML front matter, the Claude Code sub-agent format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


def magic_name(agent_name: str) -> str:
    """``backend-dev`` -> ``backend_dev``: lower case, anything not valid in an identifier -> ``_``."""
    name = re.sub(r"\W", "_", agent_name.strip().lower(), flags=re.ASCII)
    if not name or name[0].isdigit():
        name = "_" + name
    return name

"""agentnb's exceptions: one base class, specific subclasses carrying what the message needs.

IPython calls ``_render_traceback_`` when an exception defines it, so a failed cell shows the short
message (the cell still fails, which papermill and CI need) instead of a traceback into our code.
"""

from __future__ import annotations

from pathlib import Path

from agentnb.text import first_line


class AgentnbError(Exception):
    """Base class: every error agentnb raises for a user to act on."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {line}" if i == 0 else f"  {line}"
                for i, line in enumerate(str(self).splitlines() or [""])]


class AgentDefinitionError(AgentnbError):
    """An agent file that cannot be used: names the file, the field and what to do."""

    def __init__(self, path: str | Path | None, field: str | None, problem: str, fix: str = ""):
        self.path = Path(path) if path is not None else None
        self.field = field
        self.problem = problem
        self.fix = fix
        where = str(self.path) if self.path else "<agent text>"
        if field:
            where += f", field '{field}'"
        message = f"{where}: {problem}"
        if fix:
            message += f" {fix}"
        super().__init__(message)


class ConfigurationError(AgentnbError):
    """A setting (environment variable, option, %agentnb command) with a bad value."""


class ModelError(AgentnbError):
    """An unknown or retired model."""


class CredentialsError(AgentnbError):
    """No API key or token where a live call needs one."""


class RecordingMissingError(AgentnbError):
    """Record mode ``none`` and no recording for this request."""

    def __init__(self, path: Path, agent: str | None = None, cell: str | None = None):
        self.path = path
        self.agent = agent
        self.cell = cell
        where = []
        if agent:
            where.append(f"agent '{agent}'")
        if cell:
            where.append(f"cell starting {first_line(cell)[:60]!r}")
        prefix = ("For " + ", ".join(where) + ": ") if where else ""
        super().__init__(
            f"{prefix}no recording at {path} and record mode is 'none'.\n"
            "Record it once with a key (AGENTNB_RECORD_MODE=once or %agentnb record once), "
            "or check that the cell text, agent and model match the recorded run."
        )


class APIError(AgentnbError):
    """A call to the Messages API that failed after the SDK's own retries."""

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None,
                 partial_text: str = "", request_id: str | None = None):
        self.status = status
        self.kind = kind
        self.partial_text = partial_text
        self.request_id = None
        super().__init__(message)
        self.tag(request_id)

    def tag(self, request_id: str | None) -> "APIError":
        """Name the API's id for the call in the message (what Anthropic's support asks for), once."""
        if request_id and not self.request_id:
            self.request_id = request_id
            self.args = (f"{self.args[0]} (request id {request_id})",)
        return self


class StreamInterrupted(APIError):
    """The stream ended before ``message_stop``: the answer is incomplete."""


class BudgetExceeded(AgentnbError):
    """A live call would take the spend past the budget (or a budget is set and the call's cost cannot
    be bounded): nothing was sent."""

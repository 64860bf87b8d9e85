"""The outcome of one check (SQL syntax, schema on PostgreSQL, a migration's round trip, ...).

A row never holds a credential agentnb knows (``agentnb.redact``): its name, message and details are
redacted when set, and ``to_dict`` redacts again what was changed inside ``details`` since. A server's
error can quote anything the answer made it read, the environment included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentnb.redact import known_secrets, redact, redact_data

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass
class CheckResult:
    name: str                 # "SQL syntax", "Schema on PostgreSQL", "Migration 0002_add_fines up/down", ...
    status: str               # "passed" | "failed" | "skipped"
    message: str = ""         # exact error text on failure, reason when skipped, short summary when passed
    details: dict = field(default_factory=dict)  # JSON-serialisable extras (statement, line, column, diff...)

    def __setattr__(self, key: str, value) -> None:
        if key in ("name", "message") and isinstance(value, str):
            value = redact(value)
        elif key == "details" and isinstance(value, dict):
            secrets = known_secrets()
            if secrets:                   # in place: a caller may still hold the dict it passed
                value.update(redact_data(value, secrets))
        object.__setattr__(self, key, value)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def skipped(self) -> bool:
        return self.status == SKIPPED

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "message": redact(self.message),
                "details": redact_data(dict(self.details))}

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        return cls(data["name"], data["status"], data.get("message", ""), dict(data.get("details") or {}))

    def __str__(self) -> str:
        text = f"{self.name}: {self.status}"
        return f"{text} — {self.message}" if self.message else text

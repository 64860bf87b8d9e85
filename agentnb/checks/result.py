"""The outcome of one check (SQL syntax, schema on PostgreSQL, a migration's round trip, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass
class CheckResult:
    name: str                 # "SQL syntax", "Schema on PostgreSQL", "Migration 0002_add_fines up/down", ...
    status: str               # "passed" | "failed" | "skipped"
    message: str = ""         # exact error text on failure, reason when skipped, short summary when passed
    details: dict = field(default_factory=dict)  # JSON-serialisable extras (statement, line, column, diff...)

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
        return {"name": self.name, "status": self.status, "message": self.message,
                "details": dict(self.details)}

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        return cls(data["name"], data["status"], data.get("message", ""), dict(data.get("details") or {}))

    def __str__(self) -> str:
        text = f"{self.name}: {self.status}"
        return f"{text} — {self.message}" if self.message else text

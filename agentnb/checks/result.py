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

# The Checks tab's headings, in display order, and the row names each heads (by prefix). A check not
# listed is headed by its name's first word ("Redis config: x" -> "Redis"), or by ``details["family"]``
# when a check sets one: a new check needs no change here nor in ``agentnb.render``.
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SQL / PostgreSQL", ("SQL syntax", "Schema on PostgreSQL")),
    ("DuckDB", ("Schema on DuckDB",)),
    ("Migrations", ("Migration", "Schema changes")),
    ("Models", ("Models match",)),
    ("Prisma", ("Prisma",)),
    ("MongoDB", ("MongoDB",)),
    ("OpenAPI / HTTP", ("OpenAPI", "Request examples")),
    ("GraphQL", ("GraphQL",)),
    ("gRPC", ("Protocol Buffers", "gRPC")),
    ("AsyncAPI", ("AsyncAPI",)),
    ("Docker / Compose", ("Dockerfile", "Compose")),
    ("Code", ("Python syntax", "TypeScript syntax", "JavaScript syntax")),
    ("Security", ("Security", "JWT")),
    ("Secrets & env", ("No hard-coded secrets", "Environment variables")),
    ("Answer format", ("Answer format",)),
)


def family_of(name: str) -> str:
    """The family heading a row named ``name`` goes under (see FAMILIES)."""
    for family, prefixes in FAMILIES:
        if name.startswith(prefixes):
            return family
    return (name.split() or ["Other"])[0].rstrip(":")


def family_order(family: str) -> int:
    """Where ``family`` stands among the headings (a family FAMILIES does not list comes after them)."""
    return next((i for i, (f, _) in enumerate(FAMILIES) if f == family), len(FAMILIES))


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
    def family(self) -> str:
        """The Checks tab's heading for this row: ``details["family"]`` if the check set one, else from
        its name."""
        given = self.details.get("family")
        return given if isinstance(given, str) and given else family_of(self.name)

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

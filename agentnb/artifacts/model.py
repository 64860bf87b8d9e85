"""What an answer is taken apart into: artifacts, migration pairs, documented environment variables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

KINDS = (
    "schema", "migration", "query", "python", "typescript", "javascript", "prisma", "openapi",
    "graphql", "proto", "asyncapi", "mongodb", "example", "dockerfile", "compose", "env", "shell", "json", "yaml", "other",
)
CODE_KINDS = ("python", "typescript", "javascript")     # the kinds that are program code


@dataclass
class Artifact:
    kind: str
    language: str                   # "sql", "python", "typescript", "tsx", "yaml", "json", "bash", ...
    code: str                       # exactly as written in the answer
    title: str | None = None        # nearest preceding Markdown heading, without the #'s
    filename: str | None = None     # from a path comment, the fence info or the line before the block
    index: int = 0                  # position of the fenced block in the answer (split parts share it)
    line: int = 1                   # 1-based line of the answer where ``code`` starts
    direction: str | None = None    # "up" / "down" for SQL migrations
    pair: str | None = None         # migration id shared by up and down, e.g. "0002_add_fines"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Artifact:
        return cls(**data)


@dataclass
class MigrationPair:
    id: str
    up: Artifact | None = None
    down: Artifact | None = None    # the same artifact as ``up`` for Alembic-style files holding both


@dataclass
class EnvVar:
    name: str
    description: str | None = None
    example: str | None = None
    source: str = "env block"       # "env block", "table" or "list": where it was first seen

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Artifacts(list):
    """The artifacts of one answer, in order, with views by role."""

    def __init__(self, items: Iterable[Artifact] = (), env: Iterable[EnvVar] = ()):
        super().__init__(items)
        self._env = list(env)
        self._pairs: tuple[tuple, list[MigrationPair]] | None = None   # see ``migrations``

    def by_kind(self, kind: str) -> list[Artifact]:
        return [a for a in self if a.kind == kind]

    def schema_pieces(self) -> list[tuple[int, Artifact]]:
        """(first line in ``schema``, artifact) for each schema block, as ``schema`` joins them."""
        pieces, line = [], 1
        for a in self.by_kind("schema"):
            pieces.append((line, a))
            line += a.code.count("\n") + (0 if a.code.endswith("\n") else 1) + 1
        return pieces

    @property
    def schema(self) -> str | None:
        """The SQL DDL of all schema artifacts, in answer order, or None when there is none."""
        parts = [a.code if a.code.endswith("\n") else a.code + "\n" for a in self if a.kind == "schema"]
        return "\n".join(parts) if parts else None

    @property
    def migrations(self) -> list[MigrationPair]:
        """The migration blocks paired up and down. Paired once and kept while those blocks and what
        the pairing reads of them stay the same (the checks and the panel read this many times)."""
        found = self.by_kind("migration")
        key = tuple((id(a), a.direction, a.pair, a.index, a.code) for a in found)
        if self._pairs is None or self._pairs[0] != key:
            from agentnb.artifacts.migrations import (
                pair_migrations,  # it imports Artifact from here
            )

            self._pairs = (key, pair_migrations(found))     # holds the artifacts: their ids stay theirs
        return list(self._pairs[1])

    @property
    def openapi(self) -> Artifact | None:
        return next((a for a in self if a.kind == "openapi"), None)

    @property
    def examples(self) -> list[Artifact]:
        return self.by_kind("example")

    @property
    def code(self) -> list[Artifact]:
        return [a for a in self if a.kind in CODE_KINDS]

    @property
    def env(self) -> list[EnvVar]:
        return list(self._env)

    @property
    def files(self) -> list[Artifact]:
        return [a for a in self if a.filename]

    def file(self, path: str) -> Artifact | None:
        """The first artifact for ``path`` (compared without a leading ``./``)."""
        path = path.removeprefix("./")
        return next((a for a in self if a.filename and a.filename.removeprefix("./") == path), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable; migrations refer to artifacts by their position in ``artifacts``."""
        position = {id(a): i for i, a in enumerate(self)}
        return {
            "artifacts": [a.to_dict() for a in self],
            "migrations": [
                {"id": p.id,
                 "up": position.get(id(p.up)) if p.up else None,
                 "down": position.get(id(p.down)) if p.down else None}
                for p in self.migrations
            ],
            "env": [e.to_dict() for e in self._env],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Artifacts:
        return cls([Artifact.from_dict(a) for a in data.get("artifacts", [])],
                   [EnvVar(**e) for e in data.get("env", [])])

    def __repr__(self) -> str:
        kinds = ", ".join(f"{a.kind}:{a.filename or a.language}" for a in self)
        return f"Artifacts([{kinds}], env={[e.name for e in self._env]})"

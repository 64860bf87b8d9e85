"""The migration pairs of an answer follow its blocks: paired once while the blocks stay the same, and
again when a block is added, removed or changed."""

from __future__ import annotations

import agentnb
from agentnb.artifacts import Artifact

ANSWER = ("```sql\n-- migrations/0002_phone.up.sql\nALTER TABLE c ADD COLUMN phone text;\n```\n\n"
          "```sql\n-- migrations/0002_phone.down.sql\nALTER TABLE c DROP COLUMN phone;\n```\n")


def test_pairs_follow_the_blocks():
    artifacts = agentnb.extract(ANSWER)
    [pair] = artifacts.migrations
    assert artifacts.migrations[0] is pair                    # the same pairing, read again
    assert pair.id == "0002_phone" and "DROP COLUMN" in pair.down.code
    artifacts.append(Artifact("migration", "sql", "CREATE TABLE t (id int);", filename="migrations/0003_t.up.sql",
                              index=2, direction="up", pair="0003_t"))
    assert [p.id for p in artifacts.migrations] == ["0002_phone", "0003_t"]
    artifacts[1].direction = "up"                             # a block changed in place
    assert [(p.id, p.down is not None) for p in artifacts.migrations] == [
        ("0002_phone", False), ("0002_phone", False), ("0003_t", False)]
    del artifacts[2]
    assert [p.id for p in artifacts.migrations] == ["0002_phone", "0002_phone"]

"""What gets ready while an answer streams: PostgreSQL when SQL is coming, the contract validators'
imports when an OpenAPI or AsyncAPI document is. Imports are judged in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentnb.warmup import should_warm_up, shows_contract

REPO = Path(__file__).resolve().parents[1]


def test_postgres_is_wanted_for_a_schema_to_come():
    assert should_warm_up("", required=("code", "schema"))
    assert should_warm_up("", has_schema=True)
    assert should_warm_up("Voici le schéma :\n```SQL\nCREATE")
    assert not should_warm_up("Une question d'abord : combien d'adhérents ?")


def test_a_contract_is_seen_in_yaml_or_json():
    assert shows_contract("```yaml\nopenapi: 3.1.0\n")
    assert shows_contract("```json\n{\n  \"asyncapi\": \"3.0.0\"")
    assert not shows_contract("```python\nimport yaml\n")


CHILD = """
import json, sys
from agentnb.warmup import WarmUp
answer = sys.stdin.read()
warm = WarmUp(enabled=sys.argv[1] == "on")
for i in range(0, len(answer), 3):          # marks straddle the deltas
    warm.see(answer[i:i + 3])
for thread in warm.threads:
    thread.join(60)
print(json.dumps({"threads": len(warm.threads),
                  "imported": [m for m in ("jsonschema", "openapi_spec_validator") if m in sys.modules]}))
"""


def warmed(answer: str, enabled: bool = True) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, "on" if enabled else "off"], input=answer,
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("answer", [
    "Le contrat :\n```yaml\nopenapi: 3.1.0\ninfo:\n  title: Prêts\n```\n",
    "Les événements :\n```yaml\nasyncapi: 3.0.0\n```\n",
])
def test_a_streamed_contract_imports_its_validators_before_the_check(answer):
    assert warmed(answer) == {"threads": 1, "imported": ["jsonschema", "openapi_spec_validator"]}


def test_nothing_is_imported_without_a_contract_or_when_checks_are_off():
    assert warmed("Une question d'abord : combien d'adhérents ?\n") == {"threads": 0, "imported": []}
    assert warmed("```yaml\nopenapi: 3.1.0\n```\n", enabled=False) == {"threads": 0, "imported": []}

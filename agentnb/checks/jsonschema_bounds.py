"""JSON Schema validation of the answer's data against the answer's own schemas, with the one cost the
document's size does not bound taken out: a regular expression. Python's ``re`` runs in C, cannot be
interrupted, and a pattern such as ``^(a+)+$`` takes exponential time on a short string: a check stuck
there would hold a core for the kernel's life. So a ``pattern`` (or ``patternProperties`` key) with a
quantified group that holds a quantifier or an alternation is not evaluated (the row says so), and no
pattern is run on a string longer than ``MAX_MATCHED`` characters.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["MAX_MATCHED", "bounded_copy", "risky_pattern", "validator_class"]

MAX_MATCHED = 1_000
# a group, then a quantifier (*, +, {n,}); the group's body is checked for a quantifier or a "|"
_QUANTIFIED_GROUP = re.compile(r"\)(?:[*+]|\{\d*,\d*\})")


def risky_pattern(pattern: str) -> bool:
    """True when ``pattern`` may backtrack exponentially: a quantified group with a quantifier or an
    alternation inside (``(a+)+``, ``(\\w|\\d)*``). Conservative: some safe patterns are left out too."""
    for m in _QUANTIFIED_GROUP.finditer(pattern):
        depth, i = 0, m.start()
        while i > 0:                                  # back to the group's opening parenthesis
            i -= 1
            if i > 0 and pattern[i - 1] == "\\":
                continue
            if pattern[i] == ")":
                depth += 1
            elif pattern[i] == "(":
                if depth == 0:
                    break
                depth -= 1
        body = re.sub(r"\\.", "", pattern[i + 1:m.start()])
        if re.search(r"[*+|]|\{\d*,", body):
            return True
    return False


def bounded_copy(node) -> tuple[object, list[str]]:
    """A copy of a document with its risky patterns left out, and the patterns left out."""
    skipped: list[str] = []

    def copy(value, in_pattern_properties: bool = False):
        if isinstance(value, dict):
            out = {}
            for key, sub in value.items():
                if in_pattern_properties and risky_pattern(str(key)):
                    skipped.append(str(key))
                    continue
                if key == "pattern" and isinstance(sub, str) and risky_pattern(sub):
                    skipped.append(sub)
                    continue
                out[key] = copy(sub, key == "patternProperties" and isinstance(sub, dict))
            return out
        if isinstance(value, list):
            return [copy(v) for v in value]
        return value

    return copy(node), skipped


@lru_cache(maxsize=1)
def validator_class():
    """Draft 7 whose ``pattern`` leaves strings past ``MAX_MATCHED`` characters unmatched."""
    from jsonschema import Draft7Validator, validators
    from jsonschema.exceptions import ValidationError

    def pattern(validator, patrn, instance, schema):
        if isinstance(instance, str) and len(instance) <= MAX_MATCHED and not re.search(patrn, instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    return validators.extend(Draft7Validator, {"pattern": pattern})

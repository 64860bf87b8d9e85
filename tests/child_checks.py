"""Run agentnb's checks on an answer in a child Python, and read back its rows and its peak memory:
what a hostile answer costs is judged from outside the process that ran it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_SCRIPT = (
    "import json, resource, sys\n"
    "from agentnb import checks, extract\n"
    "text = sys.stdin.read()\n"
    "rows = checks.run(extract(text), answer_text=text, sql=False).rows\n"
    "print(json.dumps({'rows': [[r.name, r.status, r.message] for r in rows],\n"
    "                  'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")


def checks_in_child(answer: str, timeout: float = 120) -> dict:
    """``{"rows": [[name, status, message], ...], "max_rss_mb": float}`` of the code checks
    (``sql=False``) on ``answer``, run in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _SCRIPT], input=answer, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)

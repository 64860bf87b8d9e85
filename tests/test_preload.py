"""The SDK's background import in a kernel, and the wait before the first answer imports it itself (two
threads importing one package at once can hand one a partially initialized module)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_an_ask_waits_for_the_background_import_of_the_sdk():
    code = ("import sys\nfrom agentnb.llm import preload\n"
            "preload.wait()\nassert 'anthropic' not in sys.modules       # nothing started: no wait, no import\n"
            "preload.start()\npreload.wait()\nprint('anthropic' in sys.modules, 'httpx2' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]

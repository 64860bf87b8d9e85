"""The permission question in a running cell (``permissions.Asker`` and ``ask``, reading with ``input()``),
driven from outside: a Python process runs two tools cells in ``default`` mode with the real bundled CLI,
its stdin given by the test. A terminal (a pty: what ``front_end_can_answer`` accepts, as a front end
allowing stdin) answers allow once, always in this notebook or deny; a pipe is headless (papermill, CI):
nothing can answer, the tool is denied and the cell names the option. Judged from the files the tools
wrote, what the process printed and what the model was told."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from agentnb.testing.server import text, tool_use

pytest.importorskip("claude_agent_sdk")

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Allow Write? [y] once / [a] always in this notebook / [n] deny:"

# Two cells in one session (one notebook): each writes one file with Write, default permission mode.
CELLS = """
import sys
from agentnb.session import current
from agentnb.tools.cell import ToolsOptions

for name in ("a.sql", "b.sql"):
    r = current().ask("backend-dev", f"Écris {name}.", check=False, tools=ToolsOptions(tools=["Write"]))
    print("CELL", name, [c.status for c in r.tool_calls], "|".join(r.warnings), flush=True)
"""


def script(api, workspace: Path):
    for name in ("a.sql", "b.sql"):
        api.enqueue(tool_use("Write", {"file_path": str(workspace / name), "content": f"-- {name}\n"}),
                    text(f"Cellule {name} finie."))


def run_cells(workdir: Path, answers: str | None) -> str:
    """Run CELLS in a fresh process; ``answers`` typed on a terminal, or None: stdin is a pipe."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if answers is None:
        done = subprocess.run([sys.executable, "-c", CELLS], cwd=workdir, env=env, input="", text=True,
                              capture_output=True, timeout=90)
    else:
        master, slave = pty.openpty()
        try:
            os.write(master, answers.encode())     # buffered by the terminal until input() reads a line
            done = subprocess.run([sys.executable, "-c", CELLS], cwd=workdir, env=env, stdin=slave,
                                  capture_output=True, text=True, timeout=90)
        finally:
            os.close(slave)
            os.close(master)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def told_denied(api) -> list[bool]:
    """For each tool result the model received: whether it came back as an error."""
    out = []
    for req in api.message_requests:
        last = req.body["messages"][-1]
        content = last.get("content") if isinstance(last.get("content"), list) else []
        out += [bool(b.get("is_error")) for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    return out


def test_allow_once_asks_again_next_time(api, workdir):
    workspace = workdir / "workspace"
    script(api, workspace)
    out = run_cells(workdir, "y\nn\n")
    assert out.count(QUESTION) == 2
    assert "Write wants to run:" in out and f"+++ {workspace / 'a.sql'} (new file)" in out and "-- a.sql" in out
    assert (workspace / "a.sql").read_text() == "-- a.sql\n" and not (workspace / "b.sql").exists()
    assert "CELL a.sql ['done']" in out and "CELL b.sql ['denied'] denied in this cell: Write." in out
    assert told_denied(api) == [False, True]


def test_always_allows_the_tool_for_the_rest_of_the_notebook(api, workdir):
    workspace = workdir / "workspace"
    script(api, workspace)
    out = run_cells(workdir, "a\n")
    assert out.count(QUESTION) == 1, "the second cell must not ask again"
    assert (workspace / "a.sql").is_file() and (workspace / "b.sql").is_file()
    assert "CELL a.sql ['done']" in out and "CELL b.sql ['done']" in out
    assert told_denied(api) == [False, False]


def test_deny_keeps_the_file_unwritten_and_the_agent_is_told(api, workdir):
    workspace = workdir / "workspace"
    script(api, workspace)
    out = run_cells(workdir, "n\nsomething else\n")      # anything but y/a is a denial
    assert out.count(QUESTION) == 2
    assert not (workspace / "a.sql").exists() and not (workspace / "b.sql").exists()
    assert "CELL a.sql ['denied'] denied in this cell: Write." in out
    assert told_denied(api) == [True, True]


def test_headless_nothing_is_asked_the_tool_is_denied_and_the_option_named(api, workdir):
    workspace = workdir / "workspace"
    script(api, workspace)
    out = run_cells(workdir, None)
    assert QUESTION not in out
    assert not (workspace / "a.sql").exists()
    line = next(l for l in out.splitlines() if l.startswith("CELL a.sql"))
    assert "['denied']" in line and "nothing could answer here" in line
    assert "--permission-mode acceptEdits" in line
    assert told_denied(api) == [True, True]
    # what the model read says it was not allowed, so it can tell the user
    results = [b for req in api.message_requests for b in req.body["messages"][-1].get("content", [])
               if isinstance(b, dict) and b.get("type") == "tool_result"]
    assert results and all(b.get("is_error") for b in results)
    assert all(any(w in json.dumps(b["content"]).lower() for w in ("permission", "denied", "not allowed"))
               for b in results), results

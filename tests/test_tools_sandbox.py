"""Bash in Claude Code's sandbox (bubblewrap and socat on Linux) where the machine has one; where it has
none, Bash needs an explicit permission mode and the cell says so. The real bundled CLI runs against the
local Messages API server; judged from the files written, the tool results and the cell's notes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agentnb.testing.server import text, tool_use

pytest.importorskip("claude_agent_sdk")


def ask(prompt: str, **options):
    from agentnb.session import current
    from agentnb.tools.cell import ToolsOptions

    return current().ask("backend-dev", prompt, tools=ToolsOptions(**options), check=False)


def sandbox_problem() -> str | None:
    from agentnb.tools import permissions

    return permissions.sandbox_problem()


needs_sandbox = pytest.mark.skipif(sandbox_problem() is not None,
                                   reason=f"no usable Bash sandbox here: {sandbox_problem()}")


def escape_attempt(workdir: Path) -> dict:
    return {"command": f"echo inside > in.txt; echo outside > {workdir / 'escaped.txt'}; echo end",
            "description": "écrire dedans puis dehors"}


@needs_sandbox
def test_bash_runs_in_the_sandbox_without_asking_and_cannot_write_outside_the_workspace(api, workdir):
    api.enqueue(tool_use("Bash", escape_attempt(workdir)), text("Fait."))
    # default mode, headless: nothing could answer a question, and none is needed for a sandboxed Bash
    r = ask("Écris in.txt.", tools=["Bash"])
    call = r.tool_calls[0]
    assert call.status == "done", call.result
    assert (workdir / "workspace" / "in.txt").read_text() == "inside\n"
    assert not (workdir / "escaped.txt").exists()
    assert "Read-only file system" in call.result and call.result.rstrip().endswith("end")
    assert not any("sandbox" in w for w in r.warnings)


def test_without_a_sandbox_bash_needs_an_explicit_mode_and_the_cell_says_so(api, workdir, monkeypatch):
    from agentnb.tools import permissions

    monkeypatch.setattr(permissions, "sandbox_problem", lambda: "bwrap not found on PATH")
    inside = {"command": "echo inside > in.txt", "description": "écrire"}
    api.enqueue(tool_use("Bash", inside), text("Refusé."))
    r = ask("Écris in.txt.", tools=["Bash"])
    assert [c.status for c in r.tool_calls] == ["denied"]
    assert not (workdir / "workspace" / "in.txt").exists()
    said = "\n".join(r.warnings)
    assert "Bash has no sandbox on this machine (bwrap not found on PATH" in said
    assert "apt-get install bubblewrap socat" in said and "bypassPermissions" in said
    # the explicit mode runs it (unsandboxed: the user chose it), and the cell no longer warns
    api.enqueue(tool_use("Bash", inside), text("Fait."))
    r = ask("Écris in.txt.", tools=["Bash"], permission_mode="bypassPermissions")
    assert [c.status for c in r.tool_calls] == ["done"] and (workdir / "workspace" / "in.txt").is_file()
    assert not any("sandbox" in w for w in r.warnings)


@needs_sandbox
def test_a_sandbox_the_cli_cannot_start_stops_the_cell_instead_of_running_bash_unsandboxed(api, workdir, tmp_path,
                                                                                          monkeypatch):
    from agentnb.tools import engine, permissions

    # agentnb believes in the sandbox, the CLI finds no socat: it must refuse to start, not fall back
    bin_dir = tmp_path / "bin-without-socat"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in Path(folder).glob("*") if Path(folder).is_dir() else ():
            if program.name != "socat" and not (bin_dir / program.name).exists():
                (bin_dir / program.name).symlink_to(program)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("socat") is None
    monkeypatch.setattr(permissions, "sandbox_problem", lambda: None)
    api.enqueue(tool_use("Bash", escape_attempt(workdir)), text("Fait."))
    with pytest.raises(engine.CLIFailed, match="socat"):
        ask("Écris in.txt.", tools=["Bash"], permission_mode="bypassPermissions")
    assert not (workdir / "escaped.txt").exists() and api.message_requests == []

"""How a tools cell shows in a notebook, live and replayed (the real CLI, the magic in an IPython shell,
the displays captured as a front end receives them): paths shown relative to the workspace, a Write's
diff taken before the file is written, and on replay each call shown once, ended, without timings, so a
saved notebook replays to the same outputs in another folder."""

from __future__ import annotations

import re
import shutil

import pytest

from agentnb.testing.server import text, tool_use

pytest.importorskip("claude_agent_sdk")

CELL = "Écris schema.sql puis lance ls."


class Displays:
    """What the kernel would send: display_data and update_display_data, in order."""

    def __init__(self, shell, monkeypatch):
        self.sent: list[tuple[str, dict]] = []
        publisher = shell.display_pub

        def publish(data, metadata=None, *, transient=None, update=False, **kwargs):
            self.sent.append(("update" if update else "display", dict(data)))

        monkeypatch.setattr(publisher, "publish", publish)

    def tools(self):
        return [(kind, data) for kind, data in self.sent if str(data.get("text/plain", "")).startswith("[tool]")]


def run_cell(shell, workspace):
    return shell.run_cell_magic("backend_dev", "--tools Write,Bash --permission-mode bypassPermissions "
                                f"--workspace {workspace} --no-check", CELL)


def checkout_elsewhere(workdir, n, monkeypatch, displays):
    """A new checkout (its own folder, the recordings copied in) and a new session there, as CI does."""
    from agentnb.session import reset

    elsewhere = workdir / f"checkout{n}"
    elsewhere.mkdir()
    shutil.copytree(workdir / "recordings", elsewhere / "recordings")
    monkeypatch.chdir(elsewhere)
    reset()
    displays.sent.clear()
    return elsewhere


def script(api, workspace):
    api.enqueue(tool_use("Write", {"file_path": str(workspace / "schema.sql"),
                                   "content": "CREATE TABLE membre (id int PRIMARY KEY);\n"}),
                tool_use("Bash", {"command": "ls"}), text("Fait."))


def test_live_then_replayed_in_another_folder_the_cell_shows_the_same(api, workdir, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "agentnb")
    shell.run_line_magic("reload_ext", "agentnb")
    displays = Displays(shell, monkeypatch)
    script(api, workdir / "ws")
    run_cell(shell, "ws")
    live = displays.tools()
    # live: each call shown when it starts, then updated when it ends, with its duration
    assert [kind for kind, _ in live] == ["display", "update", "display", "update"]
    ended_live = [d["text/plain"] for kind, d in live if kind == "update"]
    assert ended_live[0].startswith("[tool] Write · schema.sql · allowed · result ")
    assert re.search(r" · \d+\.\d s$", ended_live[0])
    # the Write's input is the new file, also once it is written (not an empty diff against itself)
    write_html = [d["text/html"] for kind, d in live if kind == "update"][0]
    assert "+++ schema.sql (new file)" in write_html and "CREATE TABLE membre" in write_html
    assert str(workdir) not in "".join(d["text/html"] + d["text/plain"] for _, d in live)

    outputs = []
    for _ in range(2):                     # replayed twice, the second time elsewhere
        monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
        monkeypatch.delenv("ANTHROPIC_API_KEY")
        elsewhere = checkout_elsewhere(workdir, len(outputs), monkeypatch, displays)
        before = len(api.message_requests)
        run_cell(shell, "ws")
        assert len(api.message_requests) == before
        assert (elsewhere / "ws" / "schema.sql").is_file()
        shown = displays.tools()
        # once each, ended, no timing: what nbval (which ignores display updates) compares
        assert [kind for kind, _ in shown] == ["display", "display"]
        assert [d["text/plain"].rsplit(" · result", 1)[0] for _, d in shown] == [
            "[tool] Write · schema.sql · allowed", "[tool] Bash · ls · allowed"]
        assert not any(re.search(r"\d\.\d s$", d["text/plain"]) for _, d in shown)
        outputs.append(displays.sent[:])
        monkeypatch.setenv("ANTHROPIC_API_KEY", "unused")
    assert outputs[0] == outputs[1]


def test_a_consultation_shows_its_requests_and_cost_the_same_live_and_replayed(api, workdir, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "agentnb")
    shell.run_line_magic("reload_ext", "agentnb")
    displays = Displays(shell, monkeypatch)
    api.enqueue(tool_use("Agent", {"subagent_type": "architecte", "description": "choix",
                                   "prompt": "Une table par prêt ?", "run_in_background": False}),
                tool_use("Read", {"file_path": str(workdir / "ws" / "absent.sql")}),
                text("Décision : une table pret."), text("L'architecte recommande une table pret."))

    def cell():
        shell.run_cell_magic("backend_dev", "--tools Read,Agent --permission-mode acceptEdits --workspace ws --no-check",
                             "Demande à l'architecte.")

    cell()
    # live: the consultation's line, at its end, counts the teammate's two requests and their cost
    live = [d["text/plain"] for kind, d in displays.tools() if kind == "update" and "Agent" in d["text/plain"]]
    line = re.sub(r" · \d+\.\d s$", "", live[-1])
    assert re.search(r" · 2 requests, in [\d,]+ out [\d,]+, \$\d+\.\d{4}$", line), line
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    shown = []
    for n in range(2):
        checkout_elsewhere(workdir, n, monkeypatch, displays)
        cell()
        shown.append(displays.sent[:])
        agent_lines = [d["text/plain"] for _, d in displays.tools() if "Agent" in d["text/plain"]]
        # replayed: shown once, ended, the same line as live but for the duration
        assert agent_lines == [line]
    assert shown[0] == shown[1]

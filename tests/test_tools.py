"""``--tools``: the real Claude Code CLI (bundled with claude-agent-sdk) runs the agent against agentnb's
endpoint, which forwards to the local Messages API server, records and replays. Judged from outside:
the workspace's files, the requests the server saw, the recordings and the log on disk."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentnb.testing.server import text, tool_use

from conftest import TEST_KEY

pytest.importorskip("claude_agent_sdk")

TEST_FILE = "def add(a, b):\n    return a - b\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def ask(prompt: str, **options):
    from agentnb.session import current
    from agentnb.tools.cell import ToolsOptions

    return current().ask("backend-dev", prompt, tools=ToolsOptions(**options))


def script_write_edit_bash(server, workspace: Path):
    server.enqueue(
        tool_use("Write", {"file_path": str(workspace / "test_calc.py"), "content": TEST_FILE}, "J'écris le test."),
        tool_use("Edit", {"file_path": str(workspace / "test_calc.py"), "old_string": "return a - b",
                          "new_string": "return a + b"}),
        tool_use("Bash", {"command": f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py",
                          "description": "run the test"}),
        text("Le test passe.\n\n```sql\n-- schema.sql\nCREATE TABLE livre (id int PRIMARY KEY);\n```\n"))


def files_under(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def test_write_edit_then_bash_run_for_real_in_the_workspace(api, workdir):
    workspace = workdir / "workspace"
    script_write_edit_bash(api, workspace)
    r = ask("Écris add() et son test, puis lance-le.", permission_mode="bypassPermissions")
    assert (workspace / "test_calc.py").read_text() == TEST_FILE.replace("a - b", "a + b")
    assert [c.name for c in r.tool_calls] == ["Write", "Edit", "Bash"]
    assert [c.status for c in r.tool_calls] == ["done", "done", "done"]
    assert "1 passed" in r.tool_calls[2].result
    assert [a.filename for a in r.files] == ["test_calc.py"] and r.files[0].kind == "python"
    assert [c.path for c in r.changes] == ["test_calc.py"]
    # the file and the fenced schema are both artifacts; the checks saw them
    assert {a.filename for a in r.artifacts} >= {"test_calc.py", "schema.sql"}
    assert r.text.startswith("J'écris le test.") and "Le test passe." in r.text
    # four requests in the loop, each forwarded with the real key, which the CLI never held
    loop = api.message_requests
    assert len(loop) == 4 and r.requests == 4
    assert all(req.api_key == TEST_KEY for req in loop)
    assert all(req.path == "/v1/messages?beta=true" for req in loop)
    assert r.usage["output_tokens"] > 0 and r.cost_usd > 0 and not r.replayed
    # the key is in no recording, no log and no workspace file; the CLI's environment had none of it
    for path in workdir.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert TEST_KEY.encode() not in path.read_bytes(), path


def test_in_a_workspace_of_many_files_only_what_the_agent_wrote_is_listed(api, workdir):
    # the workspace's "before" is taken while the CLI starts; no tool may run before it is done
    workspace = workdir / "workspace"
    for i in range(3000):
        folder = workspace / f"pkg{i % 30}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_text(f"VALUE = {i}\n" * 50)
    api.enqueue(tool_use("Bash", {"command": "printf 'EXTRA = 1\\n' >> pkg7/mod7.py", "description": "append"}),
                tool_use("Write", {"file_path": str(workspace / "pkg7" / "new.py"), "content": "NEW = 1\n"}),
                text("Fait."))
    r = ask("Ajoute EXTRA et new.py.", permission_mode="bypassPermissions")
    assert [c.status for c in r.tool_calls] == ["done", "done"]
    assert (workspace / "pkg7" / "mod7.py").read_text().endswith("VALUE = 7\nEXTRA = 1\n")
    assert [(c.path, c.status) for c in r.changes] == [("pkg7/mod7.py", "changed"), ("pkg7/new.py", "created")]


def test_record_then_replay_in_another_folder_rebuilds_the_same_workspace(api, workdir, tmp_path_factory,
                                                                        monkeypatch):
    script_write_edit_bash(api, workdir / "workspace")
    first = ask("Écris add() et son test, puis lance-le.", permission_mode="bypassPermissions")
    recorded = files_under(workdir / "workspace")
    recordings = sorted((workdir / "recordings").glob("*.json"))
    assert len(recordings) == 4
    text_of_recordings = "".join(p.read_text() for p in recordings)
    assert str(workdir) not in text_of_recordings and "${AGENTNB_WORKSPACE}/test_calc.py" in text_of_recordings

    elsewhere = tmp_path_factory.mktemp("checkout") / "deep" / "elsewhere"
    elsewhere.mkdir(parents=True)
    shutil.copytree(workdir / "recordings", elsewhere / "recordings")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    from agentnb.session import reset

    for _ in range(2):              # replayed twice, from a fresh session each time: the same result
        reset()
        shutil.rmtree(elsewhere / "workspace", ignore_errors=True)
        before = len(api.message_requests)
        again = ask("Écris add() et son test, puis lance-le.", permission_mode="bypassPermissions")
        assert len(api.message_requests) == before, "a replay must not reach the API"
        assert again.replayed and again.text == first.text
        assert files_under(elsewhere / "workspace") == recorded
        assert [c.input.get("file_path", "") for c in again.tool_calls][:2] == [
            str(elsewhere / "workspace" / "test_calc.py")] * 2
        assert "1 passed" in again.tool_calls[2].result
    assert not any(p.is_file() for p in workdir.glob("elsewhere*"))


def test_a_diverging_request_is_a_miss_naming_the_cell_and_the_step(api, workdir, monkeypatch):
    from agentnb.errors import RecordingMissingError

    monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
    with pytest.raises(RecordingMissingError) as caught:
        ask("Une bibliothèque.", permission_mode="acceptEdits")
    message = str(caught.value)
    assert "Step 1" in message and "Une bibliothèque." in message and "backend-dev" in message


def test_headless_default_mode_denies_and_names_the_option(api, workdir):
    workspace = workdir / "workspace"
    api.enqueue(tool_use("Write", {"file_path": str(workspace / "schema.sql"), "content": "CREATE TABLE t (id int);"}),
                text("Je n'ai pas pu écrire le fichier."))
    r = ask("Écris schema.sql.", tools=["Read", "Write"])
    assert not (workspace / "schema.sql").exists()
    assert [c.status for c in r.tool_calls] == ["denied"]
    assert any("--permission-mode acceptEdits" in w for w in r.warnings)
    # the agent was told: the denial went back to the model as the tool's result
    result = api.message_requests[-1].body["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result.get("is_error")


def test_file_tools_cannot_leave_the_workspace(api, workdir):
    outside = workdir / "secret.txt"
    outside.write_text("not for the agent")
    api.enqueue(tool_use("Read", {"file_path": str(outside)}),
                tool_use("Write", {"file_path": str(workdir / "escaped.txt"), "content": "x"}),
                tool_use("Read", {"file_path": str(workdir / "workspace" / ".." / "secret.txt")}),
                text("Refusé."))
    r = ask("Lis ../secret.txt.", permission_mode="bypassPermissions")
    assert not (workdir / "escaped.txt").exists()
    assert [c.status for c in r.tool_calls] == ["denied", "denied", "denied"]
    assert all("not for the agent" not in (c.result or "") for c in r.tool_calls)
    bodies = json.dumps([req.body for req in api.message_requests])
    assert "not for the agent" not in bodies
    assert any("outside the workspace" in w for w in r.warnings)


def test_plain_cell_after_a_tools_cell_knows_what_was_said(api, workdir):
    from agentnb.session import current

    api.enqueue(text("Réponse outillée : la table s'appelle ouvrage."))
    ask("Quel nom pour la table des livres ?", tools=["Read"])
    api.enqueue(text("D'accord."))
    current().ask("backend-dev", "Et pour les membres ?")
    messages = api.message_requests[-1].body["messages"]
    said = json.dumps(messages, ensure_ascii=False)
    assert "Quel nom pour la table des livres ?" in said and "la table s'appelle ouvrage" in said


def test_tools_cell_after_a_plain_cell_gets_the_history(api, workdir):
    from agentnb.session import current

    api.enqueue(text("Appelons-la ouvrage."))
    current().ask("backend-dev", "Nom de la table des livres ?")
    api.enqueue(text("Oui."))
    ask("Tu confirmes ?", tools=["Read"])
    said = json.dumps(api.message_requests[-1].body["messages"], ensure_ascii=False)
    assert "Nom de la table des livres ?" in said and "Appelons-la ouvrage." in said


def test_without_the_extra_one_line_names_the_install(workdir, monkeypatch):
    from agentnb.tools.engine import ToolsUnavailable

    monkeypatch.setitem(sys.modules, "claude_agent_sdk", None)
    with pytest.raises(ToolsUnavailable, match=r"pip install 'agentnb\[tools\]'"):
        ask("x")


def test_loading_the_extension_does_not_import_the_sdk():
    code = ("import sys, agentnb, agentnb.magics, agentnb.session, agentnb.cli, agentnb.settings\n"
            "print('claude_agent_sdk' in sys.modules, 'agentnb.tools.engine' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["False", "False"]


def test_magic_with_tools_narrows_them_and_works_in_the_workspace_option(workdir, api):
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    from agentnb.tools.cell import ToolsResponse

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "agentnb")
    shell.run_line_magic("reload_ext", "agentnb")
    api.enqueue(tool_use("Write", {"file_path": str(workdir / "ailleurs" / "schema.sql"),
                                   "content": "CREATE TABLE membre (id int PRIMARY KEY);\n"}),
                text("Schéma écrit."))
    r = shell.run_cell_magic("backend_dev", "--tools Read,Write --workspace ailleurs --permission-mode acceptEdits",
                             "Écris schema.sql.")
    assert isinstance(r, ToolsResponse) and (workdir / "ailleurs" / "schema.sql").is_file()
    offered = {t["name"] for t in api.message_requests[-1].body["tools"]}
    assert {"Read", "Write"} <= offered and not offered & {"Bash", "Edit", "Glob", "Grep"}
    assert [a.filename for a in r.files] == ["schema.sql"] and r.files[0].kind == "schema"
    assert any(c.name == "Schema on DuckDB" and c.status == "passed" for c in r.checks) or r.schema
    with pytest.raises(UsageError, match="go with --tools"):
        shell.run_cell_magic("backend_dev", "--workspace x", "y")
    shell.run_line_magic("agentnb", "tools on")
    api.enqueue(text("Toujours outillé."))
    assert isinstance(shell.run_cell_magic("backend_dev", "", "Encore ?"), ToolsResponse)
    shell.run_line_magic("agentnb", "tools off")


def test_cli_ask_with_tools(api, workdir, capsys):
    from agentnb.cli import main

    api.enqueue(tool_use("Write", {"file_path": str(workdir / "workspace" / "notes.md"), "content": "# Notes\n"}),
                text("Fait."))
    assert main(["ask", "backend-dev", "Prends des notes.", "--tools", "Write", "--no-check",
                 "--permission-mode", "acceptEdits"]) == 0
    captured = capsys.readouterr()
    assert "Fait." in captured.out and "Write" in captured.err and "notes.md" in captured.err
    assert (workdir / "workspace" / "notes.md").read_text() == "# Notes\n"


def test_budget_stops_the_loop_before_a_request_that_could_pass_it(api, workdir, monkeypatch):
    from agentnb.errors import AgentnbError

    monkeypatch.setenv("AGENTNB_BUDGET_USD", "0.0001")
    with pytest.raises(AgentnbError, match="Budget reached"):
        ask("Une bibliothèque.", tools=["Read"])
    assert api.message_requests == []


def test_max_turns_bounds_the_loop(api, workdir):
    api.enqueue(tool_use("Read", {"file_path": str(workdir / "workspace" / "a.txt")}, times=None))
    try:
        r = ask("Lis a.txt sans fin.", tools=["Read"], max_turns=2)
    finally:
        api.reset()
    assert len(r.tool_calls) <= 2 and len(api.message_requests) <= 3
    assert any("--max-turns" in w for w in r.warnings)


def test_interrupt_ends_the_cli_process_group(api, workdir):
    import os
    import signal
    import threading
    import time


    marker = workdir / "workspace" / "still-running"
    script = f"import pathlib, time; time.sleep(30); pathlib.Path({str(marker)!r}).touch()"
    api.enqueue(tool_use("Bash", {"command": f"{sys.executable} -c \"{script}\""}), text("fin"))
    seen = []
    raised = threading.Event()

    def press_interrupt():
        # like a person pressing interrupt, again if the first one landed in a finalizer and was lost
        for _ in range(3):
            if raised.wait(1.5):
                return
            os.kill(os.getpid(), signal.SIGINT)

    def interrupt_when_bash_starts(call):
        seen.append(call)
        threading.Thread(target=press_interrupt, daemon=True).start()

    from agentnb.session import current
    from agentnb.tools.cell import ToolsOptions

    class Renderer:
        def start(self, replayed): pass
        def text(self, delta): pass
        def tool_call(self, call): interrupt_when_bash_starts(call)
        def tool_result(self, call): pass
        def finish(self, response): pass
        def checked(self, response): pass
        def fail(self, error, partial): self.failed = error

    shown = Renderer()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        current().ask("backend-dev", "Lance un long script.", renderer=shown,
                      tools=ToolsOptions(tools=["Bash"], permission_mode="bypassPermissions"))
    raised.set()
    assert time.monotonic() - started < 20 and [c.name for c in seen] == ["Bash"]
    out = subprocess.run(["pgrep", "-f", "time.sleep(30)"], capture_output=True, text=True)
    assert out.stdout.strip() == "", "the CLI's children must end with it"
    assert isinstance(shown.failed, KeyboardInterrupt)
    # the next cell goes on
    api.reset()
    api.enqueue(text("Je reprends."))
    assert "Je reprends." in ask("Reprends.", tools=["Read"]).text


def test_backend_dev_consults_architecte_as_a_claude_code_sub_agent(api, workdir):
    api.enqueue(tool_use("Agent", {"subagent_type": "architecte", "description": "choix du modèle",
                                   "prompt": "Une table par prêt ou un historique ?", "run_in_background": False}),
                text("Décision : une table pret, historisée par date de retour."),
                text("L'architecte recommande une table pret."))
    r = ask("Conçois les prêts ; demande à l'architecte.", permission_mode="acceptEdits")
    systems = [json.dumps(req.body.get("system"), ensure_ascii=False) for req in api.message_requests]
    assert any("Tu es l'ARCHITECTE" in s for s in systems), "the teammate ran with its own prompt"
    consultation = r.tool_calls[0]
    assert consultation.name == "Agent" and consultation.status == "done"
    assert "une table pret" in consultation.result
    assert r.text.endswith("L'architecte recommande une table pret.")


def test_a_consultation_shows_its_own_requests_usage_and_cost_and_the_cell_totals_them(api, workdir):
    from agentnb import sessionlog
    from agentnb.render.answer import footer
    from agentnb.render.tools import summary_line

    api.enqueue(tool_use("Agent", {"subagent_type": "architecte", "description": "choix du modèle",
                                   "prompt": "Une table par prêt ou un historique ?", "run_in_background": False}),
                tool_use("Read", {"file_path": str(workdir / "workspace" / "absent.sql")}),
                text("Décision : une table pret."),
                text("L'architecte recommande une table pret."))
    r = ask("Conçois les prêts ; demande à l'architecte.", permission_mode="acceptEdits")
    consultation = r.tool_calls[0]
    # the teammate's two requests (its Read, then its answer) are the ones whose system prompt is its own
    theirs = [req for req in api.message_requests if "Tu es l'ARCHITECTE" in json.dumps(req.body.get("system"),
                                                                                       ensure_ascii=False)]
    assert len(theirs) == 2 and consultation.requests == 2 and r.requests == 4
    assert consultation.usage["output_tokens"] > 0
    assert 0 < consultation.cost_usd < r.cost_usd
    # the cell's footer totals every request: backend-dev's two and the teammate's two, as logged
    logged = sessionlog.rows(home=workdir / ".agentnb", prompt="Conçois les prêts ; demande à l'architecte.")
    assert len(logged) == 4 and r.cost_usd == pytest.approx(sum(row["cost_usd"] for row in logged))
    assert f"${r.cost_usd:.4f}" in footer(r)
    # the teammate's requests and tool calls are logged under its name
    assert sorted(row["agent"] for row in logged) == ["architecte", "architecte", "backend-dev", "backend-dev"]
    assert sessionlog.query("select agent, tool from tool_calls order by time", home=workdir / ".agentnb"
                            ).fetchall() == [("architecte", "Read"), ("backend-dev", "Agent")]
    read = next(c for c in r.tool_calls if c.name == "Read")
    assert read.parent == consultation.id and read.requests == 0
    tokens_in = sum(consultation.usage[k] for k in ("input_tokens", "cache_creation_input_tokens",
                                                     "cache_read_input_tokens"))
    assert summary_line(consultation, live=False).endswith(
        f" · 2 requests, in {tokens_in:,} out {consultation.usage['output_tokens']:,}, ${consultation.cost_usd:.4f}")


def test_every_tool_call_is_a_log_row_linked_to_its_request_and_not_counted_as_a_call(api, workdir):
    from agentnb import sessionlog

    workspace = workdir / "workspace"
    leaked = "sk-ant-api03-" + "x" * 40
    api.enqueue(tool_use("Write", {"file_path": str(workspace / "schema.sql"), "content": "CREATE TABLE t (id int);"}),
                tool_use("Bash", {"command": f"echo {leaked}", "description": "echo"}),
                tool_use("Read", {"file_path": str(workdir / "outside.txt")}),
                tool_use("Read", {"file_path": str(workspace / "absent.sql")}),
                text("Fait."))
    r = ask("Écris schema.sql puis lis.", tools=["Write", "Read", "Bash"], permission_mode="bypassPermissions")
    assert [c.status for c in r.tool_calls] == ["done", "done", "denied", "error"]
    con = sessionlog.connect(workdir / ".agentnb")
    tools = con.sql("select tool, tool_input, tool_status, duration_s, call_id, agent, replayed"
                    " from tool_calls order by time").fetchall()
    assert [(t[0], t[2]) for t in tools] == [("Write", "allowed"), ("Bash", "allowed"), ("Read", "denied"),
                                             ("Read", "error")]
    # a short input, relative to the workspace, redacted
    assert tools[0][1] == "schema.sql" and tools[1][1] == "echo sk-ant-[redacted]"
    assert leaked not in "".join(p.read_text() for p in (workdir / ".agentnb" / "log").glob("*.jsonl"))
    assert all(t[3] is not None and t[3] >= 0 for t in tools) and {t[5] for t in tools} == {"backend-dev"}
    # each links to the request whose answer asked for it; the five requests stay the only calls
    calls = con.sql("select call_id, answer from exchanges order by time").fetchall()
    assert len(calls) == 5 and sessionlog.totals(workdir / ".agentnb")["exchanges"] == 5
    answers = dict(calls)
    assert [answers[t[4]].split("[tools] ")[1].split("(")[0] for t in tools] == ["Write", "Bash", "Read", "Read"]
    assert not any(t[6] for t in tools)


def processes_in(folder: Path) -> list[str]:
    """The command lines of the processes working in ``folder`` (Linux: from /proc)."""
    import os

    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.readlink(entry / "cwd").startswith(str(folder)):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


BACKGROUND = ("(sleep 2; echo late >> late.txt) > /dev/null 2>&1 & "
              "setsid sh -c 'sleep 2; echo detached >> late.txt' > /dev/null 2>&1 & echo started")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sandboxed", [False, True], ids=["unsandboxed", "sandboxed"])
def test_nothing_the_cells_bash_started_outlives_the_cell(api, workdir, monkeypatch, sandboxed):
    import time

    from agentnb.tools import permissions

    if sandboxed and permissions.sandbox_problem():
        pytest.skip(f"no usable Bash sandbox here: {permissions.sandbox_problem()}")
    if not sandboxed:
        monkeypatch.setattr(permissions, "sandbox_problem", lambda: "bwrap not found on PATH")
    workspace = workdir / "workspace"
    api.enqueue(tool_use("Bash", {"command": BACKGROUND, "description": "en arrière-plan"}), text("Fini."))
    r = ask("Lance deux tâches de fond.", tools=["Bash"], permission_mode="bypassPermissions")
    assert r.tool_calls[0].status == "done" and "started" in r.tool_calls[0].result
    assert processes_in(workspace) == []
    time.sleep(3)
    assert not (workspace / "late.txt").exists(), "a background process kept writing after the cell"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_kernel_takes_the_cli_and_what_its_bash_started_with_it(api, workdir, monkeypatch):
    import os
    import signal
    import time

    workspace = workdir / "workspace"
    api.enqueue(tool_use("Bash", {"command": "echo $$ > shell.pid; sleep 30; touch late.txt"}), text("fin"))
    script = ("import sys\nfrom agentnb.session import current\nfrom agentnb.tools.cell import ToolsOptions\n"
              "current().ask('backend-dev', 'Attends.', check=False, tools=ToolsOptions(tools=['Bash'], "
              "permission_mode='bypassPermissions'))\n")
    scratch = workdir / "tmp"           # where the kernel's temporary folders go (the CLI's scratch folder)
    scratch.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "TMPDIR": str(scratch)}
    kernel = subprocess.Popen([sys.executable, "-c", script], cwd=workdir, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (workspace / "shell.pid").is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (workspace / "shell.pid").is_file() and processes_in(workspace)
        kernel.send_signal(signal.SIGKILL)          # no finally, no cleanup in the kernel: the launcher's job
        kernel.wait(10)
        deadline = time.monotonic() + 10
        while processes_in(workspace) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_in(workspace) == []
        while list(scratch.glob("agentnb-cli-*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(scratch.glob("agentnb-cli-*")) == []       # nor its scratch folder
    finally:
        kernel.kill()
    assert not (workspace / "late.txt").exists()

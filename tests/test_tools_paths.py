"""``--tools`` paths beyond the main loop, with the real bundled CLI against the local Messages API server:
a conversation across tools and plain cells, ``--add-dir``, the ``plan`` and ``dontAsk`` modes headless,
and the user's own ``~/.claude`` left out unless ``--claude-settings``. Judged from outside: the requests
the server saw, the files on disk."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentnb.testing.server import text, tool_use

pytest.importorskip("claude_agent_sdk")


def ask(prompt: str, **options):
    from agentnb.session import current
    from agentnb.tools.cell import ToolsOptions

    return current().ask("backend-dev", prompt, tools=ToolsOptions(**options))


def said(request) -> str:
    return json.dumps(request.body["messages"], ensure_ascii=False)


def test_the_next_tools_cell_resumes_the_claude_code_session(api, workdir):
    api.enqueue(text("La table s'appellera ouvrage."))
    first = ask("Quel nom pour la table des livres ?", tools=["Read"])
    api.enqueue(text("Oui, ouvrage."))
    second = ask("Tu confirmes le nom ?", tools=["Read"])
    last = api.message_requests[-1]
    # the CLI itself carried the first exchange (resumed session), agentnb did not paste it as history
    assert "Quel nom pour la table des livres ?" in said(last) and "La table s'appellera ouvrage." in said(last)
    assert "Earlier in this conversation" not in said(last)
    assert first.session_id and second.session_id == first.session_id
    # a new thread starts a fresh CLI session that knows nothing of it
    from agentnb.session import current

    api.enqueue(text("Nouveau fil."))
    from agentnb.tools.cell import ToolsOptions

    current().ask("backend-dev", "Et les membres ?", new=True, tools=ToolsOptions(tools=["Read"]))
    assert "Quel nom pour la table des livres ?" not in said(api.message_requests[-1])


def test_tools_then_plain_then_tools_the_resumed_session_learns_the_plain_turn(api, workdir):
    from agentnb.session import current

    api.enqueue(text("Réponse outillée : ouvrage."))
    ask("Nom de la table des livres ?", tools=["Read"])
    api.enqueue(text("Réponse simple : membre."))
    current().ask("backend-dev", "Nom de la table des membres ?")
    plain = api.message_requests[-1]
    assert "Réponse outillée : ouvrage." in said(plain)
    api.enqueue(text("Les deux noms sont notés."))
    ask("Récapitule les noms.", tools=["Read"])
    last = said(api.message_requests[-1])
    # resumed (the first tools exchange is there) and told of the plain turn it had not seen, once
    assert "Nom de la table des livres ?" in last and "Réponse outillée : ouvrage." in last
    assert last.count("Réponse simple : membre.") == 1 and "Earlier in this conversation" in last


def test_a_folder_outside_the_workspace_is_readable_only_when_added(api, workdir):
    shared = workdir / "shared-specs"
    shared.mkdir()
    (shared / "spec.md").write_text("ISBN obligatoire\n")
    read = tool_use("Read", {"file_path": str(shared / "spec.md")})

    api.enqueue(read, text("Pas lu."))
    refused = ask("Lis la spec.", tools=["Read"], permission_mode="bypassPermissions")
    assert [c.status for c in refused.tool_calls] == ["denied"]
    assert "ISBN obligatoire" not in json.dumps([r.body for r in api.message_requests], ensure_ascii=False)
    assert any("outside the workspace" in w for w in refused.warnings)

    api.reset()
    earlier = set((workdir / "recordings").glob("*.json"))
    api.enqueue(read, text("Lu : ISBN obligatoire."))
    added = ask("Lis la spec.", tools=["Read"], permission_mode="bypassPermissions", add_dirs=[str(shared)],
                workspace="ws2")
    assert [c.status for c in added.tool_calls] == ["done"] and "ISBN obligatoire" in added.tool_calls[0].result
    assert "ISBN obligatoire" in said(api.message_requests[-1])
    # recordings name the added folder by a placeholder, not this machine's path
    recorded = "".join(p.read_text() for p in set((workdir / "recordings").glob("*.json")) - earlier)
    assert "${AGENTNB_ADD_DIR_1}/spec.md" in recorded and str(shared) not in recorded

    from agentnb.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="--add-dir .*no such folder"):
        ask("x", tools=["Read"], add_dirs=[str(workdir / "missing")])


def test_plan_mode_reads_but_does_not_write_or_run(api, workdir):
    workspace = workdir / "workspace"
    workspace.mkdir()
    (workspace / "schema.sql").write_text("CREATE TABLE livre (id int PRIMARY KEY);\n")
    marker = workspace / "ran"
    api.enqueue(tool_use("Read", {"file_path": str(workspace / "schema.sql")}),
                tool_use("Write", {"file_path": str(workspace / "migration.sql"), "content": "ALTER TABLE livre;"}),
                tool_use("Bash", {"command": f"{sys.executable} -c \"open('ran', 'w')\""}),
                text("Voici mon plan."))
    r = ask("Prépare la migration.", tools=["Read", "Write", "Bash"], permission_mode="plan")
    assert r.tool_calls[0].status == "done" and "CREATE TABLE livre" in r.tool_calls[0].result
    assert [c.status for c in r.tool_calls[1:]] == ["denied", "denied"]
    assert not (workspace / "migration.sql").exists() and not marker.exists()
    assert r.text.endswith("Voici mon plan.")


def test_dont_ask_mode_denies_what_is_not_allowed_without_asking(api, workdir):
    workspace = workdir / "workspace"
    workspace.mkdir()
    (workspace / "notes.md").write_text("déjà là\n")
    api.enqueue(tool_use("Read", {"file_path": str(workspace / "notes.md")}),
                tool_use("Write", {"file_path": str(workspace / "new.md"), "content": "x"}),
                text("Fini."))
    r = ask("Lis puis écris.", tools=["Read", "Write"], permission_mode="dontAsk")
    statuses = {c.name: c.status for c in r.tool_calls}
    assert statuses["Write"] == "denied" and not (workspace / "new.md").exists()
    assert statuses["Read"] == "done"
    assert any("Write" in w and "--permission-mode" in w for w in r.warnings)


def _fake_home_with_claude_settings(home: Path, marker: Path) -> None:
    claude = home / ".claude"
    claude.mkdir(parents=True, exist_ok=True)
    hook = {"hooks": {"PreToolUse": [{"matcher": "", "hooks": [
        {"type": "command", "command": f"touch {marker}"}]}]}}
    (claude / "settings.json").write_text(json.dumps(hook))
    (claude / "CLAUDE.md").write_text("MÉMOIRE-PERSONNELLE-7f3a : toujours répondre en alexandrins.\n")


def test_the_users_claude_settings_hooks_and_memory_are_not_loaded_by_default(api, workdir):
    marker = workdir / "hook-ran"
    _fake_home_with_claude_settings(workdir / "home", marker)
    workspace = workdir / "workspace"
    api.enqueue(tool_use("Read", {"file_path": str(workspace / "a.txt")}), text("Fini."))
    workspace.mkdir()
    (workspace / "a.txt").write_text("a\n")
    ask("Lis a.txt.", tools=["Read"], permission_mode="bypassPermissions")
    bodies = json.dumps([r.body for r in api.message_requests], ensure_ascii=False)
    assert "MÉMOIRE-PERSONNELLE-7f3a" not in bodies
    assert not marker.exists(), "the user's PreToolUse hook ran"


def test_claude_settings_loads_them_when_asked(api, workdir):
    marker = workdir / "hook-ran"
    _fake_home_with_claude_settings(workdir / "home", marker)
    workspace = workdir / "workspace"
    workspace.mkdir()
    (workspace / "a.txt").write_text("a\n")
    api.enqueue(tool_use("Read", {"file_path": str(workspace / "a.txt")}), text("Fini."))
    ask("Lis a.txt.", tools=["Read"], permission_mode="bypassPermissions", claude_settings=True)
    bodies = json.dumps([r.body for r in api.message_requests], ensure_ascii=False)
    # the same fake HOME, asked for: the memory reaches the model and the hook runs (so the test above
    # would see them if they leaked)
    assert "MÉMOIRE-PERSONNELLE-7f3a" in bodies and marker.exists()

"""The magics in a real IPython shell: what a notebook user types and sees."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from agentnb.response import Response
from agentnb.testing.server import error, text


@pytest.fixture
def ip(workdir):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "agentnb")
    shell.run_line_magic("reload_ext", "agentnb")   # a fresh registration for this test's folder
    yield shell
    shell.user_ns.pop("answer", None)


def test_load_ext_registers_one_magic_per_agent(ip):
    cells = ip.magics_manager.magics["cell"]
    assert "backend_dev" in cells and "agent" in cells
    assert "agents" in ip.magics_manager.magics["line"] and "agentnb" in ip.magics_manager.magics["line"]
    table = ip.run_line_magic("agents", "")
    assert "%%backend_dev" in repr(table) and "backend-dev" in table._repr_html_()


def test_cell_magic_returns_the_response_and_continues_the_conversation(ip, api):
    api.enqueue(text("Premier schéma."), text("Avec réservations."))
    first = ip.run_cell_magic("backend_dev", "", "A lending library {with braces}.\n")
    assert isinstance(first, Response) and first.text == "Premier schéma."
    assert api.message_requests[-1].body["messages"][-1]["content"][-1]["text"] == "A lending library {with braces}.\n"
    second = ip.run_cell_magic("backend_dev", "-o answer", "Add reservations.")
    assert ip.user_ns["answer"] is second and len(api.message_requests[-1].body["messages"]) == 3
    assert "Avec réservations." in second._repr_markdown_() and "out " in second._repr_markdown_()


def test_options(ip, api):
    ip.run_cell_magic("backend_dev", "", "one")
    ip.run_cell_magic("backend_dev", "--new --model haiku --max-tokens 300", "two")
    body = api.message_requests[-1].body
    assert body["model"] == "claude-haiku-5-5" and body["max_tokens"] == 300 and len(body["messages"]) == 1
    ip.run_cell_magic("agent", "backend-dev --thread other", "three")
    assert len(api.message_requests[-1].body["messages"]) == 1


def test_with_attaches_namespace_objects(ip, api):
    ip.user_ns["notes"] = "Members may hold 5 loans."
    earlier = ip.run_cell_magic("backend_dev", "", "first")
    ip.user_ns["earlier"] = earlier
    ip.run_cell_magic("backend_dev", "--with notes,earlier", "Use these.")
    blocks = api.message_requests[-1].body["messages"][-1]["content"]
    assert "Members may hold 5 loans." in blocks[0]["text"] and "`notes`" in blocks[0]["text"]
    assert earlier.text in blocks[1]["text"] and blocks[-1]["text"] == "Use these."
    with pytest.raises(Exception, match="no variable named 'missing'"):
        ip.run_cell_magic("backend_dev", "--with missing", "x")


def test_dry_run_shows_the_request_and_sends_nothing(ip, api):
    dry = ip.run_cell_magic("backend_dev", "--dry-run", "Design it")
    assert api.message_requests == [] and "nothing sent" in dry._repr_markdown_()


def test_bad_option_is_a_usage_error(ip):
    with pytest.raises(UsageError):
        ip.run_cell_magic("backend_dev", "--max-tokens lots", "x")


def test_failed_call_fails_the_cell_with_a_short_message(ip, api, capsys):
    api.enqueue(error(401))
    result = ip.run_cell("%%backend_dev\nhello")
    assert result.error_in_exec is not None
    out = capsys.readouterr()
    shown = out.out + out.err
    assert "Authentication failed" in shown and "Traceback" not in shown and "site-packages" not in shown


def test_agentnb_settings(ip, api, capsys):
    ip.run_line_magic("agentnb", "record none")
    assert ip.run_line_magic("agentnb", "")  # status table
    with pytest.raises(Exception, match="no recording"):
        ip.run_cell_magic("backend_dev", "", "never recorded")
    with pytest.raises(Exception, match="not one of"):
        ip.run_line_magic("agentnb", "record sometimes")
    ip.run_line_magic("agentnb", "record once")
    ip.run_line_magic("agentnb", "model backend-dev opus")
    ip.run_cell_magic("backend_dev", "", "x")
    assert api.message_requests[-1].body["model"] == "claude-opus-5-5"
    usage = ip.run_line_magic("agentnb", "usage")
    assert "this session" in repr(usage)


def test_bad_agent_file_warns_once_and_never_fails_load(workdir, capsys):
    (workdir / "agents").mkdir()
    (workdir / "agents" / "broken.md").write_text("no front matter here\n")
    (workdir / "agents" / "good.md").write_text("---\nname: data-modeler\ndescription: d\n---\nbody\n")
    shell = InteractiveShell.instance()
    shell.run_line_magic("reload_ext", "agentnb")
    err = capsys.readouterr().err
    assert "broken.md" in err and err.count("agentnb:") == 1
    assert "data_modeler" in shell.magics_manager.magics["cell"]


def test_magic_help_is_the_manual(ip):
    doc = ip.magics_manager.magics["cell"]["backend_dev"].__doc__
    assert "--dry-run" in doc and "--with" in doc and "backend-dev" in doc


def test_a_big_collection_with_duplicate_names_warns_in_one_line(workdir, capsys, monkeypatch):
    folders = []
    for i in range(2):
        folder = workdir / f"collection{i}"
        folder.mkdir()
        for n in range(5):
            (folder / f"a{n}.md").write_text(f"---\nname: agent-{n}\ndescription: d\n---\nbody {i}\n")
        folders.append(str(folder))
    monkeypatch.setenv("AGENTNB_AGENTS_PATH", ":".join(folders))
    shell = InteractiveShell.instance()
    shell.run_line_magic("reload_ext", "agentnb")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "5 warnings" in err and "%agents" in err
    assert "collection1" in repr(shell.run_line_magic("agents", ""))      # the later file wins


def test_an_agent_never_replaces_an_existing_magic(workdir, capsys):
    (workdir / "agents").mkdir()
    (workdir / "agents" / "bash.md").write_text("---\nname: bash\ndescription: d\n---\nbody\n")
    shell = InteractiveShell.instance()
    shell.run_line_magic("reload_ext", "agentnb")
    assert "%%agent NAME" in capsys.readouterr().err
    assert not getattr(shell.magics_manager.magics["cell"]["bash"], "_agentnb", False)


def test_with_says_in_the_cell_what_it_cut_and_how_to_send_more(ip, api):
    from agentnb.attach import MAX_CHARS

    ip.user_ns["big"] = "y" * (MAX_CHARS + 25_000)
    response = ip.run_cell_magic("backend_dev", "--with big", "Summarise it.")
    sent = api.message_requests[-1].body["messages"][-1]["content"][0]["text"]
    assert sent.count("y") == MAX_CHARS and "25,000 more characters cut" in sent
    [note] = [w for w in response.warnings if "big" in w]
    assert "\n" not in note and "45,000" in note and "20,000" in note and "--with" in note
    assert note in response._repr_markdown_()
    dry = ip.run_cell_magic("backend_dev", "--dry-run --with big", "Summarise it.")
    assert note in dry.notes and "big" in dry._repr_markdown_()


def test_with_a_missing_variable_lists_the_users_variables_only(ip, api):
    ip.run_cell("books = 3\nmembers_df = 'x'\nimport json")
    with pytest.raises(Exception) as err:
        ip.run_cell_magic("backend_dev", "--with bookz", "x")
    message = str(err.value)
    assert "books" in message and "members_df" in message
    for internal in ("In", "Out", "exit", "quit", "get_ipython", "_i1", "_ih"):
        assert f" {internal}," not in message + "," and f" {internal})" not in message, internal


def _capture_outputs(ip, monkeypatch, interrupt_on: str | None = None):
    """Every output the cell publishes (displays and display updates); with ``interrupt_on``, the first
    publish whose Markdown holds that text raises KeyboardInterrupt, as the stop button does."""
    outputs = []

    def publish(data, metadata=None, **kwargs):
        outputs.append((data, metadata or {}))
        if interrupt_on and interrupt_on in data.get("text/markdown", "") and len(outputs) == 1:
            raise KeyboardInterrupt
    monkeypatch.setattr(ip.display_pub, "publish", publish)
    return outputs


@pytest.mark.parametrize("how", ["cut", "interrupted"])
def test_a_cut_or_interrupted_answer_keeps_a_text_form_and_agentnb_metadata(ip, api, monkeypatch, how):
    from agentnb.testing.server import cut, slow

    if how == "cut":
        api.enqueue(cut(after_chunks=2))
        outputs = _capture_outputs(ip, monkeypatch)
        with pytest.raises(Exception, match="ended before"):
            ip.run_cell_magic("backend_dev", "", "x")
    else:
        api.enqueue(slow("mot0 mot1 mot2 mot3 mot4 mot5 mot6 mot7", delay=0.02, chunk_size=5))
        outputs = _capture_outputs(ip, monkeypatch, interrupt_on="mot0")
        with pytest.raises(KeyboardInterrupt):
            ip.run_cell_magic("backend_dev", "", "x")
    assert outputs
    for data, metadata in outputs:
        assert not data["text/plain"].startswith("<IPython"), data
        assert "agentnb" in metadata, data
    last, _ = outputs[-1]
    assert ("interrupted" if how == "interrupted" else "incomplete") in last["text/plain"]


def test_reload_says_what_it_loaded(ip, workdir, capsys):
    (workdir / "agents").mkdir()
    (workdir / "agents" / "modeler.md").write_text("---\nname: data-modeler\ndescription: d\n---\nbody\n")
    (workdir / "agents" / "broken.md").write_text("no front matter here\n")
    capsys.readouterr()
    ip.run_line_magic("agentnb", "reload")
    out = capsys.readouterr().out
    from agentnb.catalog import bundled_folder

    bundled = len(list(bundled_folder().glob("*.md")))
    assert f"{bundled + 1} agents" in out and "%%backend_dev" in out and "%%data_modeler" in out
    assert "1 file skipped" in out
    assert "data_modeler" in ip.magics_manager.magics["cell"]

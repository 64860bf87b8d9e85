"""The ``agentnb`` command: a skin over the same API."""

from __future__ import annotations

import subprocess
import sys

from agentnb.cli import main
from agentnb.testing.server import text


def test_agents_lists_and_validates(workdir, capsys):
    assert main(["agents"]) == 0
    out = capsys.readouterr().out
    assert "%%backend_dev" in out and "backend-dev" in out
    (workdir / "agents").mkdir()
    (workdir / "agents" / "bad.md").write_text("---\nname: [oops\n---\n")
    from agentnb.session import reset

    reset()
    assert main(["agents"]) == 1
    out = capsys.readouterr().out
    assert "bad.md" in out and "skipped" in out


def test_ask_streams_to_the_terminal(api, capsys):
    api.enqueue(text("Le schéma {ok}.", chunk_size=3))
    assert main(["ask", "backend-dev", "Design {this}"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "Le schéma {ok}."
    assert "claude-sonnet-5-5" in captured.err and "$" in captured.err
    assert api.message_requests[-1].body["messages"][-1]["content"][-1]["text"] == "Design {this}"


def test_ask_no_stream_prints_the_answer_once_whole(api, capsys):
    api.enqueue(text("Le schéma {ok}.", chunk_size=3))
    assert main(["ask", "backend-dev", "x", "--no-stream", "--no-check"]) == 0
    assert capsys.readouterr().out == "Le schéma {ok}.\n"


def test_ask_prints_the_checks_and_fails_when_one_fails(api, capsys):
    api.enqueue(text("```python\n# app.py\ndef broken(:\n```\n"))
    assert main(["ask", "backend-dev", "x"]) == 1
    err = capsys.readouterr().err
    assert "❌ Python syntax: app.py" in err and "checks: " in err


def test_ask_errors_are_one_line_and_exit_2(workdir, capsys):
    assert main(["ask", "backend_devv", "x"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'backend-dev'" in err and "Traceback" not in err


def test_console_script_is_installed(workdir):
    done = subprocess.run([sys.executable, "-m", "agentnb.cli", "agents"], capture_output=True, text=True)
    assert done.returncode == 0 and "backend-dev" in done.stdout


def test_ask_shows_every_line_of_a_multi_line_check_message(api, capsys):
    # DuckDB's message holds the failing statement on its second line and a hint on its third
    api.enqueue(text("```sql\nCREATE TABLE a (id int PRIMARY KEY, b int REFERENCES missing (id));\n```\n"))
    assert main(["ask", "backend-dev", "x"]) == 1
    err = capsys.readouterr().err
    [row] = [line for line in err.splitlines() if "Schema on DuckDB" in line]
    following = err.split(row + "\n", 1)[1].splitlines()
    assert following[0].startswith("      ") and "Table with name missing does not exist" in following[0]
    assert following[1].startswith("      ") and "Did you mean" in following[1]


def test_one_line_and_indent_rest_keep_the_whole_message():
    from agentnb.text import indent_rest, one_line

    message = "2 of 3 statements failed in DuckDB (1 lowering (identity)):\nstatement 1 (CREATE ...): boom\n\nhint"
    assert one_line(message) == ("2 of 3 statements failed in DuckDB (1 lowering (identity)): statement 1 "
                                 "(CREATE ...): boom · hint")
    assert one_line(message, 40).endswith("…") and len(one_line(message, 40)) == 40
    assert indent_rest(message, "  ") == ("2 of 3 statements failed in DuckDB (1 lowering (identity)):\n"
                                          "  statement 1 (CREATE ...): boom\n  hint")


def test_ask_speaks_of_commands_and_options_not_cells_and_kernels(api, capsys, monkeypatch):
    from agentnb.testing.server import cut

    api.enqueue(cut(after_chunks=2))
    assert main(["ask", "backend-dev", "x"]) == 2
    err = capsys.readouterr().err
    assert "run the command again" in err and "cell" not in err and "kernel" not in err
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert main(["ask", "backend-dev", "never asked", "--record-mode", "none"]) == 2
    err = capsys.readouterr().err
    assert "prompt starting 'never asked'" in err and "--record-mode once" in err
    assert "cell" not in err and "%agentnb" not in err
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    from agentnb.session import reset

    reset()                       # --record-mode none stays with the process's session
    api.enqueue(text("ok"))
    assert main(["ask", "backend-dev", "x", "--model", "claude-3-opus-20240229"]) == 0
    err = capsys.readouterr().err
    assert "was retired" in err and "--model MODEL" in err and "%agentnb" not in err and "cell" not in err


def test_ask_errors_follow_no_blank_line(api, capsys):
    from agentnb.testing.server import error

    api.enqueue(error(401))
    assert main(["ask", "backend-dev", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("agentnb: ") and "\n\n" not in captured.err


def test_ask_dry_run_prints_plain_text(api, capsys):
    assert main(["ask", "backend-dev", "Design it", "--dry-run"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("Dry run: nothing sent. POST ") and "model claude-sonnet-5-5" in first
    assert "**" not in first and "`" not in first and "```json" not in out
    assert out.splitlines()[2] == "{" and '"messages"' in out and api.message_requests == []


def test_ask_options_have_help_and_the_exit_codes_are_documented(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    out = capsys.readouterr().out
    for option in ("--model", "--max-tokens", "--no-stream", "--dry-run", "--record-mode", "--no-check"):
        line = next(l for l in out.splitlines() if l.strip().startswith(option))
        assert len(line.split(None, 2)) > 1, line
    assert "Exit status" in out and "1 when a check failed" in " ".join(out.split())
    readme = (__import__("pathlib").Path(__file__).parents[1] / "README.md").read_text()
    assert "exit 1 when a check failed" in " ".join(readme.split())


def test_ask_counts_artifacts_in_words(api, capsys):
    api.enqueue(text("```sql\n-- migrations/0002.up.sql\nALTER TABLE a ADD COLUMN b int;\n```\n"
                     "```sql\n-- migrations/0002.down.sql\nALTER TABLE a DROP COLUMN b;\n```\n"))
    main(["ask", "backend-dev", "x"])
    assert "2 migrations" in capsys.readouterr().err

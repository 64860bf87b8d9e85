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

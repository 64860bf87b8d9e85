"""The magic line's options: parsed as a shell would, and a bad value is a one-line usage error
before anything is sent (issue 9, "Cells and checks")."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from agentnb.testing.server import text


@pytest.fixture
def ip(workdir):
    shell = InteractiveShell.instance()
    shell.run_line_magic("reload_ext", "agentnb")
    return shell


@pytest.mark.parametrize("line, words", [
    ("--max-tokens 0", "--max-tokens 0: N is the most tokens"),
    ("--max-tokens -5", "1 or more"),
    ("-o 1abc", "-o '1abc': not a Python variable name"),
    ("-o class", "not a Python variable name"),
    ('--model ""', "--model is empty"),
    ("--model '  '", "--model is empty"),
    ('--thread ""', "--thread is empty"),
    ('--apply ""', "--apply is empty"),
    ("--fix -1", "--fix -1: N is a number of rounds"),
    ('--thread "my thread', "No closing quotation"),
    ("--overwrite", "go with --apply DIR"),
])
def test_a_bad_option_is_a_usage_error_and_nothing_is_sent(ip, api, line, words):
    for dry_run in ("", " --dry-run"):
        with pytest.raises(UsageError) as info:
            ip.run_cell_magic("backend_dev", line + dry_run, "A lending library.")
        assert words in str(info.value) and "\n" not in str(info.value)
    assert api.message_requests == []
    assert "1abc" not in ip.user_ns


@pytest.mark.parametrize("cell", ["   \n\t\n", "\u3000\n"])
def test_a_blank_prompt_is_a_usage_error(ip, api, cell):
    with pytest.raises(UsageError, match="write the prompt"):
        ip.run_cell_magic("backend_dev", "", cell)
    assert api.message_requests == []


def test_quoted_values_lose_their_quotes_as_in_a_shell(ip, api):
    api.enqueue(text("one"), text("two"), text("three"))
    first = ip.run_cell_magic("backend_dev", '--thread "my thread" -o first_answer', "x")
    assert first.thread == "my thread" and ip.user_ns["first_answer"] is first
    second = ip.run_cell_magic("agent", "backend-dev --thread 'my thread'", "y")
    assert second.thread == "my thread"
    assert len(api.message_requests[-1].body["messages"]) == 3        # the same conversation went on
    third = ip.run_cell_magic("backend_dev", "--max-tokens 1 --model haiku", "z")
    assert api.message_requests[-1].body["max_tokens"] == 1 and third.model == "claude-haiku-5-5"


@pytest.mark.parametrize("line", ["--tools --fix 1", "--tools --max-tokens 500", "--tools --with-db shop.sql"])
def test_options_a_tools_cell_cannot_honour_are_a_usage_error(ip, api, line):
    """The Claude Code loop has no --fix rounds, base schema or answer budget: said, not dropped."""
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("backend_dev", line, "A lending library.")
    assert "cannot be used with --tools" in str(info.value)
    assert api.message_requests == []

"""What a tools cell's recording is found by: two runs of the same loop, in other folders, at other
times, under other ids, give the same normalised request; another command does not."""

from __future__ import annotations

from pathlib import Path

from agentnb.tools.endpoint import normalise, roots_of


def body(workspace: str, tool_id: str, result: str, command: str = "python -m pytest -q") -> dict:
    return {
        "model": "claude-sonnet-5-5",
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332"},
                   {"type": "text", "text": "You are backend-dev."}],
        "tools": [{"name": "Bash"}, {"name": "Read"}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": f"<system-reminder>Today is 2026-11-30; cwd {workspace}</system-reminder>"},
                {"type": "text", "text": "Lance les tests."}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": tool_id, "name": "Bash", "input": {"command": command}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": tool_id, "content": result}]},
        ],
    }


def test_folders_ids_dates_timings_and_the_cli_scratch_folder_do_not_change_the_match(tmp_path):
    one, two = tmp_path / "a" / "workspace", tmp_path / "elsewhere" / "b" / "workspace"
    first = body(str(one), "toolu_01AbC", f"3 passed in 0.02s\noutput: /tmp/claude-0/1f0e4c2a-77aa-4b1e-9c1d-3e5f/tasks/x.out\n{one}/tests")
    second = body(str(two), "toolu_09XyZ", f"3 passed in 1.37s\noutput: /tmp/claude-1000/9a8b7c6d-0000-4e1e-8c1d-aaaa/tasks/x.out\n{two}/tests")
    assert normalise(first, roots_of(Path(one))) == normalise(second, roots_of(Path(two)))


def test_another_command_or_another_result_is_another_request(tmp_path):
    ws = tmp_path / "workspace"
    base = normalise(body(str(ws), "t1", "3 passed"), roots_of(ws))
    assert normalise(body(str(ws), "t1", "3 passed", command="rm -rf tests"), roots_of(ws)) != base
    assert normalise(body(str(ws), "t1", "1 failed, 2 passed"), roots_of(ws)) != base

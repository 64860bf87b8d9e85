"""The core slice through the Python API: request, stream, response, conversation, recordings, errors,
against the local Messages API server with the real SDK as the client."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import agentnb
from agentnb.llm import models
from agentnb.errors import APIError, CredentialsError, ModelError, RecordingMissingError, StreamInterrupted
from agentnb.testing.server import cut, error, max_tokens, slow, stream_error, text

from conftest import TEST_KEY


class Collect:
    """A renderer that keeps what it was shown."""

    def __init__(self, interrupt_after: int | None = None):
        self.deltas, self.started, self.finished, self.failed = [], None, None, None
        self.interrupt_after = interrupt_after

    def start(self, replayed):
        self.started = replayed

    def text(self, delta):
        self.deltas.append(delta)
        if self.interrupt_after is not None and len(self.deltas) >= self.interrupt_after:
            raise KeyboardInterrupt

    def finish(self, response):
        self.finished = response

    def checked(self, response):
        self.checked_response = response

    def fail(self, err, partial):
        self.failed = (err, partial)


def test_streamed_answer_is_the_response(api):
    api.enqueue(text("Voici le schéma.\n\n```sql\nCREATE TABLE t (id int);\n```\n", chunk_size=5))
    shown = Collect()
    r = agentnb.ask("backend-dev", "Une bibliothèque de prêt.", renderer=shown)
    assert r.text == "Voici le schéma.\n\n```sql\nCREATE TABLE t (id int);\n```\n"
    assert len(shown.deltas) > 3 and "".join(shown.deltas) == r.text
    assert shown.started is False and shown.finished is r
    assert r.model == "claude-sonnet-5-5" and r.stop_reason == "end_turn" and not r.replayed
    assert r.usage["output_tokens"] > 0 and r.cost_usd > 0
    assert "claude-sonnet-5-5" in r.footer() and "$" in r.footer()


def test_request_carries_the_agent_and_two_cache_breakpoints(api):
    agentnb.ask("backend-dev", "first")
    body = api.message_requests[-1].body
    assert body["system"][0]["text"].startswith("Tu es un DÉVELOPPEUR BACKEND SENIOR")
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert json.dumps(body).count("cache_control") == 2
    assert api.message_requests[-1].headers["authorization"] == f"Bearer {TEST_KEY}"


def test_braces_and_dollars_are_sent_exactly(api):
    prompt = 'Return {"id": 1, "tags": ["a"]} and {{double}} and $HOME and {missing}'
    agentnb.ask("backend-dev", prompt)
    assert api.message_requests[-1].body["messages"][-1]["content"][-1]["text"] == prompt


def test_conversation_continues_and_reads_the_previous_turn_from_cache(api):
    first = agentnb.ask("backend-dev", "Members borrow books.")
    second = agentnb.ask("backend-dev", "Add reservations.")
    messages = api.message_requests[-1].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"][0]["text"] == first.text
    # only one breakpoint on the history side: the newest turn
    assert "cache_control" not in messages[0]["content"][-1]
    # everything the first call sent is read from cache; only the last answer and prompt are new
    assert second.usage["cache_read_input_tokens"] >= first.input_tokens - 1
    assert second.usage["cache_creation_input_tokens"] + second.usage["input_tokens"] < first.input_tokens


def test_new_and_threads(api):
    agentnb.ask("backend-dev", "one")
    agentnb.ask("backend-dev", "two", new=True)
    assert len(api.message_requests[-1].body["messages"]) == 1
    agentnb.ask("backend-dev", "in another thread", thread="api")
    assert len(api.message_requests[-1].body["messages"]) == 1
    agentnb.ask("backend-dev", "back to default", thread="default")
    assert len(api.message_requests[-1].body["messages"]) == 3


def test_recording_then_offline_replay_is_identical(api, monkeypatch):
    api.enqueue(text("A recorded answer with ```code```.", chunk_size=4))
    live = agentnb.ask("backend-dev", "Record me")
    files = list(Path("recordings").glob("*.json"))
    assert len(files) == 1
    recording = json.loads(files[0].read_text())
    assert recording["request"]["path"] == "/v1/messages"
    assert recording["response"]["events"][-1]["event"] == "message_stop"

    # no server, no key, replay only
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
    agentnb.current_session().conversations.clear()
    shown = Collect()
    replay = agentnb.ask("backend-dev", "Record me", renderer=shown)
    assert replay.replayed and shown.started is True
    assert (replay.text, replay.usage, replay.model, replay.stop_reason) == \
        (live.text, live.usage, live.model, live.stop_reason)
    assert replay.footer().endswith("not billed · notebook $0.0000 billed") or "not billed" in replay.footer()


def test_missing_recording_in_mode_none_names_agent_cell_and_file(workdir, monkeypatch):
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
    with pytest.raises(RecordingMissingError) as info:
        agentnb.ask("backend-dev", "Never recorded\nsecond line")
    message = str(info.value)
    assert "backend-dev" in message and "Never recorded" in message
    assert str(workdir / "recordings") in message and message.count(".json") == 1


def test_no_credentials_says_how_to_set_them(workdir, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(CredentialsError) as info:
        agentnb.ask("backend-dev", "hello")
    assert "ANTHROPIC_API_KEY" in str(info.value) and "AGENTNB_RECORD_MODE=none" in str(info.value)


def test_mode_all_calls_again_and_overwrites(api, monkeypatch):
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "all")
    api.enqueue(text("first version"), text("second version"))
    agentnb.ask("backend-dev", "same prompt")
    agentnb.current_session().conversations.clear()
    agentnb.ask("backend-dev", "same prompt")
    [file] = Path("recordings").glob("*.json")
    assert "second version" in file.read_text()
    assert len(api.message_requests) == 2


def test_key_never_lands_on_disk(api, workdir):
    api.enqueue(error(400, message=f"bad thing, echoing {TEST_KEY}"))
    with pytest.raises(APIError) as info:
        agentnb.ask("backend-dev", "x")
    assert TEST_KEY not in str(info.value)
    agentnb.ask("backend-dev", "y")
    written = [p for p in workdir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in written) and any(p.suffix == ".json" for p in written)
    for path in written:
        assert TEST_KEY not in path.read_text(errors="replace"), path


@pytest.mark.parametrize("reply, kind, words", [
    (error(401), "authentication", "ANTHROPIC_API_KEY"),
    (error(400, message="messages: roles must alternate"), "bad_request", "roles must alternate"),
    (error(429, times=3), "rate_limit", "Rate limited"),
    (error(529, times=3), "overloaded", "overloaded"),
    (error(500, times=3), "api_error", "500"),
])
def test_api_errors_are_short_and_actionable(api, reply, kind, words):
    api.enqueue(reply)
    with pytest.raises(APIError) as info:
        agentnb.ask("backend-dev", "x")
    assert info.value.kind == kind and words in str(info.value)
    assert "Traceback" not in "\n".join(info.value._render_traceback_())


def test_unknown_model_from_the_api(api):
    api.unknown_models.add("claude-nonexistent-9")
    try:
        with pytest.raises(ModelError) as info:
            agentnb.ask("backend-dev", "x", model="claude-nonexistent-9")
    finally:
        api.unknown_models.discard("claude-nonexistent-9")
    assert "--model" in str(info.value) and "claude-nonexistent-9" in str(info.value)


def test_error_inside_the_stream_keeps_the_partial_text(api):
    api.enqueue(stream_error("overloaded_error", after_chunks=2))
    shown = Collect()
    with pytest.raises(APIError) as info:
        agentnb.ask("backend-dev", "x", renderer=shown)
    assert info.value.partial_text and shown.failed[1] == info.value.partial_text


def test_cut_stream_is_detected_and_not_added_to_the_conversation(api):
    api.enqueue(cut(after_chunks=2))
    with pytest.raises(StreamInterrupted) as info:
        agentnb.ask("backend-dev", "x")
    assert info.value.partial_text and "ended before" in str(info.value)
    assert agentnb.current_session().conversation("backend-dev").turns == []
    assert not list(Path("recordings").glob("*.json"))      # a cut answer is not recorded


def test_connection_dropped_mid_answer(api):
    api.enqueue(cut(after_chunks=2, abrupt=True))
    with pytest.raises(StreamInterrupted) as info:
        agentnb.ask("backend-dev", "x")
    assert "dropped" in str(info.value) and info.value.partial_text
    assert agentnb.ask("backend-dev", "again").text      # the next call works


def test_connection_failure(workdir, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(APIError) as info:
        agentnb.ask("backend-dev", "x")
    assert info.value.kind == "connection" and "127.0.0.1:9" in str(info.value)


def test_max_tokens_keeps_the_partial_answer_with_a_warning(api):
    api.enqueue(max_tokens("Half an answ"))
    r = agentnb.ask("backend-dev", "x", max_tokens=5)
    assert r.text == "Half an answ" and r.truncated
    assert "max_tokens" in r._repr_markdown_() and api.message_requests[-1].body["max_tokens"] == 5


def test_interrupt_keeps_the_conversation_usable(api):
    api.enqueue(slow("one two three four five six seven", delay=0.01, chunk_size=4))
    with pytest.raises(KeyboardInterrupt):
        agentnb.ask("backend-dev", "long answer please", renderer=Collect(interrupt_after=3))
    turns = agentnb.current_session().conversation("backend-dev").turns
    assert len(turns) == 1 and turns[0].answer == "one two three "[:12]
    r = agentnb.ask("backend-dev", "next")
    assert r.text
    roles = [m["role"] for m in api.message_requests[-1].body["messages"]]
    assert roles == ["user", "assistant", "user"]


def test_dry_run_sends_nothing(api):
    dry = agentnb.current_session().dry_run("backend-dev", "Design it", max_tokens=1000)
    assert api.message_requests == []
    assert dry.request["model"] == "claude-sonnet-5-5" and dry.request["max_tokens"] == 1000
    assert dry.request["messages"][-1]["content"][-1]["text"] == "Design it"
    assert dry.input_tokens_estimate > 100 and dry.max_cost_usd > dry.input_cost_usd > 0
    shown = dry._repr_markdown_()
    assert "nothing sent" in shown and '"Design it"' in shown and TEST_KEY not in shown


def test_session_log_has_every_exchange(api):
    agentnb.ask("backend-dev", "logged")
    api.enqueue(error(400))
    with pytest.raises(APIError):
        agentnb.ask("backend-dev", "fails")
    rows = agentnb.log("select agent, prompt, replayed, error, output_tokens from exchanges order by time").fetchall()
    assert [r[1] for r in rows] == ["logged", "fails"]
    assert rows[0][3] is None and rows[0][4] > 0 and "refused" in rows[1][3]


@pytest.mark.parametrize("today, sent, note", [
    (dt.date(2026, 11, 29), "claude-sonnet-4-5-20250929", "retires on 2026-11-30 (1 day left)"),
    (dt.date(2026, 11, 30), "claude-sonnet-5-5", "was retired on 2026-11-30"),
])
def test_agent_model_around_its_retirement_warns_or_is_replaced(api, workdir, today, sent, note):
    (workdir / "agents").mkdir()
    (workdir / "agents" / "old.md").write_text(
        "---\nname: old-agent\ndescription: uses the original model\nmodel: claude-sonnet-4-5-20250929\n---\nYou help.\n")
    session = agentnb.current_session()
    session.clock = lambda: today          # the real date must not decide: the model retires tomorrow
    session.reload()
    r = agentnb.ask("old-agent", "hi")
    assert api.message_requests[-1].body["model"] == sent
    warning = " ".join(r.warnings)
    assert note in warning and "claude-sonnet-5-5" in warning and "--model" in warning
    assert "AGENTNB_MODEL_OLD_AGENT" in warning


def test_model_resolution_order_and_retirement():
    today = dt.date(2026, 11, 26)
    assert models.resolve("a", "sonnet", today=today, env={}).model == "claude-sonnet-5-5"
    assert models.resolve("a", "inherit", today=today, env={}).source == "default"
    c = models.resolve("a", "claude-sonnet-4-5-20250929", today=today, env={})
    assert c.model == "claude-sonnet-4-5-20250929" and "retires on 2026-11-30" in c.warning
    c = models.resolve("a", "claude-sonnet-4-5-20250929", today=dt.date(2026, 12, 1), env={})
    assert c.model == "claude-sonnet-5-5" and "was retired" in c.warning
    on_the_day = models.resolve("a", "claude-sonnet-4-5-20250929", clock=lambda: dt.date(2026, 11, 30), env={})
    assert on_the_day.model == "claude-sonnet-5-5"
    env = {"AGENTNB_MODEL": "haiku", "AGENTNB_MODEL_A": "opus"}
    assert models.resolve("a", "sonnet", env=env, today=today).model == "claude-opus-5-5"
    assert models.resolve("a", "sonnet", session_override="haiku", env=env, today=today).model == "claude-haiku-5-5"
    assert models.resolve("a", "sonnet", override="claude-opus-4-8", env=env, today=today).source == "--model"
    unknown = models.resolve("a", "gpt-9", env={}, today=today)
    assert not unknown.known and "unknown model" in unknown.warning
    assert models.cost("gpt-9", {"input_tokens": 10}) is None
    assert models.cost("claude-sonnet-5-5", {"input_tokens": 1_000_000, "output_tokens": 1_000_000}) == 12.0


def test_history_near_the_context_window_drops_oldest_turns_and_says_so():
    from agentnb.llm.conversation import Conversation, build_request

    conv = Conversation("a")
    big = "x" * 300_000      # ~100k tokens each at the 3-chars estimate
    for i in range(6):
        conv.add([{"type": "text", "text": f"q{i} {big}"}], f"a{i} {big}", "end_turn")
    body, notes, dropped = build_request(model="claude-sonnet-4-6", system="s", conversation=conv,
                                         prompt=[{"type": "text", "text": "new"}], max_tokens=1000)
    assert dropped >= 5 and len(body["messages"]) == 2 * (6 - dropped) + 1
    assert body["messages"][-1]["content"][-1]["text"] == "new"
    assert any("oldest turn" in n for n in notes)
    assert len(conv.turns) == 6          # nothing is dropped until a call goes through


def test_dry_run_changes_nothing(api):
    agentnb.ask("backend-dev", "first")
    session = agentnb.current_session()
    before = [len(c.turns) for c in session.conversations.values()], dict(session.threads)
    session.dry_run("backend-dev", "x", new=True)
    session.dry_run("backend-dev", "x", thread="elsewhere")
    assert ([len(c.turns) for c in session.conversations.values()], dict(session.threads)) == before
    assert len(agentnb.ask("backend-dev", "second").prompt) and \
        len(api.message_requests[-1].body["messages"]) == 3


def test_a_failed_call_with_new_keeps_the_old_conversation(api):
    from agentnb.testing.server import error

    agentnb.ask("backend-dev", "first")
    api.enqueue(error(400))
    with pytest.raises(APIError):
        agentnb.ask("backend-dev", "fresh start", new=True)
    agentnb.ask("backend-dev", "continue")
    assert len(api.message_requests[-1].body["messages"]) == 3


def test_budget_stops_a_live_call_before_it_is_sent_and_never_a_replay(api, monkeypatch):
    from agentnb.errors import BudgetExceeded

    agentnb.ask("backend-dev", "recorded while there was money")
    monkeypatch.setenv("AGENTNB_BUDGET_USD", "0.01")      # 8192 output tokens could cost $0.08
    with pytest.raises(BudgetExceeded) as info:
        agentnb.ask("backend-dev", "a new question", new=True)
    assert "Nothing was sent" in str(info.value) and "$0.01" in str(info.value)
    assert len(api.message_requests) == 1
    agentnb.current_session().conversations.clear()
    assert agentnb.ask("backend-dev", "recorded while there was money").replayed    # replays cost nothing
    assert agentnb.ask("backend-dev", "small", new=True, max_tokens=100).text       # fits the budget


def test_batch_budget_counts_every_live_call_logged_since_the_batch_began(api, monkeypatch):
    from agentnb.errors import BudgetExceeded

    monkeypatch.setenv("AGENTNB_BUDGET_SINCE", "2000-01-01T00:00:00")
    agentnb.ask("backend-dev", "first", max_tokens=100)
    spent = agentnb.log("select sum(cost_usd) from exchanges where not replayed").fetchall()[0][0]
    from agentnb.session import reset

    reset()          # another kernel of the same batch: its own session (nothing billed), the same log
    worst = agentnb.current_session().dry_run("backend-dev", "second", max_tokens=100).max_cost_usd
    # enough for this call alone, not once the batch's earlier call is counted
    monkeypatch.setenv("AGENTNB_BUDGET_USD", str(worst + spent / 2))
    with pytest.raises(BudgetExceeded):
        agentnb.ask("backend-dev", "second", max_tokens=100)
    monkeypatch.delenv("AGENTNB_BUDGET_SINCE")        # the same budget for this session alone: it fits
    assert agentnb.ask("backend-dev", "second", max_tokens=100).text


def test_an_unreadable_recording_is_a_short_error_saying_what_to_do(api, monkeypatch):
    agentnb.ask("backend-dev", "to be damaged")
    [file] = Path("recordings").glob("*.json")
    file.write_text("{ not json")
    agentnb.current_session().conversations.clear()
    with pytest.raises(APIError) as info:
        agentnb.ask("backend-dev", "to be damaged")
    assert str(file) in str(info.value) and "delete it" in str(info.value)


def test_an_unwritable_recordings_folder_says_which_and_what_to_do(api, workdir, monkeypatch):
    (workdir / "blocked").write_text("a file where the folder should be")
    monkeypatch.setenv("AGENTNB_RECORDINGS", str(workdir / "blocked"))
    with pytest.raises(agentnb.AgentnbError) as info:
        agentnb.ask("backend-dev", "x")
    assert "blocked" in str(info.value) and "AGENTNB_RECORDINGS" in str(info.value)


def test_an_unwritable_session_log_keeps_the_answer_and_says_why(api, workdir, monkeypatch):
    (workdir / "not-a-folder").write_text("x")
    monkeypatch.setenv("AGENTNB_HOME", str(workdir / "not-a-folder"))
    r = agentnb.ask("backend-dev", "x")
    assert r.text and any("session log" in w for w in r.warnings)


def test_a_hand_broken_recording_is_named_not_blamed_on_the_network(api, monkeypatch):
    agentnb.ask("backend-dev", "to be edited by hand")
    [file] = Path("recordings").glob("*.json")
    document = json.loads(file.read_text())
    document["response"]["events"][3] = {"event": "content_block_delta"}       # its data is gone
    file.write_text(json.dumps(document))
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
    agentnb.current_session().forget()
    with pytest.raises(APIError) as info:
        agentnb.ask("backend-dev", "to be edited by hand")
    assert file.name in str(info.value) and "delete it" in str(info.value)
    assert "reach" not in str(info.value)


def test_budget_with_a_model_of_unknown_price_refuses_the_live_call(api, monkeypatch):
    from agentnb.errors import BudgetExceeded

    monkeypatch.setenv("AGENTNB_BUDGET_USD", "5")
    with pytest.raises(BudgetExceeded) as info:
        agentnb.ask("backend-dev", "hi", model="claude-unpriced-9")
    assert "no known price" in str(info.value) and "Nothing was sent" in str(info.value)
    assert api.message_requests == []
    monkeypatch.delenv("AGENTNB_BUDGET_USD")
    agentnb.ask("backend-dev", "recorded without a budget", model="claude-unpriced-9")
    monkeypatch.setenv("AGENTNB_BUDGET_USD", "5")
    agentnb.current_session().forget()
    r = agentnb.ask("backend-dev", "recorded without a budget", model="claude-unpriced-9")
    assert r.replayed        # a replay costs nothing, priced or not


def test_the_session_knows_before_the_call_whether_it_will_be_live(api):
    from agentnb.llm import recording

    session = agentnb.current_session()
    body = session.prepare(session.agent("backend-dev"), "ahead", model=None, thread=None, new=False,
                           max_tokens=None)[0]
    assert recording.recorded(Path("recordings"), body) is None
    r = agentnb.ask("backend-dev", "ahead")
    assert recording.recorded(Path("recordings"), body).name == r.recording


def test_a_lone_surrogate_in_a_streamed_delta_keeps_the_answer(api):
    api.enqueue(text("Avant \ud83d après.", chunk_size=7))
    r = agentnb.ask("backend-dev", "surrogate", check=False)
    assert r.text == "Avant \ufffd après."
    [row] = agentnb.log("select answer, error from exchanges").fetchall()
    assert row == ("Avant \ufffd après.", None)
    [file] = Path("recordings").glob("*.json")
    assert json.loads(file.read_text("utf-8"))["answer"] == "Avant \ufffd après."
    agentnb.current_session().forget()
    assert agentnb.ask("backend-dev", "surrogate", check=False).text == r.text      # and replays the same


def test_api_errors_name_the_request_id(api):
    api.enqueue(error(400))
    with pytest.raises(APIError) as info:
        agentnb.ask("backend-dev", "refused")
    assert info.value.request_id and f"request id {info.value.request_id}" in str(info.value)
    [row] = agentnb.log("select error from exchanges").fetchall()
    assert info.value.request_id in row[0]


def test_no_credential_reaches_a_file_or_the_api_through_a_fix_round(api, workdir, monkeypatch):
    token = "zq9V7-auth-token-not-key-shaped"           # not sk-ant- shaped: redacted as a known secret
    password = "pg-Pa55word-of-the-user"
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", token)
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", f"postgresql://me:{password}@127.0.0.1:1/nowhere")
    secrets = (TEST_KEY, token, password)
    # an answer whose schema fails the syntax check on a statement that quotes every credential, as a
    # check reading the environment would
    bad = ("```sql\nCREATE TABLE leak (k text DEFAULT '" + "|".join(secrets) + "' NOT NUL);\n```\n")
    api.enqueue(text(bad), text("```sql\nCREATE TABLE leak (k text);\n```\n"))
    r = agentnb.ask("backend-dev", "schema please", fix=1)
    assert "--fix round 1" in r.warnings[0]
    fix_request = api.message_requests[-1].body
    sent = json.dumps(fix_request["messages"][-1], ensure_ascii=False)
    assert "[redacted]" in sent and "NOT NUL" in sent        # the error did go back, without the secrets
    sent = json.dumps(fix_request, ensure_ascii=False)        # the history too (the answer quoted them)
    for secret in secrets:
        assert secret not in sent
        for file in workdir.rglob("*"):
            if file.is_file() and "home" not in file.relative_to(workdir).parts[:1]:
                assert secret not in file.read_text("utf-8", "replace"), file
    assert len(list(Path("recordings").glob("*.json"))) == 2 and list(Path(".agentnb", "log").glob("*.jsonl"))


def test_a_call_killed_mid_stream_still_counts_toward_the_budget(api, workdir, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    import time

    from agentnb.errors import BudgetExceeded
    from agentnb.testing.server import slow

    api.enqueue(slow("x" * 2000, delay=0.2, chunk_size=8))          # 50 s of answer: killed long before
    env = {**os.environ, "PYTHONPATH": str(Path(agentnb.__file__).parents[1]), "AGENTNB_BUDGET_SINCE": "2000-01-01"}
    child = subprocess.Popen([sys.executable, "-c", "import agentnb; agentnb.ask('backend-dev', 'long', "
                              "check=False, max_tokens=4000)"], cwd=workdir, env=env)
    try:
        deadline = time.monotonic() + 30
        while not api.message_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.message_requests, "the child never called"
        time.sleep(0.5)                                               # mid-stream
        assert child.poll() is None
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    [(state, replayed, max_cost)] = agentnb.log("select state, replayed, max_cost_usd from exchanges").fetchall()
    assert state == "started" and replayed is False and max_cost > 4000 * 10 / 1_000_000
    assert agentnb.current_session().billed_usd == 0
    # a new session of the same batch: its own call alone fits, not with the killed one at its maximum
    monkeypatch.setenv("AGENTNB_BUDGET_SINCE", "2000-01-01")
    worst = agentnb.current_session().dry_run("backend-dev", "next", max_tokens=100).max_cost_usd
    monkeypatch.setenv("AGENTNB_BUDGET_USD", str(worst + max_cost / 2))
    with pytest.raises(BudgetExceeded) as info:
        agentnb.ask("backend-dev", "next", max_tokens=100)
    assert f"${max_cost:.4f}" in str(info.value)
    monkeypatch.setenv("AGENTNB_BUDGET_USD", str(worst + max_cost * 1.01))
    assert agentnb.ask("backend-dev", "next", max_tokens=100, check=False).text


def test_temporary_files_of_a_killed_writer_do_not_survive_a_restart(api, workdir):
    import os
    import time

    folder = workdir / "recordings"
    folder.mkdir()
    dead, fresh = folder / ".tmp-killed1.json", folder / ".tmp-writing.json"
    dead.write_text('{"agentnb_recording": 1, "request": ')           # a write cut by SIGKILL
    fresh.write_text("{")                                              # another process, mid-write now
    os.utime(dead, (time.time() - 3600, time.time() - 3600))
    agentnb.ask("backend-dev", "after a crash", check=False)
    assert not dead.exists() and fresh.exists()
    assert len(list(folder.glob("[!.]*.json"))) == 1


@pytest.mark.parametrize("raw, expected", [(None, 30.0), ("2.5", 2.5), (" 90 ", 90.0)])
def test_check_timeout_setting(workdir, monkeypatch, raw, expected):
    from agentnb import settings

    if raw is not None:
        monkeypatch.setenv("AGENTNB_CHECK_TIMEOUT", raw)
    assert settings.check_timeout_s() == expected


@pytest.mark.parametrize("name, raw", [("AGENTNB_CHECK_TIMEOUT", "0"), ("AGENTNB_CHECK_TIMEOUT", "soon"),
                                       ("AGENTNB_CHECK_TIMEOUT", "inf"), ("AGENTNB_BUDGET_USD", "-1"),
                                       ("AGENTNB_BUDGET_USD", "five"), ("AGENTNB_RECORD_MODE", "sometimes")])
def test_a_bad_setting_is_a_short_error_naming_the_variable(api, monkeypatch, name, raw):
    from agentnb import settings
    from agentnb.errors import ConfigurationError

    monkeypatch.setenv(name, raw)
    readers = {"AGENTNB_CHECK_TIMEOUT": settings.check_timeout_s, "AGENTNB_BUDGET_USD": settings.budget_usd,
               "AGENTNB_RECORD_MODE": settings.Settings().resolved_record_mode}
    with pytest.raises(ConfigurationError) as info:
        readers[name]()
    assert name in str(info.value) and repr(raw.strip().lower() if name == "AGENTNB_RECORD_MODE" else raw) in str(info.value)
    if name != "AGENTNB_CHECK_TIMEOUT":           # and a call refuses to start with it
        with pytest.raises(ConfigurationError):
            agentnb.ask("backend-dev", "x", check=False)
        assert api.message_requests == []


def test_under_a_budget_a_call_that_cannot_be_logged_is_not_sent(api, workdir, monkeypatch):
    (workdir / "not-a-folder").write_text("x")
    monkeypatch.setenv("AGENTNB_HOME", str(workdir / "not-a-folder"))
    monkeypatch.setenv("AGENTNB_BUDGET_USD", "5")
    with pytest.raises(agentnb.AgentnbError) as info:
        agentnb.ask("backend-dev", "x")
    assert "session log" in str(info.value) and "AGENTNB_HOME" in str(info.value)
    assert api.message_requests == []          # it could not have been counted, had it been killed


@pytest.mark.parametrize("written, retired, today, replacement", [
    ("claude-3-opus-20240229", "2026-01-05", "2026-11-26", "claude-opus-5-5"),    # via claude-opus-4-1,
    ("claude-3-opus-20240229", "2026-01-05", "2026-01-06", "claude-opus-4-1"),    # retired on 2026-08-05
    ("claude-3-7-sonnet-20250219", "2026-02-19", "2026-12-01", "claude-sonnet-5-5"),
    ("claude-3-5-haiku-20241022", "2026-02-19", "2026-11-26", "claude-haiku-4-5"),
    ("claude-sonnet-4-20250514", "2026-06-15", "2026-11-26", "claude-sonnet-4-6"),
    ("claude-2.1", "2025-07-21", "2026-11-26", "claude-sonnet-5-5"),
    ("claude-instant-1.2", "2024-11-06", "2026-11-26", "claude-haiku-5-5"),
])
def test_every_retired_model_of_the_dated_list_is_replaced_with_a_warning(written, retired, today, replacement):
    choice = models.resolve("data-modeler", written, today=dt.date.fromisoformat(today), env={})
    assert choice.model == replacement and choice.known == (models.family(replacement) is not None)
    assert f"{written} (from agent file) was retired on {retired}; using {replacement} instead" in choice.warning
    assert "--model" in choice.warning and "AGENTNB_MODEL_DATA_MODELER" in choice.warning
    before = models.resolve("data-modeler", written, today=dt.date.fromisoformat(retired) - dt.timedelta(days=2),
                            env={})
    assert before.model == written and f"retires on {retired} (2 days left)" in before.warning
    chosen = models.resolve("data-modeler", written, override="haiku", today=dt.date.fromisoformat(today), env={})
    assert chosen.model == "claude-haiku-5-5" and chosen.warning is None        # the override wins, quietly


def test_a_retired_model_in_a_cell_is_sent_as_its_replacement(api):
    agentnb.current_session().clock = lambda: dt.date(2026, 11, 26)
    r = agentnb.ask("backend-dev", "hi", model="claude-3-opus-20240229")
    assert api.message_requests[-1].body["model"] == "claude-opus-5-5" and r.cost_usd is not None
    assert any("was retired on 2026-01-05" in w for w in r.warnings)

"""The fake Messages API, driven by the real ``anthropic`` SDK (nothing of the SDK is mocked)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import anthropic
import httpx2
import pytest

from agentnb.testing.server import (
    MessagesServer,
    Reply,
    cut,
    error,
    max_tokens,
    reply_from_dict,
    slow,
    stream_error,
    text,
    tool_use,
)

MODEL = "claude-sonnet-5-5"
KEY = "test-key"


@pytest.fixture(scope="module")
def _server():
    with MessagesServer(api_key=KEY, unknown_models={"claude-nonexistent-1"}) as s:
        yield s


@pytest.fixture
def server(_server):
    # One server for the module (building clients and servers is the slow part); a clean slate per test.
    _server.reset()
    _server.handler = None
    yield _server


@pytest.fixture(scope="module")
def client(_server):
    c = anthropic.Anthropic(base_url=_server.url, api_key=KEY, max_retries=0)
    yield c
    c.close()


def ask(client, content="Hello", **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("max_tokens", 1024)
    return client.messages.stream(messages=[{"role": "user", "content": content}], **kw)


def raw_post(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


# -- answers -----------------------------------------------------------------------------------------


def test_streamed_text_arrives_in_chunks(server, client):
    answer = "The answer is 42, and here is why: because it is. " * 3
    server.enqueue(text(answer, chunk_size=10))
    with ask(client) as stream:
        chunks = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(chunks) == -(-len(answer) // 10)
    assert "".join(chunks) == answer
    assert final.content[0].text == answer
    assert final.stop_reason == "end_turn"
    assert final.model == MODEL
    assert final.id.startswith("msg_")
    assert final.usage.output_tokens == -(-len(answer) // 4)
    assert stream.request_id and stream.request_id.startswith("req_")
    assert server.requests[-1].outcome == "complete"


def test_stream_event_sequence(server, client):
    server.enqueue(text("abcdefgh", chunk_size=4))
    with ask(client) as stream:
        raw = [e.type for e in stream if e.type != "text"]
    assert raw == [
        "message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop",
    ]


def test_non_streamed_create(server, client):
    server.enqueue(text("Plain answer."))
    msg = client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "Hi"}])
    assert isinstance(msg, anthropic.types.Message)
    assert msg.content[0].text == "Plain answer."
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
    assert server.requests[-1].stream is False


def test_default_reply_echoes_prompt_and_has_code(server, client):
    with ask(client, "Plot the sales\nby region please", model="claude-haiku-4-5") as stream:
        out = stream.get_final_text()
    assert "claude-haiku-4-5" in out and "Plot the sales" in out and "by region" not in out
    assert "```python\nprint('Plot the sales')\n```" in out
    with ask(client, "Plot the sales\nby region please", model="claude-haiku-4-5") as stream:
        assert stream.get_final_text() == out  # deterministic


def test_tool_use_streamed_and_not(server, client):
    args = {"code": "df.describe()", "cells": [1, 2, 3], "nested": {"ok": True}}
    server.enqueue(tool_use("run_code", args, text_before="Let me run it."), tool_use("run_code", args))
    with ask(client, tools=[{"name": "run_code", "description": "run", "input_schema": {"type": "object"}}]) as s:
        deltas = [e.delta.partial_json for e in s if e.type == "content_block_delta"
                  and e.delta.type == "input_json_delta"]
        final = s.get_final_message()
    assert len(deltas) > 2 and json.loads("".join(deltas)) == args
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[0].text == "Let me run it."
    block = final.content[1]
    assert block.name == "run_code" and block.input == args and block.id.startswith("toolu_")

    msg = client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].type == "tool_use" and msg.content[0].input == args


def test_max_tokens_reply_and_truncation(server, client):
    server.enqueue(max_tokens("Half an ans"))
    with ask(client) as s:
        assert s.get_final_message().stop_reason == "max_tokens"
    server.enqueue(text("x" * 400))
    with ask(client, max_tokens=10) as s:
        final = s.get_final_message()
    assert final.stop_reason == "max_tokens"
    assert final.content[0].text == "x" * 40 and final.usage.output_tokens == 10


def test_slow_stream_sends_its_chunks_one_at_a_time(server, client):
    # how long it takes is bench/bench_server.py's business; here: the text comes whole, chunk by chunk
    server.enqueue(slow("abcdef", delay=0.03, chunk_size=2))
    with ask(client) as s:
        assert list(s.text_stream) == ["ab", "cd", "ef"]


def test_interrupted_slow_stream_is_recorded(server, client):
    server.enqueue(slow("x" * 200, delay=0.01, chunk_size=2))
    with ask(client) as s:
        next(iter(s.text_stream))
    # The client closed the stream after one chunk: the server notices on its next writes.
    deadline = time.time() + 2
    while server.requests[-1].outcome != "disconnected" and time.time() < deadline:
        time.sleep(0.01)
    assert server.requests[-1].outcome == "disconnected"


def test_handler_hook_and_reply_from_dict(server, client):
    server.handler = lambda req: text(f"hook saw {req.model}") if req.model == "claude-x" else None
    with ask(client, model="claude-x") as s:
        assert s.get_final_text() == "hook saw claude-x"
    server.handler = None
    server.enqueue(reply_from_dict({"kind": "text", "text": "from json"}),
                   reply_from_dict({"kind": "error", "status": 400, "message": "nope"}))
    with ask(client) as s:
        assert s.get_final_text() == "from json"
    with pytest.raises(anthropic.BadRequestError, match="nope"):
        ask(client).__enter__()
    assert server.pending == 0


# -- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, exc, etype",
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_http_errors_map_to_sdk_exceptions(server, client, status, exc, etype):
    server.enqueue(error(status, message=f"boom {status}"))
    with pytest.raises(exc) as info:
        with ask(client) as s:
            s.get_final_message()
    e = info.value
    assert e.status_code == status and e.type == etype and e.api_message == f"boom {status}"
    assert e.request_id and e.request_id.startswith("req_")
    assert e.body["type"] == "error"
    if status == 429:
        assert e.response.headers["retry-after"] == "0"
    # non-streamed too
    server.enqueue(error(status))
    with pytest.raises(exc):
        client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])


def test_retries_consume_one_reply_per_attempt(server):
    c = anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=2)
    server.enqueue(error(529, times=3))
    with pytest.raises(anthropic.OverloadedError):
        c.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert len(server.requests) == 3
    server.enqueue(error(429, times=2), text("finally"))
    msg = c.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert msg.content[0].text == "finally" and len(server.requests) == 6
    assert [r.headers.get("x-stainless-retry-count") for r in server.requests[3:]] == ["0", "1", "2"]
    server.enqueue(error(500, repeat=True))
    for _ in range(2):
        with pytest.raises(anthropic.InternalServerError):
            c.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert server.pending == 1
    c.close()


def test_stream_error_event_raises_api_status_error(server, client):
    server.enqueue(stream_error("overloaded_error", after_chunks=2, chunk_size=5))
    got = []
    with pytest.raises(anthropic.APIStatusError) as info:
        with ask(client) as s:
            for t in s.text_stream:
                got.append(t)
    assert len(got) == 2
    assert info.value.status_code == 200 and info.value.type == "overloaded_error"
    assert not isinstance(info.value, anthropic.OverloadedError)
    assert server.requests[-1].outcome == "stream_error"
    # On a non-streamed call it is the HTTP error that goes with the type.
    server.enqueue(stream_error("overloaded_error"))
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])


def test_cut_stream_ends_silently_without_message_stop(server, client):
    server.enqueue(cut(after_chunks=3, chunk_size=4))
    with ask(client) as s:
        types = [e.type for e in s]
        snap = s.current_message_snapshot
    # No exception: the SDK just stops. Only the missing message_stop / stop_reason tells.
    assert "message_stop" not in types and "message_delta" not in types
    assert types.count("content_block_delta") == 3
    assert snap.stop_reason is None and len(snap.content[0].text) == 12
    assert server.requests[-1].outcome == "cut"
    # The client's pool is not left hanging: the next call works.
    with ask(client) as s:
        assert s.get_final_message().stop_reason == "end_turn"


def test_abrupt_cut_raises_transport_error(server, client):
    server.enqueue(cut(after_chunks=1, abrupt=True))
    # A socket closed mid chunked body is not silent: httpx2's error escapes the SDK unwrapped.
    with pytest.raises(httpx2.RemoteProtocolError):
        with ask(client) as s:
            list(s)


def test_auth_required(server, client):
    bad = anthropic.Anthropic(base_url=server.url, api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError, match="invalid x-api-key"):
        bad.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    body = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}
    status, _, err = raw_post(server.url + "/v1/messages", body, {"anthropic-version": "2023-06-01"})
    assert status == 401 and err["error"]["type"] == "authentication_error"
    status, _, msg = raw_post(server.url + "/v1/messages", body,
                              {"x-api-key": KEY, "anthropic-version": "2023-06-01"})
    assert status == 200 and msg["type"] == "message"
    bad.close()


def test_unknown_model_404_and_retired_model_served(server, client):
    with pytest.raises(anthropic.NotFoundError) as info:
        with ask(client, model="claude-nonexistent-1") as s:
            s.get_final_message()
    assert info.value.type == "not_found_error" and info.value.api_message == "model: claude-nonexistent-1"
    with pytest.warns(DeprecationWarning):  # client-side knowledge; the server answers normally
        with ask(client, model="claude-sonnet-4-5-20250929") as s:
            assert s.get_final_message().model == "claude-sonnet-4-5-20250929"


def test_unknown_path_404(server, client):
    with pytest.raises(anthropic.NotFoundError) as info:
        client.get("/v1/nothing-here", cast_to=object)
    assert info.value.type == "not_found_error" and info.value.request_id.startswith("req_")


def test_request_validation(server, client):
    cc = {"cache_control": {"type": "ephemeral"}}
    five = [{"type": "text", "text": f"part {i}", **cc} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4 blocks with cache_control"):
        client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": five}])
    dangling = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]},
        {"role": "user", "content": "no result"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="without `tool_result`"):
        client.messages.create(model=MODEL, max_tokens=10, messages=dangling)
    dangling[2]["content"] = [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]
    assert client.messages.create(model=MODEL, max_tokens=10, messages=dangling).content


# -- usage, caching, recording ---------------------------------------------------------------------


def test_prompt_caching_usage(server, client):
    cc = {"type": "ephemeral"}
    system = [{"type": "text", "text": "You are a data analyst. " * 50, "cache_control": cc}]
    turn1 = [{"role": "user", "content": [{"type": "text", "text": "First question " * 20, "cache_control": cc}]}]
    u1 = client.messages.create(model=MODEL, max_tokens=100, system=system, messages=turn1).usage
    assert u1.cache_read_input_tokens == 0 and u1.cache_creation_input_tokens > 0 and u1.input_tokens == 0
    total1 = u1.cache_creation_input_tokens

    # The second turn extends the first's prefix: all of it is read, the new part written.
    turn2 = [
        {"role": "user", "content": [{"type": "text", "text": "First question " * 20}]},
        {"role": "assistant", "content": "An answer."},
        {"role": "user", "content": [{"type": "text", "text": "Second question " * 20, "cache_control": cc},
                                     {"type": "text", "text": "uncached tail"}]},
    ]
    with ask(client, system=system) as s:
        pass
    with client.messages.stream(model=MODEL, max_tokens=100, system=system, messages=turn2) as s:
        u2 = s.get_final_message().usage
    assert u2.cache_read_input_tokens == total1
    assert u2.cache_creation_input_tokens > 0 and u2.input_tokens > 0
    count = client.messages.count_tokens(model=MODEL, system=system, messages=turn2).input_tokens
    assert u2.input_tokens + u2.cache_creation_input_tokens + u2.cache_read_input_tokens == count

    # Same request again: everything up to the last breakpoint is read.
    u3 = client.messages.create(model=MODEL, max_tokens=100, system=system, messages=turn2).usage
    assert u3.cache_creation_input_tokens == 0 and u3.input_tokens == u2.input_tokens
    assert u3.cache_read_input_tokens == u2.cache_read_input_tokens + u2.cache_creation_input_tokens

    # Another model has its own cache; no breakpoint, no cache.
    u4 = client.messages.create(model="claude-haiku-4-5", max_tokens=100, system=system, messages=turn1).usage
    assert u4.cache_read_input_tokens == 0 and u4.cache_creation_input_tokens == total1
    u5 = client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}]).usage
    assert (u5.cache_read_input_tokens, u5.cache_creation_input_tokens) == (0, 0)


def test_min_cache_tokens():
    with MessagesServer(min_cache_tokens=1024) as s:
        c = s.client()
        msgs = [{"role": "user", "content": [{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}]}]
        for _ in range(2):
            u = c.messages.create(model=MODEL, max_tokens=10, messages=msgs).usage
            assert (u.cache_read_input_tokens, u.cache_creation_input_tokens) == (0, 0)
        c.close()


def test_requests_are_recorded(server, client):
    system = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    with ask(client, "What is 2+2?", system=system, max_tokens=321) as s:
        s.get_final_message()
    r = server.requests[-1]
    assert (r.method, r.path, r.status) == ("POST", "/v1/messages", 200)
    assert r.headers["authorization"] == f"Bearer {KEY}" and r.api_key == KEY
    assert "anthropic-version" in r.headers
    assert r.headers["content-type"] == "application/json"
    assert r.model == MODEL and r.stream is True
    assert r.body["max_tokens"] == 321
    assert r.body["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert r.body["messages"] == [{"role": "user", "content": "What is 2+2?"}]
    assert server.message_requests == [r] and server.last_request is r


def test_keep_alive(server, client):
    for _ in range(8):
        with ask(client) as s:
            s.get_final_message()
    # One pooled connection served every call (the chunked SSE body ends cleanly). Latency: bench_server.py
    assert len({r.client_address for r in server.requests}) == 1


def test_stop_is_fast_with_open_connections(client):
    s = MessagesServer().start()
    c = s.client()
    c.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])  # idle keep-alive
    s.enqueue(slow("x" * 100, delay=0.5))
    import threading

    errors = []

    def run():
        try:
            with c.messages.stream(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}]) as st:
                list(st)
        except Exception as e:  # noqa: BLE001 - whatever the client sees when the server goes away
            errors.append(e)

    th = threading.Thread(target=run)
    th.start()
    time.sleep(0.1)
    s.stop()            # returns although a stream is mid-answer (how fast: bench/bench_server.py)
    th.join(2)
    assert not th.is_alive()
    c.close()


def test_cli_runs_in_foreground(tmp_path):
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([{"kind": "text", "text": "scripted"}, {"kind": "error", "status": 529}]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentnb.testing.server", "--port", "0", "--api-key", "k", "--script", str(script)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        c = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
        msg = c.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
        assert msg.content[0].text == "scripted"
        with pytest.raises(anthropic.OverloadedError):
            c.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}])
        c.close()
    finally:
        proc.terminate()
        proc.wait(5)


def test_enqueue_rejects_non_replies(server):
    with pytest.raises(TypeError):
        server.enqueue("hello")
    assert isinstance(text("x"), Reply)


def test_running_the_server_module_prints_no_runpy_warning():
    import subprocess
    import sys

    for module in ("agentnb.testing.server", "agentnb.testing"):
        done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "--port" in done.stdout, done.stderr
        assert "Warning" not in done.stderr, done.stderr

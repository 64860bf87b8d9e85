"""Interrupting a streaming cell in a real kernel keeps the text already shown, and the next cell works."""

from __future__ import annotations

import time

import pytest

from agentnb.testing.server import slow, text

pytestmark = pytest.mark.slow


def run(client, code: str, on_message=None, timeout: float = 30) -> list[dict]:
    msg_id = client.execute(code)
    messages = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if on_message:
            on_message(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
    raise AssertionError(f"no idle after {code!r}")


def shown_text(messages) -> str:
    out = []
    for m in messages:
        data = m["content"].get("data") or {}
        out.append(data.get("text/markdown", ""))
    return "\n".join(out)


def test_interrupt_mid_stream_keeps_the_partial_answer_and_the_conversation(api, workdir):
    from jupyter_client.manager import start_new_kernel

    answer = " ".join(f"mot{i}" for i in range(400))
    api.enqueue(slow(answer, delay=0.02, chunk_size=8), text("Suite bien reçue."))
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(workdir))
    try:
        run(kc, "%load_ext agentnb")
        interrupted = []

        def interrupt_once(msg):
            if not interrupted and "mot1" in shown_text([msg]):
                interrupted.append(True)
                time.sleep(0.3)                 # let a few more deltas arrive
                km.interrupt_kernel()

        messages = run(kc, "%%backend_dev\nUne longue réponse, s'il te plaît.", on_message=interrupt_once)
        assert interrupted, "the stream never showed text"
        errors = [m for m in messages if m["msg_type"] == "error"]
        assert errors and errors[0]["content"]["ename"] == "KeyboardInterrupt"
        last = [m for m in messages if m["msg_type"] in ("display_data", "update_display_data")][-1]
        partial = last["content"]["data"]["text/markdown"]
        assert partial.startswith("mot0 mot1") and "interrupted" in partial and len(partial) < len(answer)

        messages = run(kc, "%%backend_dev -o suite\nEt la suite ?")
        assert not [m for m in messages if m["msg_type"] == "error"]
        assert "Suite bien reçue." in shown_text(messages)
        roles = [m["role"] for m in api.message_requests[-1].body["messages"]]
        assert roles == ["user", "assistant", "user"]
        assert api.message_requests[-1].body["messages"][1]["content"][0]["text"].startswith("mot0 mot1")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

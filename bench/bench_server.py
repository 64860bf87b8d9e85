"""The local Messages API server's timings, moved out of tests/test_server.py (tests check behaviour,
benches print figures):

    python bench/bench_server.py

- streamed call latency through the real SDK, one pooled connection (goal: well under 50 ms; ~2 ms
  measured with TCP_NODELAY);
- a slow-mode answer of 3 chunks at 30 ms takes at least 90 ms (the mode really waits);
- stopping the server while a stream is mid-answer (goal: under 0.5 s).
"""

from __future__ import annotations

import statistics
import threading
import time

from agentnb.testing.server import MessagesServer, slow

MODEL = "claude-sonnet-5-5"


def _stream(client, **kw) -> list[str]:
    with client.messages.stream(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "x"}], **kw) as s:
        return list(s.text_stream)


def main() -> None:
    with MessagesServer(api_key="bench-key") as server:
        client = server.client()
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            _stream(client)
            times.append(time.perf_counter() - t0)
        print(f"streamed call latency: median {statistics.median(times[1:]) * 1000:.2f} ms, "
              f"min {min(times) * 1000:.2f} ms (goal < 50 ms)")
        server.enqueue(slow("abcdef", delay=0.03, chunk_size=2))
        t0 = time.perf_counter()
        _stream(client)
        print(f"slow stream, 3 chunks at 30 ms: {(time.perf_counter() - t0) * 1000:.0f} ms (expected >= 90 ms)")
        client.close()

    server = MessagesServer().start()
    client = server.client()
    server.enqueue(slow("x" * 100, delay=0.5))
    th = threading.Thread(target=lambda: _safely(_stream, client))
    th.start()
    time.sleep(0.1)
    t0 = time.perf_counter()
    server.stop()
    print(f"stop with a stream mid-answer: {(time.perf_counter() - t0) * 1000:.0f} ms (goal < 500 ms)")
    th.join(2)
    client.close()


def _safely(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - the client sees the server go away; only the stop time matters here
        pass


if __name__ == "__main__":
    main()

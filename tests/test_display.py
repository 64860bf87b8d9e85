"""Streaming display: throttled so that rendering a long answer costs time linear in its length."""

from __future__ import annotations

from agentnb.render import live as display


def test_stream_updates_are_throttled_to_linear_total_work(monkeypatch):
    clock = iter(i * 0.002 for i in range(10**7))            # 2 ms between deltas
    monkeypatch.setattr(display.time, "monotonic", lambda: next(clock))
    rendered = []
    renderer = display.NotebookRenderer()
    monkeypatch.setattr(renderer, "_show", lambda text: rendered.append(len(text)))
    renderer.start(replayed=False)
    delta = "0123456789" * 5                                 # 50 characters a delta
    for _ in range(20_000):                                  # a 1 MB answer
        renderer.text(delta)
    final = 20_000 * len(delta)
    assert len(rendered) < 400                               # not one update per delta
    assert sum(rendered) < 25 * final                        # total rendering work stays linear


def test_replay_is_not_streamed(monkeypatch):
    shown = []
    renderer = display.NotebookRenderer()
    monkeypatch.setattr(renderer, "_show", shown.append)
    renderer.start(replayed=True)
    renderer.text("whole answer")
    assert shown == []                  # it appears once, complete, in finish()

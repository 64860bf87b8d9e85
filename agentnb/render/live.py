"""Showing a streamed answer: in a notebook (throttled display updates) and in a terminal."""

from __future__ import annotations

import sys
import time

from agentnb.response import Response


class NotebookRenderer:
    """Streams Markdown into one display, then hands over to the cell's result.

    Each update re-renders the whole text, so updates are spaced by an interval that grows with the
    text (rendering n characters costs ~n): the total rendering work stays linear in the answer's
    length. A replay is not streamed at all: its answer appears once, as the cell's result, so that a
    saved notebook compares equal under nbval (which does not apply display updates).
    """

    MIN_INTERVAL = 0.08
    CHARS_PER_SECOND = 200_000

    def __init__(self, stream: bool = True):
        self.stream = stream
        self.start(replayed=True)

    def start(self, replayed: bool) -> None:
        # called once per call: a --fix round starts a fresh display
        self.parts, self.handle, self.last, self.length, self.updates = [], None, 0.0, 0, 0
        self.live = self.stream and not replayed

    def text(self, delta: str) -> None:
        self.parts.append(delta)
        self.length += len(delta)
        if not self.live:
            return
        now = time.monotonic()
        if not self.updates or now - self.last >= max(self.MIN_INTERVAL, self.length / self.CHARS_PER_SECOND):
            self._show("".join(self.parts) + " ▌")
            self.last = now
            self.updates += 1

    def _show(self, text: str) -> None:
        from IPython.display import Markdown, display

        if self.handle is None:
            self.handle = display(Markdown(text), display_id=True)
        else:
            self.handle.update(Markdown(text))

    def finish(self, response: Response) -> None:
        """The whole answer replaces the streamed text (or appears, for a replay), before checks run."""
        from agentnb.render.answer import answer_bundle
        from agentnb.response import _execution_count

        data, meta = answer_bundle(response)
        if self.handle is not None:
            self.handle.update(data, metadata=meta, raw=True)
        else:
            from IPython.display import display

            display(data, metadata=meta, raw=True)
        # the cell's result is then a one-line summary, not the answer a second time
        response.shown_in = _execution_count()

    def checked(self, response: Response) -> None:
        from agentnb.render.panel import show_artifacts

        show_artifacts(response)

    def fail(self, error: BaseException, partial: str) -> None:
        if partial:
            note = "interrupted" if isinstance(error, KeyboardInterrupt) else "incomplete"
            self._show(f"{partial}\n\n> ⚠️ {note}: the answer above is partial.")


class TerminalRenderer:
    """Writes deltas to a text stream as they come (the CLI)."""

    def __init__(self, out=None, stream: bool = True):
        self.out = out or sys.stdout
        self.stream = stream
        self.parts: list[str] = []

    def start(self, replayed: bool) -> None:
        pass

    def text(self, delta: str) -> None:
        if self.stream:
            self.out.write(delta)
            self.out.flush()
        else:
            self.parts.append(delta)

    def finish(self, response: Response) -> None:
        if not self.stream:
            self.out.write(response.text)
        self.out.write("\n")
        from agentnb.render.answer import notes

        for note in notes(response):
            print(f"warning: {note}", file=sys.stderr)
        print(f"-- {response.footer()}", file=sys.stderr)

    def checked(self, response: Response) -> None:
        if len(response.artifacts):
            from agentnb.render.panel import panel_text

            print(panel_text(response), file=sys.stderr)

    def fail(self, error: BaseException, partial: str) -> None:
        if partial and not self.stream:
            self.out.write(partial)
        self.out.write("\n")
        self.out.flush()

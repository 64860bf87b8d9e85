"""Showing answers as they happen: the streamed answer in a notebook (throttled display updates), then
its panel, then the cell's result; or the same in a terminal. The outputs themselves are built by
``answer`` and ``panel``; this module publishes them and remembers which cell showed which answer."""

from __future__ import annotations

import sys
import time
import weakref
from typing import TYPE_CHECKING

from agentnb.render import answer, metadata, panel
from agentnb.text import plural

if TYPE_CHECKING:
    from agentnb.response import Response


def show(response: Response) -> None:
    """Display a response the way the magics do: answer, artifacts and checks, ER diagram."""
    from IPython.display import display

    data, meta = answer.answer_bundle(response)
    display(data, metadata=meta, raw=True)
    show_artifacts(response)


def show_artifacts(response: Response) -> None:
    from IPython.display import display

    if not len(response.artifacts):
        return
    data, meta = panel.panel_bundle(response, widgets=panel.widgets_wanted())
    display(data, metadata=meta, raw=True)
    if response.schema_model is not None and response.schema_model.tables:
        data, meta = panel.erd_bundle(response.schema_model)
        display(data, metadata=meta, raw=True)


# -- the cell's result ----------------------------------------------------------------------------------

# the cell that showed each answer in full, by the answer's id (a weak reference forgets dropped answers)
_shown_in: dict[int, tuple[weakref.ref, int | None]] = {}


def _execution_count() -> int | None:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def _mark_shown(response: Response) -> None:
    key = id(response)
    _shown_in[key] = (weakref.ref(response, lambda _: _shown_in.pop(key, None)), _execution_count())


def _shown_here(response: Response) -> bool:
    ref, cell = _shown_in.get(id(response), (None, None))
    return ref is not None and ref() is response and cell is not None and cell == _execution_count()


def summary(response: Response) -> str:
    text = f"{response.agent}: {len(response.text):,} characters, {plural(len(response.artifacts), 'artifact')}"
    if response.check_report is not None and response.checks:
        text += f", {panel.checks_summary(response)}"
    return f"<Response {text}>"


def result_bundle(response: Response):
    """What a cell whose value is ``response`` shows. The cell that streamed this answer already shows it
    in full: its result is then a one-line summary. Anywhere else (a variable shown in a later cell) the
    whole answer shows again, its checks as text."""
    if _shown_here(response):
        text = summary(response)
        return {"text/plain": text, "text/markdown": answer.small(text)}, metadata.for_result(text)
    markdown = answer.answer_markdown(response)
    if response.check_report is not None and len(response.artifacts):
        markdown += "\n```text\n" + panel.panel_text(response) + "\n```\n"
    return {"text/markdown": markdown, "text/plain": answer.plain(response)}


# -- renderers (see session.Renderer) -------------------------------------------------------------------

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

    def _show(self, text: str, state: str = "streaming") -> None:
        from IPython.display import display

        # a raw bundle: a Markdown object would be saved with text/plain "<...Markdown object>"
        data = {"text/markdown": text, "text/plain": text}
        meta = metadata.for_result(f"partial answer ({state})")
        if self.handle is None:
            self.handle = display(data, metadata=meta, raw=True, display_id=True)
        else:
            self.handle.update(data, metadata=meta, raw=True)

    def finish(self, response: Response) -> None:
        """The whole answer replaces the streamed text (or appears, for a replay), before checks run."""
        data, meta = answer.answer_bundle(response)
        if self.handle is not None:
            self.handle.update(data, metadata=meta, raw=True)
        else:
            from IPython.display import display

            display(data, metadata=meta, raw=True)
        _mark_shown(response)      # the cell's result is then a one-line summary, not the answer again

    def checked(self, response: Response) -> None:
        show_artifacts(response)

    def fail(self, error: BaseException, partial: str) -> None:
        if partial:
            note = "interrupted" if isinstance(error, KeyboardInterrupt) else "incomplete"
            self._show(f"{partial}\n\n> ⚠️ {note}: the answer above is partial.", note)


class TerminalRenderer:
    """Writes deltas to a text stream as they come (the CLI)."""

    def __init__(self, out=None, stream: bool = True):
        self.out = out or sys.stdout
        self.stream = stream

    def start(self, replayed: bool) -> None:
        pass

    def text(self, delta: str) -> None:
        # unstreamed, the answer is written whole by finish (or its partial text by fail)
        if self.stream:
            self.out.write(delta)
            self.out.flush()

    def finish(self, response: Response) -> None:
        if not self.stream:
            self.out.write(response.text)
        self.out.write("\n")
        for note in answer.notes(response):
            print(f"warning: {note}", file=sys.stderr)
        print(f"-- {answer.footer(response)}", file=sys.stderr)

    def checked(self, response: Response) -> None:
        if len(response.artifacts):
            print(panel.panel_text(response), file=sys.stderr)

    def fail(self, error: BaseException, partial: str) -> None:
        if partial and not self.stream:
            self.out.write(partial)
        self.out.write("\n")
        self.out.flush()

"""How a tools cell shows: each tool call collapsed (tool, input, result cut with its length, duration,
allowed or denied), a teammate's calls nested under the call that consulted it, the permission question,
and the files the agent created or changed, each a link."""

from __future__ import annotations

import difflib
import html
import json
import os
import re
import sys
from pathlib import Path

from agentnb.llm.models import input_total
from agentnb.render.live import NotebookRenderer, TerminalRenderer
from agentnb.text import first_line, plural

RESULT_CHARS = 1500
INPUT_CHARS = 2000
# A sub-agent's hand-back (the Agent call's result) names the run's agent id, how long it took and the
# tokens its context held (which vary with the folder's path and the date)
_VOLATILE = [(re.compile(r"\bagentId: [0-9a-zA-Z_-]+"), "agentId: <id>"),
             (re.compile(r"\bduration_ms: \d+"), "duration_ms: <t>"),
             (re.compile(r"\bsubagent_tokens: \d+"), "subagent_tokens: <n>"),
             # the CLI's own scratch folder for a session (a background task's output file names it)
             (re.compile(r"/tmp/claude-\d+/[0-9A-Za-z-]{8,}"), "<claude-tmp>")]
# Durations in a command's output ("3 passed in 0.02s"): they differ on every run, replays included
TIMING = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds)\b")
STATUS = {"running": "…", "done": "allowed", "error": "allowed, failed", "denied": "denied"}


def steady(text: str) -> str:
    """``text`` without what changes from one run of a sub-agent to the next (its id, its duration)."""
    for pattern, mark in _VOLATILE:
        text = pattern.sub(mark, text)
    return text


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text):,} characters in all)"


def short_input(name: str, data: dict) -> str:
    """One line for a tool call: the command, the file or the pattern it works on."""
    for key in ("command", "file_path", "notebook_path", "pattern", "path", "url", "description", "prompt"):
        if data.get(key):
            value = first_line(str(data[key]))
            return value[:120]
    return json.dumps(data, ensure_ascii=False)[:120]


def input_text(name: str, data: dict) -> str:
    """A tool's input as a person reads it: the command, a diff for Edit and Write, else JSON."""
    if name == "Bash" and "command" in data:
        return f"$ {data['command']}"
    if name in ("Edit", "MultiEdit") and "file_path" in data:
        edits = data.get("edits") or [{"old_string": data.get("old_string", ""), "new_string": data.get("new_string", "")}]
        lines = [f"--- {data['file_path']}"]
        for edit in edits:
            lines += list(difflib.unified_diff(str(edit.get("old_string", "")).splitlines(),
                                               str(edit.get("new_string", "")).splitlines(), lineterm="", n=2))[2:]
        return "\n".join(lines)
    if name == "Write" and "file_path" in data:
        old = ""
        try:
            old = Path(data["file_path"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass
        new = str(data.get("content", ""))
        if old:
            return "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines(), data["file_path"],
                                                  data["file_path"], lineterm=""))
        return f"+++ {data['file_path']} (new file)\n{new}"
    return json.dumps(data, indent=1, ensure_ascii=False)


def describe_request(name: str, data: dict) -> str:
    """What a tool wants, for a permission question in the running cell."""
    return f"\n{name} wants to run:\n{_cut(input_text(name, data), INPUT_CHARS)}\n"


def local(text: str, workspace: Path | None) -> str:
    """``text`` with the workspace's absolute path taken out (``/…/workspace/a.sql`` -> ``a.sql``): what
    a cell shows is the same in every checkout, so saved outputs replay elsewhere unchanged."""
    if workspace is None or not text:
        return text
    for form in dict.fromkeys([str(Path(workspace).absolute()), str(Path(workspace).resolve())]):
        text = text.replace(form.rstrip("/") + "/", "").replace(form, ".")
    return text


def shown_result(call, workspace: Path | None) -> str:
    """A call's result as shown: paths local, a sub-agent's run id and duration and a command's timings
    masked, so that a replay shows what the recorded run showed."""
    text = steady(local(call.result, workspace))
    return TIMING.sub("<t>", text) if call.name == "Bash" and text else text


def summary_line(call, live: bool, workspace: Path | None = None) -> str:
    status = STATUS.get(call.status, call.status)
    parts = [call.name, local(short_input(call.name, call.input), workspace), status]
    if call.result is not None:
        parts.append(f"result {len(shown_result(call, workspace)):,} chars")
    if getattr(call, "requests", 0):
        parts.append(consultation_usage(call))
    if live and call.duration_s is not None:
        parts.append(f"{call.duration_s:.1f} s")
    return " · ".join(parts)


def consultation_usage(call) -> str:
    """A teammate's own requests under the call that consulted it: count, tokens in and out, cost."""
    u = call.usage
    cost = "cost unknown" if call.cost_usd is None else f"${call.cost_usd:.4f}"
    return (f"{plural(call.requests, 'request')}, in {input_total(u):,} out {int(u.get('output_tokens') or 0):,}, "
            f"{cost}")


def call_bundle(call, *, live: bool, depth: int = 0, workspace: Path | None = None,
                shown_input: str | None = None) -> tuple[dict, dict]:
    """One tool call, collapsed: the summary line; open it for the input and the result (paths in the
    workspace shown relative to it). ``shown_input``: the input as shown when the call started (a Write's
    diff must be taken before the file is written)."""
    line = summary_line(call, live, workspace)
    icon = "🚫" if call.status == "denied" else "⚠️" if call.status == "error" else "🔧"
    if shown_input is None:
        shown_input = input_text(call.name, call.input)
    body = f"<pre>{html.escape(_cut(local(shown_input, workspace), INPUT_CHARS))}</pre>"
    if call.result is not None:
        body += f"<pre>{html.escape(_cut(shown_result(call, workspace), RESULT_CHARS))}</pre>"
    margin = f' style="margin-left:{depth * 1.5}em"' if depth else ""
    markup = (f"<details{margin}><summary>{icon} <code>{html.escape(line)}</code></summary>{body}</details>")
    plain = ("    " * depth) + f"[tool] {line}"
    return {"text/html": markup, "text/plain": plain}, {"agentnb": {"kind": "tool_call", "tool": call.name,
                                                                   "status": call.status}}


def files_markdown(workspace: Path, changes) -> str:
    """The files the agent created or changed, each a link (relative to the notebook's folder)."""
    if not changes:
        return ""
    try:
        base = Path(os.path.relpath(workspace, Path.cwd())).as_posix()
    except ValueError:        # another drive (Windows)
        base = workspace.as_posix()
    rows = [f"- [{c.path}]({base}/{c.path}) · {c.status} · {c.size:,} bytes" for c in changes]
    return f"**Workspace `{base}/`**: {plural(len(changes), 'file')} created or changed\n\n" + "\n".join(rows) + "\n"


class ToolsNotebookRenderer(NotebookRenderer):
    """The notebook renderer, plus tool calls: live, each shown as it starts and updated when it ends; on
    replay, each shown once, ended (a saved notebook keeps what nbval and other readers that ignore
    display updates see). The text streamed while the loop runs is cleared at the end, when the whole
    answer appears once."""

    def start(self, replayed: bool) -> None:
        super().start(replayed)
        self.calls: dict[str, object] = {}
        self.pending: dict[str, object] = {}
        self.inputs: dict[str, str] = {}
        self.depth: dict[str, int] = {}
        self.replayed = replayed
        self.workspace = getattr(self, "workspace", None)     # set by the tools cell before the loop

    def _bundle(self, call):
        return call_bundle(call, live=not self.replayed, depth=self.depth.get(call.id, 0), workspace=self.workspace,
                           shown_input=self.inputs.get(call.id))

    def _show_call(self, call):
        from IPython.display import display

        data, meta = self._bundle(call)
        self.calls[call.id] = display(data, metadata=meta, raw=True, display_id=not self.replayed)

    def tool_call(self, call) -> None:
        self.depth[call.id] = self.depth.get(call.parent, -1) + 1 if call.parent else 0
        self.inputs[call.id] = input_text(call.name, call.input)
        if self.replayed:
            self.pending[call.id] = call
        else:
            self._show_call(call)

    def tool_result(self, call) -> None:
        if self.pending.pop(call.id, None) is not None:
            self._show_call(call)
            return
        handle = self.calls.get(call.id)
        if handle is not None:
            data, meta = self._bundle(call)
            handle.update(data, metadata=meta, raw=True)

    def _flush(self) -> None:
        """Calls that never got a result (a turn limit, a stopped loop), shown as they are."""
        for call in list(self.pending.values()):
            self.pending.pop(call.id)
            self._show_call(call)

    def files(self, workspace: Path, changes) -> None:
        from IPython.display import display

        self._flush()
        text = files_markdown(workspace, changes)
        if text:        # a raw bundle: a Markdown object would be saved as "<...Markdown object>"
            display({"text/markdown": text, "text/plain": text}, raw=True)

    def finish(self, response) -> None:
        self._flush()
        for call in getattr(response, "tool_calls", []):
            # live, a consultation's last request may end just after its line did: shown again, complete
            handle = self.calls.get(call.id)
            if call.requests and handle is not None and not self.replayed:
                data, meta = self._bundle(call)
                handle.update(data, metadata=meta, raw=True)
        if self.handle is not None:
            self.handle.update({"text/markdown": "", "text/plain": ""}, raw=True)
            self.handle = None
        super().finish(response)


class ToolsTerminalRenderer(TerminalRenderer):
    """Tool calls as one line each on stderr, as they end."""

    def tool_call(self, call) -> None:
        pass

    def tool_result(self, call) -> None:
        print(f"\n{summary_line(call, live=True)}", file=sys.stderr)

    def files(self, workspace: Path, changes) -> None:
        for c in changes:
            print(f"{c.status}: {workspace / c.path}", file=sys.stderr)

"""A tools cell for a session: the options, the conversation it continues, the log, the response.

``ask`` is what ``Session.ask`` branches to when tools are on. The conversation is shared with plain
cells: a tools cell's exchange is added to it (so a plain cell after it knows what was said), the CLI's
session id is kept on it (so the next tools cell resumes), and plain turns the CLI has not seen are
given to it as context.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from agentnb.errors import AgentnbError, ConfigurationError, CredentialsError, RecordingMissingError
from agentnb.response import Response

CLI_HOME = "claude"          # Claude Code's config folder (its sessions), under agentnb's home


@dataclass
class ToolsOptions:
    """The cell options of a tools cell (``--tools`` and the options that go with it)."""

    tools: list[str] | None = None       # None: the agent file's tools (or Claude Code's default set)
    workspace: str | None = None
    add_dirs: list[str] = field(default_factory=list)
    permission_mode: str | None = None
    max_turns: int | None = None
    claude_settings: bool = False


def parse_tool_list(value: str | None) -> list[str] | None:
    """``--tools Read,Grep`` -> ["Read", "Grep"]; a bare ``--tools`` -> None (the agent's own)."""
    if value is None or not str(value).strip():
        return None
    return [t.strip() for t in str(value).replace(" ", ",").split(",") if t.strip()]


@dataclass(repr=False)
class ToolsResponse(Response):
    """A tools cell's answer: the text, plus the files the agent wrote (``files``, artifacts named by
    their path, checked like fenced blocks), its tool calls and the workspace."""

    files: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    tool_calls: list = field(default_factory=list)
    workspace: Path | None = None
    session_id: str | None = None
    requests: int = 0

    @cached_property
    def artifacts(self):
        """Fenced blocks of the text and the files written; a block the agent also wrote to a file
        (same path or same code) counts once, as the file."""
        from agentnb.artifacts import Artifacts, extract

        found = extract(self.text)
        paths = {a.filename.removeprefix("./") for a in self.files}
        codes = {a.code.strip() for a in self.files}
        kept = [a for a in found if not ((a.filename and a.filename.removeprefix("./") in paths)
                                         or a.code.strip() in codes)]
        return Artifacts(kept + list(self.files), found.env)

    def __repr__(self) -> str:
        return (f"<ToolsResponse {self.agent} {self.model} {len(self.text):,} chars, {len(self.tool_calls)} tool "
                f"call(s), {len(self.files)} file(s)>")


class ToolsRecordingMissing(RecordingMissingError):
    def __init__(self, path: Path, agent: str, cell: str, step: int):
        super().__init__(path, agent=agent, cell=cell)
        self.step = step
        self.args = (f"Step {step} of the tool loop: {self.args[0]}\nOn replay the tools run again: a "
                     "workspace that differs from the recorded run (files, their content) changes what the "
                     "agent sees, and so the request.",)


def _history_text(turns) -> str:
    parts = []
    for turn in turns:
        asked = "\n".join(b.get("text", "") for b in turn.prompt if isinstance(b, dict) and b.get("type") == "text")
        parts.append(f"User:\n{asked}\n\nYou:\n{turn.answer}")
    return ("Earlier in this conversation (without tools):\n\n" + "\n\n---\n\n".join(parts)
            + "\n\n---\n\nNow:\n")


def _context_text(context: list[dict] | None) -> str:
    texts = [b.get("text", "") for b in context or [] if isinstance(b, dict) and b.get("type") == "text"]
    return "\n\n".join(texts) + "\n\n" if texts else ""


def teammates(session, agent) -> dict:
    """Every other agent of the catalog, offered to Claude Code as a sub-agent it may consult."""
    from agentnb.llm import models

    out = {}
    for other in session.catalog.agents.values():
        if other.name == agent.name:
            continue
        choice = models.resolve(other.name, other.model, session_override=session.settings.model_overrides.get(other.name),
                                clock=session.clock)
        out[other.name] = (other.description.strip() or other.name, other.system_prompt,
                           list(other.tools) or None, choice.model)
    return out


TOOL_STATUS = {"done": "allowed", "denied": "denied", "error": "error", "running": "unanswered"}


class _Log:
    """Each request of the loop as its own row of the session log (usage, cost, the tools it asked
    for; a teammate's under its own name), and each tool call as a "tool" row linked to the request
    that asked for it (see ``agentnb.sessionlog``)."""

    def __init__(self, session, agent, conversation, prompt: str, workspace: Path | None = None):
        self.session, self.agent, self.conversation, self.prompt = session, agent, conversation, prompt
        self.workspace = workspace
        self.live_cost = 0.0
        self.call_ids: dict[str, str] = {}      # answer (message id) -> its row's call_id
        self.replayed: dict[str, bool] = {}
        self.calls: dict[str, object] = {}      # tool_use id -> ToolCall
        self.logged: set[str] = set()
        self.waiting: dict[str, list] = {}     # message id -> tool calls ended before its request's row
        self.lock = threading.Lock()

    def row(self, **fields):
        from agentnb import sessionlog

        base = dict(notebook=self.session.notebook, agent=self.agent.name, thread=self.conversation.thread,
                    prompt=self.prompt, session=self.session.id)
        if fields.get("agent") is None:
            fields.pop("agent", None)
        sessionlog.append(sessionlog.Exchange(**(base | fields)), home=self.session.settings.resolved_home())

    def exchange(self, e) -> None:
        from agentnb.llm import models

        cost = models.cost(e.model, e.usage) if e.usage else None
        if not e.replayed and cost:
            self.live_cost += cost
            self.session.billed_usd += cost
        answer = e.answer + ("\n[tools] " + ", ".join(e.tool_uses) if e.tool_uses else "")
        e.call_id = uuid.uuid4().hex
        waiting = []
        if e.message_id:
            with self.lock:
                self.call_ids[e.message_id] = e.call_id
                self.replayed[e.message_id] = e.replayed
                waiting = self.waiting.pop(e.message_id, [])
        try:
            self.row(model=e.model, answer=answer, replayed=e.replayed, cost_usd=cost, latency_s=e.duration_s,
                     request_hash=e.recording.stem if e.recording else None, request_id=e.request_id,
                     error=e.error, call_id=e.call_id, agent=e.teammate,
                     **{k: int(e.usage.get(k) or 0) for k in models.USAGE_KEYS})
        except AgentnbError:
            pass      # the answer matters more than its log row; %agentnb usage will miss it
        for call in waiting:
            self._tool_row(call)

    def tool_call(self, call) -> None:
        self.calls[call.id] = call

    def tool_result(self, call) -> None:
        with self.lock:
            if call.id in self.logged:
                return
            self.logged.add(call.id)
            if call.message_id and call.message_id not in self.call_ids:
                # a tool can end before the endpoint has logged the answer that asked for it
                self.waiting.setdefault(call.message_id, []).append(call)
                return
        self._tool_row(call)

    def _tool_row(self, call) -> None:
        from agentnb.render.tools import local, short_input

        consulting = self.calls.get(call.parent)
        teammate = consulting.input.get("subagent_type") if consulting is not None else None
        try:
            self.row(state="tool", tool=call.name, tool_input=local(short_input(call.name, call.input), self.workspace),
                     tool_status=TOOL_STATUS.get(call.status, call.status), latency_s=call.duration_s,
                     call_id=self.call_ids.get(call.message_id or ""), agent=teammate,
                     replayed=self.replayed.get(call.message_id or "", False),
                     error=(call.result or "")[:300] if call.status == "error" else None, model="")
        except AgentnbError:
            pass

    def unanswered(self, calls) -> None:
        """Calls the loop ended before (a turn limit), logged as such."""
        for call in calls:
            if call.id not in self.logged:
                self.tool_result(call)
        with self.lock:
            left = [c for waiting in self.waiting.values() for c in waiting]
            self.waiting.clear()
        for call in left:          # their request was never logged (refused, or the loop was stopped)
            self._tool_row(call)


def ask(session, agent, prompt: str, *, model: str | None, thread: str | None, new: bool,
        context: list[dict] | None, renderer, check: bool, options: ToolsOptions) -> ToolsResponse:
    from agentnb.llm import budget
    from agentnb.llm import models
    from agentnb.tools import engine, permissions
    from agentnb.tools import workspace as workspaces

    engine.sdk()       # the one-line message naming the extra, before anything else
    agent = session.agent(agent)
    settings = session.settings
    choice = models.resolve(agent.name, agent.model, override=model,
                            session_override=settings.model_overrides.get(agent.name), clock=session.clock)
    conversation = session.conversation(agent.name, thread, new)
    mode = permissions.check_mode(options.permission_mode or agent.metadata.get("permissionMode"))
    max_turns = options.max_turns or _int(agent.metadata.get("maxTurns"))
    if max_turns is not None and max_turns < 1:
        raise ConfigurationError(f"--max-turns {max_turns}: give 1 or more.")
    folder = workspaces.resolve(options.workspace or settings.resolved_workspace())
    add_dirs = []
    for d in options.add_dirs:
        path = Path(d).expanduser().absolute()
        if not path.is_dir():
            raise ConfigurationError(f"--add-dir {d}: no such folder.")
        add_dirs.append(path)
    resume = None if new else getattr(conversation, "cli_session", None)
    seen = getattr(conversation, "cli_turns", 0) if resume else 0
    text = _context_text(context) + prompt
    if conversation.turns[seen:]:
        text = _history_text(conversation.turns[seen:]) + text
    notes = [choice.warning] if choice.warning else []
    if "Bash" in (options.tools or list(agent.tools) or ["Bash"]) and not permissions.sandbox_available() \
            and mode not in ("bypassPermissions",):
        notes.append(permissions.sandbox_how() + ": Bash asks for permission in every mode but bypassPermissions, "
                     "and is denied where nobody can answer (papermill, agentnb run, CI).")
    request = engine.ToolsRequest(
        agent=agent, prompt=text, model=choice.model, workspace=folder, tools=options.tools, add_dirs=add_dirs,
        permission_mode=mode, max_turns=max_turns, claude_settings=options.claude_settings, resume=resume,
        teammates=teammates(session, agent), config_dir=settings.resolved_home() / CLI_HOME)
    log = _Log(session, agent, conversation, prompt, folder)

    def guard(body: dict) -> None:
        budget.check(body, session_spent=session.billed_usd, home=settings.resolved_home())

    interactive = permissions.front_end_can_answer() and mode != "bypassPermissions"
    allowed = session.__dict__.setdefault("tools_allowed", set())     # "always" answers, for this session
    # the workspace as it was, taken while the CLI starts: its first answer (before any tool can run) waits
    # for it; the user's own settings may run hooks at the session's start, so then it is awaited first
    before = workspaces.Snapshot(folder)
    if options.claude_settings:
        before.result()
    if renderer is not None and hasattr(renderer, "tool_call"):
        renderer.workspace = folder           # paths shown relative to it
    events = engine.Events(on_text=renderer.text if renderer else None,
                           on_call=_both(log.tool_call, getattr(renderer, "tool_call", None)),
                           on_result=_both(log.tool_result, getattr(renderer, "tool_result", None)),
                           on_start=renderer.start if renderer else None)
    started = dt.datetime.now(dt.timezone.utc)
    try:
        result = engine.run(request, recordings=settings.resolved_recordings(), mode=settings.resolved_record_mode(),
                            events=events, guard=guard, allowed=allowed,
                            ask=permissions.ask if interactive else None, on_exchange=log.exchange,
                            ready=before.result)
    except KeyboardInterrupt:
        if renderer:
            renderer.fail(KeyboardInterrupt(), "")
        raise
    except AgentnbError as err:
        if renderer:
            renderer.fail(err, "")
        raise
    log.unanswered(result.calls)
    missing = next((e for e in result.exchanges if e.missing is not None), None)
    if missing is not None:
        if missing.error == "no credentials":
            raise CredentialsError(
                "No Anthropic credentials for a live call. Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) in "
                "the environment the kernel starts from, or replay recorded answers with AGENTNB_RECORD_MODE=none.")
        raise ToolsRecordingMissing(missing.missing, agent.name, prompt, missing.step)
    refused = next((e for e in result.exchanges if e.error and e.missing is None), None)
    if result.error or (refused is not None and not result.text):
        detail = refused.error if refused is not None else result.error
        raise engine.CLIFailed(f"Claude Code stopped: {detail}")
    changes = workspaces.changes(before.result(), workspaces.snapshot(folder, before.result()))
    from agentnb.redact import redact

    session._commit(conversation, 0, [{"type": "text", "text": prompt}], redact(result.text), result.stop_reason)
    conversation.cli_session = result.session_id
    conversation.cli_turns = len(conversation.turns)
    if result.denied:
        notes.append(permissions.denial_note(result.denied, mode, asked=interactive))
    if result.refused:
        notes.append("refused, outside the workspace: " + "; ".join(result.refused))
    notes += result.notes
    latency = (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
    response = ToolsResponse(
        text=result.text, agent=agent.name, model=result.model, thread=conversation.thread,
        stop_reason=result.stop_reason, usage=result.usage, cost_usd=result.cost_usd, replayed=result.replayed,
        latency_s=latency, warnings=notes, notebook_total_usd=session.billed_usd, prompt=prompt,
        files=workspaces.file_artifacts(folder, changes), changes=changes, tool_calls=result.calls,
        workspace=folder, session_id=result.session_id, requests=len(result.exchanges))
    if renderer and hasattr(renderer, "files"):
        renderer.files(folder, changes)
    if renderer:
        renderer.finish(response)
    if check:
        # the schema the agent read in the workspace is the one its migrations start from
        read = workspaces.file_artifacts(folder, workspaces.read_unchanged(folder, result.calls, changes))
        schemas = [a for a in read if a.kind == "schema"]
        if schemas:
            conversation.schema = schemas[-1].code
        session._check(agent, conversation, response)
        if renderer:
            renderer.checked(response)
    return response


def _both(first, then):
    """One event handler calling two (the log's, then the renderer's if any)."""
    if then is None:
        return first

    def handler(call):
        first(call)
        then(call)
    return handler


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None

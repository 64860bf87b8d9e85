"""Running a tools cell in Claude Code itself, through the Claude Agent SDK.

The SDK is imported here, when a cell asks for tools, never at ``%load_ext``. The CLI runs:
- against agentnb's endpoint (its ANTHROPIC_BASE_URL), holding a token valid only there, never the key;
- through a launcher (``agentnb.tools.launcher``) that drops every variable of the kernel's environment
  but the few the CLI needs, and ends the CLI and whatever it started (its group, and on Linux what
  its Bash left behind) when it ends, on an interrupt, or when the kernel itself ends;
- in the workspace, the file tools confined to it (``--restricted``, and agentnb's own PreToolUse hook
  in every mode), without the user's ``~/.claude`` settings, memory or hooks unless asked;
- with its own config folder under agentnb's home (its sessions, so that the next cell can resume).

The SDK is asynchronous: it runs in a thread with its own event loop, and hands every message to the
calling (main) thread through a queue, where text is streamed, tool calls are shown, permission
questions are asked with ``input()`` and an interrupt is caught.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from agentnb.errors import AgentnbError, ConfigurationError
from agentnb.tools import launcher, permissions
from agentnb.tools.endpoint import Endpoint, Exchange

INSTALL_HINT = "--tools runs the agent in Claude Code: install it with pip install 'agentnb[tools]'"
# What the CLI process keeps of the environment (besides what agentnb sets for it); never a credential.
KEPT_VARIABLES = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TMPDIR", "TZ", "PWD")
KEPT_PREFIXES = ("LC_", "CLAUDE_AGENT_SDK_")
SDK_VARIABLES = ("CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SDK_READS_SESSION_STATE",
                 "CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING")
STDERR_LINES = 40
# What bypassPermissions allows when the agent names no tools (Claude Code's default set, code included)
BYPASS_DEFAULT_TOOLS = ("Agent", "Bash", "Edit", "Glob", "Grep", "NotebookEdit", "Read", "Task", "WebFetch",
                        "WebSearch", "Write")
# Bash in Claude Code's sandbox, where the machine has one. failIfUnavailable: should the CLI find it
# cannot sandbox after all, it stops instead of running Bash unsandboxed (its default is a warning
# nobody here would read)
SANDBOX = {"enabled": True, "autoAllowBashIfSandboxed": True, "allowUnsandboxedCommands": False,
           "failIfUnavailable": True}
TOOLS_NOTE = ("\n\n## Outils (agentnb)\nDans cette session tu as de vrais outils : ton dossier de travail est "
              "le workspace du notebook. Écris les fichiers que tu proposes dans ce dossier (chemins relatifs), "
              "lis ceux qui s'y trouvent, et exécute les tests que tu écris quand tu as Bash. Résume à la fin "
              "ce que tu as créé ou modifié.")


class ToolsUnavailable(ConfigurationError):
    """The ``tools`` extra is not installed."""


class CLIFailed(AgentnbError):
    """The Claude Code CLI ended with an error; the message carries the end of its stderr."""


def sdk():
    try:
        import claude_agent_sdk
    except ImportError:
        raise ToolsUnavailable(INSTALL_HINT) from None
    return claude_agent_sdk


@dataclass
class ToolsRequest:
    """What one tools cell asks of Claude Code."""

    agent: object                        # agentfile.Agent
    prompt: str
    model: str
    workspace: Path
    tools: list[str] | None = None       # None: the agent file's, else Claude Code's default set
    add_dirs: list[Path] = field(default_factory=list)
    permission_mode: str = "default"
    max_turns: int | None = None
    claude_settings: bool = False
    resume: str | None = None
    teammates: dict = field(default_factory=dict)     # name -> (description, prompt, tools, model)
    config_dir: Path | None = None


@dataclass
class ToolCall:
    id: str
    name: str
    input: dict
    parent: str | None = None            # the Agent call it runs under (a teammate's), if any
    result: str | None = None
    is_error: bool = False
    status: str = "running"              # running, done, error, denied
    started: float = field(default_factory=time.monotonic)
    duration_s: float | None = None
    message_id: str | None = None        # the answer that asked for it (its request's log row)
    # a consultation (an Agent call): the requests made on the teammate's behalf, their usage and cost
    requests: int = 0
    usage: dict = field(default_factory=dict)
    cost_usd: float | None = None


@dataclass
class ToolsResult:
    text: str
    model: str
    stop_reason: str | None
    usage: dict
    session_id: str | None
    calls: list[ToolCall]
    exchanges: list[Exchange]
    cost_usd: float | None
    num_turns: int = 0
    denied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    subtype: str | None = None
    error: str | None = None             # the CLI's own report of a failed turn

    @property
    def replayed(self) -> bool:
        return bool(self.exchanges) and all(e.replayed for e in self.exchanges)


class Events:
    """What the engine tells its caller as the loop runs (each may be None)."""

    def __init__(self, on_text: Callable[[str], None] | None = None,
                 on_call: Callable[[ToolCall], None] | None = None,
                 on_result: Callable[[ToolCall], None] | None = None,
                 on_start: Callable[[bool], None] | None = None):
        self.on_text, self.on_call, self.on_result, self.on_start = on_text, on_call, on_result, on_start


def bundled_cli() -> str:
    path = Path(sdk().__file__).parent / "_bundled" / "claude"
    if not path.is_file():
        raise ToolsUnavailable(f"the Claude Code CLI is missing from claude-agent-sdk ({path}); "
                               "reinstall it with pip install --force-reinstall 'agentnb[tools]'")
    return str(path)


def consults(tools: list[str] | None) -> bool:
    """Whether the agent can consult a sub-agent with these tools (None: Claude Code's default set, which
    can). Without Agent or Task the teammates are not offered: defining them costs the CLI's start-up
    time for nothing."""
    return tools is None or any(name in ("Agent", "Task") for name in tools)


def build_options(request: ToolsRequest, endpoint: Endpoint, *, scratch: Path, asker, refused: list[str],
                  stderr: Callable[[str], None]):
    """The SDK's options for this cell (see the module docstring for why each is what it is)."""
    agent_sdk = sdk()
    workspace = request.workspace
    roots = [workspace, *request.add_dirs]
    mode = permissions.check_mode(request.permission_mode)
    env = {
        "ANTHROPIC_BASE_URL": endpoint.url,
        "ANTHROPIC_API_KEY": endpoint.token,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "AGENTNB_CLI_PIDFILE": str(scratch / "cli.pid"),
    }
    # Bash's `python` is the kernel's own interpreter (the packages the notebook has: pytest for the tests
    # the agent writes), found first on PATH
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])
    if not request.claude_settings and request.config_dir is not None:
        request.config_dir.mkdir(parents=True, exist_ok=True)
        env["CLAUDE_CONFIG_DIR"] = str(request.config_dir)
        # a HOME of its own: Claude Code's Bash sources ~/.bashrc, whose output (and PATH) differs from one
        # machine to the next; the user's own Python packages stay reachable
        home = request.config_dir / "home"
        home.mkdir(exist_ok=True)
        import site

        env["PYTHONUSERBASE"] = os.environ.get("PYTHONUSERBASE") or site.getuserbase()
        env["HOME"] = str(home)
    keep = [*KEPT_VARIABLES, *SDK_VARIABLES, *(k for k in env if k != "AGENTNB_CLI_PIDFILE")]
    extra: dict[str, str | None] = {}
    # --restricted confines the file tools in the CLI itself and skips the user's settings files
    # (agentnb's own hook confines the file tools as well, in every mode)
    if not request.claude_settings:
        extra["restricted"] = None
    if asker is None:
        extra["permission-prompts"] = "none"
    tools = request.tools
    if tools is None:
        tools = list(request.agent.tools) or None
        if tools and request.teammates and "Agent" not in tools:
            tools.append("Agent")     # how Claude Code consults a sub-agent: the teammates are offered
    allowed: list[str] = []
    if mode == "bypassPermissions":
        # run as "every tool allowed": the CLI refuses bypassPermissions under --restricted and as root,
        # and an allow rule per tool gives the same without giving up the confinement
        mode = "acceptEdits"
        allowed = list(tools or BYPASS_DEFAULT_TOOLS)
    agents = None
    if request.teammates and consults(tools):
        # background=False: a consultation answers within the call that made it (shown nested under it)
        agents = {name: agent_sdk.AgentDefinition(description=d, prompt=p, tools=t or None, model=m, background=False)
                  for name, (d, p, t, m) in request.teammates.items()}
    sandbox = None
    if (tools is None or "Bash" in tools) and permissions.sandbox_available():
        sandbox = dict(SANDBOX)
    hook = permissions.confinement_hook(roots, workspace, refused)
    return agent_sdk.ClaudeAgentOptions(
        tools=tools if tools is not None else {"type": "preset", "preset": "claude_code"},
        system_prompt=request.agent.system_prompt + TOOLS_NOTE,
        permission_mode=mode if mode != "default" else None,
        allowed_tools=allowed,
        resume=request.resume,
        max_turns=request.max_turns,
        model=request.model,
        cwd=str(workspace),
        add_dirs=[str(d) for d in request.add_dirs],
        env=env,
        extra_args=extra,
        setting_sources=None if request.claude_settings else [],
        strict_mcp_config=not request.claude_settings,
        can_use_tool=asker.can_use_tool if asker is not None else None,
        # only the file tools: the hook has nothing to say of the others (Bash is the sandbox's), and each
        # call it sees is a round trip from the CLI to this process
        hooks={"PreToolUse": [agent_sdk.HookMatcher(matcher="|".join(permissions.PATH_FIELDS), hooks=[hook])]},
        agents=agents,
        include_partial_messages=True,
        sandbox=sandbox,
        cli_path=str(launcher.write(scratch, bundled_cli(), keep, KEPT_PREFIXES)),
        stderr=stderr,
    )


def run(request: ToolsRequest, *, recordings: Path, mode: str, events: Events | None = None,
        guard: Callable[[dict], None] | None = None, allowed: set[str] | None = None,
        ask: Callable | None = None, on_exchange: Callable[[Exchange], None] | None = None,
        ready: Callable[[], object] | None = None) -> ToolsResult:
    """Run the cell's loop to its end and return what it gave. Raises CLIFailed (the CLI's own error),
    RecordingMissingError-worthy misses are left to the caller (``result.exchanges``). ``ready()`` is
    waited for before the CLI's first request is answered (before it can run any tool)."""
    sdk()
    events = events or Events()
    inbox: queue.Queue = queue.Queue()
    stderr_tail: list[str] = []
    refused: list[str] = []
    asker = permissions.Asker(inbox, allowed if allowed is not None else set()) if ask is not None else None
    state = _Loop(events, replaying=mode == "none")

    def on_stderr(line: str) -> None:
        from agentnb.redact import redact

        stderr_tail.append(redact(line))
        del stderr_tail[:-STDERR_LINES]

    with tempfile.TemporaryDirectory(prefix="agentnb-cli-") as scratch_dir, \
            Endpoint(recordings=recordings, mode=mode, workspace=request.workspace, add_dirs=request.add_dirs,
                     guard=guard, on_exchange=on_exchange, ready=ready,
                     teammates={name: t[1] for name, t in request.teammates.items()}) as endpoint:
        scratch = Path(scratch_dir)
        state.exchanges = endpoint.exchanges
        options = build_options(request, endpoint, scratch=scratch, asker=asker, refused=refused,
                                stderr=on_stderr)
        thread = threading.Thread(target=_drive, args=(request.prompt, options, inbox), daemon=True,
                                  name="agentnb-claude-code")
        thread.start()
        try:
            while True:
                try:
                    kind, item = inbox.get(timeout=0.1)
                except queue.Empty:
                    continue
                if kind == "message":
                    state.see(item)
                elif kind == "ask":
                    (ask or permissions.ask)(item)
                elif kind == "error":
                    if any(e.missing is not None for e in endpoint.exchanges):
                        break         # the caller names the missing recording, more use than the CLI's error
                    if state.final is not None and state.final.is_error:
                        break         # the CLI exits non-zero after an error result: the result says why
                    raise _cli_error(item, stderr_tail, endpoint.exchanges)
                elif kind == "done":
                    break
        except KeyboardInterrupt:
            launcher.stop(scratch / "cli.pid")
            thread.join(launcher.GRACE_S * 2)
            raise
        finally:
            if thread.is_alive():
                launcher.stop(scratch / "cli.pid")
                thread.join(launcher.GRACE_S)
        thread.join(launcher.GRACE_S)
        exchanges = list(endpoint.exchanges)
    return state.result(request, exchanges, refused, asker)


def _drive(prompt: str, options, inbox: queue.Queue) -> None:
    """The SDK's loop, in its own thread and event loop: every message goes to the main thread."""
    import anyio

    from claude_agent_sdk import query

    async def main():
        async for message in query(prompt=prompt, options=options):
            inbox.put(("message", message))

    try:
        anyio.run(main)
    except BaseException as err:     # handed to the main thread, which raises agentnb's own error
        inbox.put(("error", err))
    else:
        inbox.put(("done", None))


def _cli_error(err: BaseException, stderr_tail: list[str], exchanges: list[Exchange]) -> AgentnbError:
    from agentnb.redact import redact

    if isinstance(err, AgentnbError):
        return err
    tail = "\n".join(stderr_tail[-8:])
    refused = [e for e in exchanges if e.error and not e.missing]
    detail = f" The endpoint refused a request: {refused[-1].error}." if refused else ""
    message = redact(str(err)).splitlines()[0] if str(err) else type(err).__name__
    return CLIFailed(f"Claude Code stopped: {message}.{detail}" + (f"\nIts last lines:\n{tail}" if tail else ""))


class _Loop:
    """Follows the SDK's messages: streamed text, tool calls and their results, the final result."""

    def __init__(self, events: Events, replaying: bool = False):
        self.events = events
        self.replaying = replaying         # replay only: no timings shown, so outputs repeat exactly
        self.calls: dict[str, ToolCall] = {}
        self.order: list[ToolCall] = []
        self.texts: list[str] = []
        self.final = None
        self.model = None
        self.session_id = None
        self.started = False
        self.exchanges: list[Exchange] = []     # the endpoint's, as they end
        self.parents: dict[str, str | None] = {}   # answer (message id) -> the Agent call it was made under
        self.current: dict[str | None, str | None] = {}   # the answer streaming now, by the call it is under

    def see(self, message) -> None:
        from claude_agent_sdk import (AssistantMessage, ResultMessage, StreamEvent, SystemMessage, TextBlock,
                                      ToolResultBlock, ToolUseBlock, UserMessage)

        if not self.started and not isinstance(message, SystemMessage):
            self.started = True
            if self.events.on_start:
                self.events.on_start(self.replaying)
        if isinstance(message, SystemMessage):
            self.session_id = message.data.get("session_id", self.session_id)
        elif isinstance(message, StreamEvent):
            event = message.event or {}
            delta = event.get("delta") or {}
            if event.get("type") == "message_start":
                self._answer((event.get("message") or {}).get("id"), message.parent_tool_use_id)
                self.current[message.parent_tool_use_id] = (event.get("message") or {}).get("id")
            if message.parent_tool_use_id is None and event.get("type") == "content_block_delta" \
                    and delta.get("type") == "text_delta" and self.events.on_text:
                self.events.on_text(delta.get("text", ""))
        elif isinstance(message, AssistantMessage):
            self.model = message.model or self.model
            self._answer(message.message_id, message.parent_tool_use_id)
            for block in message.content:
                if isinstance(block, TextBlock) and message.parent_tool_use_id is None:
                    self.texts.append(block.text)
                elif isinstance(block, ToolUseBlock):
                    call = ToolCall(block.id, block.name, dict(block.input or {}), parent=message.parent_tool_use_id,
                                    message_id=message.message_id or self.current.get(message.parent_tool_use_id))
                    self.calls[block.id] = call
                    self.order.append(call)
                    if self.events.on_call:
                        self.events.on_call(call)
        elif isinstance(message, UserMessage) and isinstance(message.content, list):
            for block in message.content:
                if isinstance(block, ToolResultBlock) and block.tool_use_id in self.calls:
                    call = self.calls[block.tool_use_id]
                    call.result = _result_text(block.content)
                    call.is_error = bool(block.is_error)
                    call.duration_s = time.monotonic() - call.started
                    call.status = ("denied" if call.is_error and _was_denied(call.result)
                                   else "error" if call.is_error else "done")
                    self.consultation(call)
                    if self.events.on_result:
                        self.events.on_result(call)
        elif isinstance(message, ResultMessage):
            self.final = message
            self.session_id = message.session_id or self.session_id

    def _answer(self, message_id: str | None, parent: str | None) -> None:
        if message_id and (parent is not None or message_id not in self.parents):
            self.parents[message_id] = parent

    def _made_for(self, exchange: Exchange) -> str | None:
        """The Agent call a request was made under: named by the CLI's messages (the answer's id), else
        (a sub-agent's last answer, which the CLI shows only as the call's result) the consultation of
        that teammate running when it was answered."""
        if exchange.message_id in self.parents:
            return self.parents[exchange.message_id]
        if exchange.teammate is None:
            return None
        running = [c for c in self.order if c.name in ("Agent", "Task")
                   and c.input.get("subagent_type") == exchange.teammate
                   and (c.duration_s is None or c.started + c.duration_s >= exchange.arrived)]
        return running[0].id if running else None

    def _under(self, exchange: Exchange, call_id: str) -> bool:
        """Whether the request was made on behalf of the call's sub-agent (or one it consulted in turn)."""
        parent, seen = self._made_for(exchange), set()
        while parent is not None and parent not in seen:
            if parent == call_id:
                return True
            seen.add(parent)
            parent = self.calls[parent].parent if parent in self.calls else None
        return False

    def consultation(self, call: ToolCall) -> None:
        """A sub-agent call's own requests, usage and cost (the requests that have ended so far)."""
        from agentnb.llm import models

        mine = [e for e in list(self.exchanges) if self._under(e, call.id)]
        if not mine:
            return
        call.requests = len(mine)
        call.usage = {k: sum(int(e.usage.get(k) or 0) for e in mine) for k in models.USAGE_KEYS}
        costs = [models.cost(e.model, e.usage) if e.usage else 0.0 for e in mine]
        call.cost_usd = None if any(c is None for c in costs) else sum(costs)

    def result(self, request: ToolsRequest, exchanges: list[Exchange], refused: list[str], asker) -> ToolsResult:
        from agentnb.llm import models

        self.exchanges = exchanges
        for call in self.order:
            self.consultation(call)
        final = self.final
        usage = {k: 0 for k in models.USAGE_KEYS}
        cost = 0.0
        for e in exchanges:
            for k in models.USAGE_KEYS:
                usage[k] += int(e.usage.get(k) or 0)
            one = models.cost(e.model, e.usage) if e.usage else 0.0
            cost = None if cost is None or one is None else cost + one
        denied = [c.name for c in self.order if c.status == "denied"]
        notes = []
        if final is not None and final.subtype == "error_max_turns":
            notes.append(f"the agent stopped at its turn limit ({request.max_turns} turns): raise --max-turns "
                         "to let it go on.")
        stop = final.stop_reason if final is not None else None
        error = None
        if final is not None and final.is_error and final.subtype != "error_max_turns":
            error = "; ".join(final.errors or []) or (final.result or final.subtype or "unknown error")
        return ToolsResult(
            text="\n\n".join(t for t in self.texts if t.strip()), model=self.model or request.model,
            stop_reason=stop, usage=usage, session_id=self.session_id, calls=self.order, exchanges=exchanges,
            cost_usd=cost, num_turns=final.num_turns if final is not None else 0, denied=denied,
            refused=refused, notes=notes, subtype=final.subtype if final is not None else None, error=error)


def _result_text(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for item in content:
        if isinstance(item, dict) and item.get("type") == "text":
            parts.append(item.get("text", ""))
        else:
            parts.append(json.dumps(item, ensure_ascii=False)[:200])
    return "\n".join(parts)


def _was_denied(text: str) -> bool:
    lowered = (text or "").lower()
    return "denied" in lowered or "outside the workspace" in lowered or "permission" in lowered

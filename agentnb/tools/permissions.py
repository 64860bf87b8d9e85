"""Who may let a tool run: Claude Code's permission modes, a prompt in the running cell when a person can
answer one, an automatic denial (and a cell that says which option to pass) when nobody can, and the
workspace's confinement, checked before every tool call whatever the mode.
"""

from __future__ import annotations

import functools
import queue
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from agentnb.errors import ConfigurationError

MODES = ("default", "acceptEdits", "plan", "bypassPermissions", "dontAsk")
# The input field holding the path each file tool works on.
PATH_FIELDS = {"Read": "file_path", "Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
               "NotebookEdit": "notebook_path", "Glob": "path", "Grep": "path", "LS": "path"}
EDIT_TOOLS = {"Write", "Edit", "MultiEdit", "NotebookEdit"}


def check_mode(mode: str | None) -> str:
    mode = (mode or "default").strip()
    if mode not in MODES:
        raise ConfigurationError(f"--permission-mode {mode!r}: use one of {', '.join(MODES)}.")
    return mode


def front_end_can_answer() -> bool:
    """Whether a person can answer ``input()`` now: a kernel whose front end allows stdin (JupyterLab,
    VS Code; not papermill or nbclient), or a terminal."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    kernel = getattr(shell, "kernel", None) if shell is not None else None
    if kernel is not None:
        return bool(getattr(kernel, "_allow_stdin", False))
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


# What Claude Code's Linux sandbox needs on PATH (measured with CLI 2.1.332: with bwrap but no socat it
# only warns, and Bash runs unsandboxed).
SANDBOX_PROGRAMS = ("bwrap", "socat")
SANDBOX_INSTALL = "`apt-get install bubblewrap socat` (or `dnf install bubblewrap socat`)"
PROBE_TIMEOUT_S = 10


@functools.lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """Why Claude Code cannot sandbox Bash on this machine, or None when it can: Seatbelt on macOS;
    on Linux bubblewrap and socat, and a bubblewrap that can make its namespaces here (a container may
    forbid them). Asked once per process."""
    if sys.platform == "darwin":
        return None
    if not sys.platform.startswith("linux"):
        return f"Claude Code has no Bash sandbox on {sys.platform}"
    missing = [name for name in SANDBOX_PROGRAMS if shutil.which(name) is None]
    if missing:
        return f"{' and '.join(missing)} not found on PATH"
    probe = [shutil.which("bwrap"), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
             "--die-with-parent", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap could not be run ({err})"
    if done.returncode != 0:
        reason = (done.stderr or "").strip().splitlines()
        return "bubblewrap cannot make its namespaces here" + (f" ({reason[-1]})" if reason else "")
    return None


def sandbox_available() -> bool:
    return sandbox_problem() is None


def sandbox_how() -> str:
    """What a cell says when Bash has no sandbox: why, and how to get one."""
    return (f"Bash has no sandbox on this machine ({sandbox_problem()}; Claude Code sandboxes it with "
            f"bubblewrap and socat on Linux: {SANDBOX_INSTALL})")


def denial_note(denied: list[str], mode: str, asked: bool) -> str:
    """What the cell says when tools were denied: which, and the option that would let them run."""
    names = ", ".join(dict.fromkeys(denied))
    if asked:
        return f"denied in this cell: {names}."
    edits_only = all(name in EDIT_TOOLS for name in denied)
    fix = ("--permission-mode acceptEdits (file edits in the workspace)" if edits_only and mode == "default"
           else "--permission-mode bypassPermissions (every tool the agent has, still confined to the workspace)")
    return (f"{names} needed permission and nothing could answer here (papermill, agentnb run, CI): denied, and "
            f"the agent was told. To let it run, pass {fix}, or narrow the tools with --tools.")


def confinement_hook(roots: list[Path], cwd: Path, refused: list[str]):
    """A PreToolUse hook: a file tool whose path leaves the workspace (and the added folders) is denied,
    in every permission mode. ``refused`` collects what was refused, for the cell's notes."""
    from agentnb.tools.workspace import inside

    async def hook(data, tool_use_id, context):
        name = data.get("tool_name", "")
        key = PATH_FIELDS.get(name)
        path = (data.get("tool_input") or {}).get(key) if key else None
        if path and not inside(path, roots, cwd):
            refused.append(f"{name} {path}")
            return {"hookSpecificOutput": {
                "hookEventName": "PreToolUse", "permissionDecision": "deny",
                "permissionDecisionReason": f"{path} is outside the workspace; only files under the workspace "
                                            "(and folders added with --add-dir) can be reached."}}
        return {}

    return hook


@dataclass
class Question:
    """A tool that wants permission, asked on the main thread; ``answer`` is allow/always/deny."""

    tool: str
    input: dict
    answer: str = "deny"
    done: threading.Event = field(default_factory=threading.Event)


class Asker:
    """``can_use_tool`` for a cell with a front end: the SDK's callback (in the engine's thread) hands the
    question to the main thread, which asks with ``input()``; "always" allows the tool for the rest of
    the session (``allowed`` is the session's set)."""

    def __init__(self, events: "queue.Queue", allowed: set[str]):
        self.events = events
        self.allowed = allowed
        self.denied: list[str] = []

    async def can_use_tool(self, tool: str, tool_input: dict, context):
        import anyio
        from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny

        if tool in self.allowed:
            return PermissionResultAllow()
        question = Question(tool, dict(tool_input))
        self.events.put(("ask", question))
        await anyio.to_thread.run_sync(question.done.wait, abandon_on_cancel=True)
        if question.answer == "always":
            self.allowed.add(tool)
        if question.answer in ("allow", "always"):
            return PermissionResultAllow()
        self.denied.append(tool)
        return PermissionResultDeny(message="The user denied this tool call.")


def ask(question: Question, read=input) -> None:
    """On the main thread: show what the tool wants and read the person's answer."""
    from agentnb.render.tools import describe_request

    print(describe_request(question.tool, question.input))
    try:
        reply = read(f"Allow {question.tool}? [y] once / [a] always in this notebook / [n] deny: ")
    except (EOFError, RuntimeError):       # stdin went away: nobody can answer
        reply = "n"
    reply = (reply or "").strip().lower()
    question.answer = "always" if reply.startswith("a") else "allow" if reply.startswith("y") else "deny"
    question.done.set()

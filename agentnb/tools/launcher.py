"""The Claude Code CLI's launcher: what runs in its place, so that nothing the CLI starts outlives the cell.

The SDK runs this file as the CLI (written out as a script by :func:`write`, this module's own source
followed by its settings). It starts a session of its own, keeps only the environment variables it is
told to (names only are written, never values), then runs the CLI as its child in a process group of
its own and supervises it:

- on Linux it is a *child subreaper*: a process the CLI's Bash leaves behind (``cmd &``, ``setsid``, a
  ``run_in_background`` task) comes back to it when its parent ends, instead of going to init;
- when the CLI ends, for whatever reason, it ends the CLI's group and everything that came back to it:
  SIGTERM, then SIGKILL after a grace period;
- SIGTERM (from :func:`stop`, on an interrupt) ends the CLI the same way; on Linux so does the end of the
  kernel that started it (parent-death signal), a kernel killed outright included.

Only the standard library is used above ``write``: the script runs with ``python -IS``.
"""

from __future__ import annotations

import os
import sys
import time

try:     # the C module under signal: without signal's enums the launcher starts ~5 ms sooner
    import _signal as signal
except ImportError:
    import signal

GRACE_S = 2.0
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _children(me: int) -> list[int]:
    """The processes whose parent is ``me`` (Linux: from /proc)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            found.append(int(entry))
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _end_all(group: int, grace: float) -> None:
    """End the CLI's group and every process handed back to this one: SIGTERM, SIGKILL after ``grace``."""
    linux = sys.platform.startswith("linux")
    started = time.monotonic()
    pause = 0.002       # what is left usually ends within milliseconds of its SIGTERM: look again soon
    while True:
        late = time.monotonic() - started > grace
        sig = signal.SIGKILL if late else signal.SIGTERM
        try:
            os.killpg(group, sig)
            group_left = True
        except (ProcessLookupError, PermissionError):
            group_left = False
        kids = _children(os.getpid()) if linux else []
        for pid in kids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        _reap()
        if not group_left and not kids:
            return
        if time.monotonic() - started > 2 * grace:
            return          # stuck in the kernel (uninterruptible): nothing more a signal can do
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def main(settings: dict) -> None:
    keep, prefixes, cli = set(settings["keep"]), tuple(settings["prefixes"]), settings["cli"]
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith(prefixes)}
    pidfile = os.environ.get("AGENTNB_CLI_PIDFILE")
    os.setsid()
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            sys.exit(1)          # the kernel ended before the signal was asked for
    state = {"cli": None, "stopping": False}

    def stop(signum, frame):
        state["stopping"] = True
        if state["cli"] is not None:
            try:
                os.killpg(state["cli"], signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        try:
            os.execve(cli, [cli, *sys.argv[1:]], env)
        finally:
            os._exit(127)
    try:
        os.setpgid(pid, pid)      # also here: whichever of the two runs first
    except OSError:
        pass
    state["cli"] = pid
    if pidfile:
        with open(pidfile, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {pid}")
    if state["stopping"]:
        stop(signal.SIGTERM, None)
    # the SDK reads the CLI's output until every copy of the pipe is closed: drop this process's copies
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        code = 1
    _end_all(pid, settings.get("grace", GRACE_S))
    if os.getppid() != parent:
        _remove_scratch()        # the kernel died before its own cleanup could run
    os._exit(code if code >= 0 else 128 - code)


def _remove_scratch() -> None:
    """Remove the CLI's scratch folder (the one holding this script), which the kernel made and would
    have removed at the cell's end; only a folder named as the engine names it."""
    folder = os.path.dirname(os.path.abspath(sys.argv[0]))
    if os.path.basename(folder).startswith("agentnb-cli-"):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


# -- used by the engine (in the kernel) -------------------------------------------------------------

def write(folder, cli: str, keep: list[str], prefixes: tuple[str, ...]):
    """The launcher script in ``folder``, run in the CLI's place (its path is the SDK's ``cli_path``)."""
    import json
    from pathlib import Path

    script = Path(folder) / "claude-launcher"
    settings = {"cli": cli, "keep": sorted(set(keep)), "prefixes": list(prefixes), "grace": GRACE_S}
    source = Path(__file__).read_text(encoding="utf-8").split("\n# -- used by the engine", 1)[0]
    script.write_text(f"#!{sys.executable} -IS\n{source}\n\nmain({json.dumps(settings)})\n", encoding="utf-8")
    script.chmod(0o700)
    return script


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (an ended child the SDK has not reaped yet does not)."""
    if os.path.isdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop(pidfile) -> None:
    """End the CLI (on an interrupt, or a loop left running): the launcher ends its group and what it
    left; if the launcher does not end in time, both are killed."""
    try:
        launcher, cli = (int(n) for n in open(pidfile, encoding="utf-8").read().split())
    except (OSError, ValueError):
        return
    try:
        os.kill(launcher, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.monotonic() + 2 * GRACE_S + 1
    while time.monotonic() < deadline and _running(launcher):
        time.sleep(0.05)
    if not _running(launcher):
        return
    for kill in (lambda: os.killpg(cli, signal.SIGKILL), lambda: os.kill(launcher, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass

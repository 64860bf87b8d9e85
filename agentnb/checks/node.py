"""Node.js for the checks whose tool is an npm package (Prisma's schema parser, ...): find node and the
package, run a short script of agentnb's on the answer's text in a contained child process, and install
the packages (``agentnb setup NAME``).

The answer's text is the script's standard input, never code; but the package parses untrusted text,
so node runs:

- with an environment of ``PATH``, ``HOME`` (the scratch folder), ``LANG`` and ``NODE_PATH`` only (no
  key, no ``AGENTNB_*``, no ``NODE_OPTIONS``), in an empty scratch folder, in its own process group,
  killed past its wall-clock timeout;
- under Node's permission model (Node 20+): it may read beneath the package's folder only, write no
  file, start no process or worker, load no addon;
- with V8's heap capped (``--max-old-space-size``) and hard limits set by ``sh``'s ``ulimit`` before
  ``exec`` (thread-safe, unlike ``preexec_fn``): data segment (``RLIMIT_DATA``, which bounds
  WebAssembly memory too; ``RLIMIT_AS`` cannot be used: V8 reserves ~10 GB of address space for each
  WebAssembly memory), CPU seconds, file size (its output goes to files in the scratch folder, so the
  kernel bounds it), no core file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path

from agentnb import settings
from agentnb.checks.limits import kill_group

__all__ = ["SETUP", "NodeFailed", "NodeUnavailable", "find_node", "install", "package_dir", "require",
           "run_script"]

# ``agentnb setup NAME`` -> the npm package (pinned: the package's API changes without notice)
SETUP = {
    "prisma": "@prisma/prisma-schema-wasm@8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323",
}
TIMEOUT = 8.0             # wall-clock seconds: under the checks' own limit, so that this message wins
MEMORY_MB = 768           # data segment of the process: V8's heap, WebAssembly memory, buffers
HEAP_MB = 256             # V8's old generation
MAX_OUTPUT = 16 << 20     # bytes the script may print (stdout and stderr each)
INSTALL_TIMEOUT = 600.0
_TAIL = 500               # characters of standard error quoted in an error


class NodeUnavailable(Exception):
    """Node or the package is not installed: the check is skipped, and the message says how to enable it."""


class NodeFailed(Exception):
    """The script did not give a result (timeout, a limit, a crash): the message says which, with the end of
    node's standard error."""


def _spec_name(spec: str) -> str:
    return spec[:spec.index("@", 1)] if "@" in spec[1:] else spec


def _setup_command(tool: str) -> str:
    return f"agentnb setup {tool}"


def find_node() -> str | None:
    """``AGENTNB_NODE``, else ``node`` on PATH; None when neither is an executable."""
    configured = settings.node_binary()
    if configured:
        found = shutil.which(configured)
        return found if found and os.access(found, os.X_OK) else None
    return shutil.which("node")


def package_dir(package: str) -> Path | None:
    """The folder of an installed npm package (``@scope/name``) in ``AGENTNB_NODE_MODULES`` (an ``npm
    install --prefix`` folder, or a ``node_modules`` folder itself), or None."""
    base = settings.node_modules_dir()
    for modules in (base / "node_modules", base):
        folder = modules / package
        if (folder / "package.json").is_file():
            return folder
    return None


def require(tool: str) -> tuple[str, Path]:
    """(node, the package's folder) for ``agentnb setup TOOL``'s package, or NodeUnavailable saying how to
    install what is missing."""
    spec = SETUP[tool]
    node = find_node()
    if node is None:
        where = (f"AGENTNB_NODE={settings.node_binary()} is not an executable" if settings.node_binary()
                 else "Node.js is not installed (no node on PATH)")
        raise NodeUnavailable(f"{where}: install Node.js 20 or later, then run `{_setup_command(tool)}`")
    folder = package_dir(_spec_name(spec))
    if folder is None:
        raise NodeUnavailable(f"{_spec_name(spec)} is not installed in {settings.node_modules_dir()}: run "
                              f"`{_setup_command(tool)}` (npm install of {spec}; AGENTNB_NODE_MODULES picks "
                              "another folder)")
    return node, folder


def package_version(folder: Path) -> str | None:
    try:
        return json.loads((folder / "package.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None


@lru_cache(maxsize=8)
def _node_major(node: str) -> int:
    return _ask_node(node, "--version", lambda out: int(m.group(1)) if (m := re.match(r"v(\d+)\.", out)) else 0, 0)


@lru_cache(maxsize=8)
def _baseline_wasm(node: str) -> bool:
    """Whether this node's V8 takes ``--liftoff-only``: WebAssembly compiled by the baseline compiler only.
    Optimising Prisma's 3 MB module costs ~1 s of CPU per run, far more than the parse it speeds up."""
    return _ask_node(node, "--v8-options", lambda out: "--liftoff-only " in out, False)


def _ask_node(node: str, option: str, read, default):
    try:
        done = subprocess.run([node, option], capture_output=True, text=True, timeout=10,
                              env={"PATH": _path(node)}, stdin=subprocess.DEVNULL)
        return read(done.stdout) if done.returncode == 0 else default
    except (OSError, subprocess.SubprocessError):
        return default


def _path(node: str) -> str:
    """node's folder first (a version manager's shim may call its neighbours), then the system's."""
    return os.pathsep.join(dict.fromkeys([os.path.dirname(node), "/usr/bin", "/bin"]))


def _permission_flags(node: str, readable: Path) -> list[str]:
    major = _node_major(node)
    if major >= 22:
        return ["--permission", f"--allow-fs-read={readable}"]
    if major >= 20:
        return ["--experimental-permission", f"--allow-fs-read={readable}"]
    return []


# limits first, then node in place of the shell: its pid and process group stay the ones we kill. A limit
# that cannot be set is one already lower (a hard limit cannot be raised): that one holds.
_SHELL = ('ulimit -d "$1" 2>/dev/null; ulimit -t "$2" 2>/dev/null; ulimit -f "$3" 2>/dev/null; '
          'ulimit -c 0 2>/dev/null; shift 3; exec "$@"')


def run_script(script: str, data: str, *, package: Path, node: str | None = None,
               timeout: float | None = None, memory_mb: int = MEMORY_MB, max_output: int = MAX_OUTPUT) -> str:
    """What ``script`` prints on standard output, run by node with ``data`` as its standard input (the
    script reads it with ``require("fs").readFileSync(0, "utf8")``) and ``require`` resolving the packages
    beside ``package``. Raises NodeFailed when it times out (``TIMEOUT`` seconds unless told), passes a
    limit or exits non-zero."""
    timeout = TIMEOUT if timeout is None else timeout
    node = node or find_node()
    if node is None:
        raise NodeUnavailable("Node.js is not installed (no node on PATH)")
    modules = package.parent.parent if package.parent.name.startswith("@") else package.parent
    heap = min(HEAP_MB, max(16, memory_mb // 2))
    command = [node, "--no-warnings", "--no-addons", f"--max-old-space-size={heap}",
               *(["--liftoff-only"] if _baseline_wasm(node) else []), *_permission_flags(node, modules),
               "-e", script]
    env = {"PATH": _path(node),
           "LANG": "C.UTF-8", "NODE_PATH": str(modules)}
    cpu = max(1, int(timeout + 1))
    with tempfile.TemporaryDirectory(prefix="agentnb-node-") as scratch:
        env["HOME"] = scratch
        paths = {name: os.path.join(scratch, name) for name in ("input", "stdout", "stderr")}
        with open(paths["input"], "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(data)
        started = time.monotonic()
        with open(paths["input"], "rb") as stdin, open(paths["stdout"], "wb") as out, \
                open(paths["stderr"], "wb") as err:
            os.chmod(scratch, 0o700)
            # ulimit -d counts KB, -f 512-byte blocks
            proc = subprocess.Popen(["/bin/sh", "-c", _SHELL, "sh", str(memory_mb * 1024), str(cpu),
                                     str(max(1, max_output // 512)), *command],
                                    cwd=scratch, env=env, stdin=stdin, stdout=out, stderr=err,
                                    start_new_session=True)
            try:
                proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                kill_group(proc)
        elapsed = time.monotonic() - started
        printed = os.path.getsize(paths["stdout"])
        stdout = _read(paths["stdout"], max_output)
        stderr = _read(paths["stderr"], max_output)
    if timed_out:
        raise NodeFailed(f"stopped after {timeout:g} s: node did not finish" + _tail(stderr))
    if proc.returncode != 0:
        raise NodeFailed(f"node stopped {_reason(proc.returncode, stderr, printed, cpu, memory_mb, max_output)} "
                         f"after {elapsed:.1f} s" + _tail(stderr))
    return stdout


def _read(path: str, limit: int) -> str:
    with open(path, "rb") as f:
        return f.read(limit).decode("utf-8", "replace")


def _reason(code: int, stderr: str, printed: int, cpu: int, memory_mb: int, max_output: int) -> str:
    if printed >= max_output:
        return f"printing past its output limit ({max_output >> 20} MB)"
    if code == -signal.SIGXCPU or code == 128 + signal.SIGXCPU:
        return f"at its CPU limit ({cpu} s)"
    if code == -signal.SIGXFSZ or code == 128 + signal.SIGXFSZ:
        return f"printing past its output limit ({max_output >> 20} MB)"
    if re.search(r"out of memory|Allocation failed|Unable to grow|Array buffer allocation failed", stderr, re.I):
        return f"at its memory limit ({memory_mb} MB)"
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"by signal {name}"
    return f"with exit code {code}"


def _tail(stderr: str) -> str:
    """The line of node's standard error that says what went wrong (an error's first line), not its
    stack frames nor the version footer."""
    lines = [line.strip() for line in stderr.strip().splitlines()
             if line.strip() and not _NOISE.match(line.strip())]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    chosen = errors[-1] if errors else (lines[-1] if lines else "")
    return f": {chosen[:_TAIL]}" if chosen else ""


_NOISE = re.compile(r"^(?:at |\d+: 0x|Node\.js v|\^+$|<--- |\[\d+:0x)")
_ERROR_LINE = re.compile(r"(?:^\w*Error\b|^FATAL ERROR|\bError: )")


def install(tool: str, *, npm: str | None = None, prefix: Path | None = None,
            timeout: float = INSTALL_TIMEOUT) -> tuple[str, Path]:
    """``npm install --prefix`` of ``agentnb setup TOOL``'s pinned package into ``AGENTNB_NODE_MODULES``
    (no install scripts run); (the package spec, its folder). Raises NodeUnavailable when npm is missing,
    NodeFailed when the install fails (npm's last lines)."""
    spec = SETUP[tool]
    npm = npm or shutil.which("npm")
    if npm is None:
        raise NodeUnavailable("npm is not installed (no npm on PATH): install Node.js 20 or later (it ships npm)")
    prefix = prefix or settings.node_modules_dir()
    prefix.mkdir(parents=True, exist_ok=True)
    # npm keeps the user's own configuration (registry, proxy); agentnb's and Anthropic's variables stay out
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTNB_", "ANTHROPIC_"))}
    try:
        done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                               "--ignore-scripts", "--prefer-offline", "--loglevel=error", spec],
                              capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise NodeFailed(f"npm install {spec} did not finish within {timeout:g} s") from None
    except OSError as err:
        raise NodeFailed(f"npm could not start: {err}") from None
    folder = prefix / "node_modules" / _spec_name(spec)
    if done.returncode != 0 or not (folder / "package.json").is_file():
        raise NodeFailed(f"npm install {spec} into {prefix} failed (exit code {done.returncode})"
                         + _tail(done.stderr or done.stdout))
    return spec, folder

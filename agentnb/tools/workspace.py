"""The workspace: the folder a tools cell's agent works in, what it may reach, and what it changed.

The file tools are confined to the workspace and the folders added with ``--add-dir`` (Claude Code's
``--restricted`` does it in the CLI, :func:`inside` again in agentnb's own hook). The files the agent
created or changed become artifacts named by their path, so that they go through the same checks as
fenced blocks.
"""

from __future__ import annotations

import hashlib
import os
from stat import S_ISREG
from dataclasses import dataclass, field
from pathlib import Path

# Folders whose content is tooling, not the agent's work: never listed as changed files.
SKIPPED_DIRS = {".git", "__pycache__", ".pytest_cache", "node_modules", ".venv", ".mypy_cache", ".ruff_cache",
                ".claude"}
MAX_ARTIFACT_BYTES = 512 * 1024     # bigger files are listed, not read into artifacts
MAX_FILES = 5000                    # a snapshot stops there (a workspace holding a whole checkout)


def resolve(folder: str | Path | None, base: Path | None = None) -> Path:
    """The workspace folder, absolute, created if missing: ``folder`` (relative to ``base``, the notebook's
    folder), else ``workspace/`` there."""
    base = base or Path.cwd()
    path = Path(folder).expanduser() if folder else Path("workspace")
    if not path.is_absolute():
        path = base / path
    path = path.absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def inside(path: str | Path, roots: list[Path], cwd: Path) -> bool:
    """Whether ``path`` (relative paths taken from ``cwd``), with symlinks and ``..`` resolved, lies in
    one of ``roots``."""
    candidate = Path(os.path.expanduser(str(path)))
    if not candidate.is_absolute():
        candidate = cwd / candidate
    try:
        real = candidate.resolve()
    except (OSError, RuntimeError):
        return False
    return any(real == r or r in real.parents for r in (Path(root).resolve() for root in roots))


@dataclass(frozen=True)
class FileState:
    size: int
    digest: str
    mtime_ns: int = field(default=0, compare=False)     # only to skip hashing an untouched file again


def snapshot(root: Path, before: dict[str, FileState] | None = None) -> dict[str, FileState]:
    """Every file under ``root`` (relative POSIX path -> size and content hash), tooling folders left out.
    A file whose size and modification time are those it had in ``before`` keeps its hash from there:
    a cell hashes each untouched file once."""
    states: dict[str, FileState] = {}
    before = before or {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            try:
                stat = path.lstat()
                if not S_ISREG(stat.st_mode):
                    continue
                old = before.get(relative)
                if old is not None and old.size == stat.st_size and old.mtime_ns == stat.st_mtime_ns:
                    states[relative] = old
                else:
                    data = path.read_bytes()
                    states[relative] = FileState(len(data), hashlib.sha256(data).hexdigest(), stat.st_mtime_ns)
            except OSError:
                continue
            if len(states) >= MAX_FILES:
                return states
    return states


class Snapshot:
    """:func:`snapshot` taken in a thread, so that it overlaps the CLI's start; ``result()`` waits for it
    (and raises what it raised)."""

    def __init__(self, root: Path):
        import threading

        self._done = threading.Event()
        self._value: dict[str, FileState] = {}
        self._error: BaseException | None = None
        threading.Thread(target=self._take, args=(root,), name="agentnb-snapshot", daemon=True).start()

    def _take(self, root: Path) -> None:
        try:
            self._value = snapshot(root)
        except BaseException as err:      # handed to whoever asks for the result
            self._error = err
        finally:
            self._done.set()

    def result(self) -> dict[str, FileState]:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


@dataclass
class Change:
    path: str              # relative to the workspace, POSIX
    status: str            # "created" or "changed"
    size: int


def changes(before: dict[str, FileState], after: dict[str, FileState]) -> list[Change]:
    out = []
    for path, state in sorted(after.items()):
        old = before.get(path)
        if old is None:
            out.append(Change(path, "created", state.size))
        elif old != state:
            out.append(Change(path, "changed", state.size))
    return out


def read_unchanged(root: Path, calls, changed: list[Change]) -> list[Change]:
    """The workspace files the agent read (a Read that went through) and left as they were: what it
    started from, such as an existing schema."""
    done = {c.path for c in changed}
    out: dict[str, Change] = {}
    for call in calls:
        path = (call.input or {}).get("file_path") if call.name == "Read" and call.status == "done" else None
        if not path or not inside(path, [root], root):
            continue
        real = (root / path).resolve()
        relative = real.relative_to(root.resolve()).as_posix()
        if relative not in done and real.is_file():
            out.setdefault(relative, Change(relative, "read", real.stat().st_size))
    return list(out.values())


def file_artifacts(root: Path, changed: list[Change]):
    """The changed text files as typed artifacts named by their path (binary and big files left out)."""
    from agentnb.artifacts import Artifact
    from agentnb.artifacts.fences import lang_from_filename
    from agentnb.artifacts.kinds import classify, guess_language

    artifacts = []
    for index, change in enumerate(changed):
        if change.size > MAX_ARTIFACT_BYTES:
            continue
        try:
            code = (root / change.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        language = lang_from_filename(change.path) or guess_language(code)
        artifact = Artifact("other", language, code, None, change.path, 10_000 + index, 1)
        classify(artifact)
        artifacts.append(artifact)
    return artifacts

"""``--apply DIR`` / ``response.apply(DIR)``: write the answer's named files under DIR, all or nothing.

The names come from the model's answer, so they are untrusted: every name is checked before anything
is written (no NUL or control character, no absolute path, no ``..``, no component or path longer than
the file system takes, no version-control internals such as ``.git/``, no symbolic link leading out of
DIR, nothing that is a folder). Files are staged in a temporary folder inside DIR, then moved into
place; any failure removes what this apply did. A file that exists with other content is kept unless
``overwrite`` is given; files are written without execute bits unless ``executable_scripts`` is given
and the file starts with ``#!``.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from agentnb.errors import AgentnbError

# folders where a written file becomes a command run later (hooks, fsmonitor, aliases)
VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", ".pijul", ".fossil"})
_SHOWN_PROBLEMS = 5


class ApplyError(AgentnbError):
    """``--apply`` refused the answer's files; nothing was written."""


@dataclass
class ApplyResult:
    """What an apply did, by path relative to ``root`` (POSIX form)."""

    root: Path
    label: str = ""      # the folder as the user gave it, for messages
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)       # differ from the answer: not replaced
    executable: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"wrote {len(self.written)} file(s) under {self.label or self.root}"
                 + (": " + ", ".join(self.written) if self.written else "")]
        if self.executable:
            parts.append("executable: " + ", ".join(self.executable))
        if self.unchanged:
            parts.append(f"unchanged: {', '.join(self.unchanged)}")
        if self.kept:
            parts.append(f"not replaced (your copy differs from the answer's; --overwrite, or "
                         f"apply(..., overwrite=True), replaces them): {', '.join(self.kept)}")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"<ApplyResult {self}>"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


@dataclass
class _Planned:
    name: str            # as shown to the user: normalised, relative to root
    target: Path
    data: bytes
    executable: bool
    state: str = "new"   # new, unchanged, differs


def write_artifacts(artifacts, directory, *, overwrite: bool = False,
                    executable_scripts: bool = False) -> ApplyResult:
    """Write every artifact that has a file name under ``directory``. Raises ApplyError (nothing
    written) when a name is refused or the writing fails."""
    shown_root = str(directory)
    root = Path(directory).expanduser()
    try:
        root = root.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise ApplyError(f"Nothing written to {shown_root}: cannot use this folder ({exc}).") from None
    if root.exists() and not root.is_dir():
        raise ApplyError(f"Nothing written to {shown_root}: it is a file, not a folder.")
    if _vcs_part(root.parts):
        raise ApplyError(f"Nothing written to {shown_root}: the folder is inside version-control "
                         f"internals ({_vcs_part(root.parts)}/), which are never written.")

    contents = _contents_by_name(artifacts)
    planned: dict[str, _Planned] = {}
    problems: list[str] = []
    for raw, data in contents.items():
        name, problem = _check_name(raw, root)
        if problem:
            problems.append(f"{_show(raw)}: {problem}")
            continue
        planned[name] = _Planned(name, root.joinpath(*name.split("/")), data,
                                 executable_scripts and data.startswith(b"#!"))
    problems += _check_tree(planned, root)
    if problems:
        more = len(problems) - _SHOWN_PROBLEMS
        listed = "; ".join(problems[:_SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise ApplyError(f"Nothing written to {shown_root}: {listed}. "
                         "Rename those files in the answer (or write them by hand).")

    result = ApplyResult(root, shown_root)
    for item in planned.values():
        if item.target.is_file():
            item.state = "unchanged" if _same_content(item.target, item.data) else "differs"
        if item.state == "unchanged":
            result.unchanged.append(item.name)
        elif item.state == "differs" and not overwrite:
            result.kept.append(item.name)
    to_write = [p for p in planned.values()
                if p.state == "new" or (p.state == "differs" and overwrite)]
    if to_write:
        try:
            _write_all(root, to_write)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise ApplyError(f"Nothing written to {shown_root}: writing failed: "
                             f"{exc.strerror or exc}{where}.") from None
    result.written = [p.name for p in to_write]
    result.executable = [p.name for p in to_write if p.executable]
    return result


def _contents_by_name(artifacts) -> dict[str, bytes]:
    """File name as written -> bytes to write. A block split into up/down parts (same block, same
    name) is joined again; a later block with the same name wins, as in the answer."""
    parts: dict[str, list] = {}
    for artifact in artifacts.files:
        name = artifact.filename
        if name in parts and parts[name][0].index != artifact.index:
            parts[name] = []
        parts.setdefault(name, []).append(artifact)
    out = {}
    for name, pieces in parts.items():
        code = "".join(p.code if p.code.endswith("\n") else p.code + "\n" for p in pieces)
        out[name] = code.encode("utf-8", "surrogatepass")
    return out


def _check_name(raw: str, root: Path) -> tuple[str, str | None]:
    """(normalised relative name, problem or None) from the name the answer gives."""
    name = raw.strip()
    if not name:
        return name, "an empty name"
    bad = next((c for c in name if ord(c) < 32 or ord(c) == 127), None)
    if bad == "\0":
        return name, "a NUL character in the name"
    if bad is not None:
        return name, f"a control character ({bad!r}) in the name"
    if "\\" in name:
        return name, "a backslash in the name (write folders with '/')"
    if name.startswith(("/", "~")):
        return name, f"an absolute path: file names are written relative to {root}"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts:
        return name, "not a file name"
    if ".." in parts:
        return name, f"'..' would write outside {root}"
    if name.endswith("/"):
        return name, "names a folder, not a file"
    vcs = _vcs_part(parts)
    if vcs:
        return name, f"version-control internals ({vcs}/) are never written"
    try:
        encoded = [os.fsencode(p) for p in parts]
    except UnicodeError:
        return name, "characters the file system cannot store"
    name_max, path_max = _limits(root)
    long = next((p for p, e in zip(parts, encoded) if len(e) > name_max), None)
    if long is not None:
        return name, f"a name part of {len(os.fsencode(long))} bytes (the file system takes {name_max})"
    if len(os.fsencode(str(root))) + sum(len(e) + 1 for e in encoded) >= path_max:
        return name, f"a path longer than the file system takes ({path_max} bytes)"
    return "/".join(parts), None


def _check_tree(planned: dict[str, _Planned], root: Path) -> list[str]:
    """What is already on disk (or named twice) that makes a planned file unwritable."""
    problems = []
    names = set(planned)
    for name, item in planned.items():
        parts = name.split("/")
        prefix = next(("/".join(parts[:i]) for i in range(1, len(parts)) if "/".join(parts[:i]) in names), None)
        if prefix:
            problems.append(f"{_show(name)}: the answer also names {_show(prefix)} as a file")
            continue
        problem = _on_disk(item.target, root)
        if problem:
            problems.append(f"{_show(name)}: {problem}")
    return problems


def _on_disk(target: Path, root: Path) -> str | None:
    current = root
    for i, part in enumerate(target.relative_to(root).parts):
        current = current / part
        last = i == len(target.relative_to(root).parts) - 1
        try:
            st = current.lstat()
        except FileNotFoundError:
            return None            # the rest will be created
        except OSError as exc:
            return f"cannot be checked ({exc.strerror or exc})"
        if stat.S_ISLNK(st.st_mode):
            if last:
                return "is a symbolic link there: agentnb does not replace links"
            real = current.resolve()
            if not real.is_relative_to(root):
                return f"{current.relative_to(root).as_posix()} is a symbolic link to {real}, outside {root}"
            vcs = _vcs_part(real.relative_to(root).parts)
            if vcs:
                return f"{current.relative_to(root).as_posix()} leads into {vcs}/, which is never written"
            current = real
            continue
        if last:
            if stat.S_ISDIR(st.st_mode):
                return "is a folder there"
            if not stat.S_ISREG(st.st_mode):
                return "exists and is not a regular file"
        elif not stat.S_ISDIR(st.st_mode):
            return f"{current.relative_to(root).as_posix()} is a file, not a folder"
    return None


def _write_all(root: Path, items: list[_Planned]) -> None:
    """Stage every file, then move each into place; on any failure undo every step taken."""
    made: list[Path] = []          # folders this apply created, outermost first
    undo: list[tuple[Path, Path | None]] = []   # (target, its previous file in staging or None)
    _make_dirs(root, made)
    stage = Path(tempfile.mkdtemp(prefix=".agentnb-apply-", dir=root))
    try:
        staged = []
        for i, item in enumerate(items):
            path = stage / f"new-{i}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if item.executable else 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(item.data)
                if item.state == "differs":     # a replaced file keeps its read/write bits (a 0600 .env)
                    os.fchmod(handle.fileno(), _replaced_mode(item.target.stat().st_mode, item.executable))
            staged.append(path)
        for i, (item, path) in enumerate(zip(items, staged)):
            _make_dirs(item.target.parent, made)
            previous = None
            if item.target.exists():
                previous = stage / f"old-{i}"
                os.replace(item.target, previous)
            undo.append((item.target, previous))
            os.replace(path, item.target)
    except BaseException:
        for target, previous in reversed(undo):
            try:
                if previous is not None:
                    os.replace(previous, target)
                elif target.exists():
                    target.unlink()
            except OSError:
                pass
        shutil.rmtree(stage, ignore_errors=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    shutil.rmtree(stage, ignore_errors=True)


def _replaced_mode(old: int, executable: bool) -> int:
    mode = stat.S_IMODE(old) & 0o666
    return mode | (mode & 0o444) >> 2 if executable else mode


def _make_dirs(folder: Path, made: list[Path]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _same_content(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _vcs_part(parts) -> str | None:
    # case and trailing dots/spaces ignored: ".GIT" and ".git." are ".git" on some file systems
    return next((p for p in parts if p.lower().rstrip(" .") in VCS_DIRS), None)


def _limits(root: Path) -> tuple[int, int]:
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return os.pathconf(probe, "PC_NAME_MAX"), os.pathconf(probe, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):
        return 255, 4096


def _show(name: str, width: int = 80) -> str:
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
    return repr(shown if len(shown) <= width else shown[: width - 1] + "…")



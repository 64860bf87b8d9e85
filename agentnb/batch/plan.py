"""What an ``agentnb run`` batch will do: its command-line options, the parameter sets (``-p`` values and
the ``--grid`` file), and the runs they make (one per notebook and per set), each with its output
names and its kernel's environment. Nothing here starts a kernel."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from agentnb import settings
from agentnb.errors import ConfigurationError
from agentnb.settings import RECORD_MODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``agentnb run`` (the CLI adds ``sub.add_parser("run")`` and calls this)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = ("Run notebooks with papermill, one run per notebook and per parameter set, each in\n"
                          "its own kernel from the notebook's folder; write the executed notebooks, their\n"
                          "HTML and a summary (summary.md, summary.html, summary.json) into --out.")
    parser.epilog = ("exit status: 0 when every run succeeded; 1 when a run failed, or a check failed (or\n"
                     "could not be read) with --fail-on-check; 2 for a usage error (a bad grid, a missing\n"
                     "notebook); 130 on Ctrl-C, after writing the summary (the runs that finished, the\n"
                     "others marked interrupted).\n\n"
                     "Each run's kernel gets AGENTNB_NOTEBOOK, AGENTNB_RUN_ID, AGENTNB_BUDGET_SINCE (the\n"
                     "batch's start), and AGENTNB_RECORD_MODE / AGENTNB_BUDGET_USD when given.")
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebooks to run")
    parser.add_argument("-p", "--parameter", "--parameters", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), dest="parameters",
                        help="a parameter for every run, read as papermill's -p reads it: an int or a float "
                             "when the whole value is one, True/False/None as Python spells them, anything "
                             "else a string as written (new lines included). -p wins over the grid's value "
                             "of the same name")
    parser.add_argument("-r", "--parameters-raw", "--parameters_raw", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), dest="parameters_raw",
                        help="a parameter whose value stays a string, whatever it looks like (wins over -p)")
    parser.add_argument("-y", "--parameters-yaml", "--parameters_yaml", action="append", default=[],
                        metavar="YAML", dest="parameters_yaml",
                        help="parameters as a YAML mapping ('{n: 1, tags: [a, b]}'), for lists and "
                             "mappings; -p and -r win over it")
    parser.add_argument("--grid", metavar="FILE.yaml",
                        help="parameter sets: a YAML list of mappings (one run each), or a mapping of "
                             "lists (their cartesian product)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="runs at a time, each in its own kernel (default: 1)")
    parser.add_argument("-o", "--out", default="out", metavar="DIR",
                        help="where the executed notebooks, their HTML and the summary go (default: out)")
    parser.add_argument("--record-mode", choices=RECORD_MODES,
                        help="AGENTNB_RECORD_MODE for every run: once, none (replay only, for CI) or all "
                             "(default: inherited)")
    parser.add_argument("--fail-on-check", action="store_true",
                        help="exit 1 when a check failed, even if every run succeeded")
    parser.add_argument("--budget", type=float, metavar="USD",
                        help="AGENTNB_BUDGET_USD for every run: what the whole batch may spend on live calls")
    parser.add_argument("--kernel", metavar="NAME",
                        help="the kernel to run every notebook with (default: each notebook's own)")



# ---------------------------------------------------------------------------------------------- parameters

def parse_value(text: str) -> Any:
    """A ``-p`` value as papermill's command line reads it (``papermill.cli._resolve_type``): ``True``,
    ``False``, ``None`` as Python spells them, an int or a float when ``int()`` or ``float()`` takes the
    whole text, anything else the string as written: ``"- a: b"`` and a value with new lines stay strings."""
    if text == "True":
        return True
    if text == "False":
        return False
    if text == "None":
        return None
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def parameters_from(yaml_texts: Iterable[str] = (), values: Iterable[tuple[str, str]] = (),
                    raw: Iterable[tuple[str, str]] = ()) -> dict:
    """The parameters of ``-y``, ``-p`` and ``-r``, in papermill's order of precedence: each ``-y``
    mapping, then ``-p`` (:func:`parse_value`), then ``-r`` (strings as written)."""
    import yaml

    merged: dict = {}
    yaml_texts = list(yaml_texts)
    loader = _no_dates_loader() if yaml_texts else None
    for text in yaml_texts:
        try:
            data = yaml.load(text, Loader=loader)
        except yaml.YAMLError as err:
            raise ConfigurationError(f"-y {_quote(text)}: not valid YAML ({_one_line(err)}).") from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ConfigurationError(f"-y {_quote(text)}: expected a mapping (name: value), "
                                     f"found a {type(data).__name__}.")
        for name in data:
            if not isinstance(name, str) or not name.isidentifier():
                raise ConfigurationError(f"-y: {name!r} is not a valid parameter name (a Python identifier).")
        merged.update(data)
    merged.update((name, parse_value(value)) for name, value in values)
    merged.update((name, value) for name, value in raw)
    return merged


def _no_dates_loader():
    import yaml

    class NoDatesLoader(yaml.SafeLoader):
        """papermill's ``NoDatesSafeLoader``: a date stays the string it was written as."""

    NoDatesLoader.yaml_implicit_resolvers = {
        k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    return NoDatesLoader


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def load_grid(path: str | os.PathLike[str]) -> list[dict]:
    """The parameter sets of a grid file: a YAML list of mappings, or a mapping of lists (the cartesian
    product of its values, in the file's order; a scalar counts as a list of one)."""
    import yaml

    path = Path(path)
    try:
        with open(path, encoding="utf-8") as stream:
            data = yaml.safe_load(stream)
    except OSError as err:
        raise ConfigurationError(f"--grid {path}: cannot read it ({err.strerror}).") from None
    except UnicodeDecodeError as err:
        raise ConfigurationError(f"--grid {path}: not UTF-8 text (byte {err.start}).") from None
    except yaml.YAMLError as err:
        raise ConfigurationError(f"--grid {path}: not valid YAML: {_yaml_problem(err)}") from None
    if isinstance(data, list):
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise ConfigurationError(f"--grid {path}: item {i + 1} is a {type(item).__name__}; a list "
                                         "grid holds mappings (name: value), one per run.")
            _check_names(path, item)
        if not data:
            raise ConfigurationError(f"--grid {path}: the list is empty; give at least one parameter set.")
        return [dict(item) for item in data]
    if isinstance(data, dict):
        _check_names(path, data)
        names = list(data)
        values = [v if isinstance(v, list) else [v] for v in data.values()]
        if any(not v for v in values):
            empty = [n for n, v in zip(names, values) if not v]
            raise ConfigurationError(f"--grid {path}: {', '.join(empty)} has no values, so the product is empty.")
        return [dict(zip(names, combo)) for combo in itertools.product(*values)]
    raise ConfigurationError(f"--grid {path}: expected a list of mappings or a mapping of lists, "
                             f"found a {type(data).__name__}.")


def _yaml_problem(err: Exception) -> str:
    """A YAML error in one line, at its line and column (PyYAML's own text spans several lines)."""
    problem = getattr(err, "problem", None) or getattr(err, "context", None)
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return _one_line(err)


def _check_names(path: Path, mapping: dict) -> None:
    for name in mapping:
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"--grid {path}: {name!r} is not a valid parameter name "
                                     "(a Python identifier).")

# ------------------------------------------------------------------------------------------------ planning

@dataclass
class Run:
    """One planned run: a notebook, its parameters, where its outputs go."""

    id: str
    notebook: str                  # absolute path
    parameters: dict
    output: str                    # the executed notebook, absolute path
    html: str                      # its HTML export
    env: dict                      # what this run's kernel gets on top of the inherited environment
    kernel_name: str | None = None

    @property
    def name(self) -> str:
        return Path(self.output).stem


def plan(notebooks: Iterable[str | os.PathLike[str]], *, parameters: dict | None = None,
         grid: list[dict] | None = None, out: str | os.PathLike[str] = "out", record_mode: str | None = None,
         budget_usd: float | None = None, kernel_name: str | None = None, since: str | None = None) -> list[Run]:
    """The runs of a batch, in order: for each notebook, one per parameter set of ``grid`` (or a single
    run), each set updated with ``parameters`` (so ``-p`` wins). Output names are ``<stem>-<slug>`` with the
    slug made from the grid's values, unique within the batch."""
    if record_mode is not None and record_mode not in RECORD_MODES:
        raise ConfigurationError(f"--record-mode {record_mode}: use one of {', '.join(RECORD_MODES)}.")
    if budget_usd is not None and not (math.isfinite(budget_usd) and budget_usd >= 0):
        raise ConfigurationError(f"--budget {budget_usd:g}: give what the batch may spend, in dollars: 0 or "
                                 "more (e.g. 2.50; 0 allows replays only).")
    parameters = dict(parameters or {})
    for name in parameters:
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"-p {name}: a parameter name is a Python identifier (letters, digits, _).")
    sets = grid if grid else [{}]
    out = Path(out).resolve()
    since = since or utc_now()
    taken: set[str] = set()
    runs = []
    for notebook in notebooks:
        path = Path(notebook)
        check_notebook(path)
        for grid_set in sets:
            merged = {**grid_set, **parameters}
            # the slug names what differs between runs: the grid's values that -p did not override
            varying = {k: v for k, v in grid_set.items() if k not in parameters}
            name = _unique(path.stem + (f"-{slug(varying)}" if varying else ""), taken)
            run_id = uuid.uuid4().hex[:8]
            # one session log for the batch (kernels start in their notebooks' folders): the budget
            # counts every run's live calls
            env = {"AGENTNB_NOTEBOOK": str(path.resolve()), "AGENTNB_RUN_ID": run_id,
                   "AGENTNB_BUDGET_SINCE": since,
                   "AGENTNB_HOME": str(settings.home_dir().resolve())}
            if record_mode:
                env["AGENTNB_RECORD_MODE"] = record_mode
            if budget_usd is not None:
                env["AGENTNB_BUDGET_USD"] = repr(float(budget_usd))
            runs.append(Run(id=run_id, notebook=str(path.resolve()), parameters=merged,
                            output=str(out / f"{name}.ipynb"), html=str(out / f"{name}.html"), env=env,
                            kernel_name=kernel_name))
    return runs


def check_notebook(path: Path) -> None:
    """A usage error, in one line, unless ``path`` is a file holding a Jupyter notebook (JSON with a list
    of cells: nbformat is not imported for this, it costs over a second)."""
    if path.is_dir():
        raise ConfigurationError(f"{path}: a folder, not a notebook; give the .ipynb files "
                                 f"(e.g. {path.as_posix().rstrip('/')}/*.ipynb).")
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such notebook.") from None
    except OSError as err:
        raise ConfigurationError(f"{path}: cannot read it ({err.strerror}).") from None
    except ValueError as err:        # JSONDecodeError, or bytes that are not text
        where = f" (line {err.lineno}, column {err.colno}: {err.msg})" if isinstance(err, json.JSONDecodeError) else ""
        raise ConfigurationError(f"{path}: not a notebook: a .ipynb file is JSON, this is not{where}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ConfigurationError(f"{path}: not a notebook: JSON without a list of cells.")


def prepare_out(out: str | os.PathLike[str], runs: list[Run]) -> Path:
    """Create the ``--out`` folder and make sure the batch can write its files there, before any kernel
    starts: a usage error naming the problem otherwise."""
    from agentnb.batch.summary import SUMMARY_NAMES

    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigurationError(f"--out {out}: a file is in the way; give a folder.") from None
    except OSError as err:
        raise ConfigurationError(f"--out {out}: cannot create this folder ({err.strerror}).") from None
    try:
        probe = folder / f".agentnb-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ConfigurationError(f"--out {out}: cannot write there ({err.strerror}).") from None
    targets = [folder / name for name in SUMMARY_NAMES] + [Path(p) for r in runs for p in (r.output, r.html)]
    for target in targets:
        if target.is_dir():
            raise ConfigurationError(f"--out {out}: {target.name} is a folder there; the batch writes a file "
                                     "of that name: move it, or choose another --out.")
    return folder.resolve()


def slug(parameters: dict, limit: int = 48) -> str:
    """A short, filesystem-safe name for a parameter set: ``{"n": 1, "model": "opus"}`` -> ``n-1_model-opus``.
    Letters and digits of any script stay as written (``vétérinaire``); other characters become ``.``;
    a slug that had to be shortened or changed ends with a hash of the full set."""
    def text(value) -> str:
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str,
                                                               ensure_ascii=False)

    name = "_".join(f"{_safe(str(k))}-{_safe(text(v))[:20]}" for k, v in parameters.items())
    exact = "_".join(f"{k}-{text(v)}" for k, v in parameters.items())
    if len(name) > limit or name != exact:
        digest = hashlib.sha1(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()[:6]
        name = f"{name[:limit - 7].rstrip('._-')}-{digest}"
    return name


def _safe(text: str) -> str:
    # NFC: one code point per accented letter, as file systems and people expect (macOS would give NFD)
    return re.sub(r"[^\w+-]+", ".", unicodedata.normalize("NFC", text)).strip(".") or "_"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate.lower() in taken:          # case-insensitive file systems too
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate.lower())
    return candidate


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

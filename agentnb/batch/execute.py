"""``agentnb run``: execute notebooks with papermill, in parallel, and write a report.

One run per notebook and per parameter set of the grid. Each run executes in its own kernel (papermill's
in-process ``execute_notebook``, 0.67 s of overhead against 1.9 s for its CLI), from the notebook's own
folder, with an environment of its own; ``--jobs N`` runs N at a time. Into ``--out`` go each executed
notebook, its HTML export, and ``summary.md`` / ``summary.html`` / ``summary.json``: per run the
parameters, the status (the failing cell and its error), the checks, tokens, cost and time.

Like papermill's ``cli.py`` -> ``execute_notebook``: :func:`add_arguments` and :func:`main` are the skin,
:func:`run_notebooks` is the core; :func:`collect` reads what agentnb left in an executed notebook.

How each run gets its own environment without touching ``os.environ`` (runs share the process):
papermill hands unknown keyword arguments to nbclient's ``NotebookClient``, whose
``kernel_manager_class`` trait names the class it instantiates; jupyter_client's provisioner builds the
kernel's environment from ``env=`` (default ``os.environ``) in ``pre_launch``. So each run gets a subclass
of ``AsyncKernelManager`` that adds its variables to ``env`` in ``_async_pre_start_kernel`` (kept for
restarts too). The working directory goes the same way: ``resources={"metadata": {"path": folder}}``
makes nbclient start the kernel with ``cwd=folder``; papermill's own ``cwd=`` would ``os.chdir`` the
whole process, which threads running side by side cannot share.

Threads, not processes: the work is in the kernels (separate processes), the parent only relays
messages; ``bench/bench_run.py`` measures both.

This module is imported by the ``run`` command only: ``import agentnb`` never loads it, and papermill,
nbformat and nbconvert (1.2-1.5 s to import) are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from agentnb.errors import ConfigurationError

__all__ = ["add_arguments", "main", "run_notebooks", "plan", "load_grid", "parse_value", "collect",
           "Run", "RunResult", "Batch"]

from agentnb.batch.summary import _money, _short, _sum, write_summary

from agentnb.batch.htmlexport import export_html
from agentnb.settings import RECORD_MODES


# ------------------------------------------------------------------------------------------------ the skin

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``agentnb run`` (the CLI adds ``sub.add_parser("run")`` and calls this)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = ("Run notebooks with papermill, one run per notebook and per parameter set, each in\n"
                          "its own kernel from the notebook's folder; write the executed notebooks, their\n"
                          "HTML and a summary (summary.md, summary.html, summary.json) into --out.")
    parser.epilog = ("exit status: 0 when every run succeeded; 1 when a run failed, or a check failed\n"
                     "with --fail-on-check; 2 for a usage error (a bad grid, a missing notebook).\n\n"
                     "Each run's kernel gets AGENTNB_NOTEBOOK, AGENTNB_RUN_ID, AGENTNB_BUDGET_SINCE (the\n"
                     "batch's start), and AGENTNB_RECORD_MODE / AGENTNB_BUDGET_USD when given.")
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebooks to run")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        dest="parameters",
                        help="a parameter for every run; the value is read as a YAML scalar (1, 0.5, true, "
                             "null; anything else stays a string). -p wins over the grid's value of the "
                             "same name")
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


def main(args: argparse.Namespace) -> int:
    """Run the batch ``args`` describes, show one line per finished run, print where the report is."""
    progress = _Progress()
    try:
        batch = run_notebooks(args.notebooks, parameters={n: parse_value(v) for n, v in args.parameters},
                              grid=args.grid, jobs=args.jobs, out=args.out, record_mode=args.record_mode,
                              budget_usd=args.budget, kernel_name=args.kernel, on_start=progress.start,
                              on_result=progress)
    finally:
        progress.close()
    print(batch.headline(fail_on_check=args.fail_on_check))
    print(f"report: {_display_path(batch.paths['html'])}")
    return batch.exit_code(fail_on_check=args.fail_on_check)


class _Progress:
    """A tqdm bar on a terminal; one plain line per finished run otherwise, so CI logs stay readable."""

    def __init__(self):
        self.bar = None
        self.tty = sys.stdout.isatty()

    def start(self, runs: list["Run"], jobs: int) -> None:
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=len(runs), unit="run", desc="agentnb run", file=sys.stdout)
        else:
            print(f"agentnb run: {len(runs)} run(s), {jobs} at a time", flush=True)

    def __call__(self, result: "RunResult", done: int, total: int) -> None:
        line = "\n".join([f"[{done}/{total}] {result.line()}"] + [f"    note: {n}" for n in result.notes])
        if self.bar is None:
            print(line, flush=True)
            return
        self.bar.write(line)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------------------------- parameters

def parse_value(text: str) -> Any:
    """A ``-p`` value, read as a YAML scalar: ``1`` -> 1, ``0.5`` -> 0.5, ``true`` -> True, ``null`` -> None,
    ``[1, 2]`` -> a list; anything else (``yes``, ``no``, dates, ``opus``) stays the string it was."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, bool) and text.strip().lower() not in ("true", "false"):
        return text        # YAML 1.1 reads yes/no/on/off as booleans: too surprising for a parameter
    if value is None and text.strip() not in ("null", "~", "None", "none", "Null", "NULL"):
        return text        # an empty string stays empty
    if isinstance(value, (bool, int, float, str, list, dict)) or value is None:
        return value
    return text


def load_grid(path: str | os.PathLike[str]) -> list[dict]:
    """The parameter sets of a grid file: a YAML list of mappings, or a mapping of lists (the cartesian
    product of its values, in the file's order; a scalar counts as a list of one)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigurationError(f"--grid {path}: cannot read it ({err.strerror}).") from None
    except yaml.YAMLError as err:
        raise ConfigurationError(f"--grid {path}: not valid YAML: {err}") from None
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
    parameters = dict(parameters or {})
    for name in parameters:
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"-p {name}: a parameter name is a Python identifier (letters, digits, _).")
    sets = grid if grid else [{}]
    out = Path(out).resolve()
    since = since or _utc_now()
    taken: set[str] = set()
    runs = []
    for notebook in notebooks:
        path = Path(notebook)
        if not path.is_file():
            raise ConfigurationError(f"{notebook}: no such notebook.")
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
                   "AGENTNB_HOME": str(Path(os.environ.get("AGENTNB_HOME") or ".agentnb").expanduser().resolve())}
            if record_mode:
                env["AGENTNB_RECORD_MODE"] = record_mode
            if budget_usd is not None:
                env["AGENTNB_BUDGET_USD"] = repr(float(budget_usd))
            runs.append(Run(id=run_id, notebook=str(path.resolve()), parameters=merged,
                            output=str(out / f"{name}.ipynb"), html=str(out / f"{name}.html"), env=env,
                            kernel_name=kernel_name))
    return runs


def slug(parameters: dict, limit: int = 48) -> str:
    """A short, filesystem-safe name for a parameter set: ``{"n": 1, "model": "opus"}`` -> ``n-1_model-opus``.
    Unsafe characters become ``.``; a slug that had to be shortened ends with a hash of the full set."""
    parts = []
    for key, value in parameters.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        parts.append(f"{_safe(str(key))}-{_safe(text)[:20]}")
    name = "_".join(parts)
    exact = "_".join(f"{k}-{v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)}"
                     for k, v in parameters.items())
    if len(name) > limit or name != exact:
        digest = hashlib.sha1(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()[:6]
        name = f"{name[:limit - 7].rstrip('._-')}-{digest}"
    return name


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_+-]+", ".", text).strip(".") or "_"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate.lower() in taken:          # case-insensitive file systems too
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate.lower())
    return candidate


# ------------------------------------------------------------------------------------------------ the core

@dataclass
class RunResult:
    """What one run gave: its status, the failing cell, and what :func:`collect` read from its outputs."""

    id: str
    notebook: str
    parameters: dict
    output: str
    html: str | None
    status: str                                   # "ok" | "failed"
    duration_s: float
    error: dict | None = None                     # {"cell", "execution_count", "source", "ename", "evalue"}
    checks: list[dict] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: int = 0
    exchanges: int = 0
    tokens: dict | None = None                    # summed usage; None when the notebook recorded none
    cost_usd: float | None = None                 # list price of every exchange (replayed ones too)
    billed_usd: float | None = None               # live exchanges only
    unread: int = 0                               # outputs whose agentnb metadata could not be read
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def name(self) -> str:
        return Path(self.output).stem

    def error_text(self) -> str:
        if not self.error:
            return ""
        e = self.error
        where = f"cell In [{e['execution_count']}]" if e.get("execution_count") else (
            f"cell {e['cell']}" if e.get("cell") is not None else "")
        source = f" `{e['source']}`" if e.get("source") else ""
        what = f"{e['ename']}: {e['evalue']}" if e.get("evalue") else e.get("ename", "")
        return f"{where}{source}: {what}" if where else what

    def line(self) -> str:
        """One line for a log: status, name, time, checks, cost, and the error if any."""
        parts = [f"{self.status:<6} {self.name}", f"{self.duration_s:.1f}s"]
        if self.checks:
            parts.append(f"checks {self.checks_passed} passed, {self.checks_failed} failed")
        if self.cost_usd is not None:
            parts.append(_money(self.cost_usd, self.billed_usd))
        text = "  ".join(parts)
        return f"{text}  — {self.error_text()}" if self.error else text


@dataclass
class Batch:
    """A finished batch: every run's result, in plan order, and where the summary was written."""

    results: list[RunResult]
    started: str
    duration_s: float
    jobs: int
    out: str
    paths: dict[str, str]                         # "md" / "html" / "json" -> path
    settings: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if not r.ok]

    @property
    def checks_failed(self) -> int:
        return sum(r.checks_failed for r in self.results)

    @property
    def unread(self) -> int:
        return sum(r.unread for r in self.results)

    def exit_code(self, fail_on_check: bool = False) -> int:
        # with outputs it cannot read, the batch cannot say that no check failed
        return 1 if self.failed or (fail_on_check and (self.checks_failed or self.unread)) else 0

    def headline(self, fail_on_check: bool = False) -> str:
        ok = len(self.results) - len(self.failed)
        text = f"{len(self.results)} run(s): {ok} ok, {len(self.failed)} failed"
        passed = sum(r.checks_passed for r in self.results)
        if passed or self.checks_failed:
            text += f"; checks {passed} passed, {self.checks_failed} failed"
            if self.checks_failed and fail_on_check:
                text += " (--fail-on-check)"
        if self.unread:
            text += f"; {self.unread} output(s) unread (see the notes)"
        cost = _sum(r.cost_usd for r in self.results)
        if cost is not None:
            text += f"; {_money(cost, _sum(r.billed_usd for r in self.results))}"
        return text + f"; {self.duration_s:.1f}s"


def run_notebooks(notebooks: Iterable[str | os.PathLike[str]], *, parameters: dict | None = None,
                  grid: str | os.PathLike[str] | list[dict] | None = None, jobs: int = 1,
                  out: str | os.PathLike[str] = "out", record_mode: str | None = None,
                  budget_usd: float | None = None, kernel_name: str | None = None,
                  on_start: Callable[[list[Run], int], None] | None = None,
                  on_result: Callable[[RunResult, int, int], None] | None = None,
                  pool: str = "thread") -> Batch:
    """Run every notebook once per parameter set, ``jobs`` at a time, and write the report into ``out``.

    ``grid`` is a YAML file or the list of sets itself; ``parameters`` go into every set and win over the
    grid's values. ``on_start(runs, jobs)`` is called once the batch is planned, ``on_result(result,
    done, total)`` as each run finishes. A failing run does not stop the others: its status says why.
    ``pool`` is ``"thread"`` or ``"process"`` (see the module docstring). Raises ``ConfigurationError``
    for a bad grid, a missing notebook or a bad option.
    """
    import concurrent.futures as cf

    if jobs < 1:
        raise ConfigurationError(f"--jobs {jobs}: give at least 1.")
    if pool not in ("thread", "process"):
        raise ConfigurationError(f"pool={pool!r}: use 'thread' or 'process'.")
    sets = load_grid(grid) if isinstance(grid, (str, os.PathLike)) else grid
    started = _utc_now()
    runs = plan(notebooks, parameters=parameters, grid=sets, out=out, record_mode=record_mode,
                budget_usd=budget_usd, kernel_name=kernel_name, since=started)
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # import once, here, so that worker threads do not race through the same slow imports
    import nbformat  # noqa: F401
    import papermill  # noqa: F401
    try:
        import nbconvert  # noqa: F401
    except ImportError:
        pass                # each run notes that its HTML export is missing

    shared = _shared_postgres()
    for run in runs:
        run.env.update(shared)

    t0 = time.monotonic()
    results: dict[str, RunResult] = {}
    workers = min(jobs, len(runs))
    if on_start:
        on_start(runs, workers)
    executor = (cf.ThreadPoolExecutor(workers, thread_name_prefix="agentnb-run") if pool == "thread"
                else cf.ProcessPoolExecutor(workers))
    try:
        futures = {executor.submit(execute_run, run): run for run in runs}
        for done, future in enumerate(cf.as_completed(futures), 1):
            run = futures[future]
            try:
                result = future.result()
            except Exception as err:       # the worker itself broke (a process pool's worker died, ...)
                result = _failure(run, 0.0, {"ename": type(err).__name__, "evalue": str(err)})
            results[run.id] = result
            if on_result:
                on_result(result, done, len(runs))
    except BaseException:         # Ctrl-C, CI cancelling: stop the kernels so their threads end now
        executor.shutdown(wait=False, cancel_futures=True)
        _kill_kernels()
        raise
    executor.shutdown()
    batch = Batch(results=[results[r.id] for r in runs], started=started, duration_s=time.monotonic() - t0,
                  jobs=workers, out=str(out_dir), paths={},
                  settings={"record_mode": record_mode, "budget_usd": budget_usd, "kernel": kernel_name,
                            "parameters": dict(parameters or {})})
    write_summary(batch)
    return batch


def _shared_postgres() -> dict[str, str]:
    """One PostgreSQL for the whole batch: each kernel would otherwise start its own (~0.7 s of CPU
    each). Checks isolate themselves (a scratch schema in a rolled-back transaction), so sharing is safe."""
    if os.environ.get("AGENTNB_POSTGRES_URL", "").strip():
        return {}
    from agentnb.checks.postgres import NoPostgresError, get_server

    try:
        return {"AGENTNB_POSTGRES_URL": get_server().url}
    except NoPostgresError:
        return {}       # each kernel tries for itself; its check rows say why it could not


def execute_run(run: Run) -> RunResult:
    """Execute one run in a kernel of its own and read its outputs. Never raises for a failing notebook."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    for stale in (run.output, run.html):       # a previous batch's file must not pass for this run's
        Path(stale).unlink(missing_ok=True)
    t0 = time.monotonic()
    error = None
    # papermill's warnings ("Passed unknown parameter: n") name no notebook: keep them with their run
    warnings = _ThreadWarnings()
    logging.getLogger("papermill").addHandler(warnings)
    try:
        papermill.execute_notebook(
            run.notebook, run.output, parameters=run.parameters or None, kernel_name=run.kernel_name,
            progress_bar=False, resources={"metadata": {"path": str(Path(run.notebook).parent)}},
            # saved once at the end (and on failure), not after every cell: big outputs made each
            # intermediate save (validation, serialisation) cost more than the cell itself
            request_save_on_cell_execute=False,
            kernel_manager_class=kernel_manager_class(run.env))
    except PapermillExecutionError as err:
        error = {"cell": err.cell_index, "execution_count": err.exec_count, "source": _first_line(err.source),
                 "ename": err.ename, "evalue": _short(err.evalue)}
    except Exception as err:                    # no kernel, kernel died, unreadable notebook, timeout ...
        error = {"ename": type(err).__name__, "evalue": _short(str(err))}
    finally:
        logging.getLogger("papermill").removeHandler(warnings)
    duration = time.monotonic() - t0
    try:
        nb = nbformat.read(run.output, as_version=4)
    except (OSError, ValueError) as err:        # nothing was saved: the run failed before its first cell
        failed = _failure(run, duration, error or {"ename": type(err).__name__, "evalue": _short(str(err))})
        failed.notes.extend(warnings.messages)
        return failed
    result = RunResult(id=run.id, notebook=run.notebook, parameters=run.parameters, output=run.output,
                       html=None, status="failed" if error else "ok", duration_s=duration, error=error,
                       **collect(nb))
    result.notes.extend(warnings.messages)
    try:
        export_html(nb, run.html, folder=str(Path(run.notebook).parent))
        result.html = run.html
    except ImportError:
        result.notes.append("no HTML export: nbconvert is not installed")
    except Exception as err:                    # a broken export must not hide the run's own result
        result.notes.append(f"no HTML export: {type(err).__name__}: {_short(str(err))}")
    return result


class _ThreadWarnings(logging.Handler):
    """Collects the warnings logged by the thread that made it (other runs' threads log elsewhere)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            message = _short(record.getMessage())
            if message not in self.messages:
                self.messages.append(message)


def kernel_manager_class(env: dict[str, str]):
    """A kernel manager class whose kernels get ``env`` on top of the environment they would inherit.

    jupyter_client builds the kernel's environment from the ``env`` keyword of ``start_kernel``
    (``os.environ`` when absent); nbclient instantiates ``NotebookClient.kernel_manager_class``, which
    papermill lets us set. A class per run keeps runs in threads apart without touching ``os.environ``.
    """
    from jupyter_client.manager import AsyncKernelManager

    extra = {str(k): str(v) for k, v in env.items()}

    class RunKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = {**(kw.get("env") or os.environ), **extra}
            _kernels.add(self)
            return await super()._async_pre_start_kernel(**kw)

    return RunKernelManager


_kernels: "weakref.WeakSet" = weakref.WeakSet()      # kernel managers of this process's runs


def _kill_kernels() -> None:
    """Kill the kernel processes still running: their runs then fail at once (DeadKernelError)."""
    for km in list(_kernels):
        process = getattr(getattr(km, "provisioner", None), "process", None)
        try:
            if process is not None and process.poll() is None:
                process.kill()
        except OSError:
            pass


def _failure(run: Run, duration: float, error: dict) -> RunResult:
    return RunResult(id=run.id, notebook=run.notebook, parameters=run.parameters, output=run.output, html=None,
                     status="failed", duration_s=duration, error=error)


# -------------------------------------------------------------------------------------------- reading results

def collect(nb) -> dict:
    """What agentnb left in an executed notebook's outputs (their ``agentnb`` metadata, read by
    ``agentnb.render.metadata``): the number of exchanges, summed tokens, cost (list price, and billed =
    live calls only), and the checks.

    Read defensively: a notebook node or a plain dict; missing or odd entries are skipped. Tokens and
    cost are ``None`` when no output carries usage (unknown, not zero). The same entry shown twice in one
    cell (a display and its update, say) counts once. Outputs in a format this agentnb cannot read are
    counted in ``unread`` and explained in ``notes``: never silently taken for "no cost, no checks".
    """
    from agentnb.render import metadata

    exchanges = 0
    usage = {k: 0 for k in metadata.USAGE_KEYS}
    saw_usage = False
    cost = billed = None
    checks: list[dict] = []
    unread: dict[str, list[int]] = {}
    for index, cell in enumerate(_get(nb, "cells") or []):
        if _get(cell, "cell_type") != "code":
            continue
        seen: set[str] = set()
        for output in _get(cell, "outputs") or []:
            try:
                record = metadata.read(_get(output, "metadata"))
            except metadata.FormatError as err:
                unread.setdefault(str(err), []).append(index)
                continue
            if record is None:
                continue
            key = json.dumps(_get(output, "metadata")[metadata.KEY], sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            if record.usage is not None:
                exchanges += 1
                saw_usage = True
                for k in metadata.USAGE_KEYS:
                    usage[k] += record.usage[k]
            if record.cost_usd is not None:
                cost = (cost or 0.0) + record.cost_usd
                if not record.replayed:
                    billed = (billed or 0.0) + record.cost_usd
                elif billed is None:
                    billed = 0.0
            checks += [{**check, "cell": index} for check in record.checks]
    notes = [f"{len(cells)} output(s) not read (cell index {', '.join(map(str, sorted(set(cells))))}): {reason}; "
             "their tokens, cost and checks are not counted" for reason, cells in unread.items()]
    return {
        "exchanges": exchanges,
        "tokens": usage if saw_usage else None,
        "cost_usd": cost,
        "billed_usd": billed,
        "checks": checks,
        "checks_passed": sum(c["status"] == "passed" for c in checks),
        "checks_failed": sum(c["status"] == "failed" for c in checks),
        "unread": sum(len(cells) for cells in unread.values()),
        "notes": notes,
    }


def _get(obj, key):
    try:
        return obj.get(key)
    except AttributeError:
        return None


# ------------------------------------------------------------------------------------------------- summary

def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _first_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return _short(lines[0].strip(), 80) if lines else ""




def _display_path(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path

"""``agentnb run``: execute the planned runs with papermill, in parallel, and write the report.

One run per notebook and per parameter set of the grid. Each run executes in its own kernel (papermill's
in-process ``execute_notebook``, 0.67 s of overhead against 1.9 s for its CLI), from the notebook's own
folder, with an environment of its own; ``--jobs N`` runs N at a time. Into ``--out`` go each executed
notebook, its HTML export, and ``summary.md`` / ``summary.html`` / ``summary.json``: per run the
parameters, the status (the failing cell and its error), the checks, tokens, cost and time. A run's
calls, tokens and cost are those the session log holds for it (``runlog``), shown in an output or not.

Like papermill's ``cli.py`` -> ``execute_notebook``: :func:`main` is the skin (its options are
``plan.add_arguments``), :func:`run_notebooks` the core. The batch is planned by ``plan``, each run's
outputs are read by ``results.collect``, the report is written by ``summary``: this module imports
them, none of them imports it.

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
import logging
import os
import re
import shutil
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Callable, Iterable

from agentnb import settings
from agentnb.batch import runlog
from agentnb.batch.htmlexport import export_html
from agentnb.batch.plan import Run, load_grid, parameters_from, plan, prepare_out, utc_now
from agentnb.batch.results import Batch, BatchInterrupted, RunResult, collect, shorten
from agentnb.batch.summary import write_summary
from agentnb.errors import ConfigurationError


def main(args: argparse.Namespace) -> int:
    """Run the batch ``args`` describes, show one line per finished run, print where the report is."""
    progress = _Progress()
    try:
        parameters = parameters_from(args.parameters_yaml, args.parameters, args.parameters_raw)
        batch = run_notebooks(args.notebooks, parameters=parameters,
                              grid=args.grid, jobs=args.jobs, out=args.out, record_mode=args.record_mode,
                              budget_usd=args.budget, kernel_name=args.kernel, on_start=progress.start,
                              on_result=progress, fail_on_check=args.fail_on_check)
    except BatchInterrupted as stop:
        batch = stop.batch
    finally:
        progress.close()
    print(batch.headline())
    code, reasons = batch.verdict()
    if reasons:
        print(f"batch {batch.status()} (exit {code}): " + "; ".join(reasons))
    # the folder as the user gave it: absolute stays absolute, relative stays relative to here
    print(f"report: {os.path.join(args.out, Path(batch.paths['html']).name)}")
    return code


class _Progress:
    """A tqdm bar on a terminal; one plain line per finished run otherwise, so CI logs stay readable."""

    def __init__(self):
        self.bar = None
        self.tty = sys.stdout.isatty()

    def start(self, runs: list[Run], jobs: int) -> None:
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=len(runs), unit="run", desc="agentnb run", file=sys.stdout)
        else:
            print(f"agentnb run: {len(runs)} run(s), {jobs} at a time", flush=True)

    def __call__(self, result: RunResult, done: int, total: int) -> None:
        line = "\n".join([f"[{done}/{total}] {result.line()}"] + [f"    WARNING: {w}" for w in result.warnings]
                         + [f"    note: {n}" for n in result.notes])
        if self.bar is None:
            print(line, flush=True)
            return
        self.bar.write(line)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ------------------------------------------------------------------------------------------------ the core

__all__ = ["main", "run_notebooks", "execute_run", "kernel_manager_class"]


def run_notebooks(notebooks: Iterable[str | os.PathLike[str]], *, parameters: dict | None = None,
                  grid: str | os.PathLike[str] | list[dict] | None = None, jobs: int = 1,
                  out: str | os.PathLike[str] = "out", record_mode: str | None = None,
                  budget_usd: float | None = None, kernel_name: str | None = None,
                  on_start: Callable[[list[Run], int], None] | None = None,
                  on_result: Callable[[RunResult, int, int], None] | None = None,
                  pool: str = "thread", fail_on_check: bool = False) -> Batch:
    """Run every notebook once per parameter set, ``jobs`` at a time, and write the report into ``out``.

    ``grid`` is a YAML file or the list of sets itself; ``parameters`` go into every set and win over the
    grid's values. ``on_start(runs, jobs)`` is called once the batch is planned, ``on_result(result,
    done, total)`` as each run finishes. A failing run does not stop the others: its status says why.
    ``fail_on_check`` makes a failed (or unreadable) check fail the batch: its summaries say so.
    ``pool`` is ``"thread"`` or ``"process"`` (see the module docstring). Raises ``ConfigurationError``
    for a bad grid, a missing notebook or a bad option. On Ctrl-C the kernels are stopped, the summary is
    written (finished runs as they ended, the others "interrupted") and ``BatchInterrupted`` (a
    ``KeyboardInterrupt`` holding the batch) is raised.
    """
    import concurrent.futures as cf

    if jobs < 1:
        raise ConfigurationError(f"--jobs {jobs}: give at least 1.")
    if pool not in ("thread", "process"):
        raise ConfigurationError(f"pool={pool!r}: use 'thread' or 'process'.")
    if record_mode is None:       # what the kernels will inherit: refused now, not once per run
        from agentnb.settings import Settings

        Settings().resolved_record_mode()
    sets = load_grid(grid) if isinstance(grid, (str, os.PathLike)) else grid
    started = utc_now()
    runs = plan(notebooks, parameters=parameters, grid=sets, out=out, record_mode=record_mode,
                budget_usd=budget_usd, kernel_name=kernel_name, since=started)
    out_dir = prepare_out(out, runs)
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
    interrupted = False
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
    except BaseException as err:  # Ctrl-C, CI cancelling: stop the kernels so their threads end now
        executor.shutdown(wait=False, cancel_futures=True)
        _kill_kernels()
        if not isinstance(err, KeyboardInterrupt):
            raise
        interrupted = True
    else:
        executor.shutdown()
    batch = Batch(results=[results.get(r.id) or _unfinished(r) for r in runs], started=started,
                  duration_s=time.monotonic() - t0, jobs=workers, out=str(out_dir), paths={},
                  settings={"record_mode": record_mode, "budget_usd": budget_usd, "kernel": kernel_name,
                            "parameters": dict(parameters or {}), "fail_on_check": fail_on_check},
                  interrupted=interrupted, fail_on_check=fail_on_check)
    write_summary(batch)
    if interrupted:
        raise BatchInterrupted(batch)
    return batch


def _shared_postgres() -> dict[str, str]:
    """One PostgreSQL for the whole batch: each kernel would otherwise start its own (~0.7 s of CPU
    each). Checks isolate themselves (a role and scratch database of their own, a rolled-back transaction),
    so sharing is safe."""
    if settings.postgres_url():
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
    has_parameters_cell = _has_parameters_cell(run.notebook) if run.parameters else None
    t0 = time.monotonic()
    error = None
    # papermill's warnings ("Passed unknown parameter: n") name no notebook: keep them with their run
    warnings = _ThreadWarnings()
    logging.getLogger("papermill").addHandler(warnings)
    ipc_dir = _ipc_dir()
    try:
        papermill.execute_notebook(
            run.notebook, run.output, parameters=run.parameters or None, kernel_name=run.kernel_name,
            progress_bar=False, resources={"metadata": {"path": str(Path(run.notebook).parent)}},
            # saved once at the end (and on failure), not after every cell: big outputs made each
            # intermediate save (validation, serialisation) cost more than the cell itself
            request_save_on_cell_execute=False,
            kernel_manager_class=kernel_manager_class(run.env, ipc_dir))
    except PapermillExecutionError as err:
        error = {"cell": err.cell_index, "execution_count": err.exec_count, "source": _first_line(err.source),
                 "ename": err.ename, "evalue": shorten(err.evalue)}
    except Exception as err:                    # no kernel, kernel died, unreadable notebook, timeout ...
        error = {"ename": type(err).__name__, "evalue": shorten(str(err))}
    finally:
        logging.getLogger("papermill").removeHandler(warnings)
        if ipc_dir is not None:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    duration = time.monotonic() - t0
    try:
        nb = nbformat.read(run.output, as_version=4)
    except (OSError, ValueError) as err:        # nothing was saved: the run failed before its first cell
        failed = _failure(run, duration, error or {"ename": type(err).__name__, "evalue": shorten(str(err))})
        _sort_papermill_messages(failed, warnings.messages, has_parameters_cell)
        return failed
    if error and error.get("ename") == "CellExecutionError" and not error.get("evalue"):
        error.update(_reason_from_outputs(nb))
    result = RunResult(id=run.id, notebook=run.notebook, parameters=run.parameters, output=run.output,
                       html=None, status="failed" if error else "ok", duration_s=duration, error=error,
                       **collect(nb))
    _sort_papermill_messages(result, warnings.messages, has_parameters_cell)
    _count_calls_from_the_log(result, run)
    try:
        export_html(nb, run.html, folder=str(Path(run.notebook).parent))
        result.html = run.html
    except ImportError:
        result.notes.append("no HTML export: nbconvert is not installed")
    except Exception as err:                    # a broken export must not hide the run's own result
        result.notes.append(f"no HTML export: {type(err).__name__}: {shorten(str(err))}")
    return result


_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)): (.+)$")


def _reason_from_outputs(nb) -> dict:
    """The error of a cell that failed without an error output, from what it wrote to stderr.

    IPython reports a ``UsageError`` (a magic's bad option: ``unrecognized arguments: --bogus-option``)
    as a line on stderr, not as an error output, so papermill has no name nor message for it
    (``CellExecutionError`` and ""). The failing cell is the one papermill marked ``exception``."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or not cell.get("metadata", {}).get("papermill", {}).get("exception"):
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                       if o.get("output_type") == "stream" and o.get("name") == "stderr")
        lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines() if line.strip()]
        if not lines:
            break
        for line in reversed(lines):
            match = _ERROR_LINE.match(line)
            if match:
                return {"ename": match.group(1), "evalue": shorten(match.group(2))}
        return {"evalue": shorten(lines[-1])}
    return {"evalue": "the cell failed without an error message (see its outputs)"}


def _has_parameters_cell(notebook: str) -> bool | None:
    """Whether the notebook has a cell tagged ``parameters`` (None when it cannot be read: papermill
    then fails the run and says why)."""
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:
        return None
    return any("parameters" in (cell.get("metadata", {}).get("tags") or []) for cell in nb.cells)


_NO_PARAMETERS_CELL = "Input notebook does not contain a cell with tag 'parameters'"
_UNKNOWN_PARAMETER = "Passed unknown parameter: "


def _sort_papermill_messages(result: RunResult, messages: list[str], has_parameters_cell: bool | None) -> None:
    """papermill's warnings about parameters become the run's warnings, in words that say what happened
    to the values; its other messages stay notes."""
    result.parameters_cell = has_parameters_cell
    if has_parameters_cell is False:
        # papermill injects the values in a new first cell: the notebook's own code runs after it
        result.warnings.append(
            f"notebook {Path(result.notebook).name} has no cell tagged 'parameters': the values "
            f"({', '.join(result.parameters)}) were injected at its top, before its own code, which may set "
            "them again (its defaults then win); tag its parameters cell 'parameters' (papermill's rule)")
    unknown = [m[len(_UNKNOWN_PARAMETER):] for m in messages if m.startswith(_UNKNOWN_PARAMETER)]
    if unknown and has_parameters_cell:
        result.warnings.append(
            f"{', '.join(unknown)}: not set in the notebook's parameters cell (a misspelt name?); "
            "injected after it all the same")
    result.notes.extend(m for m in messages if m != _NO_PARAMETERS_CELL and not m.startswith(_UNKNOWN_PARAMETER))


class _ThreadWarnings(logging.Handler):
    """Collects the warnings logged by the thread that made it (other runs' threads log elsewhere)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            message = shorten(record.getMessage())
            if message not in self.messages:
                self.messages.append(message)


def _count_calls_from_the_log(result: RunResult, run: Run) -> None:
    """The run's calls, tokens and cost as the session log has them (every call, shown or not)."""
    home = run.env.get("AGENTNB_HOME") or ".agentnb"
    try:
        rows = runlog.calls(home, run.id)
    except Exception as err:         # the log is evidence, not the run: its absence is a note
        runlog.apply(result, None, home, problem=f"{type(err).__name__}: {shorten(str(err))}")
        return
    runlog.apply(result, rows, home)


def kernel_manager_class(env: dict[str, str], ipc_dir: str | None = None):
    """A kernel manager class whose kernels get ``env`` on top of the environment they would inherit,
    and talk to this process over IPC (Unix sockets in ``ipc_dir``) when it is given.

    jupyter_client builds the kernel's environment from the ``env`` keyword of ``start_kernel``
    (``os.environ`` when absent); nbclient instantiates ``NotebookClient.kernel_manager_class``, which
    papermill lets us set. A class per run keeps runs in threads apart without touching ``os.environ``.

    IPC: agentnb starts these kernels, so it chooses how they are reached. Over TCP (jupyter_client's
    default) every kernel warns that it runs "over TCP without encryption", once per run; Unix sockets
    in a folder only this user can enter keep the code and outputs off the network, and the warning out.
    The socket paths are absolute (jupyter_client's default ``kernel-ipc`` is relative to the working
    folder, the notebook's) and short (a Unix socket path holds at most ~107 bytes).
    """
    from jupyter_client.manager import AsyncKernelManager

    extra = {str(k): str(v) for k, v in env.items()}

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            if ipc_dir is not None:
                self.transport = "ipc"
                self.ip = os.path.join(ipc_dir, "k")

        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = {**(kw.get("env") or os.environ), **extra}
            _kernels.add(self)
            return await super()._async_pre_start_kernel(**kw)

    return RunKernelManager


def _ipc_dir() -> str | None:
    """A private folder for one run's kernel sockets, or None where Unix sockets are not available."""
    if os.name != "posix":
        return None
    import tempfile

    return tempfile.mkdtemp(prefix="agentnb-")        # mode 0700: this user's only


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


def _unfinished(run: Run) -> RunResult:
    """A run Ctrl-C stopped or kept from starting: what it did (and spent) is not known."""
    return RunResult(id=run.id, notebook=run.notebook, parameters=run.parameters, output=run.output, html=None,
                     status="interrupted", duration_s=0.0, tokens=None, cost_usd=None,
                     notes=["interrupted (Ctrl-C) before it finished: no executed notebook, no figures"])


def _first_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return shorten(lines[0].strip(), 80) if lines else ""


"""Time limits of the checks: each check has its own, all of one answer's checks share a total, and a
check that overruns is stopped while the others keep their rows.

Checks run in lanes (a lane runs its checks one after the other in a thread of its own; lanes run side
by side). Past a check's limit it is cancelled: its ``cancel`` hook if it has one (a database's
interrupt), else an exception raised in its thread, which stops pure-Python work at the next bytecode.
A check stuck in C code that ignores both is abandoned: its row says it was stopped, its thread is left
to finish in the background (a daemon: it never holds the kernel), and the lane goes on in a new thread.

The answer cannot lift these limits: they are measured here, outside the checks.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agentnb.checks.result import FAILED, CheckResult

__all__ = ["CHECK_LIMIT", "DEFAULT_TOTAL", "MAX_DEPTH", "MAX_NODES", "MAX_TEXT", "CheckStopped", "Job",
           "Outcome", "kill_group", "run_lanes", "too_large", "total_timeout"]

DEFAULT_TOTAL = 30.0      # seconds for all the checks of one answer
CHECK_LIMIT = 10.0        # seconds for one check on code (or what is left of the total)
# what a parser of the answer's text accepts: a real answer is far below (the library contract: 7 KB,
# 595 values, 9 levels); past these, the row says the text was refused, and nothing is expanded
MAX_TEXT = 500_000        # characters of one block (compiling 2 MB of Python took 700 MB and 2.7 s)
MAX_NODES = 50_000        # values of a document once its aliases are expanded
MAX_DEPTH = 64            # nesting levels of a document
_GRACE = 0.5              # how long a cancelled check has to stop before it is abandoned
_ENV = "AGENTNB_CHECK_TIMEOUT"


def total_timeout() -> float:
    """``AGENTNB_CHECK_TIMEOUT`` in seconds (a positive number), else 30."""
    raw = os.environ.get(_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TOTAL
    except ValueError:
        return DEFAULT_TOTAL
    return value if value > 0 else DEFAULT_TOTAL


def kill_group(proc, wait: bool = True) -> None:
    """SIGKILL a contained child's whole process group (it was started with ``start_new_session``), if
    it still runs; then reap it unless ``wait`` is false (a stop asked from another thread)."""
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if wait:
        proc.wait()


def too_large(name: str, text: str) -> str:
    return f"{name} is too large to check ({len(text):,} characters; at most {MAX_TEXT:,})"


class CheckStopped(BaseException):
    """Raised inside a check's thread to stop it. A BaseException: a check's ``except Exception``
    (never raise on an answer) must not swallow it."""


@dataclass
class Job:
    name: str                                  # the row's name if the check fails or is stopped
    run: Callable[[], object]
    limit: float | None = None                 # seconds; None: what is left of the total
    cancel: Callable[[], None] | None = None   # how to interrupt it from outside, if it has a way


@dataclass
class Outcome:
    value: object = None
    row: CheckResult | None = None             # set when the check raised, was stopped or never ran

    @property
    def ok(self) -> bool:
        return self.row is None


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s".replace(".0 s", " s")


def _internal_error(name: str, err: BaseException) -> CheckResult:
    text = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
    what = f"{type(err).__name__}: {text}" if text else type(err).__name__
    if isinstance(err, RecursionError):
        what = "the text is nested too deeply for this check (Python's recursion limit)"
    elif isinstance(err, MemoryError):
        what = "the check ran out of memory on this text"
    return CheckResult(name, FAILED, f"internal error in this check ({what}); the other checks are not "
                                     "affected. Please report this with the answer.",
                       {"error": type(err).__name__, "internal": True})


class _Running:
    """One check running in its own thread."""

    def __init__(self, job: Job, wake: threading.Event):
        self.job, self.started = job, time.monotonic()
        self.state: str | None = None          # "ok" | "error" | "stopped", set by the thread
        self.value: object = None
        self.error: BaseException | None = None
        self.cancelled_at: float | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._target, args=(wake,), daemon=True,
                                       name=f"agentnb-check: {job.name[:40]}")
        self.thread.start()

    def _target(self, wake: threading.Event) -> None:
        try:
            try:
                self.value = self.job.run()
                self.state = "ok"
            except CheckStopped:
                self.state = "stopped"
            except BaseException as err:          # noqa: BLE001 - one check's failure is its own row
                self.error, self.state = err, "error"
        except CheckStopped:                       # the stop landed between the check and its state
            self.state = "stopped"
        finally:
            for _ in range(3):                     # a late stop must not keep the supervisor waiting
                try:
                    _clear_pending_stop()
                    self.done.set()
                    wake.set()
                    break
                except CheckStopped:
                    continue

    def cancel(self) -> None:
        """Stop the check: its own hook, then an exception in its thread (while it has not finished)."""
        self.cancelled_at = time.monotonic()
        if self.job.cancel is not None:
            try:
                self.job.cancel()
            except Exception:                      # noqa: BLE001 - the exception below still applies
                pass
        if self.state is None and self.thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread.ident),
                                                       ctypes.py_object(CheckStopped))


def _clear_pending_stop() -> None:
    """Drop a stop sent to this thread that has not landed yet (the check ended meanwhile)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)


class _Lane:
    def __init__(self, jobs: Sequence[Job]):
        self.jobs, self.next, self.current = list(jobs), 0, None
        self.outcomes: list[Outcome | None] = [None] * len(self.jobs)
        self.index = -1


def run_lanes(lanes: Sequence[Sequence[Job]], total: float | None = None) -> list[list[Outcome]]:
    """Run each lane's jobs in order, lanes side by side; one Outcome per job, in the lanes' order.
    Never raises for a job: a job that raises gives an internal-error row, one stopped a "stopped after"
    row, one never started (the total used up) a "not run" row."""
    total = total_timeout() if total is None else total
    start = time.monotonic()
    deadline = start + total
    wake = threading.Event()
    state = [_Lane(jobs) for jobs in lanes]
    try:
        while True:
            wake.clear()
            now = time.monotonic()
            busy = False
            for lane in state:
                _advance(lane, now, start, deadline, total, wake)
                busy = busy or lane.current is not None
            if not busy:
                break
            waits = [_next_event(lane.current, deadline) - now for lane in state if lane.current is not None]
            wake.wait(max(0.005, min(waits)))
    finally:                        # an interrupt of the kernel: stop what still runs
        for lane in state:
            if lane.current is not None and lane.current.state is None:
                lane.current.cancel()
    return [[o if o is not None else Outcome(row=_not_run(j.name, total)) for o, j in zip(lane.outcomes, lane.jobs)]
            for lane in state]


def _limit(job: Job, started: float, deadline: float) -> float:
    return min(started + job.limit, deadline) if job.limit is not None else deadline


def _next_event(running: _Running, deadline: float) -> float:
    if running.cancelled_at is not None:
        return running.cancelled_at + _GRACE
    return _limit(running.job, running.started, deadline)


def _advance(lane: _Lane, now: float, start: float, deadline: float, total: float, wake) -> None:
    running = lane.current
    if running is not None:
        if running.done.is_set():
            lane.outcomes[lane.index] = _outcome(running, deadline, total)
            lane.current = running = None
        elif running.cancelled_at is None and now >= _limit(running.job, running.started, deadline):
            running.cancel()
        elif running.cancelled_at is not None and now >= running.cancelled_at + _GRACE:
            lane.outcomes[lane.index] = Outcome(row=_stopped(running, deadline, total, abandoned=True))
            lane.current = running = None
    if running is None and lane.next < len(lane.jobs) and now < deadline:
        lane.index, lane.next = lane.next, lane.next + 1
        lane.current = _Running(lane.jobs[lane.index], wake)


def _outcome(running: _Running, deadline: float, total: float) -> Outcome:
    if running.state == "ok":                    # finished, if late: its result stands
        return Outcome(value=running.value)
    if running.state == "error" and running.cancelled_at is None:
        return Outcome(row=_internal_error(running.job.name, running.error))
    return Outcome(row=_stopped(running, deadline, total))


def _stopped(running: _Running, deadline: float, total: float, abandoned: bool = False) -> CheckResult:
    job = running.job
    elapsed = (running.cancelled_at or time.monotonic()) - running.started
    by_total = job.limit is None or running.started + job.limit > deadline
    # the limit that applied, not the time measured (which the machine's load blurs)
    limit, why = ((total, f"the checks of one answer may take {_seconds(total)} in all ({_ENV})") if by_total
                  else (job.limit, f"one check may take {_seconds(job.limit)}"))
    if abandoned:
        why += "; it could not be interrupted and was left to end in the background"
    return CheckResult(job.name, FAILED, f"stopped after {_seconds(limit)}: {why}",
                       {"stopped": True, "limit_s": limit, "ran_s": round(elapsed, 3)})


def _not_run(name: str, total: float) -> CheckResult:
    return CheckResult(name, FAILED, f"not run: the checks of one answer may take {_seconds(total)} in all "
                                     f"({_ENV}), and the checks before it used that time",
                       {"stopped": True})

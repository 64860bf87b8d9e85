"""The collector held off while a schema is lowered or drawn comes back as the user had it."""

from __future__ import annotations

import gc
import threading

from agentnb.checks import duckdb as duck
from agentnb.checks.gcpause import gc_paused


def test_the_collector_runs_again_after_a_load_and_stays_off_when_the_user_turned_it_off():
    assert gc.isenabled()
    duck.load("CREATE TABLE t (id int);").con.close()
    assert gc.isenabled()
    gc.disable()
    try:
        duck.load("CREATE TABLE t (id int);").con.close()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_end_with_the_last():
    inside, release = threading.Event(), threading.Event()

    def other():
        with gc_paused():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=other)
    worker.start()
    inside.wait(5)
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()          # the other thread's pause still holds
    release.set()
    worker.join(5)
    assert gc.isenabled()

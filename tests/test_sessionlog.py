"""The session log: round trip through SQL, empty logs, parallel kernels, exact text, redaction."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

from agentnb import sessionlog
from agentnb.errors import AgentnbError
from agentnb.redact import redact
from agentnb.sessionlog import Exchange, append, connect, query, rows, totals

KEY = "sk-ant-api03-" + "Ab3_x-" * 12 + "AA"


def _ex(i: int = 0, **kw) -> Exchange:
    base = dict(time=f"2026-11-26T10:00:{i:02d}.000000+00:00", notebook="eda.ipynb", agent="analyst",
                thread="main", model="claude-opus-4-5", prompt=f"q{i}", answer=f"a{i}",
                stop_reason="end_turn", input_tokens=100, output_tokens=10,
                cache_creation_input_tokens=5, cache_read_input_tokens=50, cost_usd=0.01,
                latency_s=1.5, ttft_s=0.3, session="s1")
    base.update(kw)
    return Exchange(**base)


def _log_lines(home) -> list[str]:
    return [line for f in sorted((home / "log").glob("*.jsonl")) for line in f.read_text("utf-8").split("\n") if line]


def test_round_trip_sql_rows_totals(tmp_path):
    exchanges = [_ex(0), _ex(1, replayed=True, cost_usd=0.02), _ex(2, error="overloaded_error", cost_usd=None,
                                                                    stop_reason=None, notebook="other.ipynb")]
    for e in exchanges:
        append(e, home=tmp_path)

    con = connect(tmp_path)
    assert con.sql("select count(*) from exchanges").fetchall() == [(3,)]
    assert con.sql("select prompt from exchanges where replayed order by time").fetchall() == [("q1",)]
    assert con.sql("select * from exchanges").columns == list(sessionlog.VIEW_COLUMNS)

    got = rows(tmp_path)
    assert [Exchange(**r) for r in got] == exchanges
    assert [r["prompt"] for r in rows(tmp_path, notebook="eda.ipynb", replayed=False)] == ["q0"]
    assert [r["prompt"] for r in rows(tmp_path, error=None)] == ["q0", "q1"]
    assert [r["prompt"] for r in rows(tmp_path, prompt=["q0", "q2"])] == ["q0", "q2"]
    assert [r["prompt"] for r in rows(tmp_path, limit=2)] == ["q1", "q2"]
    with pytest.raises(TypeError, match="unknown filter"):
        rows(tmp_path, colour="red")

    relation = query(home=tmp_path)
    assert [r[0] for r in relation.project("prompt").fetchall()] == ["q0", "q1", "q2"]
    assert relation.filter("replayed").aggregate("count(*)").fetchall() == [(1,)]

    assert query("select sum(input_tokens) from exchanges", home=tmp_path).fetchall() == [(300,)]

    t = totals(tmp_path)
    assert t == {"exchanges": 3, "live": 2, "replayed": 1, "errors": 1, "input_tokens": 200,
                 "output_tokens": 20, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 100,
                 "cost_usd": pytest.approx(0.01), "unpriced": 1, "unfinished": 0}
    assert totals(tmp_path, notebook="eda.ipynb")["exchanges"] == 2
    assert totals(tmp_path, session="nope")["exchanges"] == 0

    append(_ex(3), home=tmp_path)                 # a relation runs again at each call: it sees new rows
    assert len(relation.fetchall()) == 4

    # every row carries its schema version
    assert all(json.loads(line)["v"] == sessionlog.SCHEMA_VERSION for line in _log_lines(tmp_path))


def test_connection_sees_rows_appended_after_it_opened(tmp_path):
    con = connect(tmp_path)                       # empty log: the view still binds
    assert con.sql("select count(*) from exchanges").fetchall() == [(0,)]
    append(_ex(0), home=tmp_path)
    append(_ex(1), home=tmp_path)
    assert con.sql("select count(*) from exchanges").fetchall() == [(2,)]


def test_empty_home(tmp_path):
    home = tmp_path / "never-written"
    con = connect(home)
    assert con.sql("select count(*) from exchanges").fetchall() == [(0,)]
    assert con.sql("select * from exchanges").columns == list(sessionlog.VIEW_COLUMNS)
    assert rows(home) == []
    t = totals(home)
    assert t["exchanges"] == t["live"] == t["replayed"] == t["errors"] == t["input_tokens"] == 0
    assert t["cost_usd"] == 0.0


def test_unreadable_home_gives_an_empty_view(tmp_path):
    home = tmp_path / "a-file"
    home.write_text("not a folder")
    assert connect(home).sql("select count(*) from exchanges").fetchall() == [(0,)]


def test_agentnb_home_is_read_at_call_time(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTNB_HOME", raising=False)
    append(_ex(0))
    assert len(list((tmp_path / ".agentnb" / "log").glob("2*.jsonl"))) == 1
    monkeypatch.setenv("AGENTNB_HOME", str(tmp_path / "elsewhere"))
    append(_ex(1))
    assert [r["prompt"] for r in rows()] == ["q1"]
    assert [r["prompt"] for r in rows(tmp_path / ".agentnb")] == ["q0"]


def test_awkward_text_round_trips_exactly(tmp_path):
    text = ('She said "don\'t" \\ {braces} {{double}} %s {0}\n\tline two\r\n'
            "Ça coûte très cher, garçon ! 🎉🐍 中文 \u2028 \x00 end")
    e = _ex(0, prompt=text, answer=text[::-1], error="SELECT '{x}';", agent="l'agent")
    append(e, home=tmp_path)
    assert len(_log_lines(tmp_path)) == 1       # newlines inside values stay escaped: one row, one line
    (got,) = rows(tmp_path)
    assert got["prompt"] == text and got["answer"] == text[::-1]
    assert Exchange(**got) == e


def test_lone_surrogate_does_not_lose_the_row(tmp_path):
    append(_ex(0, prompt="bad \udcff byte"), home=tmp_path)
    (got,) = rows(tmp_path)
    assert got["prompt"] == "bad \ufffd byte"


def test_key_is_redacted_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "custom-proxy-token-123456")
    append(_ex(0, error=f"AuthenticationError: invalid x-api-key {KEY} (Bearer {KEY})",
                prompt="my key is custom-proxy-token-123456, ok?"), home=tmp_path)
    raw = "\n".join(_log_lines(tmp_path))
    assert "sk-ant-api03" not in raw and "Ab3_x" not in raw
    assert "custom-proxy-token-123456" not in raw
    (got,) = rows(tmp_path)
    assert got["error"] == "AuthenticationError: invalid x-api-key sk-ant-[redacted] (Bearer sk-ant-[redacted])"
    assert got["prompt"] == "my key is [redacted], ok?"


def test_redact(monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "AGENTNB_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    assert redact("no key here") == "no key here"
    assert redact(f"a{KEY}. c=sk-ant-oat01-xyz") == "ask-ant-[redacted]. c=sk-ant-[redacted]"
    assert redact(redact(KEY)) == redact(KEY)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok-a-bearer-token-42")
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", "postgresql://me:p%40ss-w0rd-long@db.example:5432/app")
    assert redact("tok-a-bearer-token-42 / p%40ss-w0rd-long / p@ss-w0rd-long") == "[redacted] / [redacted] / [redacted]"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "short")        # under 8 characters: ordinary words stay
    assert redact("a short word") == "a short word"


def test_unwritable_home_names_the_path(tmp_path):
    home = tmp_path / "a-file"
    home.write_text("not a folder")             # fails for root too, unlike chmod
    with pytest.raises(AgentnbError) as info:
        append(_ex(0), home=home)
    message = str(info.value)
    assert str(home / "log") in message and "AGENTNB_HOME" in message


def test_a_log_folder_that_cannot_be_made_reads_as_empty_views(tmp_path):
    home = tmp_path / "a-file"
    home.write_text("not a folder")
    con = connect(home)
    assert con.sql("select count(*) from exchanges").fetchall() == [(0,)]
    assert "input_tokens" in con.sql("select * from exchanges").columns
    assert con.sql("select count(*), sum(duration_s) from tool_calls").fetchall() == [(0, None)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod")
def test_read_only_home(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(AgentnbError, match=str(tmp_path)):
            append(_ex(0), home=tmp_path / "home")
    finally:
        tmp_path.chmod(0o700)


def test_deleted_log_file_is_reopened(tmp_path):
    append(_ex(0), home=tmp_path)
    for f in (tmp_path / "log").glob("*.jsonl"):
        f.unlink()
    append(_ex(1), home=tmp_path)
    assert [r["prompt"] for r in rows(tmp_path)] == ["q1"]


def test_migrations_run_in_order_on_old_rows(tmp_path, monkeypatch):
    v1 = {k: v for k, v in asdict(_ex(0, cost_usd=0.5)).items()
          if k not in ("call_id", "state", "max_cost_usd", "request_id")}
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "old.jsonl").write_text(json.dumps({"v": 1, **v1}) + "\n")    # a row as v1 wrote it

    def v2_to_v3(sql):                                       # v3 stores cents
        return f"select * replace (if(v = 2, cost_usd * 100, cost_usd) as cost_usd, greatest(v, 3) as v) from ({sql})"

    def v3_to_v4(sql):                                       # v4 upper-cases the model
        return f"select * replace (if(v = 3, upper(model), model) as model, greatest(v, 4) as v) from ({sql})"

    monkeypatch.setattr(sessionlog, "MIGRATIONS", [*sessionlog.MIGRATIONS, v2_to_v3, v3_to_v4])
    monkeypatch.setattr(sessionlog, "SCHEMA_VERSION", 4)
    monkeypatch.setitem(sessionlog.COLUMNS, "added_in_v4", "VARCHAR")
    append(_ex(1, cost_usd=7.0, model="already-v4"), home=tmp_path)
    got = {r[0]: r[1:] for r in connect(tmp_path).sql(
        "select prompt, cost_usd, model, state from exchanges").fetchall()}
    assert got == {"q0": (50.0, "CLAUDE-OPUS-4-5", "done"), "q1": (7.0, "already-v4", "done")}


def test_a_call_is_one_row_started_then_done(tmp_path):
    append(_ex(0, call_id="c1", state="started", cost_usd=None, max_cost_usd=0.25), home=tmp_path)
    append(_ex(1, call_id="c2", state="started", cost_usd=None, max_cost_usd=0.5), home=tmp_path)
    append(_ex(0, call_id="c1", state="done", cost_usd=0.01, max_cost_usd=0.25), home=tmp_path)
    got = rows(tmp_path)
    assert [(r["call_id"], r["state"], r["cost_usd"]) for r in got] == [("c1", "done", 0.01), ("c2", "started", None)]
    assert totals(tmp_path)["unfinished"] == 1
    # c1 at its cost, c2 (never finished) at the most it could cost
    assert sessionlog.spent_since("2000-01-01", home=tmp_path) == pytest.approx(0.51)


def test_import_does_not_load_duckdb():
    code = "import sys, agentnb, agentnb.sessionlog; assert 'duckdb' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------- parallel kernels

def _writer(home, n, start_at, worker):
    while time.time() < start_at:
        time.sleep(0.001)
    big = "x" * 20_000                    # rows larger than a page, so a torn read would show
    for i in range(n):
        append(Exchange(prompt=f"w{worker}-{i}", answer=big if i % 10 == 0 else "ok", input_tokens=1,
                        cost_usd=0.001), home=home)
        if i % 4 == 0:
            time.sleep(0.002)             # spread the writes so that reads land among them


def test_parallel_processes_lose_no_row(tmp_path):
    workers, per_worker = 6, 200
    append(Exchange(prompt="parent"), home=tmp_path)      # the forked children must not share its file
    ctx = multiprocessing.get_context("fork")
    start_at = time.time() + 0.3
    procs = [ctx.Process(target=_writer, args=(tmp_path, per_worker, start_at, w)) for w in range(workers)]
    for p in procs:
        p.start()

    seen, reads_among_writes = 0, 0
    while any(p.is_alive() for p in procs):
        [(count,)] = connect(tmp_path).sql("select count(*) from exchanges").fetchall()
        assert seen <= count <= workers * per_worker + 1
        seen = count
        reads_among_writes += 1 < count < workers * per_worker + 1
    for p in procs:
        p.join(10)
        assert p.exitcode == 0

    total = workers * per_worker + 1
    lines = _log_lines(tmp_path)
    assert len(lines) == total and all(json.loads(line)["v"] == sessionlog.SCHEMA_VERSION for line in lines)
    assert len(list((tmp_path / "log").glob("2*.jsonl"))) == workers + 1
    got = rows(tmp_path)
    assert len(got) == total
    assert {r["prompt"] for r in got} == {"parent"} | {f"w{w}-{i}" for w in range(workers) for i in range(per_worker)}
    assert len({r["session"] for r in got}) == workers + 1
    t = totals(tmp_path)
    assert t["exchanges"] == total and t["input_tokens"] == workers * per_worker
    assert reads_among_writes >= 1


def test_exchange_defaults():
    e = Exchange(prompt="hi")
    assert e.time.endswith("+00:00") and e.session == sessionlog.session_id()
    assert asdict(e)["replayed"] is False


def test_checked_row_lends_its_counts_to_the_call_and_is_not_a_call(tmp_path):
    append(_ex(0, call_id="c1", state="started", cost_usd=None), home=tmp_path)
    append(_ex(0, call_id="c1", state="done"), home=tmp_path)
    append(_ex(0, call_id="c1", state="checked", prompt="", checks_passed=7, checks_failed=2), home=tmp_path)
    append(_ex(1, call_id="c2", state="done"), home=tmp_path)          # checks not run (check=False)
    got = rows(tmp_path)
    assert [(r["call_id"], r["state"], r["checks_passed"], r["checks_failed"]) for r in got] == [
        ("c1", "done", 7, 2), ("c2", "done", None, None)]
    assert totals(tmp_path)["exchanges"] == 2


def test_ask_logs_its_checks_and_the_run_it_belongs_to(api, monkeypatch):
    """agentnb run totals a run from the log: calls a notebook makes with agentnb.ask() count too."""
    import agentnb
    from agentnb.testing.server import text

    monkeypatch.setenv("AGENTNB_RUN_ID", "run-42")
    api.enqueue(text("```python\ndef f(:\n```\n"), text("no code here"))
    agentnb.ask("backend-dev", "broken code please")
    agentnb.ask("backend-dev", "and now no check", check=False)
    got = rows(".agentnb")
    assert [r["run_id"] for r in got] == ["run-42", "run-42"]
    assert got[0]["checks_failed"] >= 1 and got[0]["checks_passed"] is not None
    assert got[1]["checks_passed"] is None and got[1]["checks_failed"] is None

"""Hostile answers against the checks on code, judged from outside: the rows, that the run ends, what
memory it took, and that a benign answer afterwards still passes. A hostile answer costs its own row.

The few time bounds here are wide (an attack ran for 72 s and more; a stopped check must not take
seconds more than its limit): they tell "stopped" from "hung", not fast from slow (bench/ does that).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from agentnb import checks, extract
from agentnb.artifacts import Artifact
from child_checks import checks_in_child

ANSWERS = Path(__file__).parent / "data" / "answers"
REPO = Path(__file__).resolve().parents[1]

BILLION_LAUGHS = "openapi: 3.1.0\n" + "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]) + "\n"
DEEP_PYTHON = "x = " + "-" * 3000 + "1\n"


def fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code.strip()}\n```\n"


def rows_of(text: str, **kwargs) -> dict[str, tuple[str, str]]:
    report = checks.run(extract(text), answer_text=text, sql=False, **kwargs)
    return {r.name: (r.status, r.message) for r in report.rows}


def benign_code_checks_pass():
    library = (ANSWERS / "library.md").read_text(encoding="utf-8")
    rows = checks.run(extract(library), answer_text=library, required=["code", "examples", "env"], sql=False).rows
    assert rows and all(r.status == "passed" for r in rows), [(r.name, r.message) for r in rows if not r.passed]


# --- parsers refuse what would expand or recurse without end -------------------------------------------------

def test_billion_laughs_contract_fails_its_row_in_bounded_memory():
    answer = fence("yaml", "# openapi.yaml\n" + BILLION_LAUGHS) + fence("python", "# app/main.py\nx = 1")
    out = checks_in_child(answer, timeout=60)          # unbounded, it ran for 72 s and took 5.7 GB
    rows = {name: (status, message) for name, status, message in out["rows"]}
    status, message = rows["OpenAPI contract"]
    assert status == "failed"
    assert message.startswith("openapi.yaml: more than 50,000 values once its aliases are expanded")
    assert rows["Python syntax: app/main.py"][0] == "passed"       # the other rows stand
    assert out["max_rss_mb"] < 400


def test_an_alias_inside_its_own_anchor_is_refused():
    rows = rows_of(fence("yaml", "# openapi.yaml\nopenapi: 3.1.0\nloop: &a [1, *a]\n"))
    assert rows["OpenAPI contract"] == (
        "failed", "openapi.yaml: an alias refers to the node that holds it (a loop): refused, not checked")


def test_a_response_s_contract_is_read_with_the_same_bounds():
    """``r.openapi`` (what a notebook reads) goes through the bounded loader too: a bomb is None, not a
    document whose first walk (a json.dumps, a validator) would expand it."""
    from agentnb.response import Response

    r = Response(text=fence("yaml", "# openapi.yaml\n" + BILLION_LAUGHS), agent="backend-dev", model="m")
    assert r.openapi is None
    good = Response(text=fence("yaml", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}"),
                    agent="backend-dev", model="m")
    assert good.openapi["info"]["title"] == "t"


@pytest.mark.parametrize("lang,body", [
    ("yaml", "openapi: 3.1.0\ndeep: " + "[" * 900 + "]" * 900),              # under libyaml's own limit
    ("yaml", "openapi: 3.1.0\ndeep: " + "[" * 5000 + "]" * 5000),            # over it
    ("yaml", "openapi: 3.1.0\n" + "".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "x"),
    ("json", '{"openapi": "3.1.0", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("json", '{"openapi": "3.1.0", "deep": ' + "[" * 500 + "]" * 500 + "}"),
])
def test_deeply_nested_contracts_are_refused_with_a_short_message(lang, body):
    text = fence(lang, body)
    arts = extract(text)                          # taking the answer apart survives it too
    assert [a.kind for a in arts] == ["openapi"]
    status, message = rows_of(text)["OpenAPI contract"]
    assert status == "failed" and message.endswith("nested more than 64 levels deep: refused, not checked")
    assert len(message) < 120
    benign_code_checks_pass()


def test_a_python_block_too_deep_for_the_compiler_fails_its_own_row_only():
    text = (fence("python", "# app/deep.py\n" + DEEP_PYTHON) + fence("python", "# app/ok.py\nx = 1")
            + fence("python", "# app/broken.py\nx = (\n"))
    rows = rows_of(text, required=["code"])
    assert rows["Python syntax: app/deep.py"] == (
        "failed", "app/deep.py: nested too deeply for Python's compiler (RecursionError)")
    assert rows["Python syntax: app/ok.py"][0] == "passed"
    assert rows["Python syntax: app/broken.py"][0] == "failed"
    assert rows["No hard-coded secrets"][0] == "passed" and rows["Answer format"] == ("passed", "has code")
    benign_code_checks_pass()


def test_typescript_deep_nesting_and_oversized_blocks_give_a_row():
    pytest.importorskip("tree_sitter_typescript")
    deep = Artifact("typescript", "typescript", "let x = " + "(" * 50_000 + "1" + ")" * 50_000 + ";\n",
                    filename="src/deep.ts")
    assert checks.check_typescript(deep).status == "passed"
    broken = Artifact("typescript", "typescript", "let x = " + "(" * 50_000 + ";\n", filename="src/broken.ts")
    row = checks.check_typescript(broken)
    assert row.status == "failed" and row.message.startswith("src/broken.ts line 1")
    huge = Artifact("typescript", "typescript", "const a = 1;\n" * 50_000, filename="src/huge.ts")
    row = checks.check_typescript(huge)
    assert (row.status, row.message) == ("skipped", "src/huge.ts is too large to check (650,000 characters; "
                                                    "at most 500,000)")


def test_an_oversized_python_block_is_not_compiled():
    row = checks.check_python(Artifact("python", "python", "x = 1\n" * 100_000, filename="big.py"))
    assert (row.status, row.message) == ("skipped", "big.py is too large to check (600,000 characters; "
                                                    "at most 500,000)")


def test_many_jwt_calls_in_one_block_are_scanned_in_bounded_time():
    code = "import jwt\n" + "jwt.sign(" * 50_000 + "\ntoken = jwt.encode(claims, 'hard-coded-key', algorithm='HS256')\n"
    row = checks.check_secrets(extract(fence("python", "# app/auth.py\n" + code)))
    assert row.status == "failed" and "app/auth.py line 4: string literal" in row.message


# --- one check's failure is its own row ----------------------------------------------------------------------

def _raises(_artifacts):
    raise KeyError("no such thing")


def _recurses(_artifacts):
    def down(n):
        return down(n + 1)
    return down(0)


def test_a_check_that_raises_gives_its_own_row_and_leaves_the_others():
    text = fence("python", "# app/main.py\nimport os\nDB = os.environ['DATABASE_URL']")
    rows = rows_of(text, extra_checks=[("Raises", _raises), ("Recurses", _recurses)])
    assert rows["Python syntax: app/main.py"][0] == "passed"
    assert rows["Environment variables listed"][0] == "failed"        # its own finding, intact
    assert rows["Raises"] == ("failed", "internal error in this check (KeyError: 'no such thing'); the other "
                                        "checks are not affected. Please report this with the answer.")
    assert rows["Recurses"][0] == "failed" and "recursion limit" in rows["Recurses"][1]


def test_a_check_that_hangs_is_stopped_at_the_total_and_says_so():
    release = threading.Event()

    def hangs(_artifacts):
        release.wait(60)                   # C code that ignores interruption: abandoned, not waited for
        return []

    text = fence("python", "# app/main.py\nx = 1")
    start = time.monotonic()
    rows = rows_of(text, timeout=1, extra_checks=[("Raises", _raises), ("Hangs", hangs)])
    elapsed = time.monotonic() - start
    release.set()
    assert elapsed < 10                    # stopped: not the 60 s the check would have taken
    assert rows["Hangs"] == ("failed", "stopped after 1 s: the checks of one answer may take 1 s in all "
                                       "(AGENTNB_CHECK_TIMEOUT); it could not be interrupted and was left to "
                                       "end in the background")
    assert rows["Python syntax: app/main.py"][0] == "passed" and rows["Raises"][0] == "failed"
    benign_code_checks_pass()


def test_a_busy_python_check_is_interrupted_and_its_thread_ends(monkeypatch):
    monkeypatch.setenv("AGENTNB_CHECK_TIMEOUT", "0.5")
    finished = threading.Event()

    def spins(_artifacts):
        try:
            while True:
                pass
        finally:
            finished.set()

    text = fence("python", "# app/main.py\nx = 1")
    rows = rows_of(text, extra_checks=[("Spins", spins)])
    assert rows["Spins"] == ("failed", "stopped after 0.5 s: the checks of one answer may take 0.5 s in all "
                                       "(AGENTNB_CHECK_TIMEOUT)")
    assert finished.wait(5)                # the loop was really stopped, not left burning a core
    assert rows["Python syntax: app/main.py"][0] == "passed"


def test_checks_after_the_total_are_reported_as_not_run(monkeypatch):
    monkeypatch.setenv("AGENTNB_CHECK_TIMEOUT", "0.5")

    def spins(_artifacts):
        while True:
            pass

    rows = rows_of(fence("python", "x = 1"), extra_checks=[("Spins", spins), ("After", lambda a: [])])
    assert rows["Spins"][1].startswith("stopped after 0.5 s")
    assert rows["After"] == ("failed", "not run: the checks of one answer may take 0.5 s in all "
                                       "(AGENTNB_CHECK_TIMEOUT), and the checks before it used that time")


def test_the_check_timeout_setting_is_read_from_the_environment(monkeypatch):
    from agentnb.checks.limits import total_timeout

    for raw, expected in (("", 30.0), ("12", 12.0), ("0.5", 0.5), ("-3", 30.0), ("soon", 30.0)):
        monkeypatch.setenv("AGENTNB_CHECK_TIMEOUT", raw)
        assert total_timeout() == expected


# --- secrets stay out of the rows ----------------------------------------------------------------------------

def test_a_hard_coded_secret_is_located_never_quoted():
    key = "AKIAZ7Q3HOSTILE4X2PM"
    jwt_secret = "f3b1c9e07a52d4k8q6w2z9x4v7m1n5p0"
    text = fence("python", f'# app/storage.py\nimport boto3\ns3 = boto3.client("s3", aws_access_key_id="{key}")\n'
                           f'JWT_SECRET = "{jwt_secret}"\n')
    [row] = [r for r in checks.run(extract(text), answer_text=text, sql=False).rows
             if r.name == "No hard-coded secrets"]
    assert row.message == ("2 hard-coded secrets — read them from environment variables instead: "
                           "app/storage.py line 3: AWS access key ID; "
                           "app/storage.py line 4: string literal assigned to JWT_SECRET")
    dumped = json.dumps(row.to_dict())
    for value in (key, jwt_secret):
        assert value[:6] not in dumped and value[-6:] not in dumped


def test_known_credentials_are_redacted_from_every_row(monkeypatch):
    api_key = "sk-ant-api03-hostileKEY-0123456789abcdefXYZ"
    password = "pg-Passw0rd-hostile"
    monkeypatch.setenv("ANTHROPIC_API_KEY", api_key)
    monkeypatch.setenv("AGENTNB_POSTGRES_URL", f"postgresql://app:{password}@127.0.0.1:9/app")

    def leaks(_artifacts):               # what a server's error could quote: the environment
        import os
        return checks.CheckResult("Leaks", "failed", f"could not run: {dict(os.environ)}",
                                  {"statement": f"COPY t FROM PROGRAM 'env' -- {api_key}", "nested": [password]})

    def raises(_artifacts):
        raise RuntimeError(f"bad key {api_key} for {password}")

    text = fence("python", f'# app/main.py\nKEY = ("{api_key}"\n')      # the model echoes the key
    report = checks.run(extract(text), answer_text=text, sql=False,
                        extra_checks=[("Leaks", leaks), ("Raises", raises)])
    names = [r.name for r in report.rows]
    assert names == ["Python syntax: app/main.py", "Security of the Python code (bandit)", "No hard-coded secrets",
                     "Environment variables listed", "Leaks", "Raises"]
    for row in report.rows:
        shown = str(row) + json.dumps(row.to_dict()) + repr(row.details)
        assert api_key not in shown and password not in shown, row.name
    assert report.rows[0].details["text"] == 'KEY = ("[redacted]"'
    assert "[redacted]" in report.rows[4].message and "[redacted]" in report.rows[5].message
    assert api_key not in checks.fix_prompt(report.rows)


# --- through a cell: the answer and the other rows survive, the next answer passes ---------------------------

@pytest.mark.postgres
def test_a_hostile_answer_in_a_cell_costs_its_rows_and_the_next_answer_passes(workdir, api, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    from agentnb.checks import postgres
    from agentnb.testing.server import text as answer_text

    try:
        postgres.get_server()
    except postgres.NoPostgresError as err:
        pytest.skip(str(err))
    monkeypatch.setenv("AGENTNB_DISPLAY", "static")
    ip = InteractiveShell.instance()
    ip.run_line_magic("reload_ext", "agentnb")
    hostile = ("Voici.\n\n" + fence("python", "# app/deep.py\n" + DEEP_PYTHON)
               + fence("yaml", "# openapi.yaml\n" + BILLION_LAUGHS)
               + fence("sql", "-- schema.sql\nCREATE TABLE members (id bigint PRIMARY KEY);"))
    library = (ANSWERS / "library.md").read_text(encoding="utf-8")
    api.enqueue(answer_text(hostile), answer_text(library))
    r = ip.run_cell_magic("backend_dev", "--no-stream", "x")
    rows = {c.name: c.status for c in r.checks}
    assert rows["Python syntax: app/deep.py"] == "failed" and rows["OpenAPI contract"] == "failed"
    assert rows["Schema on PostgreSQL"] == "passed" and rows["No hard-coded secrets"] == "passed"
    assert "Checks" not in rows                              # no single internal error instead of the rows
    assert r.text.startswith("Voici.")                       # the answer itself is intact
    r = ip.run_cell_magic("backend_dev", "--no-stream --new", "y")
    assert [c.name for c in r.checks if c.status != "passed"] == []

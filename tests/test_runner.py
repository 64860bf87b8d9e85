"""``agentnb run``: notebooks through papermill, in parallel, with a report. Real kernels, no agent: the
notebooks in ``tests/data/notebooks`` emit agentnb-shaped output metadata themselves."""

from __future__ import annotations

import argparse
import importlib.util
from html import escape
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentnb.batch.execute import main, run_notebooks
from agentnb.batch.plan import add_arguments, load_grid, parse_value, plan, slug
from agentnb.batch.results import Batch, RunResult, collect
from agentnb.batch.summary import summary_html, summary_markdown
from agentnb.errors import ConfigurationError

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).parent / "data" / "notebooks"


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


HAVE_NBCONVERT = _installed("nbconvert")    # the HTML exports need it; without it the report says so


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="agentnb run")
    add_arguments(parser)
    return main(parser.parse_args([str(a) for a in argv]))


def stream_text(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c["outputs"] if o["output_type"] == "stream")


# ------------------------------------------------------------------------------------------ with kernels

def test_grid_of_two_sets_with_two_jobs(workdir, capsys):
    grid = workdir / "grid.yaml"
    grid.write_text("- {n: 1, label: a}\n- {n: 2, label: b}\n")
    assert cli(NOTEBOOKS / "params.ipynb", "--grid", grid, "--jobs", "2", "--out", "out") == 0

    out = workdir / "out"
    names = {"params-n-1_label-a", "params-n-2_label-b"}
    assert {p.stem for p in out.glob("*.ipynb")} == names
    html_names = names if HAVE_NBCONVERT else set()
    assert {p.stem for p in out.glob("*.html")} == html_names | {"summary"}
    assert "n=1 label='a'" in stream_text(out / "params-n-1_label-a.ipynb")
    assert "n=2 label='b'" in stream_text(out / "params-n-2_label-b.ipynb")
    if HAVE_NBCONVERT:
        assert "answer b" in (out / "params-n-2_label-b.html").read_text()

    summary = json.loads((out / "summary.json").read_text())
    assert summary["jobs"] == 2
    runs = summary["runs"]
    assert [r["parameters"] for r in runs] == [{"n": 1, "label": "a"}, {"n": 2, "label": "b"}]
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[1]["tokens"]["input_tokens"] == 200 and runs[1]["cost_usd"] == pytest.approx(0.002)
    assert runs[1]["checks_passed"] == 1 and runs[1]["checks_failed"] == 0
    assert runs[0]["output"] == "params-n-1_label-a.ipynb"
    if HAVE_NBCONVERT:
        assert runs[0]["html"] == "params-n-1_label-a.html"
    else:   # until nbconvert is a dependency, the report says why the HTML is missing
        assert runs[0]["html"] is None and "nbconvert is not installed" in runs[0]["notes"][0]
    assert summary["totals"]["tokens"]["input_tokens"] == 300 and summary["totals"]["ok"] == 2
    assert runs[0]["id"] != runs[1]["id"]

    md = (out / "summary.md").read_text()
    ext = "html" if HAVE_NBCONVERT else "ipynb"
    assert f"[params-n-1_label-a](params-n-1_label-a.{ext})" in md and "n=2, label=b" in md
    html = (out / "summary.html").read_text()
    assert f"href='params-n-2_label-b.{ext}'" in html and html.count("<span class='ok'>ok</span>") == 2
    assert json.loads((out / "summary.json").read_text())["status"] == "passed" and "# agentnb run: passed" in md

    printed = capsys.readouterr().out.splitlines()
    assert sum(line.startswith(("[1/2] ok", "[2/2] ok")) for line in printed) == 2
    assert printed[-1] == f"report: {os.path.join('out', 'summary.html')}"


def test_p_values_are_typed_and_win_and_fail_on_check(workdir, capsys):
    # the grid says fail_check False; -p says True (papermill reads it as a bool) and wins
    batch = run_notebooks([NOTEBOOKS / "params.ipynb"], grid=[{"n": 3, "fail_check": False}],
                                 parameters={"fail_check": parse_value("True"), "label": "z"},
                                 out=workdir / "out")
    [result] = batch.results
    assert result.ok and result.parameters == {"n": 3, "fail_check": True, "label": "z"}
    assert result.name == "params-n-3"                # the slug names the grid values -p left alone
    assert "n=3 label='z' fail_check=True" in stream_text(Path(result.output))
    assert (result.checks_passed, result.checks_failed) == (1, 1)
    assert result.checks[1]["message"] == 'relation "loans" does not exist'
    assert batch.exit_code() == 0 and batch.exit_code(fail_on_check=True) == 1
    assert "Schema on PostgreSQL" in (workdir / "out" / "summary.md").read_text()

    assert cli(NOTEBOOKS / "params.ipynb", "-p", "fail_check", "True", "-p", "colour", "red", "--fail-on-check") == 1
    printed = capsys.readouterr().out
    assert "(--fail-on-check)" in printed
    # a name the parameters cell does not set is said, once, per run
    assert printed.count("WARNING: colour: not set in the notebook's parameters cell") == 1
    summary = json.loads((workdir / "out" / "summary.json").read_text())
    assert summary["totals"]["checks_failed"] == 1
    # every summary says the batch failed, and why: the runs were all ok
    why = "--fail-on-check: 1 check(s) failed, in 1 run (params)"
    assert (summary["status"], summary["exit_code"], summary["reasons"]) == ("failed", 1, [why])
    assert f"batch failed (exit 1): {why}" in printed
    md = (workdir / "out" / "summary.md").read_text()
    assert md.startswith("# agentnb run: failed\n") and f"**The batch failed** (exit 1):\n\n- {why}" in md
    html = (workdir / "out" / "summary.html").read_text()
    assert "<span class='failed'>failed</span></h1>" in html and f"<li>{escape(why)}</li>" in html


def test_failing_notebook_exits_1_and_names_the_cell(workdir, capsys):
    assert cli(NOTEBOOKS / "fails.ipynb", "--out", workdir / "report") == 1
    [run] = json.loads((workdir / "report" / "summary.json").read_text())["runs"]
    assert run["status"] == "failed"
    assert run["error"]["execution_count"] == 2
    assert run["error"]["source"] == 'raise ValueError("boom: the schema is wrong")'
    assert run["error"]["ename"] == "ValueError" and run["error"]["evalue"] == "boom: the schema is wrong"
    md = (workdir / "report" / "summary.md").read_text()
    assert "cell In [2]" in md and "ValueError: boom: the schema is wrong" in md
    assert "ValueError" in (workdir / "report" / "summary.html").read_text()
    assert (workdir / "report" / "fails.ipynb").exists()
    assert (workdir / "report" / "fails.html").exists() == HAVE_NBCONVERT
    printed = capsys.readouterr().out
    assert "failed fails" in printed
    # an absolute --out is printed as given, not relative to the current folder
    assert printed.splitlines()[-1] == f"report: {workdir / 'report' / 'summary.html'}"


def test_a_notebook_without_parameters_cell_is_said_per_run_and_marked(workdir, capsys):
    grid = workdir / "grid.yaml"
    grid.write_text("n: [2, 3]\n")
    assert cli(NOTEBOOKS / "noparams.ipynb", "--grid", grid, "--out", "out") == 0
    printed = capsys.readouterr().out
    said = [line for line in printed.splitlines()
            if line.startswith("    WARNING: notebook noparams.ipynb has no cell tagged 'parameters'")]
    assert len(said) == 2 and "(n) were injected at its top" in said[0] and "its defaults then win" in said[0]
    assert "2 run(s) with warnings" in printed.splitlines()[-2]
    # what papermill does: the values go in a first cell, the notebook's own default wins
    assert stream_text(workdir / "out" / "noparams-n-2.ipynb") == "n=1\n"

    runs = json.loads((workdir / "out" / "summary.json").read_text())["runs"]
    assert [r["parameters_cell"] for r in runs] == [False, False]
    assert all("no cell tagged 'parameters'" in r["warnings"][0] for r in runs)
    assert not any("parameter" in note for r in runs for note in r["notes"])
    md = (workdir / "out" / "summary.md").read_text()
    assert md.count("n=2 (⚠ no parameters cell: injected at the top)") == 1 and "## Warnings" in md
    html = (workdir / "out" / "summary.html").read_text()
    assert html.count("<div class='warning'>⚠ notebook noparams.ipynb has no cell tagged") == 2


def write_notebook(path: Path, *cells: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_magic_usage_error_reaches_the_console_and_every_summary(workdir, capsys):
    # IPython shows a UsageError as a line on stderr, with no error output: papermill knows no message
    cases = {"bogus": ("%%backend_dev --bogus-option\nhello", "unrecognized arguments: --bogus-option"),
             "frob": ("%agentnb frobnicate", "%agentnb frobnicate: unknown command"),
             "tokens": ("%%backend_dev --max-tokens abc\nhello", "argument --max-tokens: invalid int value: 'abc'")}
    notebooks = [write_notebook(workdir / f"{name}.ipynb", "%load_ext agentnb", cell)
                 for name, (cell, _) in cases.items()]
    assert cli(*notebooks, "--jobs", "3", "--out", "out") == 1
    printed = capsys.readouterr().out
    runs = {r["output"]: r for r in json.loads((workdir / "out" / "summary.json").read_text())["runs"]}
    md = (workdir / "out" / "summary.md").read_text()
    html = (workdir / "out" / "summary.html").read_text()
    for name, (cell, message) in cases.items():
        error = runs[f"{name}.ipynb"]["error"]
        assert error["ename"] == "UsageError" and error["evalue"].startswith(message), error
        assert error["source"] == cell.splitlines()[0] and error["execution_count"] == 2
        assert f"UsageError: {message}" in printed
        assert f"UsageError: {message}" in md
        assert escape(f"UsageError: {message}") in html


def test_ctrl_c_writes_the_summary_of_what_finished_and_exits_130(workdir):
    import signal
    import time

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("delay = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import time\ntime.sleep(delay)\nprint('slept', delay)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, workdir / "sleepy.ipynb")
    (workdir / "grid.yaml").write_text("delay: [0, 600, 0]\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "agentnb.cli", "run", "sleepy.ipynb", "--grid", "grid.yaml",
                             "--out", "out"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        while not any(line.startswith("[1/3] ok") for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines) + proc.stderr.read()
            lines.append(line)
        time.sleep(1.0)                      # the second run is in its sleep
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    summary = json.loads((workdir / "out" / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert [r["status"] for r in summary["runs"]] == ["ok", "interrupted", "interrupted"]
    assert summary["totals"]["ok"] == 1 and summary["totals"]["interrupted"] == 2
    assert "1 ok, 0 failed, 2 interrupted (Ctrl-C)" in out
    md = (workdir / "out" / "summary.md").read_text()
    assert "2 interrupted (Ctrl-C)" in md and md.count("| interrupted |") == 2
    assert "interrupted" in (workdir / "out" / "summary.html").read_text()
    assert out.splitlines()[-1] == f"report: {os.path.join('out', 'summary.html')}"


def test_kernels_are_reached_over_ipc_without_the_tcp_warning(workdir, capfd):
    cell = "import json, ipykernel.connect\ninfo = json.loads(ipykernel.connect.get_connection_info())\nprint(info['transport'], info['ip'])"
    notebooks = [write_notebook(workdir / f"transport{n}.ipynb", cell) for n in (1, 2)]
    assert cli(*notebooks, "--jobs", "2", "--out", "out") == 0
    captured = capfd.readouterr()            # the kernels' own stderr included
    assert "without encryption" not in captured.err and "TCP" not in captured.err
    for n in (1, 2):
        transport, ip = stream_text(workdir / "out" / f"transport{n}.ipynb").split()
        assert transport == "ipc" and Path(ip).is_absolute()
        assert not Path(ip).parent.exists()          # the run's socket folder is gone
    assert not [p for p in workdir.iterdir() if p.name.startswith("kernel-ipc")]


def test_each_run_gets_its_own_environment_and_folder(workdir, monkeypatch):
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "all")      # the runs must get --record-mode, not this
    batch = run_notebooks([NOTEBOOKS / "env.ipynb"], grid=[{"k": 1}, {"k": 2}], jobs=2,
                                 record_mode="none", budget_usd=1.5, out=workdir / "out")
    assert [r.status for r in batch.results] == ["ok", "ok"]
    seen = []
    for result in batch.results:
        values = dict(line.split("=", 1) for line in stream_text(Path(result.output)).splitlines())
        assert values["AGENTNB_NOTEBOOK"] == str((NOTEBOOKS / "env.ipynb").resolve())
        assert values["AGENTNB_RECORD_MODE"] == "none"
        assert values["AGENTNB_BUDGET_USD"] == "1.5"
        assert values["AGENTNB_BUDGET_SINCE"] == batch.started
        assert values["AGENTNB_RUN_ID"] == result.id
        assert values["cwd"] == str(NOTEBOOKS.resolve())
        seen.append(values["AGENTNB_RUN_ID"])
        # papermill's warning about the missing parameters cell is kept with its run, not on stderr
        assert result.parameters_cell is False and "no cell tagged 'parameters'" in result.warnings[0]
        assert not any("unknown parameter" in note for note in result.notes)
    assert len(set(seen)) == 2
    assert os.environ["AGENTNB_RECORD_MODE"] == "all" and "AGENTNB_RUN_ID" not in os.environ
    assert Path.cwd() == workdir


# --------------------------------------------------------------------------------------------- no kernel

def test_collect_reads_agentnb_output_metadata():
    meta = {"usage": {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 50,
                      "cache_read_input_tokens": 0}, "cost_usd": 0.01, "replayed": False,
            "checks": [{"name": "SQL syntax", "status": "passed", "message": ""},
                       {"name": "Round trip", "status": "failed", "message": "down() left table fines"}]}
    replayed = {"usage": {"input_tokens": 7, "output_tokens": 3}, "cost_usd": 0.002, "replayed": True,
                "checks": [{"name": "ERD", "status": "skipped", "message": "no tables"}, "junk", {"status": "x"}]}
    nb = {"cells": [
        {"cell_type": "markdown", "source": "x"},
        {"cell_type": "code", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "hi"},
            {"output_type": "display_data", "data": {}, "metadata": {"agentnb": meta}},
            {"output_type": "execute_result", "data": {}, "metadata": {"agentnb": meta}},   # the same: once
        ]},
        {"cell_type": "code", "outputs": [
            {"output_type": "display_data", "data": {}, "metadata": {"agentnb": replayed}},
            {"output_type": "display_data", "data": {}, "metadata": {"agentnb": "not a dict"}},
            {"output_type": "display_data", "data": {}, "metadata": {"other": 1}},
        ]},
    ]}
    got = collect(nb)
    assert got["exchanges"] == 2
    assert got["tokens"] == {"input_tokens": 107, "output_tokens": 23, "cache_creation_input_tokens": 50,
                             "cache_read_input_tokens": 0}
    assert got["cost_usd"] == pytest.approx(0.012) and got["billed_usd"] == pytest.approx(0.01)
    assert [(c["name"], c["status"], c["cell"]) for c in got["checks"]] == [
        ("SQL syntax", "passed", 1), ("Round trip", "failed", 1), ("ERD", "skipped", 2)]
    assert (got["checks_passed"], got["checks_failed"]) == (1, 1)
    # the summary's "tokens in" is the whole input: fresh and cache-written tokens added
    run = RunResult(id="2", notebook="nb.ipynb", parameters={}, output="out/nb.ipynb", html=None, status="ok",
                    duration_s=1.0, **got)
    assert "| 157 / 23 |" in summary_markdown(Batch([run], "now", 1.0, 1, "out", {}))

    # a notebook that made no call cost nothing: 0, not "unknown"
    empty = collect({"cells": [{"cell_type": "code", "outputs": [{"output_type": "stream"}]}]})
    assert empty["exchanges"] == 0 and set(empty["tokens"].values()) == {0}
    assert empty["cost_usd"] == empty["billed_usd"] == 0.0
    result = RunResult(id="1", notebook="nb.ipynb", parameters={}, output="out/nb.ipynb", html=None, status="ok",
                       duration_s=1.0, **empty)
    assert "unknown" not in summary_markdown(Batch([result], "now", 1.0, 1, "out", {}))
    assert collect({})["checks"] == []


def test_a_runs_calls_are_read_from_the_session_log_by_its_run_id(tmp_path):
    """A run's rows are those carrying its AGENTNB_RUN_ID, whichever process wrote them; v2's
    started/done pairs count once; a call's checks come from its "checked" row."""
    from agentnb.batch import runlog

    t = lambda minute: f"2026-12-01T10:{minute:02d}:00.000+00:00"
    usage = {"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 0}
    log = tmp_path / "log"
    log.mkdir()
    ours = [
        {"v": 2, "time": t(1), "call_id": "z", "state": "done", **usage, "cost_usd": 0.01, "replayed": False},
        {"v": 2, "time": t(2), "call_id": "a", "state": "started", "replayed": False},
        {"v": 2, "time": t(2), "call_id": "a", "state": "done", **usage, "cost_usd": 0.02, "replayed": False},
        {"v": 2, "time": t(3), "call_id": "b", "state": "done", **usage, "cost_usd": 0.03, "replayed": True},
        {"v": 2, "time": t(4), "call_id": "c", "state": "started", "replayed": False},
    ]
    lines = [json.dumps({**row, "notebook": "/nb.ipynb", "run_id": "run1"}) for row in ours]
    (log / "20261201-111-ab12cd34.jsonl").write_text("\n".join(lines) + "\n" + '{"v": 2, "time": "2026-12-01T10:05')
    # a helper process of the same run, and another run's kernel
    (log / "20261201-333-ab12cd34.jsonl").write_text(json.dumps({**ours[0], "call_id": "h", "run_id": "run1"}) + "\n")
    (log / "20261201-222-ab12cd34.jsonl").write_text(json.dumps({**ours[0], "call_id": "o", "run_id": "run2"}) + "\n")

    rows = runlog.calls(tmp_path, "run1")
    assert sorted(r["call_id"] for r in rows) == ["a", "b", "c", "h", "z"]
    got = runlog.totals(rows)
    assert got["calls"] == 5 and got["unfinished"] == 1 and got["tokens"]["input_tokens"] == 400
    assert got["cost_usd"] == pytest.approx(0.07) and got["billed_usd"] == pytest.approx(0.04)
    assert got["checked"] == 0

    shown = RunResult(id="run1", notebook="/nb.ipynb", parameters={}, output=str(tmp_path / "nb.ipynb"), html=None,
                      status="ok", duration_s=1.0, exchanges=1, checks_passed=3, checks=[{}] * 3,
                      tokens=dict(usage), cost_usd=0.01, billed_usd=0.01)
    runlog.apply(shown, rows, tmp_path)
    assert shown.exchanges == 5 and shown.cost_usd == pytest.approx(0.07) and shown.unchecked == 4
    assert any("never finished" in w for w in shown.warnings)
    assert any("4 of 5 call(s) not shown by a magic" in w for w in shown.warnings)

    # once each call's checks are logged (in a row of their own, written after the checks ran) they
    # count, shown or not
    checked_rows = [json.dumps({"v": 2, "time": t(9), "call_id": c, "state": "checked", "run_id": "run1",
                                "checks_passed": 2, "checks_failed": 1}) for c in ("z", "a", "b", "c", "h")]
    (log / "20261201-111-ffff0000.jsonl").write_text("\n".join(checked_rows) + "\n")
    rows = runlog.calls(tmp_path, "run1")
    assert len(rows) == 5 and {r["state"] for r in rows} == {"done", "started"}
    result = RunResult(id="run1", notebook="/nb.ipynb", parameters={}, output="nb.ipynb", html=None, status="ok",
                       duration_s=1.0, exchanges=1, checks_passed=2, checks_failed=1)
    runlog.apply(result, rows, tmp_path)
    assert (result.checks_passed, result.checks_failed, result.unchecked) == (10, 5, 0)
    assert any("4 check(s) failed in calls no output shows" in w for w in result.warnings)
    batch = Batch([result], "now", 1.0, 1, str(tmp_path), {})
    assert batch.exit_code(fail_on_check=True) == 1 and "checks 10 passed, 5 failed" in batch.headline()


def test_collect_reads_the_saved_outputs_of_the_shipped_notebooks():
    """Saved before the format carried a version: read as version 1, as they were written."""
    import nbformat

    got = collect(nbformat.read(Path(__file__).parents[1] / "notebooks" / "design_session.ipynb",
                                       as_version=4))
    assert got["exchanges"] == 4 and got["unread"] == 0
    assert got["cost_usd"] == pytest.approx(0.1651156) and got["billed_usd"] == 0.0     # all replayed
    assert (got["checks_passed"], got["checks_failed"]) == (44, 0)    # 38, the 5 security rows (issue 12), the models row


def test_metadata_of_an_unknown_version_is_not_taken_for_no_cost(tmp_path):
    newer = {"version": 99, "usage": {"input_tokens": 5}, "cost_usd": 1.0,
             "checks": [{"name": "SQL syntax", "status": "failed", "message": "x"}]}
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "data": {}, "metadata": {"agentnb": newer}},
        {"output_type": "display_data", "data": {}, "metadata": {"agentnb": {**newer, "cost_usd": 2.0}}}]}]}
    got = collect(nb)
    assert got["unread"] == 2 and got["cost_usd"] is None and got["checks"] == []
    [note] = got["notes"]
    assert "2 output(s) not read" in note and "version 99" in note and "upgrade agentnb" in note
    result = RunResult(id="1", notebook="nb.ipynb", parameters={}, output=str(tmp_path / "nb.ipynb"),
                              html=None, status="ok", duration_s=1.0, **got)
    batch = Batch(results=[result], started="now", duration_s=1.0, jobs=1, out=str(tmp_path), paths={})
    assert batch.exit_code() == 0 and batch.exit_code(fail_on_check=True) == 1     # no check can be vouched for
    assert "2 output(s) unread" in batch.headline()


def test_the_metadata_format_refuses_a_field_no_reader_knows():
    from agentnb.render import metadata

    assert metadata.build(cost_usd=0.5) == {"agentnb": {"version": metadata.VERSION, "cost_usd": 0.5}}
    with pytest.raises(TypeError, match="cost"):
        metadata.build(cost=0.5)


def test_html_summary_shows_the_failing_source_as_code_not_backticks(tmp_path):
    error = {"cell": 3, "execution_count": 2, "source": "assert a < b", "ename": "AssertionError", "evalue": "`x`"}
    failed = RunResult(id="1", notebook="nb.ipynb", parameters={}, output=str(tmp_path / "nb.ipynb"), html=None,
                       status="failed", duration_s=1.0, error=error)
    html = summary_html(Batch([failed], "now", 1.0, 1, str(tmp_path), {}))
    assert "failed at cell In [2] <code>assert a &lt; b</code>: AssertionError: `x`</div>" in html
    assert "failed at cell In [2] `assert a < b`: AssertionError: `x`" in \
        summary_markdown(Batch([failed], "now", 1.0, 1, str(tmp_path), {}))


def test_grid_files_list_and_product(tmp_path):
    listed = tmp_path / "list.yaml"
    listed.write_text("- {n: 1}\n- {n: 2, model: opus}\n")
    assert load_grid(listed) == [{"n": 1}, {"n": 2, "model": "opus"}]
    product = tmp_path / "product.yaml"
    product.write_text("n: [1, 2]\nmodel: [sonnet, opus]\nstrict: true\n")
    sets = load_grid(product)
    assert sets == [{"n": 1, "model": "sonnet", "strict": True}, {"n": 1, "model": "opus", "strict": True},
                    {"n": 2, "model": "sonnet", "strict": True}, {"n": 2, "model": "opus", "strict": True}]
    runs = plan([NOTEBOOKS / "params.ipynb"], grid=sets, parameters={"strict": False},
                       out=tmp_path / "out")
    assert [Path(r.output).name for r in runs] == [
        "params-n-1_model-sonnet.ipynb", "params-n-1_model-opus.ipynb",
        "params-n-2_model-sonnet.ipynb", "params-n-2_model-opus.ipynb"]
    assert all(r.parameters["strict"] is False for r in runs)
    assert len({r.id for r in runs}) == 4

    for text, message in [("- 1\n", "item 1 is a int"), ("[]\n", "empty"), ("just text\n", "found a str"),
                          ("n: []\n", "no values"), ("{'bad name': [1]}\n", "not a valid parameter name"),
                          ("n: [1\n", "not valid YAML")]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ConfigurationError, match=message):
            load_grid(bad)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_grid(tmp_path / "missing.yaml")


def test_output_names_are_safe_short_and_unique(tmp_path):
    assert slug({"n": 1, "model": "opus"}) == "n-1_model-opus"
    odd = slug({"title": "A/B test: über {x}", "xs": [1, 2]})
    assert all(c.isalnum() or c in "._-+" for c in odd) and len(odd) <= 48
    assert slug({"title": "A/B"}) != slug({"title": "A.B"})          # the hash tells them apart
    # readable in any script: accents kept (composed, whatever the input's normal form), not dots
    assert slug({"domain": "Une clinique ve\u0301te\u0301rinaire"}).startswith("domain-Une.clinique.vétérin-")
    assert slug({"towns": ["Zürich", "Genève"]}).startswith("towns-Zürich.Genève-")
    assert len(slug({"k": "x" * 500, "j": "y" * 500})) <= 48
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "nb.ipynb").write_text('{"cells": []}')
    runs = plan([tmp_path / "a" / "nb.ipynb", tmp_path / "b" / "nb.ipynb"], grid=[{"n": 1}, {"n": 1}],
                       out=tmp_path / "out")
    assert [Path(r.output).stem for r in runs] == ["nb-n-1", "nb-n-1-2", "nb-n-1-3", "nb-n-1-4"]
    with pytest.raises(ConfigurationError, match="-p bad-name"):
        plan([tmp_path / "a" / "nb.ipynb"], parameters={"bad-name": 1})
    with pytest.raises(ConfigurationError, match="no such notebook"):
        plan([tmp_path / "nope.ipynb"])
    with pytest.raises(ConfigurationError, match="--jobs 0"):
        run_notebooks([tmp_path / "a" / "nb.ipynb"], jobs=0)


def test_help_says_p_wins():
    parser = argparse.ArgumentParser(prog="agentnb run")
    add_arguments(parser)
    text = " ".join(parser.format_help().split())
    assert "-p wins over the grid" in text and "--fail-on-check" in text and "--record-mode" in text


def test_import_cost_stays_off_the_package():
    code = ("import sys, agentnb; assert 'agentnb.batch.execute' not in sys.modules; "
            "import agentnb.batch.execute; assert not {'papermill', 'nbformat', 'nbconvert'} & set(sys.modules), "
            "sorted({'papermill', 'nbformat', 'nbconvert'} & set(sys.modules))")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_run_that_cannot_start_fails_alone_and_reads_no_stale_file(workdir):
    out = workdir / "out"
    out.mkdir()
    (out / "env.ipynb").write_text("{}")       # left by an earlier batch: must not pass for this run
    batch = run_notebooks([NOTEBOOKS / "env.ipynb"], kernel_name="nosuch", out=out)
    [result] = batch.results
    assert result.status == "failed" and result.error["ename"] == "NoSuchKernel"
    assert "nosuch" in result.error_text() and batch.exit_code() == 1
    assert not (out / "env.ipynb").exists()      # the stale file is gone; nothing ran, nothing saved

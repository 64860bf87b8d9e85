"""Streaming display: throttled so that rendering a long answer costs time linear in its length."""

from __future__ import annotations

from agentnb.render import live as display


def test_stream_updates_are_throttled_to_linear_total_work(monkeypatch):
    clock = iter(i * 0.002 for i in range(10**7))            # 2 ms between deltas
    monkeypatch.setattr(display.time, "monotonic", lambda: next(clock))
    rendered = []
    renderer = display.NotebookRenderer()
    monkeypatch.setattr(renderer, "_show", lambda text: rendered.append(len(text)))
    renderer.start(replayed=False)
    delta = "0123456789" * 5                                 # 50 characters a delta
    for _ in range(20_000):                                  # a 1 MB answer
        renderer.text(delta)
    final = 20_000 * len(delta)
    assert len(rendered) < 400                               # not one update per delta
    assert sum(rendered) < 25 * final                        # total rendering work stays linear


def test_replay_is_not_streamed(monkeypatch):
    shown = []
    renderer = display.NotebookRenderer()
    monkeypatch.setattr(renderer, "_show", shown.append)
    renderer.start(replayed=True)
    renderer.text("whole answer")
    assert shown == []                  # it appears once, complete, in finish()


# -------------------------------------------------------------------- the output metadata, round trip

ANSWER = "A schema, $5 a month:\n\n```sql\n-- schema.sql\nCREATE TABLE books (id bigint PRIMARY KEY);\n```\n"
USAGE = {"input_tokens": 1200, "output_tokens": 300, "cache_creation_input_tokens": 50,
         "cache_read_input_tokens": 7}


def answered(replayed: bool, cost: float | None = 0.0125):
    from agentnb.checks import CheckReport
    from agentnb.checks.result import CheckResult
    from agentnb.response import Response

    report = CheckReport(rows=[CheckResult("SQL syntax", "passed", "1 statement"),
                               CheckResult("Schema on PostgreSQL", "failed", 'relation "loans" does not exist'),
                               CheckResult("Schema on DuckDB", "skipped", "no DuckDB")])
    return Response(text=ANSWER, agent="backend-dev", model="claude-sonnet-5-5", usage=dict(USAGE),
                    cost_usd=cost, replayed=replayed, check_report=report)


def rendered_cell(shell, monkeypatch, response) -> list[dict]:
    """The outputs of one cell that streamed ``response`` then returned it, as a notebook saves them:
    every display the renderer made, then the cell's result through IPython's display formatter."""
    import nbformat

    outputs = []

    def publish(data, metadata=None, **kwargs):
        outputs.append(nbformat.v4.new_output("display_data", data=data, metadata=metadata or {}))

    monkeypatch.setattr(shell.display_pub, "publish", publish)
    renderer = display.NotebookRenderer(stream=False)
    renderer.start(replayed=response.replayed)
    renderer.text(response.text)
    renderer.finish(response)
    renderer.checked(response)
    data, metadata = shell.display_formatter.format(response)
    outputs.append(nbformat.v4.new_output("execute_result", data=data, metadata=metadata,
                                          execution_count=shell.execution_count))
    return outputs


def test_what_the_display_writes_the_batch_collector_reads(tmp_path, monkeypatch):
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    from agentnb.batch.results import collect

    shell = InteractiveShell.instance()
    nb = nbformat.v4.new_notebook()
    for response in (answered(replayed=False), answered(replayed=True)):
        cell = nbformat.v4.new_code_cell("%%backend_dev\nA library.")
        cell.outputs = rendered_cell(shell, monkeypatch, response)
        nb.cells.append(cell)
    path = tmp_path / "session.ipynb"
    nbformat.write(nb, path)                                  # through the file, as `agentnb run` reads it

    got = collect(nbformat.read(path, as_version=4))
    assert got["exchanges"] == 2 and got["unread"] == 0 and got["notes"] == []
    assert got["tokens"] == {k: 2 * v for k, v in USAGE.items()}
    assert got["cost_usd"] == 0.025 and got["billed_usd"] == 0.0125    # the replayed call is not billed
    assert [(c["name"], c["status"]) for c in got["checks"]] == 2 * [
        ("SQL syntax", "passed"), ("Schema on PostgreSQL", "failed"), ("Schema on DuckDB", "skipped")]
    assert (got["checks_passed"], got["checks_failed"]) == (2, 2)
    # the cell's result is a one-line summary, not the answer a second time
    result = nb.cells[0].outputs[-1]
    assert result.data["text/plain"].startswith("<Response backend-dev: ") and "1 failed" in result.data["text/plain"]


def test_a_call_without_a_price_leaves_the_cost_unknown(tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    from agentnb.batch.results import collect

    outputs = rendered_cell(InteractiveShell.instance(), monkeypatch, answered(replayed=False, cost=None))
    got = collect({"cells": [{"cell_type": "code", "outputs": outputs}]})
    assert got["exchanges"] == 1 and got["tokens"]["output_tokens"] == 300
    assert got["cost_usd"] is None and got["billed_usd"] is None


def test_the_cell_that_streamed_an_answer_shows_a_summary_later_cells_the_whole_answer(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    response, twin = answered(replayed=True), answered(replayed=True)
    assert response == twin
    monkeypatch.setattr(shell, "execution_count", 7)
    *_, result = rendered_cell(shell, monkeypatch, response)
    assert result.data["text/plain"].startswith("<Response backend-dev: ")
    assert result.metadata["agentnb"]["summary"] == result.data["text/plain"]
    data, _ = shell.display_formatter.format(twin)          # equal, but not the one this cell showed
    assert data["text/plain"].startswith("A schema")
    monkeypatch.setattr(shell, "execution_count", 8)         # the variable, shown in a later cell
    data, _ = shell.display_formatter.format(response)
    assert data["text/plain"].startswith("A schema, $5 a month") and "-- claude-sonnet-5-5" in data["text/plain"]
    assert "Schema on PostgreSQL" in data["text/markdown"] and "mathjax_ignore" in data["text/markdown"]

"""Done means: a notebook run by papermill in a real kernel against the local server streams and stores
the answer and a recording; the same notebook replays with no server and record mode ``none``, with
identical outputs; the key is nowhere on disk."""

from __future__ import annotations

import json

import pytest

from conftest import TEST_KEY

pytestmark = pytest.mark.slow

CELLS = [
    "%load_ext agentnb",
    "%%backend_dev\nA lending library: members borrow books, at most 5 at a time, 21 days, with reservations.\n"
    "Give the answer as JSON-ish {braces} too.",
    "%%backend_dev -o second\nNow add fines for late returns.",
    "print(second.model, second.stop_reason, len(second.text) > 0)",
]


def make_notebook(path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def outputs(path):
    """Each cell's outputs with multi-line strings joined (nbformat saves them as lists of lines)."""
    join = lambda v: "".join(v) if isinstance(v, list) else v
    nb = json.loads(path.read_text())
    cells = []
    for cell in nb["cells"]:
        cells.append([{k: ({m: join(d) for m, d in v.items()} if k == "data" else join(v))
                       for k, v in o.items() if k not in ("execution_count", "metadata")}
                      for o in cell["outputs"]])
    return cells


def test_papermill_live_then_offline_replay(api, workdir, monkeypatch):
    import papermill

    source = workdir / "session.ipynb"
    make_notebook(source)
    live_out = workdir / "live.ipynb"
    papermill.execute_notebook(str(source), str(live_out), cwd=str(workdir), kernel_name="python3",
                               progress_bar=False)
    assert len(api.message_requests) == 2
    recordings = sorted((workdir / "recordings").glob("*.json"))
    assert len(recordings) == 2
    live = outputs(live_out)
    # the answer (streamed, then updated to the final text), the checks panel, and a one-line result
    answer = [o for o in live[1] if o["output_type"] == "display_data" and "text/markdown" in o["data"]]
    assert answer and "Fake answer" in answer[0]["data"]["text/markdown"]
    assert any("Checks" in o["data"].get("text/html", "") for o in live[1] if "data" in o)
    [result] = [o for o in live[1] if o["output_type"] == "execute_result"]
    assert "<Response backend-dev" in result["data"]["text/plain"]
    assert "claude-sonnet-5-5 end_turn True" in live[3][0]["text"]

    # offline: no server, no key, replay only
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("AGENTNB_RECORD_MODE", "none")
    replay_out = workdir / "replay.ipynb"
    papermill.execute_notebook(str(source), str(replay_out), cwd=str(workdir), kernel_name="python3",
                               progress_bar=False)
    replay_again = workdir / "replay2.ipynb"
    papermill.execute_notebook(str(source), str(replay_again), cwd=str(workdir), kernel_name="python3",
                               progress_bar=False)
    assert len(api.message_requests) == 2       # nothing new reached the server
    replayed = outputs(replay_out)
    assert replayed == outputs(replay_again)    # the same notebook replayed twice: same outputs
    # the answers are the recorded ones; only the footer's billing note differs from the live run
    strip = lambda cell: [o["data"]["text/markdown"].split("\n---\n")[0] for o in cell if "text/markdown" in o.get("data", {})]
    assert strip(replayed[1]) == strip(live[1]) and strip(replayed[2]) == strip(live[2])
    assert "not billed" in replayed[1][0]["data"]["text/markdown"]

    # what the display wrote, `agentnb run`'s collector reads: both calls, their tokens, cost and checks
    import nbformat

    from agentnb.batch.results import collect

    live_totals, replay_totals = (collect(nbformat.read(p, as_version=4)) for p in (live_out, replay_out))
    assert live_totals["exchanges"] == replay_totals["exchanges"] == 2 and not live_totals["notes"]
    assert live_totals["tokens"] == replay_totals["tokens"] and live_totals["tokens"]["output_tokens"] > 0
    assert live_totals["billed_usd"] == live_totals["cost_usd"] == replay_totals["cost_usd"] > 0
    assert replay_totals["billed_usd"] == 0.0
    assert live_totals["checks"] == replay_totals["checks"] and live_totals["checks"]

    for path in workdir.rglob("*"):
        if path.is_file():
            assert TEST_KEY not in path.read_text(errors="replace"), path


def test_agentnb_run_counts_calls_no_output_shows(api, workdir):
    """``agentnb.ask()`` displays nothing: its call must still count in the run's summary, and its failing
    checks, which no output holds, must fail the run: both come from the session log."""
    from conftest import REPO

    import nbformat

    from agentnb.batch.execute import run_notebooks
    from agentnb.testing.server import text

    broken = "```python\n# app.py\ndef broken(:\n```\n"
    api.enqueue(text(broken), text(broken))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in [
        "%load_ext agentnb",
        "%%backend_dev\nA first answer, shown.",
        "import agentnb\nhidden = agentnb.ask('backend-dev', 'A second one, not shown.')\n"
        "print('failed:', any(c.status == 'failed' for c in hidden.checks))"]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, workdir / "hidden.ipynb")

    batch = run_notebooks([workdir / "hidden.ipynb"], out=workdir / "out")
    [result] = batch.results
    assert result.ok and len(api.message_requests) == 2
    assert "failed: True" in "".join(o.get("text", "") for o in nbformat.read(result.output, 4).cells[2].outputs)
    # both calls, live, in the totals; the displayed one alone would be half
    assert result.exchanges == 2
    assert result.tokens["output_tokens"] > 0 and result.billed_usd == result.cost_usd > 0
    shown = [o.metadata["agentnb"] for o in nbformat.read(result.output, 4).cells[1].outputs
             if "usage" in o.get("metadata", {}).get("agentnb", {})]
    assert len(shown) == 1 and result.cost_usd > shown[0]["cost_usd"]
    # no output holds the hidden call's failing check, but the session log does (its "checked" row): it
    # counts, and --fail-on-check fails the run
    assert result.unchecked == 0 and result.checks_failed >= 2
    assert "check(s) failed in calls no output shows" in result.warnings[0]
    code, reasons = batch.verdict(fail_on_check=True)
    assert code == 1 and reasons
    summary = json.loads((workdir / "out" / "summary.json").read_text())
    assert summary["runs"][0]["exchanges"] == 2 and summary["totals"]["calls_unchecked"] == 0
    assert str(REPO) not in result.warnings[0]

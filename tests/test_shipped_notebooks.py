"""The shipped notebooks run offline from their recordings and give the outputs they were saved with.

nbval executes every notebook under ``notebooks/`` in a fresh kernel (cwd: the notebook's folder) and
compares each cell's outputs with the saved ones; papermill runs ``design_session.ipynb`` with its second
parameter set. No key, no network: ``AGENTNB_RECORD_MODE=none`` and no ``ANTHROPIC_*`` variable. When a
notebook, an answer or the request building changes: ``python data/make_recordings.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"


def offline_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AGENTNB_"))}
    env["AGENTNB_RECORD_MODE"] = "none"
    env["AGENTNB_HOME"] = str(tmp_path / "agentnb-home")     # the session log, out of the checkout
    env["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"         # nothing listens there: a live call fails
    return env


def test_every_shipped_notebook_replays_its_saved_outputs(tmp_path):
    notebooks = sorted(NOTEBOOKS.rglob("*.ipynb"))
    assert len(notebooks) == 8, notebooks
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "-p", "no:cacheprovider", "-q", "--rootdir", str(REPO),
         "-o", "addopts=", "-o", "testpaths=", *map(str, notebooks)],
        cwd=REPO, env=offline_env(tmp_path), capture_output=True, text=True, timeout=600)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "failed" not in result.stdout.splitlines()[-1], tail


def test_two_parameter_sets_with_two_jobs_give_two_reports_and_a_summary(tmp_path):
    """The design session's two recorded parameter sets through `agentnb run --jobs 2`, offline."""
    import json

    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "agentnb.cli", "run", str(NOTEBOOKS / "design_session.ipynb"),
         "--grid", str(REPO / "data" / "design_grid.yaml"), "--jobs", "2", "--record-mode", "none",
         "--fail-on-check", "--out", str(out)],
        cwd=tmp_path, env=offline_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "report: " in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    runs = summary["runs"]
    assert len(runs) == 2 and all(r["status"] == "ok" for r in runs), runs
    assert sorted(p.name for p in out.glob("*.html") if p.name != "summary.html").__len__() == 2
    assert (out / "summary.md").is_file() and (out / "summary.html").is_file()
    vet = next(r for r in runs if r["parameters"].get("domain") == "Une clinique vétérinaire")
    assert vet["checks_failed"] == 0 and vet["checks_passed"] > 20, vet
    html = next(p for p in out.glob("design_session-*.html")).read_text()
    # the HTML export holds the sections, the SVG diagram and the checks, without JavaScript
    for needle in (">Schema</summary>", ">Migrations</summary>", ">API</summary>", ">Checks <span",
                   "<img alt='ER diagram: ", "Schema on PostgreSQL"):
        assert needle in html, needle

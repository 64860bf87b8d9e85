"""The shipped notebooks run offline from their recordings and give the outputs they were saved with.

nbval executes every notebook under ``notebooks/`` in a fresh kernel (cwd: the notebook's folder) and
compares each cell's outputs with the saved ones; papermill runs ``design_session.ipynb`` with its second
parameter set. No key, no network: ``AGENTNB_RECORD_MODE=none`` and no ``ANTHROPIC_*`` variable. When a
notebook, an answer or the request building changes: ``python data/make_recordings.py``.
"""

from __future__ import annotations

import importlib.util
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


def make_recordings():
    spec = importlib.util.spec_from_file_location("make_recordings", REPO / "data" / "make_recordings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def test_every_shipped_notebook_replays_its_saved_outputs(tmp_path):
    notebooks = sorted(NOTEBOOKS.rglob("*.ipynb"))
    assert len(notebooks) == 5, notebooks
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "-p", "no:cacheprovider", "-q", "--rootdir", str(REPO),
         "-o", "addopts=", "-o", "testpaths=", *map(str, notebooks)],
        cwd=REPO, env=offline_env(tmp_path), capture_output=True, text=True, timeout=600)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "failed" not in result.stdout.splitlines()[-1], tail


def test_design_session_second_parameter_set_runs_offline(tmp_path):
    import papermill

    vet = make_recordings().VET_CLINIC
    env = offline_env(tmp_path)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        out = tmp_path / "vet_clinic.ipynb"
        nb = papermill.execute_notebook(str(NOTEBOOKS / "design_session.ipynb"), str(out), parameters=vet,
                                        cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    text = "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "Une clinique vétérinaire" in text
    assert "4 answers (4 replayed from recordings, billed: $0.0000)" in text
    summary = text[text.index("step "):]
    total = next(line for line in summary.splitlines() if line.startswith("total"))
    assert total.split()[2] == "0", summary       # no failed check in the sample answers

"""The public surface, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import agentnb


def test_exported_members():
    assert sorted(agentnb.__all__) == sorted([
        "AgentDefinitionError", "AgentnbError", "agents", "ask", "current_session", "load_agent",
        "load_ipython_extension", "log", "schema_db"])
    for name in agentnb.__all__:
        assert getattr(agentnb, name).__module__.startswith("agentnb")


def test_load_ext_imports_no_heavy_library():
    code = ("import sys\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "InteractiveShell.instance().run_line_magic('load_ext', 'agentnb')\n"
            "heavy = [m for m in ('anthropic', 'httpx2', 'duckdb', 'sqlalchemy', 'psycopg', 'pglast', 'nbformat',\n"
            "                     'papermill', 'ipywidgets', 'pydantic', 'openapi_spec_validator') if m in sys.modules]\n"
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"

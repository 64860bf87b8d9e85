"""The public surface, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import pytest

import agentnb
import agentnb.checks


def test_exported_members():
    assert sorted(agentnb.__all__) == sorted([
        "AgentDefinitionError", "AgentnbError", "agents", "ask", "current_session", "extract", "load_agent",
        "load_ipython_extension", "log", "schema_db", "schema_from"])
    for name in agentnb.__all__:
        assert getattr(agentnb, name).__module__.startswith("agentnb")


def test_checks_exports_what_a_notebook_may_call():
    assert sorted(agentnb.checks.__all__) == sorted([
        "CheckReport", "CheckResult", "run", "check_syntax", "check_schema", "check_migration", "diff_schemas",
        "check_openapi", "check_python", "check_typescript", "check_secrets", "check_env", "check_answer_format",
        "check_graphql", "check_security", "check_dockerfile", "check_compose", "check_proto",
        "check_asyncapi", "check_mongodb", "check_prisma"])
    for name in agentnb.checks.__all__:
        member = getattr(agentnb.checks, name)
        assert callable(member) and member.__module__.startswith("agentnb.checks"), name
    assert set(agentnb.checks.__all__) <= set(dir(agentnb.checks))
    with pytest.raises(AttributeError, match="no attribute 'check_nothing'"):
        agentnb.checks.check_nothing  # noqa: B018


def test_the_public_checks_work_from_their_public_names():
    row = agentnb.checks.check_secrets(agentnb.extract('```python\npassword = "hunter2"\n```\n'))
    assert (row.name, row.status) == ("No hard-coded secrets", "failed")
    assert agentnb.checks.check_syntax("select 1").message == "1 statement parsed"


def test_importing_the_checks_imports_no_check_library():
    code = ("import sys, agentnb.checks\n"
            "print([m for m in ('pglast', 'yaml', 'openapi_spec_validator', 'tree_sitter', 'duckdb', 'psycopg',\n"
            "                   'agentnb.checks.postgres', 'agentnb.checks.openapi') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_load_ext_imports_no_heavy_library():
    code = ("import sys\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "InteractiveShell.instance().run_line_magic('load_ext', 'agentnb')\n"
            "heavy = [m for m in ('anthropic', 'httpx2', 'duckdb', 'sqlalchemy', 'psycopg', 'pglast', 'nbformat',\n"
            "                     'papermill', 'ipywidgets', 'pydantic', 'openapi_spec_validator',\n"
            "                     'agentnb.checks.secrets') if m in sys.modules]\n"
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"

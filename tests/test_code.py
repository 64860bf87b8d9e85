"""Python and TypeScript blocks are parsed, never run: a broken block is a failed row with its place."""

import pytest

from agentnb.artifacts import Artifact, extract
from agentnb.checks import check_python, check_typescript, code


def fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code.strip()}\n```\n"


# --- Python --------------------------------------------------------------------------------------

def test_python_syntax_error_has_file_line_and_column():
    text = fence("python", "# app/main.py\nimport os\n\ndef f(x):\n    return x +\n")
    row = check_python(extract(text)[0])
    assert row.name == "Python syntax: app/main.py"
    assert row.status == "failed"
    assert row.message == "app/main.py line 5, column 15: invalid syntax"
    assert row.details["line"] == 5 and row.details["answer_line"] == 6
    assert row.details["text"] == "    return x +"


def test_python_is_compiled_never_run(tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\n"
    row = check_python(Artifact("python", "python", code, index=2))
    assert row.status == "passed" and row.name == "Python syntax: block 3 (python)"
    assert row.message == "1 lines compile"
    assert not marker.exists()


def test_python_compile_stage_errors_are_caught():
    row = check_python(Artifact("python", "python", "return 1\n", filename="x.py"))
    assert row.message == "x.py line 1, column 1: 'return' outside function"
    row = check_python(Artifact("python", "python", "x = 1\x00\n", filename="x.py"))
    assert row.status == "failed"


# --- TypeScript ----------------------------------------------------------------------------------

def test_typescript_syntax_error_has_line_and_column():
    pytest.importorskip("tree_sitter_typescript")
    text = fence("ts", "// src/app.ts\nconst port: number = ;\nexport function f(x: string { return x }\n")
    row = check_typescript(extract(text)[0])
    assert row.name == "TypeScript syntax: src/app.ts"
    assert row.status == "failed"
    assert row.message == "src/app.ts line 2, column 20: unexpected `=` (and 1 more)"
    assert row.details["errors"][1] == {"line": 3, "column": 28, "error": "missing `)`", "answer_line": 4}


def test_tsx_and_jsx_parse():
    pytest.importorskip("tree_sitter_typescript")
    tsx = Artifact("typescript", "tsx", "export const A = (p: {n: number}) => <div>{p.n}</div>;\n",
                   filename="src/A.tsx")
    jsx = Artifact("javascript", "javascript", "const a = <b className='x'>hi</b>;\n")
    assert check_typescript(tsx).status == "passed"
    assert check_typescript(jsx).status == "passed"
    assert check_typescript(jsx).name == "JavaScript syntax: block 1 (javascript)"


def test_typescript_is_skipped_with_a_reason_without_a_parser(monkeypatch):
    monkeypatch.setattr(code, "_ts_languages", lambda: code._NO_TS_PARSER)
    row = check_typescript(Artifact("typescript", "typescript", "const = ;", filename="a.ts"))
    assert (row.status, row.message) == (
        "skipped", "no TypeScript parser: install agentnb[typescript] (tree-sitter, tree-sitter-typescript)")

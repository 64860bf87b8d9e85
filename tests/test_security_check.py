"""The answer's Python checked for security: bandit's findings with rule and line, and JWT mistakes."""

from agentnb import checks
from agentnb.artifacts import Artifact, extract
from agentnb.checks.security import check_jwt, check_security

SAFE = '''```python
# app/auth.py
import os

import jwt


def user_id(token: str) -> str:
    claims = jwt.decode(token, os.environ["JWT_SECRET"], algorithms=["HS256"])
    return claims["sub"]
```
'''


def rows_of(text):
    return {r.name: r for r in check_security(extract(text))}


def test_safe_code_passes_both_rows():
    rows = rows_of(SAFE)
    assert rows["Security of the Python code (bandit)"].status == "passed"
    assert rows["Security of the Python code (bandit)"].message == \
        "1 Python block: no medium or high severity finding"
    assert rows["JWT handling"].status == "passed"
    assert rows["JWT handling"].message == "1 jwt.decode call: algorithms pinned, signature verified"


def test_a_shell_injection_fails_with_banditss_rule_severity_and_line():
    text = "Run it:\n\n```python\n# app/run.py\nimport subprocess\n\n\ndef run(name):\n" \
           "    subprocess.call('ls ' + name, shell=True)  # nosec\n```\n"
    row = rows_of(text)["Security of the Python code (bandit)"]
    assert row.status == "failed"
    assert row.message == ("app/run.py line 6: [B602 high] subprocess call with shell=True identified, "
                           "security issue.")
    assert row.details["answer_line"] == text.split("\n").index("    subprocess.call('ls ' + name, shell=True)  # nosec") + 1
    assert "JWT handling" not in rows_of(text)


def test_low_severity_findings_are_listed_without_failing():
    row = rows_of("```python\ndef f(x):\n    assert x\n```\n")["Security of the Python code (bandit)"]
    assert row.status == "passed" and row.message.endswith("(1 low: B101)")


def test_jwt_decode_without_algorithms_fails_with_its_line():
    text = SAFE.replace(', algorithms=["HS256"]', "")
    row = rows_of(text)["JWT handling"]
    assert row.status == "failed"
    assert row.message.startswith("app/auth.py line 8: jwt.decode without algorithms=")
    assert row.details["answer_line"] == 9


def test_none_algorithm_and_unverified_signature_fail():
    code = ("from jose import jwt as j\nfrom jwt import decode\n"
            "a = j.decode(t, k, algorithms=['HS256', 'none'])\n"
            "b = decode(t, k, algorithms=['HS256'], options={'verify_signature': False})\n")
    row = check_jwt([Artifact("python", "python", code, index=0)])
    assert row.status == "failed"
    assert [f["line"] for f in row.details["findings"]] == [3, 4]
    assert "'none'" in row.details["findings"][0]["error"]
    assert "verify_signature: False" in row.details["findings"][1]["error"]


def test_the_answer_file_name_never_becomes_a_path(tmp_path):
    target = tmp_path / "x.py"
    text = f"```python\n# {target}\nprint(1)\n```\n"
    report = checks.run(extract(text), answer_text=text, sql=False)
    assert any(r.name == "Security of the Python code (bandit)" and r.status == "passed" for r in report.rows)
    assert not target.exists()

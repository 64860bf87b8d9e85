"""Code checks on answers: what a user sees is the status and the message of each row."""

from pathlib import Path

import pytest

from agentnb.checks import code as codechecks
from agentnb.artifacts import Artifact, Artifacts, EnvVar, extract
from agentnb.checks.code import (
    check_answer_format, check_env, check_openapi, check_python, check_secrets, check_typescript, run_all,
)

ANSWERS = Path(__file__).parent / "data" / "answers"
BACKEND_FORMAT = ["code", "schema", "examples", "env"]


def answer(name: str) -> str:
    return (ANSWERS / name).read_text(encoding="utf-8")


def fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code.strip()}\n```\n"


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# --- the sample answers --------------------------------------------------------------------------

def test_library_answer_passes_every_check():
    text = answer("library.md")
    rows = run_all(text, extract(text), BACKEND_FORMAT)
    assert [(r.name, r.status) for r in rows] == [
        ("OpenAPI contract", "passed"),
        ("OpenAPI operations documented", "passed"),
        ("Request examples match the contract", "passed"),
        ("Python syntax: app/models.py", "passed"),
        ("Python syntax: app/main.py", "passed"),
        ("No hard-coded secrets", "passed"),
        ("Environment variables listed", "passed"),
        ("Answer format", "passed"),
    ]
    messages = [r.message for r in rows]
    assert messages[0] == "openapi.yaml: valid OpenAPI 3.1.0"
    assert messages[1] == "7 operations, each with a summary or description and its responses"
    assert messages[2] == "6 requests match a declared path and method"
    assert messages[6] == "2 variables read by the code, all in the answer's list"
    assert rows[6].details["matched"] == ["DATABASE_URL", "LOAN_DURATION_DAYS"]


def test_nest_prisma_answer_passes_and_typescript_is_parsed():
    pytest.importorskip("tree_sitter_typescript")
    text = answer("nest_prisma.md")
    rows = run_all(text, extract(text), BACKEND_FORMAT)
    assert {r.name: r.status for r in rows} == {
        "TypeScript syntax: src/loans/loans.service.ts": "passed",
        "TypeScript syntax: src/main.ts": "passed",
        "No hard-coded secrets": "passed",            # JWT_SECRET=change-me, POSTGRES_PASSWORD: library
        "Environment variables listed": "passed",     # process.env.X and Prisma env("DATABASE_URL")
        "Answer format": "passed",
    }
    assert rows[3].details["matched"] == ["DATABASE_URL", "MAX_ACTIVE_LOANS", "PORT"]


def test_bad_secrets_answer_names_the_key_and_the_missing_variable():
    text = answer("bad_secrets.md")
    arts = extract(text)
    secrets = check_secrets(arts)
    assert secrets.status == "failed"
    assert secrets.message == ("1 hard-coded secret — read it from environment variables instead: "
                               "app/storage.py line 8: AWS access key ID (`AKIAZ7Q3…`)")
    finding = secrets.details["findings"][0]
    assert finding["answer_line"] == line_of(text, 'aws_access_key_id="AKIA')
    assert "AKIAZ7Q3LIBRARY4X2PM" not in str(secrets.to_dict())       # never the whole key in a report

    env = check_env(arts)
    assert env.status == "failed"
    assert env.message == ("1 variable read by the code but not in the answer's list: "
                           "COVERS_BUCKET (app/storage.py line 12)")
    assert env.details["missing"][0]["answer_line"] == line_of(text, 'os.environ["COVERS_BUCKET"]')


def test_conversational_answer_is_skipped_not_failed():
    text = answer("no_code.md")
    rows = run_all(text, extract(text), BACKEND_FORMAT)
    assert [(r.name, r.status, r.message) for r in rows] == [
        ("No hard-coded secrets", "skipped", "no blocks in this answer"),
        ("Environment variables listed", "skipped", "no code in this answer"),
        ("Answer format", "skipped", "no artifacts in this answer: a conversational reply"),
    ]


def test_run_all_leaves_out_the_format_row_when_the_agent_declares_none():
    text = fence("python", "# app/x.py\nx = 1")
    assert [r.name for r in run_all(text, extract(text))] == [
        "Python syntax: app/x.py", "No hard-coded secrets", "Environment variables listed"]


def test_run_all_accepts_a_plain_list_of_artifacts():
    rows = run_all("", [Artifact("python", "python", "x = (\n", filename="a.py")])
    assert rows[0].status == "failed"


# --- OpenAPI -------------------------------------------------------------------------------------

CONTRACT = """\
# openapi.yaml
openapi: 3.0.3
info: {title: Loans, version: "1"}
servers:
  - url: http://localhost:8000/api/v1
paths:
  /loans:
    get:
      summary: List loans
      responses:
        200: {description: The loans.}
    post:
      responses:
        "201": {description: Created.}
  /loans/{loan_id}:
    get:
      description: One loan.
      parameters:
        - {name: loan_id, in: path, required: true, schema: {type: integer}}
      responses:
        "200": {description: The loan.}
"""


def contract_answer(contract: str = CONTRACT, examples: str = "") -> tuple[str, Artifacts]:
    text = "## Contract\n\n" + fence("yaml", contract) + ("\n## Examples\n\n" + fence("bash", examples)
                                                           if examples else "")
    return text, extract(text)


def test_invalid_contract_fails_with_the_validators_message_and_path():
    text, arts = contract_answer(CONTRACT.replace('info: {title: Loans, version: "1"}', "info: {title: Loans}"))
    rows = check_openapi(arts.openapi)
    assert rows[0].name == "OpenAPI contract"
    assert rows[0].status == "failed"
    assert rows[0].message == "'version' is a required property (at $.info)"
    assert rows[0].details["json_path"] == "$.info"


def test_operation_without_responses_fails_validation_and_is_listed_as_undocumented():
    text, arts = contract_answer(CONTRACT.replace('      responses:\n        "201": {description: Created.}\n',
                                                    "      operationId: addLoan\n"))
    contract, documented = check_openapi(arts.openapi)[:2]
    assert contract.message == "'responses' is a required property (at $.paths['/loans'].post)"
    assert documented.message == ("1 of 3 operations not documented: "
                                  "POST /loans (no summary or description, no responses)")


def test_undocumented_operations_are_listed():
    text, arts = contract_answer()
    rows = check_openapi(arts.openapi)
    assert rows[0].status == "passed"                  # 200: unquoted is fine: keys are read as text
    assert rows[1].status == "failed"
    assert rows[1].message == "1 of 3 operations not documented: POST /loans (no summary or description)"
    assert rows[1].details["undocumented"] == ["POST /loans (no summary or description)"]
    assert rows[2].status == "skipped"
    assert rows[2].message == "no curl or HTTPie request examples in this answer"


def test_undeclared_path_parameter_is_the_validators_message():
    text, arts = contract_answer(CONTRACT.replace("        - {name: loan_id, in: path, required: true, schema: {type: integer}}\n", "")
                                 .replace("      parameters:\n      responses:", "      responses:"))
    row = check_openapi(arts.openapi)[0]
    assert (row.status, row.message) == (
        "failed", "Path parameter 'loan_id' for 'get' operation in '/loans/{loan_id}' was not resolved")


def test_yaml_syntax_error_gives_line_and_column():
    text, arts = contract_answer("# openapi.yaml\nopenapi: 3.0.3\npaths:\n  /a: [\n")
    rows = check_openapi(arts.openapi)
    assert len(rows) == 1 and rows[0].status == "failed"
    assert rows[0].message.startswith("openapi.yaml line 5, column 1: ")


def test_missing_version_field_says_what_to_write():
    text, arts = contract_answer("# openapi.yaml\nopenapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\n")
    arts[0].code = arts[0].code.replace("openapi: 3.0.3", "openapi: 3.0")       # a YAML float
    row = check_openapi(arts[0])[0]
    assert (row.status, row.message) == ("failed", 'openapi.yaml: `openapi: 3.0` is read as a number, not a '
                                                   'version string: write the full version in quotes (`openapi: "3.1.0"`)')
    arts[0].code = arts[0].code.replace("openapi: 3.0\n", "")
    row = check_openapi(arts[0])[0]
    assert (row.status, row.message) == ("failed", "no OpenAPI version found: the document needs a top-level "
                                                   "`openapi: 3.1.0` (or `swagger: \"2.0\"`) field, written as a string")


def test_external_refs_are_not_fetched():
    text, arts = contract_answer(CONTRACT.replace("{description: The loan.}",
                                                  "{$ref: 'responses.yaml#/Loan'}"))
    row = check_openapi(arts.openapi)[0]
    assert row.status == "skipped"
    assert row.message == "openapi.yaml refers to files outside the answer ($ref: responses.yaml#/Loan): not validated"


EXAMPLES = """\
# list
curl -s "$BASE_URL/api/v1/loans?status=active"
curl -s http://localhost:8000/api/v1/loans/42
TOKEN=$(curl -s -X POST localhost:8000/api/v1/loans -d '{"copy_id": 3}' | jq -r .id)
curl -sS --request GET \\
  ${API_URL}/api/v1/loans/$LOAN_ID
http POST :8000/api/v1/loans copy_id:=3
http :8000/api/v1/loans/7 Authorization:'Bearer x'
curl -s https://status.example.org/health
curl -s -X POST http://localhost:8000/api/v1/loans/42/return
curl -s -X DELETE http://localhost:8000/api/v1/loans/42
http PATCH localhost:8000/api/v1/loans/42 status=returned
"""


def test_request_examples_are_matched_against_the_contract():
    text, arts = contract_answer(examples=EXAMPLES)
    row = check_openapi(arts.openapi, arts.examples)[2]
    assert row.name == "Request examples match the contract"
    assert row.status == "failed"
    ret = line_of(text, "curl -s -X POST http://localhost:8000/api/v1/loans/42/return")
    delete = line_of(text, "curl -s -X DELETE")
    patch = line_of(text, "http PATCH")
    assert row.message == (
        f"curl line {ret}: POST /loans/42/return not in the contract; "
        f"curl line {delete}: DELETE /loans/42 not in the contract (/loans/{{loan_id}} allows GET); "
        f"HTTPie line {patch}: PATCH /loans/42 not in the contract (/loans/{{loan_id}} allows GET)")
    assert row.details["matched"] == 6
    assert row.details["other_hosts"] == ["https://status.example.org/health"]


def test_raw_http_examples_and_swagger_base_path():
    contract = ('{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "basePath": "/v2", "paths": '
                '{"/pets/{id}": {"get": {"summary": "A pet", "parameters": [{"name": "id", "in": "path", '
                '"required": true, "type": "integer"}], "responses": {"200": {"description": "ok"}}}}}}')
    text = fence("json", contract) + fence("http", "GET /v2/pets/7 HTTP/1.1\nHost: localhost\n\nDELETE /v2/pets/7")
    arts = extract(text)
    rows = check_openapi(arts.openapi, arts.examples)
    assert [r.status for r in rows] == ["passed", "passed", "failed"]
    assert rows[2].message == (f"http line {line_of(text, 'DELETE')}: DELETE /pets/7 not in the contract "
                               "(/pets/{id} allows GET)")


def test_request_examples_all_declared_pass():
    text, arts = contract_answer(examples="curl -X POST http://localhost:8000/api/v1/loans --json '{}'\n")
    row = check_openapi(arts.openapi, arts.examples)[2]
    assert (row.status, row.message) == ("passed", "1 request matches a declared path and method")


def test_openapi_never_raises_on_junk():
    for code in ("", "- a\n- b\n", "openapi: [", "{", "null", "openapi: 3.1.0\npaths: 3\n",
                 "openapi: 3.1.0\npaths: {/a: 3, /b: {get: 4}}\n"):
        rows = check_openapi(Artifact("openapi", "yaml", code, filename="openapi.yaml"), [
            Artifact("example", "bash", "curl localhost/a\nhttp :80/b x=1")])
        assert rows and all(r.status in ("passed", "failed", "skipped") for r in rows)
        assert rows[0].status == "failed"


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
    monkeypatch.setattr(codechecks, "_ts_languages", lambda: codechecks._NO_TS_PARSER)
    row = check_typescript(Artifact("typescript", "typescript", "const = ;", filename="a.ts"))
    assert (row.status, row.message) == (
        "skipped", "no TypeScript parser: install agentnb[typescript] (tree-sitter, tree-sitter-typescript)")


# --- secrets -------------------------------------------------------------------------------------

def secrets_of(lang: str, code: str, env_table: str = "") -> list[str]:
    row = check_secrets(extract(fence(lang, code) + env_table))
    return [f"{f['file']} line {f['line']}: {f['what']}" for f in row.details.get("findings", [])]


@pytest.mark.parametrize("lang,code,expected", [
    ("python", '# app/config.py\nSECRET_KEY: str = "s3cr3t-dev-key"\n',
     "app/config.py line 2: string literal assigned to SECRET_KEY"),
    ("python", 'password = "hunter2"\n', "block 1 (python) line 1: string literal assigned to password"),
    ("python", 'token = jwt.encode({"sub": "1"}, "mysecret", algorithm="HS256")\n',
     "block 1 (python) line 1: string literal used as the JWT key"),
    ("ts", "const token = jwt.sign(\n  { sub: user.id },\n  'mysecret',\n);\n",
     "block 1 (typescript) line 3: string literal used as the JWT key"),
    ("python", 'engine = create_engine("postgresql://app:s3cret@db:5432/app")\n',
     "block 1 (python) line 1: password in a postgresql connection URL"),
    ("python", 'JWT_SECRET = os.getenv("JWT_SECRET", "dev-secret")\n',
     "block 1 (python) line 1: default value for JWT_SECRET written in the code"),
    ("ts", "const secret = process.env.JWT_SECRET ?? 'dev-secret';\n",
     "block 1 (typescript) line 1: default value for JWT_SECRET written in the code"),
    ("js", "const config = { apiKey: 'f00ba4' };\n",
     "block 1 (javascript) line 1: string literal assigned to apiKey"),
    ("python", 'client = Anthropic(api_key="sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx")\n',
     "block 1 (python) line 1: Anthropic API key"),
    ("bash", "export GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345\n",
     "block 1 (env) line 1: GitHub token"),
    ("python", 'SLACK = "xoxb-1234567890-abcdefghij"\n', "block 1 (python) line 1: Slack token"),
    ("text", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
     "block 1 (other) line 1: private key"),
    ("python", 'AUTH = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"\n',
     "block 1 (python) line 1: JWT"),
    ("dotenv", "# .env.example\nJWT_SECRET=9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c\n",
     ".env.example line 2: real-looking value for JWT_SECRET"),
])
def test_hard_coded_secrets_are_found(lang, code, expected):
    assert secrets_of(lang, code) == [expected]


@pytest.mark.parametrize("lang,code", [
    ("python", 'SECRET_KEY = os.environ["SECRET_KEY"]\ntoken_type = "bearer"\nALGORITHM = "HS256"\n'),
    ("python", 'oauth2 = OAuth2PasswordBearer(tokenUrl="token")\nheader = APIKeyHeader(name="X-API-Key")\n'),
    ("python", 'PASSWORD_MIN_LENGTH = 8\npassword_field = "password"\nsecret_name = "prod/api"\n'),
    ("python", 'url = f"postgresql://{user}:{password}@{host}/app"\nDSN = "postgresql://app:${DB_PASSWORD}@db/app"\n'),
    ("python", 'jwt.encode(payload, settings.jwt_secret, algorithm="HS256")\n'),
    ("python", 'raise HTTPException(401, "invalid token")\ndetail = {"token": "expired or invalid"}\n'),
    ("python", '# tests/test_auth.py\ndef test_login(client):\n    r = client.post("/login", json={"password": "hunter22"})\n'),
    ("ts", "interface User { password: string }\nconst t = req.headers['x-api-token'];\n"),
    ("ts", "headers: { Authorization: `Bearer ${token}` }\n"),
    ("dotenv", "SECRET_KEY=dev-only\nJWT_SECRET=change-me\nDATABASE_URL=postgresql://app:app@localhost/app\n"),
    ("yaml", "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: library\n"),
    ("bash", "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N' localhost/me\n"),
    ("python", 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # the AWS docs example\n'),
    ("python", '# e.g. DATABASE_URL=postgresql://app:app@localhost/app\nx = 1\n'),
])
def test_placeholders_and_non_secrets_are_not_flagged(lang, code):
    assert secrets_of(lang, code) == []


def test_variables_list_examples_are_scanned():
    table = ("\n| Variable | Description | Exemple |\n|---|---|---|\n"
             "| `OPENAI_API_KEY` | clé | `sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123` |\n"
             "| `JWT_SECRET` | clé | `change-me` |\n")
    row = check_secrets(extract(fence("python", "x = 1") + table))
    assert row.message == ("1 hard-coded secret — read it from environment variables instead: "
                           "variables list: OpenAI-style API key as the example of OPENAI_API_KEY (`sk-proj-…`)")


# --- environment variables -----------------------------------------------------------------------

ENV_TABLE = "\n| Variable | Description |\n|---|---|\n| `DATABASE_URL` | base |\n| `APP_DEBUG` | debug |\n"


def test_env_reads_from_python_settings_js_and_compose():
    text = (
        fence("python", '# app/settings.py\nimport os\nfrom pydantic_settings import BaseSettings, SettingsConfigDict\n\n'
                        'class Settings(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix="APP_")\n'
                        '    debug: bool = False\n    redis_url: str\n'
                        '    jwt_key: str = Field(alias="JWT_SIGNING_KEY")\n\n'
                        'DB = os.getenv("DATABASE_URL")\nHOME = os.environ.get("HOME")\n')
        + fence("ts", "// src/env.ts\nconst { PORT, SENTRY_DSN: dsn = '' } = process.env;\n"
                      "const mode = process.env.NODE_ENV;\nconst k = process.env['STRIPE_KEY'];\n"
                      "const d = Deno.env.get('DENO_VAR');\n")
        + fence("yaml", "# docker-compose.yml\nservices:\n  api:\n    image: x\n    environment:\n"
                        "      DATABASE_URL: ${DATABASE_URL}\n      TAG: ${IMAGE_TAG:-latest}\n      X: $${NOT_A_VAR}\n")
        + ENV_TABLE)
    row = check_env(extract(text))
    assert row.status == "failed"
    missing = [(m["name"], m["file"], m["line"]) for m in row.details["missing"]]
    assert missing == [
        ("APP_REDIS_URL", "app/settings.py", 8), ("JWT_SIGNING_KEY", "app/settings.py", 9),
        ("PORT", "src/env.ts", 2), ("SENTRY_DSN", "src/env.ts", 2), ("STRIPE_KEY", "src/env.ts", 4),
        ("DENO_VAR", "src/env.ts", 5), ("IMAGE_TAG", "docker-compose.yml", 7),
    ]
    assert row.details["matched"] == ["APP_DEBUG", "DATABASE_URL"]
    assert row.details["standard"] == ["HOME", "NODE_ENV"]
    assert row.message.startswith("7 variables read by the code but not in the answer's list: "
                                  "APP_REDIS_URL (app/settings.py line 8); JWT_SIGNING_KEY (app/settings.py line 9); ")


def test_env_passes_when_code_reads_nothing():
    row = check_env(extract(fence("python", "x = 1")))
    assert (row.status, row.message) == ("passed", "the code reads no environment variable")


def test_env_names_every_place_a_missing_variable_is_read():
    text = fence("python", "import os\na = os.environ['REDIS_URL']\nb = os.getenv('REDIS_URL')\n")
    row = check_env(extract(text))
    assert row.message == ("1 variable read by the code but not in the answer's list: "
                           "REDIS_URL (block 1 (python) line 2, block 1 (python) line 3)")


# --- answer format -------------------------------------------------------------------------------

def test_answer_format_names_the_missing_parts():
    text = fence("python", "# app/main.py\nx = 1") + "\n| Variable | Description |\n|---|---|\n| `X` | x |\n"
    row = check_answer_format(text, extract(text), BACKEND_FORMAT)
    assert row.status == "failed"
    assert row.message == ("no data schema (SQL DDL, Prisma schema or migration); "
                           "no request examples (curl or HTTPie)")
    assert row.details["missing"] == ["schema", "examples"]


def test_answer_format_tests_openapi_migrations_and_unknown_keys():
    text = fence("python", "# tests/test_x.py\ndef test_x():\n    assert 1") + fence("sql", "-- migrations/0001_a.up.sql\nSELECT 1;")
    arts = extract(text)
    row = check_answer_format(text, arts, ["tests", "migrations", "openapi", "haiku"])
    assert (row.status, row.message) == (
        "failed", "no OpenAPI contract (unknown answer-format key not checked: haiku)")
    row = check_answer_format(text, arts, ["Tests", "migrations"])
    assert (row.status, row.message) == ("passed", "has tests, migrations")
    row = check_answer_format(text, arts, ["haiku"])
    assert (row.status, row.message) == ("skipped", "unknown answer-format key: haiku")


def test_answer_format_accepts_a_single_key():
    text = fence("python", "x = 1")
    assert check_answer_format(text, extract(text), "code").message == "has code"
    assert run_all(text, extract(text), "examples")[-1].message == "no request examples (curl or HTTPie)"


def test_answer_format_without_requirements_is_skipped():
    row = check_answer_format("hi", Artifacts(), [])
    assert (row.status, row.message) == ("skipped", "the agent declares no answer format")


# --- robustness and speed ------------------------------------------------------------------------

def test_checks_never_raise_on_odd_artifacts():
    odd = Artifacts([
        Artifact("python", "python", ""), Artifact("typescript", "typescript", ""),
        Artifact("example", "bash", "curl\ncurl -X\nhttp\ncurl 'unterminated\n"),
        Artifact("compose", "yaml", "${"), Artifact("prisma", "prisma", "env("),
        Artifact("openapi", "json", "{\"openapi\": \"3.1.0\""),
    ], [EnvVar("X", example=None)])
    rows = run_all("", odd, ["code", "schema"])
    assert all(r.status in ("passed", "failed", "skipped") for r in rows)


def test_library_checks_without_the_contract_take_milliseconds():
    import time

    text = answer("library.md")
    arts = extract(text)
    others = Artifacts([a for a in arts if a.kind != "openapi"], arts.env)
    run_all(text, others, BACKEND_FORMAT)
    start = time.perf_counter()
    run_all(text, others, BACKEND_FORMAT)
    assert time.perf_counter() - start < 0.05

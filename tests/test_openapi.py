"""OpenAPI checks: the contract, its operations, and the answer's request examples against it."""

from agentnb.artifacts import Artifact, Artifacts, extract
from agentnb.checks import check_openapi


def fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code.strip()}\n```\n"


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


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

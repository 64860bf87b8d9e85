"""Hard-coded secrets and environment variables read but not listed."""

from pathlib import Path

import pytest

from agentnb.artifacts import extract
from agentnb.checks import check_env, check_secrets

ANSWERS = Path(__file__).parent / "data" / "answers"


def fence(lang: str, code: str) -> str:
    return f"```{lang}\n{code.strip()}\n```\n"


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1



def answer(name: str) -> str:
    return (ANSWERS / name).read_text(encoding="utf-8")


def test_bad_secrets_answer_names_the_key_and_the_missing_variable():
    text = answer("bad_secrets.md")
    arts = extract(text)
    secrets = check_secrets(arts)
    assert secrets.status == "failed"
    assert secrets.message == ("1 hard-coded secret — read it from environment variables instead: "
                               "app/storage.py line 8: AWS access key ID")
    finding = secrets.details["findings"][0]
    assert finding["answer_line"] == line_of(text, 'aws_access_key_id="AKIA')
    assert "AKIAZ7Q3" not in str(secrets.to_dict())       # not even the start of the key in a report

    env = check_env(arts)
    assert env.status == "failed"
    assert env.message == ("1 variable read by the code but not in the answer's list: "
                           "COVERS_BUCKET (app/storage.py line 12)")
    assert env.details["missing"][0]["answer_line"] == line_of(text, 'os.environ["COVERS_BUCKET"]')


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
    ("prisma", 'datasource db {\n  provider = "postgresql"\n  url = "postgresql://app:s3cret@db:5432/app"\n}\n',
     "block 1 (prisma) line 3: password in a postgresql connection URL"),
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
    ("prisma", 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n'),
])
def test_placeholders_and_non_secrets_are_not_flagged(lang, code):
    assert secrets_of(lang, code) == []


def test_variables_list_examples_are_scanned():
    table = ("\n| Variable | Description | Exemple |\n|---|---|---|\n"
             "| `OPENAI_API_KEY` | clé | `sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123` |\n"
             "| `JWT_SECRET` | clé | `change-me` |\n")
    row = check_secrets(extract(fence("python", "x = 1") + table))
    assert row.message == ("1 hard-coded secret — read it from environment variables instead: "
                           "variables list: OpenAI-style API key as the example of OPENAI_API_KEY")


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

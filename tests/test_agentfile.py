"""Loading one agent file: the shipped agent, the seed it was written from, the public corpora,
the tolerances Claude Code has in practice, and the errors a user sees for a bad file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentnb.agentfile import Agent, load_agent, parse_agent
from agentnb.errors import AgentDefinitionError

REPO = Path(__file__).resolve().parents[1]
def _shared() -> Path:
    # ../shared beside the checkout; CI's clean clone may live elsewhere on the same machine
    for candidate in (os.environ.get("AGENTNB_SHARED"), Path(__file__).resolve().parents[2] / "shared",
                      "/work/shared"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared"


SHARED = _shared()
SEED = SHARED / "seeds" / "000_95976772f456bf95.txt"
CORPORA = SHARED / "corpora"
BACKEND_TOOLS = ("Read", "Write", "Edit", "Bash", "Glob", "Grep")


def corpus_files() -> list[Path]:
    if not CORPORA.is_dir():
        return []
    return sorted(p for p in CORPORA.rglob("*.md") if p.name.lower() not in ("readme.md", "license.md"))


def write(tmp_path: Path, text: str | bytes, name: str = "agent.md") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


# --- the seed and the shipped backend-dev -------------------------------------------------------

@pytest.mark.skipif(not SEED.is_file(), reason=f"seed file not found at {SEED} (set AGENTNB_SHARED)")
def test_seed_file_loads_as_is():
    agent = load_agent(SEED)
    assert agent.name == "backend-dev"
    assert agent.magic_name == "backend_dev"
    assert agent.tools == BACKEND_TOOLS
    assert agent.model == "claude-sonnet-4-5-20250929"
    assert agent.system_prompt.startswith("Tu es un DÉVELOPPEUR BACKEND SENIOR.")


def test_shipped_backend_dev_matches_the_seed_header():
    agent = load_agent(REPO / "agents" / "backend-dev.md")
    assert agent.name == "backend-dev"
    assert agent.magic_name == "backend_dev"
    assert agent.tools == BACKEND_TOOLS
    assert agent.model == "sonnet"
    assert agent.description and "backend" in agent.description.lower()
    assert agent.metadata["answer-format"] == ["code", "schema", "examples", "env"]


# every point of the seed, in the words a reader would look for
SEED_POINTS = [
    "Node.js", "Express", "Fastify", "NestJS", "FastAPI", "Django REST Framework", "TypeScript",
    "PostgreSQL", "Prisma", "Drizzle", "MongoDB", "agrégation", "Redis", "cache", "sessions",
    "pub/sub", "Elasticsearch", "OpenAPI", "Swagger", "GraphQL", "Apollo", "Pothos", "WebSockets",
    "gRPC", "Docker", "docker-compose", "TypeORM", "SQLAlchemy", "BullMQ", "Celery", "JWT", "OAuth2",
    "Passport.js", "migrations", "middlewares", "rate limiting", "tests", "Zod", "Joi", "Pydantic",
    "try/catch", "logs structurés", "console.log", "tests unitaires", "curl", "HTTPie",
    "variables d'environnement", "secret", "validées", "architecte", "frontend-dev", "securite",
    "sécurité", "performance", "fiabilité",
]


@pytest.mark.parametrize("keyword", SEED_POINTS)
def test_shipped_backend_dev_covers_each_point_of_the_seed(keyword):
    prompt = load_agent(REPO / "agents" / "backend-dev.md").system_prompt
    assert keyword.lower() in prompt.lower()


def test_shipped_backend_dev_asks_for_the_blocks_agentnb_checks():
    prompt = load_agent(REPO / "agents" / "backend-dev.md").system_prompt
    for needle in ("```sql", "-- schema.sql", "migrations/0001_init.up.sql",
                   "migrations/0001_init.down.sql", "```yaml", "```bash", "```python",
                   "| Variable | Description | Exemple |", "fichiers complets"):
        assert needle in prompt, needle


# --- the public corpora -------------------------------------------------------------------------

@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found at {CORPORA} (set AGENTNB_SHARED)")
def test_every_corpus_file_loads():
    files = corpus_files()
    assert len(files) == 360
    tools_kinds, models = set(), set()
    for path in files:
        agent = load_agent(path)
        assert agent.name.strip(), path
        assert agent.description.strip(), path
        assert all(t and t == t.strip() for t in agent.tools), path
        models.add(agent.model)
        tools_kinds.add(bool(agent.tools))
    assert "inherit" in models and None in models
    assert tools_kinds == {True, False}


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found at {CORPORA} (set AGENTNB_SHARED)")
def test_corpus_files_that_are_not_strict_yaml_still_load():
    import yaml

    strict_failures = []
    for path in corpus_files():
        front = path.read_text(encoding="utf-8").split("---", 2)[1]
        try:
            yaml.safe_load(front)
        except yaml.YAMLError:
            strict_failures.append(path)
    assert len(strict_failures) == 8
    for path in strict_failures:
        agent = load_agent(path)
        assert "Triggers on: '" in agent.description
        assert agent.tools  # the line after the description is still read


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found at {CORPORA} (set AGENTNB_SHARED)")
def test_corpus_tools_as_comma_string_empty_list_and_folded_description():
    backlog = load_agent(CORPORA / "voltagent/categories/08-business-product/backlog-grooming.md")
    assert backlog.tools == ("Read", "Write", "Edit", "Glob", "Grep", "WebFetch", "WebSearch")
    arm = load_agent(CORPORA / "wshobson/plugins/arm-cortex-microcontrollers/agents/arm-cortex-expert.md")
    assert arm.tools == ()  # tools: []
    assert arm.model == "inherit"
    assert arm.description.startswith("Senior embedded software engineer specializing in firmware")
    assert "\n" not in arm.description  # folded with '>'
    mcp = load_agent(CORPORA / "wshobson/plugins/meigen-ai-design/agents/gallery-researcher.md")
    assert mcp.tools == ("mcp__meigen__search_gallery", "mcp__meigen__get_inspiration")


# --- the format: what goes where ----------------------------------------------------------------

def test_fields_tools_model_metadata_and_body():
    agent = parse_agent(
        "---\n"
        "name: reviewer\n"
        "description: Reviews code.\n"
        "tools: Read,  Grep ,Bash(git diff:*, git log:*)\n"
        "model: opus\n"
        "permissionMode: plan\n"
        "maxTurns: 5\n"
        "disallowedTools: [Write]\n"
        "color: teal\n"
        "answer-format:\n  - code\n  - schema\n"
        "x-unknown: {a: 1}\n"
        "---\n\n\n"
        "  You review code.\n\nBe brief.\n\n\n")
    assert agent == Agent(
        name="reviewer", description="Reviews code.",
        system_prompt="  You review code.\n\nBe brief.",
        tools=("Read", "Grep", "Bash(git diff:*, git log:*)"), model="opus",
        metadata={"permissionMode": "plan", "maxTurns": 5, "disallowedTools": ["Write"],
                  "color": "teal", "answer-format": ["code", "schema"], "x-unknown": {"a": 1}})


@pytest.mark.parametrize("tools", ["", "tools: []\n", "tools:\n"])
def test_no_tools_is_an_empty_tuple(tools):
    agent = parse_agent(f"---\nname: a\ndescription: b\n{tools}---\nbody")
    assert agent.tools == ()
    assert agent.model is None


def test_tools_as_yaml_list():
    agent = parse_agent("---\nname: a\ndescription: b\ntools:\n  - Read\n  - ' Grep '\n---\n")
    assert agent.tools == ("Read", "Grep")
    assert agent.system_prompt == ""


@pytest.mark.parametrize("model", ["sonnet", "haiku", "inherit", "claude-sonnet-4-5-20250929"])
def test_model_is_kept_as_written(model):
    assert parse_agent(f"---\nname: a\ndescription: b\nmodel: {model}\n---\n").model == model


def test_crlf_bom_and_blank_lines_before_front_matter(tmp_path):
    text = "\ufeff\r\n\r\n---\r\nname: crlf\r\ndescription: Windows file.\r\ntools: Read, Grep\r\n---\r\nLine one.\r\nLine two.\r\n"
    agent = load_agent(write(tmp_path, text.encode("utf-8")))
    assert (agent.name, agent.description, agent.tools) == ("crlf", "Windows file.", ("Read", "Grep"))
    assert agent.system_prompt == "Line one.\nLine two."


def test_unquoted_colon_in_a_one_line_value():
    agent = parse_agent(
        "---\nname: a\ndescription: Use it. Triggers on: 'x', 'y'. Note: it's fine\ntools: Read\n---\n")
    assert agent.description == "Use it. Triggers on: 'x', 'y'. Note: it's fine"
    assert agent.tools == ("Read",)


@pytest.mark.parametrize("style, expected", [
    (">", "First line continued. Second part."),
    (">-", "First line continued. Second part."),
    ("|", "First line continued.\nSecond part."),
])
def test_folded_and_literal_descriptions(style, expected):
    agent = parse_agent(
        f"---\nname: a\ndescription: {style}\n  First line continued.\n  Second part.\nmodel: inherit\n---\nBody")
    assert agent.description == expected
    assert agent.model == "inherit"


def test_a_horizontal_rule_in_the_body_stays_in_the_body():
    agent = parse_agent("---\nname: a\ndescription: b\n---\nPart one.\n\n---\n\nPart two.")
    assert agent.system_prompt == "Part one.\n\n---\n\nPart two."


# --- bad files: an AgentDefinitionError naming the file and the field ---------------------------

@pytest.mark.parametrize("text, field, words", [
    ("You are an agent without front matter.\n", None, ["front matter", "name", "description"]),
    ("---\nname: a\ndescription: never closed\n", None, ["not closed", "---"]),
    ("---\ndescription: no name\n---\nbody", "name", ["missing"]),
    ("---\nname: a\n---\nbody", "description", ["missing"]),
    ("---\nname: 42\ndescription: d\n---\n", "name", ["must be a string", "42"]),
    ("---\nname: [a, b]\ndescription: d\n---\n", "name", ["must be a string"]),
    ("---\nname: '  '\ndescription: d\n---\n", "name", ["empty"]),
    ("---\nname: a\ndescription: d\ntools: {Read: yes}\n---\n", "tools", ["mapping"]),
    ("---\nname: a\ndescription: d\ntools: [Read, 3]\n---\n", "tools", ["entry 2"]),
    ("---\nname: a\ndescription: d\nmodel: 4.5\n---\n", "model", ["must be a string"]),
    ("---\n- just\n- a list\n---\n", None, ["key: value"]),
])
def test_bad_files_say_which_file_and_field(tmp_path, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(path)
    message = str(info.value)
    assert str(path) in message
    assert info.value.path == path
    assert info.value.field == field
    if field:
        assert f"field '{field}'" in message
    for word in words:
        assert word in message


def test_yaml_the_retry_cannot_fix_gives_the_file_line_and_field(tmp_path):
    # line 1 blank, line 2 '---', line 3 name, line 4 the unclosed list
    path = write(tmp_path, "\n---\nname: a\ndescription: [never closed\nmodel: sonnet\n---\nbody\n")
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(path)
    message = str(info.value)
    assert info.value.field == "description"
    assert str(path) in message and "field 'description'" in message
    assert "not valid YAML" in message
    assert "started at line 4" in message


def test_bad_indentation_names_the_field(tmp_path):
    path = write(tmp_path, "---\nname: a\ndescription: b\ntools:\n  - Read\n - Grep\n---\n")
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(path)
    assert info.value.field == "tools"
    assert "line 6" in str(info.value)


def test_not_utf8(tmp_path):
    path = write(tmp_path, "---\nname: caf\xe9\ndescription: d\n---\n".encode("latin-1"))
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(path)
    message = str(info.value)
    assert str(path) in message
    assert "not UTF-8" in message and "0xe9" in message


def test_unreadable_path(tmp_path):
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(tmp_path / "missing.md")
    assert "missing.md" in str(info.value) and "cannot be read" in str(info.value)
    with pytest.raises(AgentDefinitionError):
        load_agent(tmp_path)  # a folder


def test_text_without_a_path_still_says_what_is_wrong():
    with pytest.raises(AgentDefinitionError, match=r"<agent text>, field 'name': is missing"):
        parse_agent("---\ndescription: d\n---\n")


def test_importing_agentnb_does_not_import_yaml():
    import subprocess
    import sys

    code = "import sys, agentnb.agentfile, agentnb.catalog; print('yaml' in sys.modules, 'frontmatter' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- untrusted front matter: bounded, no alias expansion ----------------------------------------

# 9**6 strings once expanded: enough to show, small enough for the old code to survive this test
BOMB = "".join(f"{k}: &{k} [{', '.join([f'*{p}'] * 9)}]\n" for p, k in zip("abcde", "bcdef"))


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    path = write(tmp_path, "---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + BOMB
                 + "name: *f\ndescription: d\n---\nbody\n")
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(path)
    message = str(info.value)
    assert str(path) in message and "anchor" in message and "line 2" in message
    assert len(message) < 300          # no expanded value in the message


@pytest.mark.parametrize("front, words", [
    ("name: &n reviewer\ndescription: *n\n", "anchor (&n)"),
    ("name: a\ndescription: d\ntools: [Read]\nhooks:\n  <<: *base\n", "alias (*base)"),
    ("name: a\ndescription: d\nx: " + "[" * 40 + "]" * 40 + "\n", "more than 16 levels"),
    ("name: a\ndescription: d\nmaxTurns: " + "9" * 5000 + "\n", "cannot read"),
    ("name: a\ndescription: '" + "x" * 70_000 + "'\n", "70,0"),
])
def test_front_matter_that_could_exhaust_the_parser_is_refused(tmp_path, front, words):
    path = write(tmp_path, f"---\n{front}---\nbody\n")
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(path)
    assert str(path) in str(info.value) and words in str(info.value)
    assert len(str(info.value)) < 400


def test_a_bomb_after_a_line_yaml_rejects_is_still_refused(tmp_path):
    # the first line makes strict YAML fail; the retries must not expand what follows
    path = write(tmp_path, "---\nname: a\ndescription: Use it. Triggers on: 'x'\nmodel: sonnet\n"
                 "tools: &a [Read, Read, Read]\n---\nbody\n")
    with pytest.raises(AgentDefinitionError, match="anchor"):
        load_agent(path)


@pytest.mark.parametrize("value, words", [
    ("5", "got a number 5"),
    ("true", "got a boolean True"),
    ("{code: yes}", "got a mapping"),
    ("[code, 3]", "entry 2 must be a part name, got a number 3"),
])
def test_answer_format_is_checked_at_load_time(tmp_path, value, words):
    path = write(tmp_path, f"---\nname: a\ndescription: d\nanswer-format: {value}\n---\nbody\n")
    with pytest.raises(AgentDefinitionError) as info:
        load_agent(path)
    assert info.value.field == "answer-format"
    message = str(info.value)
    assert str(path) in message and words in message and "answer-format: [code, schema" in message


@pytest.mark.parametrize("value, expected", [
    ("code, schema", "code, schema"), ("[code, schema]", ["code", "schema"]), ("[]", []),
])
def test_answer_format_as_a_string_or_a_list_loads(value, expected):
    agent = parse_agent(f"---\nname: a\ndescription: d\nanswer-format: {value}\n---\n")
    assert agent.metadata["answer-format"] == expected


# --- descriptions over several unquoted lines, with example dialogues (issue 9) -----------------
# Written for these tests in the shape popular collections use; Claude Code loads such files.

REVIEWER = '''---
name: schema-reviewer
description: Use this agent after a database schema or migration has been written or changed, to review it for integrity, naming and indexing problems. Examples:

<example>
Context: The user has just added a table for loans.
user: "I added a loans table with a member_id column, can you check it?"
assistant: "I'll use the schema-reviewer agent to look at the new table and its constraints."
<commentary>
A schema change was made, so the schema-reviewer agent should check it before the migration runs.
</commentary>
</example>

<example>
Context: A migration renames a column.
user: "Rename books.isbn13 to books.isbn"
assistant: "Here is the migration: ... Now let me use the schema-reviewer agent to check the down step."
</example>
model: sonnet
color: yellow
tools: Read, Grep, Glob
---

You are a careful database reviewer.

## What you check
- foreign keys: every reference has an index
'''

PLANNER = '''---
name: sprint-planner
description: Use this agent when planning a sprint or splitting an epic into stories. Triggers on: "plan the sprint", "split this epic".
Context: the team works in two-week sprints.
user: "Split the reservations epic"
assistant: "I'll use the sprint-planner agent to break it into stories."
tools:
  - Read
  - Write
model: inherit
version: 1.2.0
---
Plan sprints.
'''


def test_a_description_with_example_dialogues_loads_as_claude_code_reads_it(tmp_path):
    import yaml

    path = write(tmp_path, REVIEWER)
    with pytest.raises(yaml.YAMLError):                      # strict YAML refuses this file
        yaml.safe_load(REVIEWER.split("---")[1])
    agent = load_agent(path)
    assert agent.name == "schema-reviewer"
    assert agent.model == "sonnet"
    assert agent.tools == ("Read", "Grep", "Glob")
    assert agent.metadata == {"color": "yellow"}
    assert agent.description.startswith("Use this agent after a database schema or migration has been")
    assert "\n<example>\nContext: The user has just added a table for loans.\n" in agent.description
    assert 'user: "I added a loans table with a member_id column, can you check it?"' in agent.description
    assert "<commentary>\nA schema change was made" in agent.description
    assert agent.description.endswith("let me use the schema-reviewer agent to check the down step.\"\n</example>")
    assert agent.system_prompt.startswith("You are a careful database reviewer.\n\n## What you check")


def test_example_lines_without_blank_lines_a_tools_list_and_an_unknown_key(tmp_path):
    agent = load_agent(write(tmp_path, PLANNER.replace("\n", "\r\n")))
    assert agent.name == "sprint-planner"
    assert agent.description.splitlines() == [
        ('Use this agent when planning a sprint or splitting an epic into stories. Triggers on: '
         '"plan the sprint", "split this epic".'),
        "Context: the team works in two-week sprints.",
        'user: "Split the reservations epic"',
        'assistant: "I\'ll use the sprint-planner agent to break it into stories."']
    assert agent.tools == ("Read", "Write")
    assert agent.model == "inherit"
    assert agent.metadata == {"version": "1.2.0"}
    assert agent.system_prompt == "Plan sprints."


def test_the_lenient_reading_does_not_hide_real_mistakes(tmp_path):
    # no known key at all, or text before the first one: YAML's own message, with its line
    for front in ("title: x\n<example>\n", "<example>\nname: a\ndescription: d\n"):
        with pytest.raises(AgentDefinitionError, match="not valid YAML at line"):
            load_agent(write(tmp_path, f"---\n{front}---\nbody\n"))
    # an alias in a field read on its own is still refused
    with pytest.raises(AgentDefinitionError, match="anchor"):
        load_agent(write(tmp_path, "---\nname: a\ndescription: d\n<example>\ntools: &t [Read]\n---\n"))

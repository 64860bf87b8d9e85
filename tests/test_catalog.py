"""Finding agents: search order, later wins, bad files reported, folders read once, get()."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentnb.catalog import ENV_PATH, Catalog, bundled_folder, discover
from agentnb.errors import AgentDefinitionError, AgentnbError

REPO = Path(__file__).resolve().parents[1]


def agent_file(folder: Path, name: str, description: str = "d", filename: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or f"{name}.md")
    path.write_text(f"---\nname: {name}\ndescription: {description}\n---\nYou are {name}.\n",
                    encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path):
    """An empty home and an empty project folder, so the user's real agents never leak in."""
    (tmp_path / "home").mkdir()
    (tmp_path / "project").mkdir()
    return tmp_path


def run(tmp_path: Path, *extra: Path) -> Catalog:
    env = {"HOME": str(tmp_path / "home")}
    if extra:
        env[ENV_PATH] = os.pathsep.join(str(p) for p in extra)
    return discover(cwd=tmp_path / "project", env=env)


def test_bundled_agents_are_found():
    assert bundled_folder() == REPO / "agents"
    catalog = discover(cwd=REPO / "tests", env={"HOME": "/nonexistent"})
    assert catalog.agents["backend-dev"].model == "sonnet"
    assert catalog.folders[0] == REPO / "agents"
    assert catalog.errors == []


def test_search_order_and_later_wins(home):
    user = agent_file(home / "home/.claude/agents", "shared-agent", "from user")
    project = agent_file(home / "project/.claude/agents", "shared-agent", "from .claude")
    agent_file(home / "home/.claude/agents", "only-user")
    catalog = run(home)
    assert catalog.agents["shared-agent"].description == "from .claude"
    assert catalog.agents["shared-agent"].path == project
    assert catalog.agents["only-user"].description == "d"
    assert len(catalog.warnings) == 1
    assert str(user) in catalog.warnings[0] and str(project) in catalog.warnings[0]
    assert catalog.folders[1:4] == [home / "home/.claude/agents", home / "project/.claude/agents",
                                    home / "project/agents"]


def test_project_agents_folder_overrides_bundled_backend_dev(home):
    mine = agent_file(home / "project/agents", "backend-dev", "my own backend-dev")
    catalog = run(home)
    assert catalog.get("backend_dev").description == "my own backend-dev"
    [warning] = catalog.warnings
    assert str(REPO / "agents" / "backend-dev.md") in warning and str(mine) in warning


def test_env_path_with_two_folders_comes_last(home):
    agent_file(home / "project/agents", "tester", "project")
    agent_file(home / "one", "tester", "one")
    agent_file(home / "two", "tester", "two")
    agent_file(home / "one", "only-one")
    catalog = run(home, home / "one", home / "two")
    assert catalog.agents["tester"].description == "two"
    assert "only-one" in catalog.agents
    assert len(catalog.warnings) == 2  # project -> one, one -> two
    assert catalog.folders[-2:] == [home / "one", home / "two"]


def test_env_path_entry_that_is_not_a_folder_is_a_warning(home):
    catalog = run(home, home / "typo")
    assert any(ENV_PATH in w and "typo" in w for w in catalog.warnings)
    assert "backend-dev" in catalog.agents


def test_bad_file_is_reported_and_the_others_still_load(home):
    folder = home / "project/agents"
    agent_file(folder, "good-one")
    (folder / "broken.md").write_text("---\ndescription: no name\n---\n", encoding="utf-8")
    (folder / "latin.md").write_bytes(b"---\nname: caf\xe9\ndescription: d\n---\n")
    agent_file(folder, "zz-good-two")
    catalog = run(home)
    assert {"good-one", "zz-good-two"} <= set(catalog.agents)
    assert sorted(e.path.name for e in catalog.errors) == ["broken.md", "latin.md"]
    assert all(isinstance(e, AgentDefinitionError) for e in catalog.errors)
    assert any(e.field == "name" for e in catalog.errors)


def test_readme_and_non_markdown_and_subfolders_are_skipped(home):
    folder = home / "project/agents"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("# My agents\n", encoding="utf-8")
    (folder / "Readme.MD").write_text("# not an agent\n", encoding="utf-8")
    (folder / "notes.txt").write_text("---\nname: txt\ndescription: d\n---\n", encoding="utf-8")
    agent_file(folder / "nested", "nested")
    agent_file(folder, "readme-generator")  # an agent whose name merely starts with readme
    catalog = run(home)
    assert catalog.errors == []
    assert "readme-generator" in catalog.agents
    assert "txt" not in catalog.agents and "nested" not in catalog.agents


def test_same_folder_reached_twice_is_read_once(home):
    # cwd is the repo: ./agents is the bundled folder; the env var names it again, spelled differently
    spelled = REPO / "tests" / ".." / "agents"
    catalog = discover(cwd=REPO, env={"HOME": str(home / "home"), ENV_PATH: str(spelled)})
    assert catalog.warnings == []
    assert [f.resolve() for f in catalog.folders].count((REPO / "agents").resolve()) == 1
    assert "backend-dev" in catalog.agents


def test_relative_env_entry_is_relative_to_cwd(home):
    agent_file(home / "project/more", "relative-one")
    catalog = run(home, Path("more"))
    assert "relative-one" in catalog.agents


def test_get_by_name_and_by_magic_name(home):
    agent_file(home / "project/agents", "data-modeler")
    catalog = run(home)
    assert catalog.get("data-modeler").name == "data-modeler"
    assert catalog.get("data_modeler").name == "data-modeler"
    assert catalog.by_magic()["data_modeler"].name == "data-modeler"


def test_unknown_name_suggests_a_close_match_and_lists_names(home):
    agent_file(home / "project/agents", "data-modeler")
    catalog = run(home)
    with pytest.raises(AgentnbError) as info:
        catalog.get("backend-devs")
    message = str(info.value)
    assert "Did you mean 'backend-dev'?" in message
    assert "backend-dev" in message and "data-modeler" in message


def test_unknown_name_in_an_empty_catalog_says_where_it_looked():
    with pytest.raises(AgentnbError, match="no agents were found"):
        Catalog(folders=[Path("/x/agents")]).get("anything")


def test_two_names_with_the_same_magic_name_later_wins_with_a_warning(home):
    agent_file(home / "home/.claude/agents", "code-review")
    agent_file(home / "project/agents", "code_review")
    catalog = run(home)
    assert set(catalog.agents) >= {"code-review", "code_review"}
    assert catalog.by_magic()["code_review"].name == "code_review"
    [warning] = catalog.warnings
    assert "code-review" in warning and "%%code_review" in warning


def test_agents_named_like_ipython_magics_are_reached_through_agent(home):
    for name in ("time", "capture", "agent", "sql-helper"):
        agent_file(home / "project/agents", name)
    catalog = run(home)
    assert catalog.invocation("time") == "%%agent time (%%time is IPython's)"
    assert catalog.invocation("capture") == "%%agent capture (%%capture is IPython's)"
    assert catalog.invocation("agent") == "%%agent agent (%%agent is agentnb's)"
    assert catalog.invocation("sql_helper") == "%%sql_helper"


def test_the_listing_and_load_ext_say_the_same(home, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from agentnb.magics import AgentMagics, register_agents

    agent_file(home / "project/agents", "time")
    agent_file(home / "project/agents", "capture")
    catalog = run(home)
    shell = InteractiveShell.instance()
    shell.register_magics(AgentMagics)                # as %load_ext does, with this catalog
    names = register_agents(shell, catalog)
    warning = capsys.readouterr().err
    assert "time" not in names and "capture" not in names and "backend_dev" in names
    for magic in ("time", "capture"):
        listed = catalog.invocation(magic, shell)
        assert listed.removeprefix("%%agent ") in warning
        assert listed == catalog.invocation(magic)       # the same without a shell (agentnb agents)
    assert shell.magics_manager.magics["cell"]["time"].__module__.startswith("IPython")


def test_agents_listing_shows_how_to_reach_an_agent_whose_magic_ipython_owns(home):
    from agentnb.render.tables import agents_table

    agent_file(home / "project/agents", "time")
    table = agents_table(run(home))
    magics = [row[0] for row in table.rows]
    assert "%%agent time (%%time is IPython's)" in magics and "%%time" not in magics

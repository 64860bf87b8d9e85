"""Finding agents: the folders agentnb searches, in order, and what it found there.

Search path, later wins: the agents shipped with agentnb, ``~/.claude/agents``, ``./.claude/agents``,
``./agents``, then each folder of ``AGENTNB_AGENTS_PATH`` (``os.pathsep``-separated). Each folder's
``*.md`` files are read (not recursively; README.md is skipped). A bad file never stops discovery:
it is listed in ``Catalog.errors`` and the others still load.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agentnb.agentfile import Agent, load_agent, magic_name
from agentnb.errors import AgentDefinitionError, AgentnbError

ENV_PATH = "AGENTNB_AGENTS_PATH"
# IPython's own cell magics (IPython 9, a fresh shell): used where no shell runs (``agentnb agents``);
# in a shell, its registry decides, so other extensions' magics count too
IPYTHON_CELL_MAGICS = frozenset({
    "!", "HTML", "SVG", "bash", "capture", "code_wrap", "debug", "file", "html", "javascript", "js", "latex",
    "markdown", "perl", "prun", "pypy", "python", "python2", "python3", "ruby", "script", "sh", "svg", "sx",
    "system", "time", "timeit", "writefile",
})


def magic_owner(magic: str, shell=None) -> str | None:
    """Who owns the cell magic ``%%magic`` when an agent's name gives it: "agentnb" for ``%%agent``,
    "IPython" for a magic of IPython's (or of another extension in ``shell``), None when the agent
    can have it. ``shell`` defaults to the running IPython, if any."""
    if magic == "agent":
        return "agentnb"
    if shell is None and "IPython" in sys.modules:      # never import IPython just to ask
        shell = sys.modules["IPython"].get_ipython()
    if shell is None:
        return "IPython" if magic in IPYTHON_CELL_MAGICS else None
    registered = shell.magics_manager.magics["cell"].get(magic)
    return None if registered is None or getattr(registered, "_agentnb", False) else "IPython"


def taken_note(agent_name: str, magic: str, owner: str) -> str:
    """How an agent whose magic name is taken is named, in %load_ext's warning and in the listing."""
    return f"{agent_name} (%%{magic} is {owner}'s)"


@dataclass
class Catalog:
    """The agents found, by name in discovery order, plus what went wrong on the way."""

    agents: dict[str, Agent] = field(default_factory=dict)
    errors: list[AgentDefinitionError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)

    def by_magic(self) -> dict[str, Agent]:
        """Magic name -> agent. When two names give the same magic name, the later agent wins."""
        return _magic_map(self.agents)[0]

    def invocation(self, magic: str, shell=None) -> str:
        """How a cell reaches the agent with magic name ``magic``: ``%%backend_dev``, or
        ``%%agent time (%%time is IPython's)`` when the name is taken."""
        owner = magic_owner(magic, shell)
        if owner is None:
            return f"%%{magic}"
        return "%%agent " + taken_note(self.by_magic()[magic].name, magic, owner)

    def get(self, name: str) -> Agent:
        """The agent called ``name``, or whose magic name is ``name`` (``backend-dev`` or
        ``backend_dev``). Raises AgentnbError listing the known agents when there is none."""
        if name in self.agents:
            return self.agents[name]
        magics = self.by_magic()
        for key in (name, magic_name(name)):
            if key in magics:
                return magics[key]
        raise AgentnbError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        import difflib

        if not self.agents:
            looked = ", ".join(str(f) for f in self.folders) or "no folder"
            return (f"No agent named '{name}': no agents were found (searched {looked}). "
                    f"Put agent files (*.md) in ./agents or ~/.claude/agents, or list folders in "
                    f"{ENV_PATH}.")
        names = list(self.agents)
        candidates = {n: n for n in names}
        candidates.update({magic_name(n): n for n in names})
        close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
        message = f"No agent named '{name}'."
        if close:
            message += f" Did you mean '{candidates[close[0]]}'?"
        message += "\nKnown agents: " + ", ".join(sorted(names))
        return message


def bundled_folder() -> Path:
    """The agents shipped with agentnb: ``agentnb/agents`` in a wheel, ``<repo>/agents`` in a
    source or editable checkout."""
    import agentnb

    package = Path(agentnb.__file__).parent
    inside = package / "agents"
    if inside.is_dir():
        return inside
    # only a source checkout (pyproject.toml next to the package) has the folder beside it; in
    # site-packages a sibling "agents" folder would belong to someone else
    if (package.parent / "pyproject.toml").is_file():
        return package.parent / "agents"
    return inside


def search_path(cwd: str | Path | None = None,
                env: Mapping[str, str] | None = None) -> list[tuple[Path, str]]:
    """The folders to search, in order (later wins), each with where it comes from."""
    env = os.environ if env is None else env
    cwd = Path(cwd) if cwd is not None else Path.cwd()
    home = env.get("HOME") or env.get("USERPROFILE")
    home_path = Path(home) if home else Path.home()
    folders = [
        (bundled_folder(), "bundled"),
        (home_path / ".claude" / "agents", "user"),
        (cwd / ".claude" / "agents", "project"),
        (cwd / "agents", "project"),
    ]
    for entry in (env.get(ENV_PATH) or "").split(os.pathsep):
        if entry.strip():
            folder = Path(entry.strip()).expanduser()
            folders.append((folder if folder.is_absolute() else cwd / folder, ENV_PATH))
    return folders


def discover(cwd: str | Path | None = None, env: Mapping[str, str] | None = None) -> Catalog:
    """Read every agent file on the search path. Never raises for a bad file or folder."""
    catalog = Catalog()
    seen: set[Path] = set()
    origin: dict[str, Path | None] = {}
    for folder, source in search_path(cwd, env):
        try:
            key = folder.resolve()
        except OSError:
            key = folder.absolute()
        if key in seen:
            continue
        seen.add(key)
        catalog.folders.append(folder)
        if not folder.is_dir():
            if source == ENV_PATH:
                catalog.warnings.append(f"{ENV_PATH} lists {folder}, which is not a folder: skipped.")
            continue
        try:
            files = sorted(p for p in folder.iterdir()
                           if p.suffix == ".md" and p.name.lower() != "readme.md" and p.is_file())
        except OSError as exc:
            catalog.warnings.append(f"Cannot list {folder} ({exc.strerror or exc}): skipped.")
            continue
        for path in files:
            try:
                agent = load_agent(path)
            except AgentDefinitionError as exc:
                catalog.errors.append(exc)
                continue
            except Exception as exc:  # a parser bug must not hide every other agent
                catalog.errors.append(AgentDefinitionError(
                    path, None, f"could not be loaded ({type(exc).__name__}: {exc}).",
                    "Please report this file to agentnb's maintainers."))
                continue
            if agent.name in catalog.agents:
                catalog.warnings.append(
                    f"Agent '{agent.name}' is defined in both {origin[agent.name]} and {path}: "
                    f"using {path}.")
                # the later definition wins and takes the later place in the order
                del catalog.agents[agent.name]
            catalog.agents[agent.name] = agent
            origin[agent.name] = path
    catalog.warnings.extend(_magic_map(catalog.agents)[1])
    return catalog


def _magic_map(agents: Mapping[str, Agent]) -> tuple[dict[str, Agent], list[str]]:
    magics: dict[str, Agent] = {}
    warnings = []
    for agent in agents.values():
        magic = agent.magic_name
        if magic in magics:
            earlier = magics[magic]
            warnings.append(
                f"Agents '{earlier.name}' ({earlier.path}) and '{agent.name}' ({agent.path}) both "
                f"give the magic %%{magic}: it runs '{agent.name}'. Rename one to use both.")
        magics[magic] = agent
    return magics, warnings

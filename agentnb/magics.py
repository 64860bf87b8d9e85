"""IPython magics: a thin skin over ``agentnb.session``.

``%load_ext agentnb`` registers one cell magic per agent (``backend-dev`` -> ``%%backend_dev``), plus
``%%agent NAME``, ``%agents`` and ``%agentnb``.
"""

from __future__ import annotations

import keyword
import shlex
import sys
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from agentnb import session as sessions
from agentnb.errors import AgentnbError


_TOOLS_OPTIONS = [
    argument("--tools", nargs="?", const="", default=None, metavar="LIST",
             help="run in Claude Code with the agent's tools (LIST narrows them: Read,Grep)"),
    argument("--workspace", metavar="DIR", help="with --tools: the folder the agent works in (default workspace/)"),
    argument("--add-dir", action="append", default=[], metavar="DIR",
             help="with --tools: another folder the agent may reach (repeatable)"),
    argument("--permission-mode", metavar="MODE",
             help="with --tools: default, acceptEdits, plan, bypassPermissions or dontAsk"),
    argument("--max-turns", type=int, metavar="N", help="with --tools: the most turns of the tool loop"),
    argument("--claude-settings", action="store_true",
             help="with --tools: load the user's ~/.claude settings, memory and hooks"),
]


def tools_options(args, settings):
    """The cell's ToolsOptions when tools are on (``--tools`` or ``%agentnb tools on``), else None."""
    on = args.tools is not None or settings.resolved_tools()
    extra = [o for o, v in (("--workspace", args.workspace), ("--add-dir", args.add_dir),
                            ("--permission-mode", args.permission_mode), ("--max-turns", args.max_turns),
                            ("--claude-settings", args.claude_settings)) if v]
    if not on:
        if extra:
            raise UsageError(f"{', '.join(extra)} go with --tools (or %agentnb tools on).")
        return None
    ignored = [o for o, v in (("--fix", args.fix), ("--with-db", args.with_db), ("--max-tokens", args.max_tokens))
               if v]
    if ignored:    # the Claude Code loop has no --fix rounds, base schema or answer budget to give them to
        raise UsageError(f"{', '.join(ignored)} cannot be used with --tools (or %agentnb tools on): run the cell "
                         "without tools for them.")
    if args.max_turns is not None and args.max_turns < 1:
        raise UsageError(f"--max-turns {args.max_turns}: N is a number of turns, 1 or more.")
    from agentnb.tools.cell import ToolsOptions, parse_tool_list

    return ToolsOptions(tools=parse_tool_list(args.tools), workspace=args.workspace, add_dirs=list(args.add_dir),
                        permission_mode=args.permission_mode, max_turns=args.max_turns,
                        claude_settings=args.claude_settings)


def _cell_options(func):
    for decorator in reversed([
        magic_arguments(),
        argument("--model", metavar="MODEL", help="model id or alias (sonnet, opus, haiku) for this cell"),
        argument("--new", action="store_true", help="start a fresh conversation with this agent"),
        argument("--thread", metavar="NAME", help="switch to (or start) the named conversation"),
        argument("--max-tokens", type=int, metavar="N", help="most tokens the answer may use"),
        argument("--no-stream", action="store_true", help="show the answer only once it is complete"),
        argument("--dry-run", action="store_true",
                 help="show the exact request and an estimate of its tokens and cost; send nothing"),
        argument("-o", "--output", metavar="VAR", help="also store the response in this variable"),
        argument("--with", dest="with_", metavar="NAME[,NAME]",
                 help="attach variables as context: text, data frames (schema and rows), earlier responses"),
        argument("--with-db", metavar="URL",
                 help="start from an existing database's schema (PostgreSQL, DuckDB or SQLite URL, or a .sql "
                      "file), read-only: attached as DDL, and later migrations are checked against it"),
        argument("--sample", type=int, default=0, metavar="N",
                 help="with --with-db: also attach N rows of each table"),
        argument("--fix", type=int, default=0, metavar="N",
                 help="when schema or migration checks fail, send the errors back, up to N rounds"),
        argument("--apply", metavar="DIR", help="write the answer's named files under DIR"),
        argument("--overwrite", action="store_true",
                 help="with --apply: replace files whose content differs from the answer's"),
        argument("--executable-scripts", action="store_true",
                 help="with --apply: make the answer's scripts (files starting with #!) executable"),
        argument("--no-check", action="store_true", help="skip the checks of the answer's artifacts"),
        *_TOOLS_OPTIONS,
    ]):
        func = decorator(func)
    return func


@_cell_options
def _agent_cell(line, cell):
    """Ask the agent: the cell's text is the prompt, sent exactly as written.

    The answer streams into the output; the cell's result is the response object (text, model,
    stop_reason, usage, cost_usd, artifacts). The next cell continues the same conversation.
    """


CELL_HELP = _agent_cell.__doc__ + "\n" + _agent_cell.parser.format_help()


def parse_cell_options(line: str):
    """The magic line's options, split as a shell would (``--thread "my thread"``), each value checked:
    a bad one is a one-line UsageError before anything is sent."""
    try:
        argv = shlex.split(line)
    except ValueError as exc:          # "No closing quotation"
        raise UsageError(f"cell options: {exc} in {line.strip()!r}.") from None
    args = _agent_cell.parser.parse_args(argv)
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError(f"--max-tokens {args.max_tokens}: N is the most tokens the answer may use, 1 or more.")
    if args.output is not None and not (args.output.isidentifier() and not keyword.iskeyword(args.output)):
        raise UsageError(f"-o {args.output!r}: not a Python variable name (letters, digits and _, "
                         "not starting with a digit).")
    for option, value in (("--model", args.model), ("--thread", args.thread), ("--apply", args.apply),
                          ("--with", args.with_)):
        if value is not None and not value.strip():
            raise UsageError(f"{option} is empty: give it a value, or leave the option out.")
    if args.sample and not args.with_db:
        raise UsageError("--sample N goes with --with-db URL.")
    if args.fix < 0:
        raise UsageError(f"--fix {args.fix}: N is a number of rounds, 0 or more.")
    if (args.overwrite or args.executable_scripts) and not args.apply:
        raise UsageError("--overwrite and --executable-scripts go with --apply DIR.")
    return args


@magics_class
class AgentMagics(Magics):
    @property
    def session(self) -> sessions.Session:
        return sessions.current()

    def run_cell(self, agent_name: str, line: str, cell: str | None):
        args = parse_cell_options(line)
        if cell is None or not cell.strip():
            raise UsageError(f"%%{self.session.agent(agent_name).magic_name}: write the prompt in the cell "
                             "body, below the magic line.")
        from agentnb.attach import context_blocks
        from agentnb.render.live import NotebookRenderer

        context = context_blocks(args.with_, self.shell.user_ns, getattr(self.shell, "user_ns_hidden", None))
        kwargs = dict(model=args.model, thread=args.thread, new=args.new, max_tokens=args.max_tokens,
                      context=context)
        tools = None if args.dry_run else tools_options(args, self.session.settings)   # before any database is read
        base = None
        if args.with_db:
            from agentnb.withdb import schema_from

            existing = schema_from(args.with_db, sample=args.sample)
            context.insert(0, existing.prompt_block())
            base = existing.ddl
        if args.dry_run:
            result = self.session.dry_run(agent_name, cell, **kwargs)
        elif tools is not None:
            from agentnb.render.tools import ToolsNotebookRenderer

            result = self.session.ask(agent_name, cell, renderer=ToolsNotebookRenderer(stream=not args.no_stream),
                                      check=not args.no_check, tools=tools, **kwargs)
        else:
            renderer = NotebookRenderer(stream=not args.no_stream)
            result = self.session.ask(agent_name, cell, renderer=renderer, check=not args.no_check,
                                      fix=args.fix, base_schema=base, **kwargs)
        if args.output:
            self.shell.user_ns[args.output] = result
        if args.apply and not args.dry_run:
            print(result.apply(args.apply, overwrite=args.overwrite, executable_scripts=args.executable_scripts))
        return result

    @magic_arguments()
    @argument("name", help="the agent's name (or its magic name)")
    @cell_magic
    def agent(self, line, cell):
        """%%agent NAME [options]: ask any agent by name. Options as for the per-agent magics."""
        name, _, rest = line.strip().partition(" ")
        if not name:
            raise UsageError("%%agent NAME: give the agent's name, e.g. %%agent backend-dev. "
                             "%agents lists them.")
        return self.run_cell(name, rest, cell)

    @line_magic
    def agents(self, line):
        """%agents: the agents found (magic, name, model, tools, file), and files that could not load."""
        from agentnb.render.tables import agents_table

        return agents_table(self.session.catalog)

    @line_magic
    def agentnb(self, line):
        """%agentnb [status | record MODE | recordings DIR | model AGENT MODEL | usage | reload | reset
        | tools on|off | workspace DIR]

        status (default): settings and where things are.
        record MODE: once (replay, else call and record), none (replay only), all (call, overwrite).
        recordings DIR: where recordings are read and written (relative to the working directory).
        model AGENT MODEL: use MODEL for AGENT in this session (`model AGENT -` clears it).
        usage: totals from the session log (this session and all time).
        reload: read the agent files again and register their magics.
        reset: forget every conversation, its thread and its schema (settings stay).
        tools on|off: run every cell in Claude Code with the agent's tools (as --tools does).
        workspace DIR: the folder tools cells work in.
        """
        from agentnb.render import tables as report

        words = line.split()
        command = words[0] if words else "status"
        settings = self.session.settings
        if command == "status":
            return report.status(self.session)
        if command == "record":
            if len(words) != 2:
                raise UsageError("%agentnb record MODE: MODE is once, none or all.")
            previous = settings.record_mode
            settings.record_mode = words[1]
            try:
                settings.resolved_record_mode()
            except AgentnbError:
                settings.record_mode = previous
                raise
            print(f"record mode: {settings.record_mode}")
            return None
        if command == "recordings":
            if len(words) != 2:
                raise UsageError("%agentnb recordings DIR")
            settings.recordings = Path(words[1])
            print(f"recordings: {words[1]}")     # as given: an absolute path would differ per machine
            return None
        if command == "model":
            if len(words) != 3:
                raise UsageError("%agentnb model AGENT MODEL (or `-` to clear the override).")
            agent = self.session.agent(words[1])
            if words[2] == "-":
                settings.model_overrides.pop(agent.name, None)
                print(f"{agent.name}: model from its file again")
            else:
                settings.model_overrides[agent.name] = words[2]
                print(f"{agent.name}: model {words[2]} for this session")
            return None
        if command == "usage":
            return report.usage(self.session)
        if command in ("tools", "workspace"):
            return _tools_command(settings, command, words[1:])
        if command == "reload":
            catalog = self.session.reload()
            print(reloaded(catalog, register_agents(self.shell, catalog)))
            return None
        if command == "reset":
            self.session.forget()
            print("conversations, threads and their schemas forgotten")
            return None
        raise UsageError(f"%agentnb {command}: unknown command. Try: status, record, recordings, model, usage, "
                         "reload, reset, tools, workspace.")


def _tools_command(settings, command: str, words: list[str]):
    if command == "tools":
        if len(words) != 1 or words[0] not in ("on", "off"):
            raise UsageError("%agentnb tools on|off")
        settings.tools = words[0] == "on"
        print(f"tools: {words[0]}")
        return None
    if len(words) != 1:
        raise UsageError("%agentnb workspace DIR")
    settings.workspace = Path(words[0])
    print(f"workspace: {words[0]}")
    return None


def reloaded(catalog, magics: list[str]) -> str:
    """What ``%agentnb reload`` found: the agents, their magics, the files skipped."""
    from agentnb.text import plural

    line = f"agent files read again: {plural(len(catalog.agents), 'agent')}"
    if magics:
        line += ", magics " + ", ".join(f"%%{m}" for m in magics)
    if catalog.errors:
        line += f"; {plural(len(catalog.errors), 'file')} skipped (%agents says why)"
    return line


def register_agents(shell, catalog) -> list[str]:
    """One cell magic per agent; returns the magic names. Prints one short warning for bad files."""
    from agentnb.catalog import magic_owner, taken_note

    magics = shell.magics_manager.registry.get("AgentMagics")
    names, taken = [], []
    for magic, agent in catalog.by_magic().items():
        owner = magic_owner(magic, shell)
        if owner:
            taken.append(taken_note(agent.name, magic, owner))
            continue          # never replace %%agent, %%bash, %%html...: %%agent NAME still reaches it

        def run(line, cell, _name=agent.name):
            return magics.run_cell(_name, line, cell)
        run._agentnb = True
        run.__doc__ = f"%%{magic} [options]: ask {agent.name} ({agent.description.strip()[:200]})\n\n{CELL_HELP}"
        shell.register_magic_function(run, magic_kind="cell", magic_name=magic)
        names.append(magic)
    if taken:
        print(f"agentnb: no magic of their own for {', '.join(taken)}: use %%agent NAME", file=sys.stderr)
    if catalog.errors:
        print(f"agentnb: {len(catalog.errors)} agent file(s) skipped: "
              + "; ".join(str(e.path) for e in catalog.errors) + " (%agents says why)", file=sys.stderr)
    if len(catalog.warnings) <= 3:
        for warning in catalog.warnings:
            print(f"agentnb: {warning}", file=sys.stderr)
    else:      # a big agent collection: one line here, the details in %agents
        print(f"agentnb: {len(catalog.warnings)} warnings about agent files (mostly a name defined in two "
              "files: the later one wins); %agents lists them", file=sys.stderr)
    return names


def load_ipython_extension(shell) -> None:
    shell.register_magics(AgentMagics)
    register_agents(shell, sessions.current().catalog)
    if getattr(shell, "kernel", None) is not None:
        # In a kernel (a person reading, typing a prompt), load the SDK meanwhile: importing it takes
        # about a second, which the first answer would otherwise wait for. Not in a plain IPython run.
        from agentnb.llm import preload

        preload.start()

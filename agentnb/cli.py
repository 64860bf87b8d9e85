"""The ``agentnb`` command: a skin over the same API as the magics."""

from __future__ import annotations

import argparse
import sys

from agentnb.errors import AgentnbError
from agentnb.settings import RECORD_MODES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentnb", description="Claude Code sub-agents, from notebooks "
                                     "and the terminal.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("agents", help="list and validate the agents found (exit 1 if a file is bad)")
    ask = sub.add_parser(
        "ask", help="ask an agent; the answer streams to the terminal (exit 1 when a check failed)",
        description="Ask an agent. The answer streams to standard output; warnings, the footer (tokens, "
                    "cost) and the checks of its artifacts go to standard error.",
        epilog="Exit status: 0 when the answer came and no check failed, 1 when a check failed, 2 for a "
               "usage, settings or API error, 130 when interrupted.")
    ask.add_argument("agent", help="the agent's name (agentnb agents lists them)")
    ask.add_argument("prompt", help="the prompt ('-' reads standard input)")
    ask.add_argument("--model", metavar="MODEL", help="model id or alias (sonnet, opus, haiku) for this call")
    ask.add_argument("--max-tokens", type=int, metavar="N", help="most tokens the answer may use")
    ask.add_argument("--no-stream", action="store_true", help="print the answer only once it is complete")
    ask.add_argument("--dry-run", action="store_true",
                     help="print the exact request and an estimate of its tokens and cost; send nothing")
    ask.add_argument("--record-mode", choices=RECORD_MODES,
                     help="once: replay, else call and record (default); none: replay only; all: call and "
                          "overwrite (default: AGENTNB_RECORD_MODE)")
    ask.add_argument("--no-check", action="store_true", help="skip the checks of the answer's artifacts")
    add_tools_arguments(ask)
    from agentnb.checks.node import SETUP   # cheap: the standard library only

    setup = sub.add_parser("setup", help="install what an optional check needs (Prisma's parser: npm)",
                           description="Install a check's npm package into AGENTNB_NODE_MODULES (default: "
                                       "~/.cache/agentnb/node), pinned, without running its install scripts.")
    setup.add_argument("tool", choices=sorted(SETUP), help="the check to enable")
    from agentnb.batch import plan   # cheap: papermill and nbformat are imported when a batch runs

    plan.add_arguments(sub.add_parser("run", help="run notebooks through papermill: grids, parallel jobs, "
                                                  "HTML reports and a summary"))
    return parser


def add_tools_arguments(ask) -> None:
    ask.add_argument("--tools", nargs="?", const="", default=None, metavar="LIST",
                     help="run in Claude Code with the agent's tools (LIST narrows them: Read,Grep)")
    ask.add_argument("--workspace", metavar="DIR", help="with --tools: the folder the agent works in")
    ask.add_argument("--add-dir", action="append", default=[], metavar="DIR")
    ask.add_argument("--permission-mode", metavar="MODE")
    ask.add_argument("--max-turns", type=int, metavar="N")
    ask.add_argument("--claude-settings", action="store_true")


def ask_with_tools(args, session, prompt: str) -> int:
    from agentnb.render.tools import ToolsTerminalRenderer
    from agentnb.tools.cell import ToolsOptions, parse_tool_list

    options = ToolsOptions(tools=parse_tool_list(args.tools), workspace=args.workspace, add_dirs=args.add_dir,
                           permission_mode=args.permission_mode, max_turns=args.max_turns,
                           claude_settings=args.claude_settings)
    response = session.ask(args.agent, prompt, model=args.model, renderer=ToolsTerminalRenderer(
        stream=not args.no_stream), check=not args.no_check, tools=options)
    return 1 if any(c.status == "failed" for c in response.checks) else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "agents":
            return cmd_agents()
        if args.command == "ask":
            return cmd_ask(args)
        if args.command == "setup":
            return cmd_setup(args.tool)
        if args.command == "run":
            from agentnb.batch import execute as runner

            return runner.main(args)
    except AgentnbError as err:
        print(f"agentnb: {terminal_words(str(err)) if args.command == 'ask' else err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nagentnb: interrupted", file=sys.stderr)
        return 130
    return 0


def cmd_setup(tool: str) -> int:
    from agentnb.checks import node

    try:
        spec, folder = node.install(tool)
    except (node.NodeUnavailable, node.NodeFailed) as err:
        print(f"agentnb: {err}", file=sys.stderr)
        return 1
    print(f"installed {spec} in {folder}")
    if node.find_node() is None:
        print("agentnb: no node on PATH (or AGENTNB_NODE): the check runs once Node.js is installed", file=sys.stderr)
    return 0


def cmd_agents() -> int:
    from agentnb.render.tables import agents_table
    from agentnb.session import current

    catalog = current().catalog
    print(agents_table(catalog))
    return 1 if catalog.errors else 0


# The session's messages are written for a notebook; in a terminal they name the command and its options.
_TERMINAL_WORDS = (
    (r"\b([Rr]un) the cell again", r"\1 the command again"),
    (r"in the environment the kernel starts from", "in the environment"),
    (r"\bcell starting ", "prompt starting "),
    (r"the cell text, agent and model", "the prompt, agent and model"),
    (r"AGENTNB_RECORD_MODE=once or %agentnb record once", "--record-mode once, or AGENTNB_RECORD_MODE=once"),
    (r" \(or %agentnb recordings DIR\)", ""),
    (r"--model MODEL on the cell, `%agentnb model [^`]*`, or", "--model MODEL, or"),
)


def terminal_words(message: str) -> str:
    import re

    for pattern, replacement in _TERMINAL_WORDS:
        message = re.sub(pattern, replacement, message)
    return message


def _terminal_renderer(stream: bool):
    from agentnb.render.live import TerminalRenderer

    class Terminal(TerminalRenderer):
        def finish(self, response) -> None:
            response.warnings[:] = [terminal_words(w) for w in response.warnings]
            super().finish(response)

        def checked(self, response) -> None:
            if len(response.artifacts):
                from agentnb.render.panel import panel_text

                print(panel_text(response), file=sys.stderr)

        def fail(self, error: BaseException, partial: str) -> None:
            # end the line the partial answer (or the terminal's ^C) left open; no blank line otherwise
            if partial and not self.stream:
                self.out.write(partial)
            if partial or isinstance(error, KeyboardInterrupt):
                self.out.write("\n")
            self.out.flush()

    return Terminal(stream=stream)


def cmd_ask(args) -> int:
    from agentnb.session import current

    session = current()
    if args.record_mode:
        session.settings.record_mode = args.record_mode
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if args.tools is not None and not args.dry_run:
        return ask_with_tools(args, session, prompt)
    if args.dry_run:
        dry = session.dry_run(args.agent, prompt, model=args.model, max_tokens=args.max_tokens)
        print(terminal_words(dry.text()))
        return 0
    try:
        response = session.ask(args.agent, prompt, model=args.model, max_tokens=args.max_tokens,
                               renderer=_terminal_renderer(not args.no_stream), check=not args.no_check)
    except KeyboardInterrupt:
        print("agentnb: interrupted", file=sys.stderr)     # the renderer ended the open line
        return 130
    return 1 if any(c.status == "failed" for c in response.checks) else 0


if __name__ == "__main__":
    sys.exit(main())

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
    ask = sub.add_parser("ask", help="ask an agent; the answer streams to the terminal")
    ask.add_argument("agent")
    ask.add_argument("prompt", help="the prompt ('-' reads standard input)")
    ask.add_argument("--model")
    ask.add_argument("--max-tokens", type=int)
    ask.add_argument("--no-stream", action="store_true")
    ask.add_argument("--dry-run", action="store_true")
    ask.add_argument("--record-mode", choices=RECORD_MODES)
    ask.add_argument("--no-check", action="store_true", help="skip the checks of the answer's artifacts")
    from agentnb.batch import plan   # cheap: papermill and nbformat are imported when a batch runs

    plan.add_arguments(sub.add_parser("run", help="run notebooks through papermill: grids, parallel jobs, "
                                                  "HTML reports and a summary"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "agents":
            return cmd_agents()
        if args.command == "ask":
            return cmd_ask(args)
        if args.command == "run":
            from agentnb.batch import execute as runner

            return runner.main(args)
    except AgentnbError as err:
        print(f"agentnb: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nagentnb: interrupted", file=sys.stderr)
        return 130
    return 0


def cmd_agents() -> int:
    from agentnb.render.tables import agents_table
    from agentnb.session import current

    catalog = current().catalog
    print(agents_table(catalog))
    return 1 if catalog.errors else 0


def checks_text(response) -> str:
    """The artifacts and checks for a terminal: each check's whole message, its first line after the
    check's name and its other lines indented below it (DuckDB's failing statements, hints)."""
    from agentnb.render import panel
    from agentnb.text import indent_rest

    kinds: dict[str, int] = {}
    for artifact in response.artifacts:
        kinds[artifact.kind] = kinds.get(artifact.kind, 0) + 1
    lines = ["artifacts: " + (", ".join(f"{n} {kind}" for kind, n in kinds.items()) or "none"),
             panel.checks_summary(response)]
    lines += [f"  {panel.STATUS_ICON.get(r.status, r.status)} {r.name}: {indent_rest(r.message, ' ' * 6)}"
              for r in response.checks]
    return "\n".join(lines)


def _terminal_renderer(stream: bool):
    from agentnb.render.live import TerminalRenderer

    class Terminal(TerminalRenderer):
        def checked(self, response) -> None:
            if len(response.artifacts):
                print(checks_text(response), file=sys.stderr)

    return Terminal(stream=stream)


def cmd_ask(args) -> int:
    from agentnb.session import current

    session = current()
    if args.record_mode:
        session.settings.record_mode = args.record_mode
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if args.dry_run:
        print(session.dry_run(args.agent, prompt, model=args.model, max_tokens=args.max_tokens)._repr_markdown_())
        return 0
    response = session.ask(args.agent, prompt, model=args.model, max_tokens=args.max_tokens,
                           renderer=_terminal_renderer(not args.no_stream), check=not args.no_check)
    return 1 if any(c.status == "failed" for c in response.checks) else 0


if __name__ == "__main__":
    sys.exit(main())

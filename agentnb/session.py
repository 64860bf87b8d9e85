"""A session: the agents found, their conversations, the settings and totals of one kernel or process.

``Session.ask`` is the one way through: cell text -> request -> stream -> response -> log. The magics,
the CLI and ``agentnb.ask`` all call it; they differ only in how they show the stream.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Callable, Protocol

from agentnb import settings as env_settings
from agentnb.agentfile import Agent
from agentnb.errors import AgentnbError, ConfigurationError
from agentnb.llm import models, preload
from agentnb.llm.conversation import Conversation, build_request
from agentnb.redact import redact
from agentnb.response import Response
from agentnb.settings import Settings
from agentnb.text import first_line
from agentnb.warmup import WarmUp


class Renderer(Protocol):
    """How a skin shows one call. Every method may be a no-op."""

    def start(self, replayed: bool) -> None: ...
    def text(self, delta: str) -> None: ...
    def finish(self, response: Response) -> None: ...
    def checked(self, response: Response) -> None: ...
    def fail(self, error: BaseException, partial: str) -> None: ...


@dataclass
class DryRun:
    """What ``--dry-run`` shows: the exact request, and what it would cost. Nothing is sent."""

    request: dict
    endpoint: str
    input_tokens_estimate: int
    max_cost_usd: float | None
    input_cost_usd: float | None
    notes: list[str] = field(default_factory=list)

    def _cost(self) -> str:
        return ("unknown (model without a price)" if self.input_cost_usd is None else
                f"input ~${self.input_cost_usd:.4f}; at most ${self.max_cost_usd:.4f} if the answer uses all "
                f"{self.request['max_tokens']:,} output tokens")

    def _body(self) -> str:
        import json

        return json.dumps(self.request, indent=2, ensure_ascii=False)

    def _repr_markdown_(self) -> str:
        notes = "".join(f"> ⚠️ {n}\n\n" for n in self.notes)
        body = self._body()
        fence = "````" if "```" in body else "```"
        return (f"{notes}**Dry run: nothing sent.** `POST {self.endpoint}` · model `{self.request['model']}` · "
                f"~{self.input_tokens_estimate:,} input tokens (estimate) · {self._cost()}\n\n"
                f"{fence}json\n{body}\n{fence}\n")

    def text(self) -> str:
        """The same as plain text, for a terminal: the summary line, the notes, then the request."""
        notes = "".join(f"warning: {n}\n" for n in self.notes)
        return (f"Dry run: nothing sent. POST {self.endpoint} · model {self.request['model']} · "
                f"~{self.input_tokens_estimate:,} input tokens (estimate) · {self._cost()}\n{notes}\n{self._body()}")

    def __repr__(self) -> str:
        return (f"<DryRun {self.request['model']} ~{self.input_tokens_estimate:,} input tokens, "
                f"{len(self.request['messages'])} messages>")


class Session:
    def __init__(self, settings: Settings | None = None, *, clock: Callable[[], dt.date] = dt.date.today):
        self.settings = settings or Settings()
        self.id = uuid.uuid4().hex[:12]
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.threads: dict[str, str] = {}          # agent -> current thread name
        self.billed_usd = 0.0
        self.notebook: str | None = env_settings.notebook_name()
        self.clock = clock                         # today's date, for model retirements (tests inject one)
        self._catalog = None
        self._client = None
        self.latest_schema: Conversation | None = None    # the conversation whose schema came last

    # -- agents -------------------------------------------------------------------------------------
    @property
    def catalog(self):
        if self._catalog is None:
            from agentnb.catalog import discover

            self._catalog = discover()
        return self._catalog

    def reload(self):
        self._catalog = None
        return self.catalog

    def agent(self, name_or_agent: str | Agent) -> Agent:
        if isinstance(name_or_agent, Agent):
            return name_or_agent
        return self.catalog.get(name_or_agent)

    # -- conversations ------------------------------------------------------------------------------
    def conversation(self, agent: str, thread: str | None = None, new: bool = False) -> Conversation:
        """The conversation a call with these options continues. Nothing is recorded here: a new one,
        or a switch of thread, takes effect when a call succeeds (see _commit)."""
        name = thread or self.threads.get(agent, "default")
        existing = self.conversations.get((agent, name))
        return Conversation(agent, name) if new or existing is None else existing

    def _commit(self, conversation: Conversation, dropped: int, prompt: list[dict], answer: str,
                stop_reason: str | None) -> None:
        """A call went through (or was interrupted with text shown): the conversation becomes current,
        leaves out the turns the request left out, and gets the new turn."""
        self.conversations[(conversation.agent, conversation.thread)] = conversation
        self.threads[conversation.agent] = conversation.thread
        if dropped:
            del conversation.turns[:dropped]
            conversation.dropped += dropped
        conversation.add(prompt, answer, stop_reason)

    def forget(self) -> None:
        """Every conversation, its thread and its schema (``%agentnb reset``); settings stay."""
        for conversation in self.conversations.values():
            if conversation.schema_db is not None:
                conversation.schema_db.close()
        self.conversations.clear()
        self.threads.clear()
        self.latest_schema = None

    # -- the call -----------------------------------------------------------------------------------
    def prepare(self, agent: Agent, prompt: str, *, model: str | None, thread: str | None, new: bool,
                max_tokens: int | None, context: list[dict] | None = None):
        choice = models.resolve(agent.name, agent.model, override=model,
                                session_override=self.settings.model_overrides.get(agent.name), clock=self.clock)
        tokens = max_tokens or self.settings.resolved_max_tokens()
        if tokens <= 0:
            raise ConfigurationError(f"--max-tokens {tokens}: give a positive number of tokens.")
        conversation = self.conversation(agent.name, thread, new)
        blocks = list(context or []) + [{"type": "text", "text": prompt}]
        body, notes, dropped = build_request(model=choice.model, system=agent.system_prompt,
                                             conversation=conversation, prompt=blocks, max_tokens=tokens)
        if choice.warning:
            notes.insert(0, choice.warning)
        notes += getattr(context, "notes", [])       # attach.Attached: what --with cut
        return body, blocks, conversation, notes, dropped

    def dry_run(self, agent: str | Agent, prompt: str, *, model: str | None = None, thread: str | None = None,
                new: bool = False, max_tokens: int | None = None, context: list[dict] | None = None) -> DryRun:
        agent = self.agent(agent)
        body, _, _, notes, _ = self.prepare(agent, prompt, model=model, thread=thread, new=new,
                                            max_tokens=max_tokens, context=context)
        from agentnb.llm import budget

        est = budget.input_estimate(body)
        input_cost, max_cost = budget.input_cost(body), budget.worst_cost(body)
        base = os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com").rstrip("/")
        return DryRun(body, f"{base}/v1/messages", est, max_cost, input_cost, notes)

    def ask(self, agent: str | Agent, prompt: str, *, model: str | None = None, thread: str | None = None,
            new: bool = False, max_tokens: int | None = None, context: list[dict] | None = None,
            renderer: Renderer | None = None, check: bool = True, fix: int = 0, tools=None,
            base_schema: str | None = None) -> Response:
        """Ask, stream, check. ``base_schema`` (DDL, from ``withdb.schema_from``) becomes the
        conversation's schema before the call: the answer's migrations are checked against it. With ``fix=N``, failed schema and migration checks are sent back to the
        agent as the next turn, up to N rounds, stopping as soon as they pass. With ``tools`` (a
        ``tools.cell.ToolsOptions``, or tools on in the settings) the agent runs in Claude Code."""
        preload.wait()           # the SDK's background import (a kernel's) ends before this thread imports it
        if tools is not None or self.settings.resolved_tools():
            return self._ask_tools(agent, prompt, model=model, thread=thread, new=new, context=context,
                                   renderer=renderer, check=check, tools=tools)
        response = self._ask_once(agent, prompt, model=model, thread=thread, new=new, max_tokens=max_tokens,
                                  context=context, renderer=renderer, check=check, base_schema=base_schema)
        rounds = 0
        while check and rounds < fix and response.check_report is not None:
            failures = response.check_report.failures(fixable_only=True)
            if not failures:
                break
            from agentnb.checks import fix_prompt

            rounds += 1
            # check messages quote what the checks ran into (a server's error, a file, the environment):
            # no credential of this process goes back to the API in them
            response = self._ask_once(agent, redact(fix_prompt(failures)), model=model, thread=response.thread,
                                      new=False, max_tokens=max_tokens, context=None, renderer=renderer, check=True)
            response.warnings.insert(0, f"--fix round {rounds} of {fix}: the previous answer's failed checks "
                                     "were sent back to the agent")
        return response

    def _ask_tools(self, agent, prompt, *, model, thread, new, context, renderer, check, tools) -> Response:
        from agentnb.tools import cell

        return cell.ask(self, agent, prompt, model=model, thread=thread, new=new, context=context,
                        renderer=renderer, check=check, options=tools or cell.ToolsOptions())

    def _ask_once(self, agent: str | Agent, prompt: str, *, model: str | None, thread: str | None, new: bool,
                  max_tokens: int | None, context: list[dict] | None, renderer: Renderer | None,
                  check: bool, base_schema: str | None = None) -> Response:
        from agentnb.llm.client import Client

        agent = self.agent(agent)
        body, blocks, conversation, notes, dropped = self.prepare(
            agent, prompt, model=model, thread=thread, new=new, max_tokens=max_tokens, context=context)
        if base_schema is not None:      # the existing database is the starting point from now on
            conversation.schema = base_schema
            conversation.from_database = True
            if conversation.schema_db is not None:
                conversation.schema_db.close()
                conversation.schema_db = None
        mode = self.settings.resolved_record_mode()
        recordings = self.settings.resolved_recordings()
        if self._client is None:
            self._client = Client()
        warm = WarmUp(check, _answer_format(agent), conversation.schema is not None)
        started = dt.datetime.now(dt.timezone.utc)
        call = _Call(self, started, agent, conversation, body, prompt)
        partial: list[str] = []

        def on_text(delta: str) -> None:
            warm.see(delta)
            partial.append(delta)
            if renderer:
                renderer.text(delta)

        try:
            call.live = self._client.will_call_live(body, mode=mode, recordings=recordings)
            if call.live:
                from agentnb.llm import budget

                call.max_cost_usd = budget.worst_cost(body)
                budget.check(body, session_spent=self.billed_usd, home=self.settings.resolved_home(),
                             worst=call.max_cost_usd)
            call.begin()
            result = self._client.stream(body, mode=mode, recordings=recordings, on_text=on_text,
                                         on_start=renderer.start if renderer else None,
                                         agent=agent.name, prompt_text=prompt)
        except KeyboardInterrupt:
            # keep what was shown and the conversation usable: the partial answer becomes the turn
            text = "".join(partial)
            self._commit(conversation, dropped, blocks, redact(text), "interrupted")
            call.end_quietly(text, error="interrupted")
            if renderer:
                renderer.fail(KeyboardInterrupt(), text)
            raise
        except AgentnbError as err:
            text = getattr(err, "partial_text", "") or "".join(partial)
            if call.begun:        # a call refused before it began (the budget) is not an exchange
                call.end_quietly(text, error=str(err), request_id=getattr(err, "request_id", None))
            if renderer:
                renderer.fail(err, text)
            raise
        # the history is sent again with every later turn: a credential the answer quoted stays out of it
        self._commit(conversation, dropped, blocks, redact(result.text), result.stop_reason)
        cost = models.cost(result.model, result.usage)
        if not result.replayed and cost:
            self.billed_usd += cost
        response = Response(
            text=result.text, agent=agent.name, model=result.model, thread=conversation.thread,
            stop_reason=result.stop_reason, usage=result.usage, cost_usd=cost, replayed=result.replayed,
            latency_s=result.latency_s, ttft_s=result.ttft_s,
            recording=result.recording.name if result.recording else None,
            warnings=notes, notebook_total_usd=self.billed_usd, prompt=prompt)
        try:
            call.end(result.text, result, cost)
        except AgentnbError as err:       # the answer is paid for: show it, and say why it is not logged
            response.warnings.append(f"not written to the session log: {err}")
        if renderer:
            renderer.finish(response)
        if check:
            self._check(agent, conversation, response)
            call.checked(response.check_report)
            if renderer:
                renderer.checked(response)
        return response

    def _check(self, agent: Agent, conversation: Conversation, response: Response) -> None:
        """Run the checks on the answer's artifacts, once the stream has ended."""
        from agentnb import checks

        try:
            report = checks.run(response.artifacts, answer_text=response.text, previous_ddl=conversation.schema,
                                required=_answer_format(agent))
        except Exception as err:     # a bug in a check must not take the answer (and -o VAR) with it
            from agentnb.checks.result import FAILED, CheckResult

            report = checks.CheckReport(rows=[CheckResult(
                "Checks", FAILED, f"the checks stopped on an internal error ({type(err).__name__}: {err}); "
                "the answer above is complete. Please report this with the answer.")])
        response.check_report = report
        if report.schema_valid and response.schema:
            conversation.schema = response.schema
            if report.duck is not None:
                self._keep_schema_db(conversation, report.duck.con)
        elif conversation.from_database and conversation.schema is not None:
            self._migrate_database(conversation, response, report)

    def _keep_schema_db(self, conversation: Conversation, con) -> None:
        if conversation.schema_db is not None and conversation.schema_db is not con:
            conversation.schema_db.close()
        conversation.schema_db = con
        self.latest_schema = conversation

    def _migrate_database(self, conversation: Conversation, response: Response, report) -> None:
        """A conversation started from an existing database (``--with-db``): without a schema of its own,
        the answer's migrations that passed are applied to the conversation's schema (the next answer
        starts from there), and ``schema_db()`` holds the result, or the schema as it was when DuckDB
        cannot apply them (said in the response's warnings)."""
        from agentnb.checks import duckdb as duck
        from agentnb.withdb import migrated_schema

        ddl, applied = migrated_schema(conversation.schema, response.artifacts, report.rows) \
            if not response.schema else (conversation.schema, [])
        if not applied and conversation.schema_db is not None:
            return
        loaded = duck.load(ddl)
        if applied and not loaded.ok:
            loaded.con.close()
            first = first_line(loaded.failures[0].message)
            response.warnings.append(f"schema_db() holds the schema without migration {', '.join(applied)}: "
                                     f"DuckDB could not apply it ({first})")
            if conversation.schema_db is not None:
                return
            loaded = duck.load(conversation.schema)
        elif applied:
            conversation.schema = ddl
        self._keep_schema_db(conversation, loaded.con)

    def schema_db(self, agent: str | None = None, thread: str | None = None):
        """A DuckDB connection holding the latest valid schema of a conversation (the latest of any
        conversation by default): the last schema an answer gave that passed its checks; in a
        conversation started from an existing database (``--with-db``), that database's schema with
        the migrations of later answers applied (those whose check did not fail)."""
        if agent is None:
            conversation = self.latest_schema
        else:
            name = self.agent(agent).name
            conversation = self.conversations.get((name, thread or self.threads.get(name, "default")))
        if conversation is None or conversation.schema_db is None:
            raise AgentnbError("No valid schema yet in this session: ask the agent for one (its DDL must pass "
                               "the checks), then call schema_db() again.")
        return conversation.schema_db


class _Call:
    """One call's two rows in the session log: ``started`` before anything is sent (so that a call
    killed mid-answer still counts toward the budget, at its maximum cost) and its outcome at the end."""

    def __init__(self, session: Session, started: dt.datetime, agent: Agent, conversation: Conversation,
                 body: dict, prompt: str):
        self.session, self.agent, self.conversation, self.body, self.prompt = session, agent, conversation, body, prompt
        self.time = started.isoformat(timespec="milliseconds")
        self.id = uuid.uuid4().hex
        self.live = False
        self.max_cost_usd: float | None = None     # set with live: the budget's worst case, in every row
        self.begun = False

    def _row(self, **fields):
        from agentnb import sessionlog

        row = dict(time=self.time, notebook=self.session.notebook, agent=self.agent.name,
                   thread=self.conversation.thread, model=self.body["model"], prompt=self.prompt,
                   replayed=not self.live, session=self.session.id, call_id=self.id,
                   max_cost_usd=self.max_cost_usd)
        return sessionlog.Exchange(**(row | fields))

    def _append(self, row) -> None:
        from agentnb import sessionlog

        sessionlog.append(row, home=self.session.settings.resolved_home())

    def begin(self) -> None:
        """The started row; a log that cannot be written stops a live call (it could not be counted)."""
        try:
            self._append(self._row(state="started"))
            self.begun = True
        except AgentnbError:
            if self.live and env_settings.budget_usd() is not None:
                raise
            # without a budget the log is a record, not a guard: the answer matters more (end() says why)

    def end(self, answer: str, result, cost: float | None) -> None:
        usage = result.usage
        self._append(self._row(
            state="done", model=result.model, replayed=result.replayed, answer=answer,
            stop_reason=result.stop_reason, cost_usd=cost, latency_s=result.latency_s, ttft_s=result.ttft_s,
            request_id=result.request_id, request_hash=result.recording.stem if result.recording else None,
            **{k: usage.get(k, 0) for k in models.USAGE_KEYS}))

    def checked(self, report) -> None:
        """The checks' counts, in a row of their own: the done row is written before they run, so that
        a check that never returns cannot keep a paid call out of the log."""
        from agentnb.checks.result import FAILED, PASSED

        rows = report.rows if report is not None else []
        try:
            self._append(self._row(state="checked", prompt="", checks_passed=sum(r.status == PASSED for r in rows),
                                   checks_failed=sum(r.status == FAILED for r in rows)))
        except AgentnbError as err:
            print(f"agentnb: the checks of this call are not in the session log: {err}", file=sys.stderr)

    def end_quietly(self, answer: str, error: str, request_id: str | None = None) -> None:
        """Log a failed or interrupted call; a log that cannot be written must not hide that error."""
        try:
            self._append(self._row(state="done", answer=answer, error=error, request_id=request_id))
        except AgentnbError as err:
            print(f"agentnb: this call is not in the session log: {err}", file=sys.stderr)


def _answer_format(agent: Agent) -> tuple[str, ...]:
    """What the agent file says each answer must contain (``answer-format``: a list or a comma string)."""
    required = agent.metadata.get("answer-format") or ()
    if isinstance(required, str):
        required = required.split(",")
    return tuple(str(part).strip() for part in required if str(part).strip())


_current: Session | None = None


def current() -> Session:
    global _current
    if _current is None:
        _current = Session()
    return _current


def reset() -> Session:
    """A fresh default session (tests, or ``%agentnb reset``)."""
    global _current
    _current = Session()
    return _current

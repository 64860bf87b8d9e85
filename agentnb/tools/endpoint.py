"""agentnb's own endpoint between the Claude Code CLI and the Messages API (the CLI's ANTHROPIC_BASE_URL).

It answers only ``POST /v1/messages`` (with or without ``?beta=true``) and only to the CLI it was made
for: the CLI holds a random token, never the user's key, which stays in this process and is added when a
request is forwarded. Each request is matched against the recordings folder on what is stable between
runs and machines (:func:`normalise`): no ids, dates, device or session ids, working folders, the CLI's
version line, timings inside tool results or a sub-agent's run id. Modes as for plain cells: ``once`` replays or forwards and
records, ``none`` only replays, ``all`` always forwards and overwrites.

The workspace's absolute path (and each ``--add-dir``) is stored as a placeholder, in the request that
names a recording and in the recorded answer, and put back on replay: a recording made in one folder
replays in another. Files use ``agentnb.llm.recording``'s format, and every string is redacted.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from agentnb.llm import recording
from agentnb.render.tools import TIMING, steady
from agentnb.redact import redact_data

WORKSPACE_MARK = "${AGENTNB_WORKSPACE}"
# Headers of the CLI's request that the endpoint does not pass on (its own auth, hop-by-hop ones).
DROPPED_HEADERS = {"host", "x-api-key", "authorization", "content-length", "connection", "accept-encoding",
                   "transfer-encoding", "keep-alive"}
_REMINDER = re.compile(r"\s*<system-reminder>.*?</system-reminder>\s*", re.S)
_BILLING = "x-anthropic-billing-header"


# -- matching -------------------------------------------------------------------------------------------

def roots_of(workspace: Path, add_dirs: list[Path] = ()) -> list[tuple[str, str]]:
    """(absolute path, placeholder) pairs, longest path first, for the workspace and each added folder
    (as given and resolved: /tmp and its symlink target both)."""
    pairs = []
    for index, folder in enumerate([workspace, *add_dirs]):
        mark = WORKSPACE_MARK if index == 0 else "${AGENTNB_ADD_DIR_%d}" % index
        for form in {str(Path(folder).absolute()), str(Path(folder).resolve())}:
            pairs.append((form.rstrip("/") or "/", mark))
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def to_marks(value, roots: list[tuple[str, str]]):
    """Every string of a JSON value with the absolute folders replaced by their placeholders."""
    return _walk(value, lambda s: _replace(s, [(a, m) for a, m in roots]))


def from_marks(value, roots: list[tuple[str, str]]):
    """The reverse of :func:`to_marks` for this run's folders (the first form of each placeholder)."""
    back: dict[str, str] = {}
    for path, mark in sorted(roots, key=lambda p: len(p[0])):
        back.setdefault(mark, path)
    return _walk(value, lambda s: _replace(s, [(m, p) for m, p in back.items()]))


def _replace(text: str, pairs) -> str:
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def _walk(value, fn):
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fn) for v in value]
    return value


def normalise(body: dict, roots: list[tuple[str, str]]) -> dict:
    """What of a CLI request decides its answer: model, the system prompt without the CLI's version
    line, the tool names, and the messages without reminders (dates, folders, token counters), with
    tool-use ids numbered in order, folders as placeholders and timings in tool results blanked."""
    if not isinstance(body, dict):
        return {"raw": body}
    ids: dict[str, str] = {}

    def tool_id(value):
        return ids.setdefault(str(value), f"toolu_{len(ids) + 1}")

    def text(value: str) -> str:
        return _REMINDER.sub("\n", value).strip()

    def result_text(value: str) -> str:
        return steady(TIMING.sub("<t>", text(value)))

    def block(b):
        if not isinstance(b, dict):
            return b
        b = {k: v for k, v in b.items() if k not in ("cache_control", "signature", "citations")}
        kind = b.get("type")
        if kind == "text":
            b["text"] = text(b.get("text", ""))
        elif kind == "tool_use":
            b["id"] = tool_id(b.get("id"))
        elif kind == "tool_result":
            b["tool_use_id"] = tool_id(b.get("tool_use_id"))
            content = b.get("content")
            if isinstance(content, str):
                b["content"] = result_text(content)
            elif isinstance(content, list):
                b["content"] = [({**c, "text": result_text(c.get("text", ""))}
                                 if isinstance(c, dict) and c.get("type") == "text" else block(c)) for c in content]
        return b

    messages = []
    for m in body.get("messages") or []:
        if not isinstance(m, dict) or m.get("role") == "system":
            continue       # the CLI's per-turn environment (folder, platform, model, date)
        content = m.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        blocks = [block(b) for b in content or []]
        blocks = [b for b in blocks if not (isinstance(b, dict) and b.get("type") == "text" and not b["text"])]
        messages.append({"role": m.get("role"), "content": blocks})
    system = body.get("system")
    if isinstance(system, list):
        system = [text(b.get("text", "")) for b in system
                  if isinstance(b, dict) and not str(b.get("text", "")).startswith(_BILLING)]
    elif isinstance(system, str):
        system = [text(system)]
    tools = sorted(str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict))
    return to_marks({"model": body.get("model"), "system": system, "tools": tools, "messages": messages}, roots)


def canonical(body: dict, roots) -> dict:
    """The recording's request: the normalised body, redacted (as ``recording`` hashes it)."""
    return redact_data({"method": "POST", "path": recording.MESSAGES_PATH, "body": normalise(body, roots)})


# -- what the engine learns from each request -----------------------------------------------------------

@dataclass
class Exchange:
    """One request of the loop: how it was answered and what it used."""

    step: int
    model: str
    recording: Path | None = None
    replayed: bool = False
    usage: dict = field(default_factory=dict)
    duration_s: float = 0.0
    request_id: str | None = None
    error: str | None = None          # why the endpoint refused or failed it
    missing: Path | None = None       # mode none and no recording for it
    answer: str = ""                  # the answer's text, and the tools it asked for (for the log)
    tool_uses: list[str] = field(default_factory=list)
    message_id: str | None = None     # the answer's id: the CLI's messages name it, with the sub-agent call
    teammate: str | None = None       # the sub-agent it was made for (told by its system prompt), if any
    arrived: float = field(default_factory=time.monotonic)   # when the CLI sent it
    call_id: str | None = None        # its session log row's id (tool call rows link to it)


def _answer_facts(events: list[dict]) -> tuple[dict, str | None, str | None]:
    """The usage, model and message id an answer's events carry."""
    usage: dict = {}
    model = message_id = None
    for e in events:
        data = e.get("data")
        if not isinstance(data, dict):
            continue
        if data.get("type") == "message_start":
            message = data.get("message") or {}
            model = message.get("model")
            message_id = message.get("id")
            usage.update({k: v for k, v in (message.get("usage") or {}).items() if isinstance(v, int)})
        elif data.get("type") == "message_delta":
            usage.update({k: v for k, v in (data.get("usage") or {}).items() if isinstance(v, int)})
    return usage, model, message_id


def _tool_uses(events: list[dict]) -> list[str]:
    """``Name(short input)`` for each tool_use block of an answer."""
    names: dict[int, str] = {}
    inputs: dict[int, str] = {}
    for e in events:
        data = e.get("data")
        if not isinstance(data, dict):
            continue
        block = data.get("content_block") or {}
        if data.get("type") == "content_block_start" and block.get("type") == "tool_use":
            names[data.get("index")] = str(block.get("name"))
        elif data.get("type") == "content_block_delta" and data.get("index") in names:
            inputs[data["index"]] = inputs.get(data["index"], "") + str((data.get("delta") or {}).get("partial_json", ""))
    return [f"{name}({inputs.get(i, '')[:100]})" for i, name in names.items()]


def coalesce(events: list[dict]) -> list[dict]:
    """Consecutive ``input_json_delta`` events of one block as one, so that a folder split across
    chunks is still found and replaced whole."""
    out: list[dict] = []
    for e in events:
        data = e.get("data")
        prev = out[-1]["data"] if out else None
        if (isinstance(data, dict) and data.get("type") == "content_block_delta"
                and (data.get("delta") or {}).get("type") == "input_json_delta"
                and isinstance(prev, dict) and prev.get("type") == "content_block_delta"
                and prev.get("index") == data.get("index")
                and (prev.get("delta") or {}).get("type") == "input_json_delta"):
            prev["delta"] = {**prev["delta"], "partial_json": prev["delta"].get("partial_json", "")
                             + data["delta"].get("partial_json", "")}
            continue
        out.append(json.loads(json.dumps(e)))
    return out


# -- the server -----------------------------------------------------------------------------------------

class Upstream:
    """Where live requests go and with which credentials (read by the ``anthropic`` SDK, as for plain
    cells). ``None`` headers: no credentials found."""

    def __init__(self):
        import anthropic

        client = anthropic.Anthropic(max_retries=0)
        self.base_url = str(client.base_url).rstrip("/")
        try:
            self.headers = {k: v for k, v in dict(client.auth_headers).items() if v}
        except Exception:       # no credentials at all
            self.headers = {}

    @property
    def available(self) -> bool:
        return bool(self.headers)


def _close(httpd: ThreadingHTTPServer) -> None:
    httpd.shutdown()
    httpd.server_close()


class Endpoint:
    """A local HTTP endpoint for one tools cell. ``guard(body)`` is called before any live request (the
    budget); raising refuses it. ``on_exchange`` is told of every request once answered. ``ready()`` is
    waited for before the first answer: no tool runs before it (the workspace's snapshot, taken while
    the CLI starts)."""

    def __init__(self, *, recordings: Path, mode: str, workspace: Path, add_dirs: list[Path] = (),
                 upstream: Upstream | None = None, guard: Callable[[dict], None] | None = None,
                 on_exchange: Callable[[Exchange], None] | None = None, teammates: dict[str, str] | None = None,
                 ready: Callable[[], object] | None = None):
        self.recordings = Path(recordings)
        self.mode = recording.record_mode(mode)
        self.roots = roots_of(workspace, list(add_dirs))
        self._upstream = upstream
        self.guard = guard
        self.on_exchange = on_exchange
        self.ready = ready
        # name -> the start of its system prompt: a sub-agent's requests carry its own (the CLI's stream
        # does not show every answer of a sub-agent, its last one only as the Agent call's result)
        self.teammates = {name: " ".join(prompt.split())[:200] for name, prompt in (teammates or {}).items()
                          if prompt and prompt.strip()}
        self.token = "agentnb-cli-" + secrets.token_hex(16)    # the CLI's key: only valid here
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        recording.remove_stale_temp_files(self.recordings)

    @property
    def upstream(self) -> Upstream:
        if self._upstream is None:
            self._upstream = Upstream()
        return self._upstream

    def start(self) -> "Endpoint":
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.endpoint = self
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         name="agentnb-tools-endpoint", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving, without waiting: its loop notices within its poll interval (up to 50 ms at the
        end of every cell otherwise), by when the CLI, the only client holding the token, has ended."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            threading.Thread(target=_close, args=(httpd,), name="agentnb-tools-endpoint-stop", daemon=True).start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def teammate_of(self, body: dict) -> str | None:
        system = body.get("system")
        if isinstance(system, list):
            system = " ".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
        system = " ".join(str(system or "").split())
        return next((name for name, start in self.teammates.items() if start in system), None)

    def _add(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)
        if self.on_exchange:
            try:
                self.on_exchange(exchange)
            except Exception:    # the engine's bookkeeping must not break the CLI's request
                pass

    def _next_step(self) -> int:
        with self._lock:
            self._steps = getattr(self, "_steps", 0) + 1
            return self._steps

    # -- one request --------------------------------------------------------------------------------
    def answer(self, handler: "_Handler", body: dict) -> None:
        if self.ready is not None:
            try:
                self.ready()
            except Exception:     # raised again where the caller asks for it after the loop
                pass
        step = self._next_step()
        exchange = Exchange(step=step, model=str(body.get("model", "")), teammate=self.teammate_of(body))
        request = canonical(body, self.roots)
        path = recording.recording_path(self.recordings, request)
        exchange.recording = path
        started = time.monotonic()
        if self.mode != "all" and path.is_file():
            exchange.replayed = True
            try:
                events = recording.load_events(path)
            except (OSError, ValueError, KeyError, TypeError) as err:
                exchange.error = f"recording {path} is unreadable ({type(err).__name__}); delete it to record again"
                handler.error(500, "api_error", exchange.error)
                self._add(exchange)
                return
            exchange.usage, model, exchange.message_id = _answer_facts(events)
            exchange.model = model or exchange.model
            exchange.answer, exchange.tool_uses = recording.answer_text(events), _tool_uses(events)
            exchange.duration_s = time.monotonic() - started
            # told before the CLI has the answer: what it does next (a consultation's end) sees it counted
            self._add(exchange)
            handler.stream_events(from_marks(events, self.roots))
            return
        if self.mode == "none":
            exchange.missing = path
            exchange.error = f"no recording for this request (step {step})"
            handler.error(400, "invalid_request_error", f"agentnb: {exchange.error}; record mode is 'none'")
            self._add(exchange)
            return
        if not self.upstream.available:
            exchange.error = "no credentials"
            exchange.missing = path
            handler.error(401, "authentication_error", "agentnb: no Anthropic credentials for a live call")
            self._add(exchange)
            return
        if self.guard is not None:
            try:
                self.guard(body)
            except Exception as err:
                exchange.error = str(err)
                handler.error(400, "invalid_request_error", f"agentnb refused this request: {err}")
                self._add(exchange)
                return
        self._forward(handler, body, exchange, request, path, started)

    def _forward(self, handler, body, exchange, request, path, started) -> None:
        import httpx2

        upstream = self.upstream
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in DROPPED_HEADERS}
        headers.update(upstream.headers)
        url = upstream.base_url + handler.path
        buffer = bytearray()
        try:
            with httpx2.Client(timeout=httpx2.Timeout(600.0, connect=30.0)) as client:
                with client.stream("POST", url, content=handler.raw, headers=headers) as response:
                    exchange.request_id = response.headers.get("request-id")
                    if not 200 <= response.status_code < 300:
                        data = response.read()
                        exchange.error = f"the API answered {response.status_code}"
                        handler.relay(response.status_code, response.headers.get("content-type", "application/json"),
                                      data, exchange.request_id)
                        self._add(exchange)
                        return
                    handler.begin_stream(response.headers.get("content-type", "text/event-stream"),
                                         exchange.request_id)
                    for chunk in response.iter_raw():
                        buffer += chunk
                        handler.chunk(chunk)
                    handler.end_stream()
        except httpx2.HTTPError as err:
            from agentnb.redact import redact

            exchange.error = f"could not reach {upstream.base_url} ({redact(str(err))})"
            if not buffer:
                handler.error(502, "api_error", f"agentnb: {exchange.error}")
            self._add(exchange)
            return
        events = recording.parse_sse(bytes(buffer))
        exchange.usage, model, exchange.message_id = _answer_facts(events)
        exchange.model = model or exchange.model
        exchange.answer, exchange.tool_uses = recording.answer_text(events), _tool_uses(events)
        exchange.duration_s = time.monotonic() - started
        if recording.complete(events):
            document = recording.events_document(request, coalesce(events), exchange.duration_s)
            try:
                recording.write_atomic(path, redact_data(to_marks(document, self.roots)))
            except OSError as err:
                exchange.error = (f"the answer arrived but its recording could not be written to {path} "
                                  f"({err.strerror or err})")
        self._add(exchange)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "agentnb-endpoint/1"

    def log_message(self, format, *args):     # quiet: the engine reports what matters
        pass

    def do_POST(self):
        endpoint: Endpoint = self.server.endpoint
        length = int(self.headers.get("Content-Length") or 0)
        self.raw = self.rfile.read(length) if length else b""
        key = self.headers.get("x-api-key") or self.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(key or "", endpoint.token):
            return self.error(401, "authentication_error", "agentnb endpoint: not this process's CLI")
        if self.path.split("?", 1)[0] != recording.MESSAGES_PATH:
            return self.error(404, "not_found_error", f"agentnb endpoint: only {recording.MESSAGES_PATH}")
        try:
            body = json.loads(self.raw)
        except ValueError:
            return self.error(400, "invalid_request_error", "agentnb endpoint: the body is not JSON")
        try:
            endpoint.answer(self, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        self.error(404, "not_found_error", "agentnb endpoint: only POST /v1/messages")

    def error(self, status: int, kind: str, message: str) -> None:
        data = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
        self.relay(status, "application/json", data, None)

    def relay(self, status: int, content_type: str, data: bytes, request_id: str | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if request_id:
            self.send_header("request-id", request_id)
        self.end_headers()
        self.wfile.write(data)

    def begin_stream(self, content_type: str, request_id: str | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        if request_id:
            self.send_header("request-id", request_id)
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def stream_events(self, events: list[dict]) -> None:
        self.begin_stream("text/event-stream", None)
        self.chunk(b"".join(recording.render_sse(e) for e in events))
        self.end_stream()

"""A local fake of Anthropic's Messages API, for tests, notebooks and benchmarks.

It speaks the wire protocol the real ``anthropic`` SDK expects, so the SDK itself is the client and
nothing of it is mocked::

    from agentnb.testing.server import MessagesServer, text, error

    with MessagesServer(api_key="test-key") as server:
        server.enqueue(text("Hello!"), error(529, times=3))
        client = anthropic.Anthropic(base_url=server.url, api_key="test-key")
        ...
        assert server.requests[0].headers["authorization"] == "Bearer test-key"

Endpoints: ``POST /v1/messages`` (SSE when ``"stream": true``, a JSON ``Message`` otherwise) and
``POST /v1/messages/count_tokens``. Anything else is a 404 with Anthropic's error body.

Replies come from a queue (``enqueue``), one per request; an empty queue gives a deterministic default
answer that echoes the prompt's first line and holds a fenced code block. Usage figures are estimated
(about 4 characters a token) and prompt caching is simulated from the ``cache_control`` breakpoints, so
``input_tokens + cache_creation_input_tokens + cache_read_input_tokens`` is always the request's size.

Run in the foreground with ``python -m agentnb.testing.server --port 8765 [--api-key K]
[--script replies.json]`` (a JSON list of ``{"kind": "text", "text": "..."}`` objects, the keys being
the factory functions' arguments).

Stdlib only: importing this module does not import the SDK.

One job, which stays one module: speaking HTTP and SSE as the API does (the handler and the server
that owns the queue); the scripted replies are in ``replies``, what it knows of requests in ``protocol``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

from agentnb.testing.protocol import (
    ApiError, PromptCache, RecordedRequest, count_input_tokens, default_reply_text, estimate_tokens, validate,
)
from agentnb.testing.replies import (
    ERROR_STATUS, Reply, cut, error, max_tokens, reply_from_dict, slow, stream_error, text, text_block, tool_use,
)

__all__ = [
    "MessagesServer",
    "RecordedRequest",
    "Reply",
    "text",
    "tool_use",
    "error",
    "stream_error",
    "cut",
    "slow",
    "max_tokens",
    "reply_from_dict",
    "estimate_tokens",
    "default_reply_text",
    "ERROR_STATUS",
    "count_input_tokens",
]

# --------------------------------------------------------------------------------------------------
# HTTP


class _Cut(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY each streamed call waits ~40 ms on delayed ACKs.
    disable_nagle_algorithm = True
    server_version = "agentnb-fake-messages/1"
    sys_version = ""
    server: "_HTTPServer"

    # -- plumbing ----------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    def _read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None,
                   outcome: str = "complete") -> None:
        data = json.dumps(obj).encode()
        # Recorded before the answer goes out, so a test that reads it right after the call sees it.
        if self._rec is not None:
            self._rec.status, self._rec.outcome = status, outcome
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", self._rid)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self._end_headers_buffered()
        self._out.append(data)
        self._flush()

    def _send_error(self, status: int, etype: str, message: str, headers: dict[str, str] | None = None) -> None:
        body = {"type": "error", "error": {"type": etype, "message": message}, "request_id": self._rid}
        self._send_json(status, body, headers, outcome="error")

    # -- dispatch ----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        owner = self.server.owner
        self._rid = owner._next_request_id()
        self._out: list[bytes] = []
        self._rec: RecordedRequest | None = None
        raw = self._read_body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = self.path.split("?", 1)[0]
        self._rec = owner._record(RecordedRequest(
            method=self.command, path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
            body=body, time=time.time(), request_id=self._rid, client_address=tuple(self.client_address[:2]),
        ))
        try:
            if self.command == "POST" and path == "/v1/messages":
                self._messages(body)
            elif self.command == "POST" and path == "/v1/messages/count_tokens":
                self._count_tokens(body)
            else:
                self._send_error(404, "not_found_error", f"Not found: {self.command} {path}")
        except ApiError as e:
            self._send_error(e.status, e.etype, e.message)
        except _Cut:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            # The client went away mid-answer (an interrupt, a closed stream) or the server stopped.
            self._rec.outcome = self._rec.outcome or "disconnected"
            self.close_connection = True

    def _check_auth(self) -> None:
        owner = self.server.owner
        key = self._rec.api_key if self._rec else None
        if key is None:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if owner.api_key is not None and key != owner.api_key:
            raise ApiError(401, "authentication_error", "invalid x-api-key")
        if "anthropic-version" not in self._rec.headers:
            raise ApiError(400, "invalid_request_error", "anthropic-version: header is required")

    def _check_model(self, body: dict[str, Any]) -> None:
        model = body.get("model")
        if self.server.owner._is_unknown_model(model):
            raise ApiError(404, "not_found_error", f"model: {model}")

    def _count_tokens(self, body: Any) -> None:
        self._check_auth()
        if not isinstance(body, dict) or "model" not in body or not body.get("messages"):
            raise ApiError(400, "invalid_request_error", "model and messages are required")
        self._check_model(body)
        self._send_json(200, {"input_tokens": count_input_tokens(body)})

    def _messages(self, body: Any) -> None:
        owner = self.server.owner
        self._check_auth()
        if owner.validate:
            validate(body)
        elif not isinstance(body, dict):
            raise ApiError(400, "invalid_request_error", "Request body must be a JSON object")
        self._check_model(body)
        reply = owner._next_reply(self._rec)
        if reply.kind == "error":
            self._send_error(reply.status, reply.error_type, reply.message, reply.headers)
            return
        streaming = bool(body.get("stream"))
        if not streaming:
            if reply.kind == "stream_error":
                self._send_error(reply.status, reply.error_type, reply.message)
                return
            if reply.kind == "cut":
                self._rec.outcome = "cut"
                self._abort()
        usage = owner._cache.usage(body)
        msg_id = owner._next_id("msg_")
        blocks = [dict(b) for b in (reply.blocks or [text_block(default_reply_text(body))])]
        for b in blocks:
            if b["type"] == "tool_use" and not b.get("id"):
                b["id"] = owner._next_id("toolu_")
        stop_reason = reply.stop_reason
        # Like the real API: an answer longer than max_tokens is truncated.
        limit = body.get("max_tokens")
        if owner.enforce_max_tokens and isinstance(limit, int) and reply.kind == "message":
            blocks, truncated = _truncate(blocks, limit)
            if truncated:
                stop_reason = "max_tokens"
        output_tokens = sum(_block_tokens(b) for b in blocks)
        model = body.get("model")
        if not streaming:
            if reply.delay:
                n = sum(len(_chunks(b, reply.chunk_size)) for b in blocks)
                if owner._stopping.wait(reply.delay * n):
                    raise _Cut()
            self._send_json(200, {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": blocks, "stop_reason": stop_reason, "stop_sequence": None,
                "usage": {**usage, "output_tokens": output_tokens},
            })
            return
        self._stream(reply, blocks, msg_id, model, usage, stop_reason, output_tokens)

    def _abort(self) -> None:
        self._flush()
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Cut()

    # -- SSE ---------------------------------------------------------------------------------------

    # Output is gathered and sent in one write when the answer pauses (a delay) or ends: one small
    # write per event costs a syscall and a TCP segment each, and the SDK parses the same bytes.

    def _end_headers_buffered(self) -> None:
        self._headers_buffer.append(b"\r\n")
        self._out.append(b"".join(self._headers_buffer))
        self._headers_buffer = []

    def _flush(self) -> None:
        if self._out:
            data, self._out = b"".join(self._out), []
            self.wfile.write(data)

    def _write_chunk(self, data: bytes) -> None:
        self._out.append(b"%x\r\n%s\r\n" % (len(data), data))

    def _event(self, name: str, data: dict[str, Any]) -> None:
        self._write_chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    def _end_body(self) -> None:
        self._out.append(b"0\r\n\r\n")
        self._flush()

    def _stream(self, reply: Reply, blocks: list[dict[str, Any]], msg_id: str, model: Any,
                usage: dict[str, int], stop_reason: str, output_tokens: int) -> None:
        owner = self.server.owner
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", self._rid)
        if reply.kind in ("cut", "stream_error"):
            # This connection will be closed after the body: say so, or the client's pool would
            # reuse it and its next request would find it dead.
            self.send_header("Connection", "close")
            self.close_connection = True
        self._end_headers_buffered()
        self._rec.status = 200
        self._event("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1},
        }})
        sent = 0
        for index, block in enumerate(blocks):
            start = dict(block)
            if start["type"] == "text":
                start["text"] = ""
            elif start["type"] == "tool_use":
                start["input"] = {}
            self._event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
            if index == 0:
                self._event("ping", {"type": "ping"})
            for delta in _chunks(block, reply.chunk_size):
                if reply.kind in ("cut", "stream_error") and sent >= reply.after_chunks:
                    self._interrupt(reply)
                if reply.delay:
                    self._flush()
                    if owner._stopping.wait(reply.delay):
                        raise _Cut()
                self._event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                sent += 1
            if reply.kind in ("cut", "stream_error") and sent >= reply.after_chunks:
                self._interrupt(reply)
            self._event("content_block_stop", {"type": "content_block_stop", "index": index})
        if reply.kind in ("cut", "stream_error"):
            self._interrupt(reply)
        self._event("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {**usage, "output_tokens": output_tokens},
        })
        self._rec.outcome = "complete"
        self._event("message_stop", {"type": "message_stop"})
        self._end_body()

    def _interrupt(self, reply: Reply) -> None:
        if reply.kind == "stream_error":
            self._rec.outcome = "stream_error"
            self._event("error", {"type": "error", "error": {"type": reply.error_type, "message": reply.message},
                                  "request_id": self._rid})
            self._end_body()
            self.close_connection = True
            raise _Cut()
        self._rec.outcome = "cut"
        if reply.abrupt:
            self._abort()
        self._end_body()
        self.close_connection = True
        raise _Cut()


def _chunks(block: dict[str, Any], size: int) -> list[dict[str, Any]]:
    size = max(1, size)
    if block["type"] == "text":
        s = block["text"]
        return [{"type": "text_delta", "text": s[i:i + size]} for i in range(0, len(s), size)]
    if block["type"] == "tool_use":
        s = json.dumps(block.get("input") or {})
        # The API opens with an empty partial_json, then the JSON in pieces.
        return [{"type": "input_json_delta", "partial_json": ""}] + [
            {"type": "input_json_delta", "partial_json": s[i:i + size]} for i in range(0, len(s), size)
        ]
    return []


def _block_tokens(block: dict[str, Any]) -> int:
    if block["type"] == "text":
        return estimate_tokens(block["text"])
    return estimate_tokens(json.dumps(block.get("input") or {})) + estimate_tokens(block.get("name", "")) + 10


def _truncate(blocks: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], bool]:
    out: list[dict[str, Any]] = []
    left = limit
    for b in blocks:
        need = _block_tokens(b)
        if need <= left:
            out.append(b)
            left -= need
            continue
        if b["type"] == "text" and left > 0:
            out.append({**b, "text": b["text"][: left * 4]})
        elif not out:
            out.append({"type": "text", "text": ""})
        return out, True
    return out, False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: "MessagesServer"


# --------------------------------------------------------------------------------------------------
# The server


class MessagesServer:
    """A threaded fake of the Messages API on ``host:port`` (port 0: an ephemeral one).

    - ``api_key``: when given, requests must carry it (``Authorization: Bearer`` or ``x-api-key``);
      otherwise any key is accepted, but one must be there. Either way, a failure is a 401.
    - ``unknown_models``: model names answered with 404 ``not_found_error`` ``"model: X"``; or a
      callable ``model -> bool``. Retired models (``claude-sonnet-4-5-20250929``) are served.
    - ``handler``: a callable ``RecordedRequest -> Reply | None`` consulted before the queue.
    - ``min_cache_tokens``: a prefix shorter than this is not cached (the real minimum is 1,024-4,096
      tokens depending on the model; 0 here so small test prompts cache).
    - ``enforce_max_tokens``: truncate answers longer than the request's ``max_tokens`` and report
      ``stop_reason="max_tokens"``, as the API does.
    - ``validate``: reject requests the API rejects (missing fields, more than 4 breakpoints,
      ``tool_use`` without a matching ``tool_result``) with 400 ``invalid_request_error``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        unknown_models: Iterable[str] | Callable[[str], bool] = (),
        handler: Callable[[RecordedRequest], Reply | None] | None = None,
        replies: Iterable[Reply] = (),
        min_cache_tokens: int = 0,
        enforce_max_tokens: bool = True,
        validate: bool = True,
        verbose: bool = False,
    ) -> None:
        self.host, self.port = host, port
        self.api_key = api_key
        self.unknown_models = unknown_models if callable(unknown_models) else set(unknown_models)
        self.handler = handler
        self.enforce_max_tokens = enforce_max_tokens
        self.validate = validate
        self.verbose = verbose
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._cache = PromptCache(min_cache_tokens)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.enqueue(*replies)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> "MessagesServer":
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"agentnb-fake-messages:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._connections)
        for c in conns:  # idle keep-alive and in-flight connections: end them now
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None

    close = stop

    def __enter__(self) -> "MessagesServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until KeyboardInterrupt."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def url(self) -> str:
        """The base URL for the SDK (``base_url=`` or ``ANTHROPIC_BASE_URL``)."""
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point an SDK client (e.g. in a papermill kernel) here."""
        return {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": self.api_key or "test-key"}

    def client(self, **kwargs: Any) -> Any:
        """A real ``anthropic.Anthropic`` client for this server (``max_retries=0`` unless given)."""
        import anthropic

        kwargs.setdefault("api_key", self.api_key or "test-key")
        kwargs.setdefault("max_retries", 0)
        return anthropic.Anthropic(base_url=self.url, **kwargs)

    # -- scripting ---------------------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies, answered in order, one per ``/v1/messages`` request (or ``times`` each)."""
        with self._lock:
            for r in replies:
                if not isinstance(r, Reply):
                    raise TypeError(f"expected a Reply (from text(), error(), ...), got {r!r}")
                self._queue.append(dataclasses.replace(r))

    def load_script(self, path: str) -> None:
        """Queue the replies of a JSON file holding a list of :func:`reply_from_dict` objects."""
        with open(path, encoding="utf-8") as f:
            self.enqueue(*(reply_from_dict(d) for d in json.load(f)))

    @property
    def pending(self) -> int:
        """How many queued replies are left."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget the queue, the recorded requests and the prompt cache."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
        self._cache.clear()

    def clear_cache(self) -> None:
        self._cache.clear()

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The recorded ``POST /v1/messages`` requests."""
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"]

    @property
    def last_request(self) -> RecordedRequest | None:
        with self._lock:
            return self.requests[-1] if self.requests else None

    # -- used by the handler -----------------------------------------------------------------------

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _record(self, rec: RecordedRequest) -> RecordedRequest:
        with self._lock:
            self.requests.append(rec)
        return rec

    def _next_request_id(self) -> str:
        return self._next_id("req_")

    def _next_id(self, prefix: str) -> str:
        n = next(self._ids)
        return f"{prefix}fake{n:020d}"

    def _is_unknown_model(self, model: Any) -> bool:
        if callable(self.unknown_models):
            return bool(self.unknown_models(model))
        return model in self.unknown_models

    def _next_reply(self, rec: RecordedRequest) -> Reply:
        if self.handler is not None:
            r = self.handler(rec)
            if r is not None:
                return r
        with self._lock:
            if not self._queue:
                return Reply()
            r = self._queue[0]
            if r.times is not None:
                r.times -= 1
                if r.times <= 0:
                    self._queue.popleft()
            return r


# --------------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m agentnb.testing.server",
        description="Run agentnb's fake Anthropic Messages API in the foreground.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 for an ephemeral port (default 8765)")
    p.add_argument("--api-key", default=None, help="require this key (default: accept any)")
    p.add_argument("--script", default=None, help="JSON file: a list of replies, e.g. [{\"kind\": \"text\", \"text\": \"Hi\"}]")
    p.add_argument("--unknown-model", action="append", default=[], help="answer this model with 404 (repeatable)")
    p.add_argument("--min-cache-tokens", type=int, default=0)
    p.add_argument("-v", "--verbose", action="store_true", help="log each request to stderr")
    args = p.parse_args(argv)
    server = MessagesServer(
        args.host, args.port, api_key=args.api_key, unknown_models=args.unknown_model,
        min_cache_tokens=args.min_cache_tokens, verbose=args.verbose,
    )
    if args.script:
        server.load_script(args.script)
    server.start()
    print(server.url, flush=True)
    print(f"# fake Messages API; ANTHROPIC_BASE_URL={server.url}; Ctrl-C to stop", file=sys.stderr, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

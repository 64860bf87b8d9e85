"""Record and replay at the HTTP transport, so that a replay runs the very same SDK code as a live call.

``RecordingTransport`` wraps the real transport (as httpx's ``MockTransport`` and llm's ``_LogTransport``
do): in mode ``once`` it serves a recorded exchange when one exists and otherwise calls the network and
writes one; ``none`` only serves; ``all`` always calls and overwrites.

One human-readable JSON file per exchange, named by a hash of the canonical request (method, path and
JSON body; headers are left out, so credentials never reach the key nor the file). Streamed answers keep
their server-sent events one per entry and are replayed event by event. Every string of a recording,
request and answer alike, goes through :func:`agentnb.redact.redact_data` before it is hashed or written.

The transport records and replays, nothing else: whether a call may be made (the budget) is the
session's decision, taken before the call with :func:`recorded`, which says whether a request has a
recording.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator

import anthropic
import httpx2

from agentnb.redact import redact_data
from agentnb.text import without_surrogates
from agentnb.settings import record_mode

FORMAT = 1
MESSAGES_PATH = "/v1/messages"
# Response headers worth keeping; everything else (cookies, rate-limit counters, dates) varies or leaks.
KEPT_HEADERS = ("content-type", "request-id")


class MissingRecording(anthropic.AnthropicError):
    """Mode ``none`` and no file for this request. An SDK error type, so the SDK raises it as is
    instead of retrying it as a connection failure; agentnb's client turns it into its own error."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"no recording at {path}")


class NoCredentials(anthropic.AnthropicError):
    """A live call was needed but the SDK found no credentials (agentnb lent it a placeholder so that
    replays work without a key; the placeholder never leaves this process)."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__("no credentials for a live call")


def canonical_request(method: str, path: str, body: bytes) -> dict:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = body.decode("utf-8", "replace")
    return _canonical(method, path, parsed)


def _canonical(method: str, path: str, body) -> dict:
    # redacted before hashing: the file holds exactly what its name is the hash of, and a request that
    # differs only by a credential replays the same recording
    return redact_data({"method": method.upper(), "path": path, "body": body})


def request_hash(canonical: dict) -> str:
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate in a prompt still hashes (valid text hashes as it always did)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def recording_path(directory: Path, canonical: dict) -> Path:
    return directory / f"{request_hash(canonical)[:24]}.json"


def recorded(directory: str | Path, body: dict, *, path: str = MESSAGES_PATH, stream: bool = True) -> Path | None:
    """The recording of a Messages call with this JSON ``body``, if there is one. The body is what the
    SDK sends: ``messages.stream(**body)`` adds ``"stream": true``; ``path`` is the request's URL path
    (``/v1/messages`` unless the base URL has a path of its own)."""
    sent = {**body, "stream": True} if stream else body
    file = recording_path(Path(directory), _canonical("POST", path, json.loads(json.dumps(sent))))
    return file if file.is_file() else None


def parse_sse(data: bytes) -> list[dict]:
    """Server-sent events as ``{"event": ..., "data": <parsed JSON or text>}`` entries."""
    events = []
    for block in data.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, lines = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                lines.append(line[5:].lstrip(" "))
        payload = "\n".join(lines)
        try:
            value = json.loads(payload)
        except ValueError:
            value = payload
        events.append({"event": event, "data": value})
    return events


def render_sse(event: dict) -> bytes:
    data = event["data"]
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event['event']}\n" if event.get("event") else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode("utf-8")


def dumps(document: dict) -> str:
    """Indented JSON, except that each server-sent event stays on one line: readable, and a tenth of
    the size of indenting every event."""
    events = document.get("response", {}).get("events")
    if events is None:
        return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    marker = "\u0000events\u0000"
    shell = {**document, "response": {**document["response"], "events": marker}}
    lines = ",\n".join("   " + json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events)
    text = json.dumps(shell, indent=1, ensure_ascii=False)
    return text.replace(json.dumps(marker), "[\n" + lines + "\n  ]") + "\n"


def _valid_unicode(value):
    """Every string of a JSON value without lone surrogates (a file must be valid UTF-8)."""
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {_valid_unicode(k): _valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_valid_unicode(v) for v in value]
    return value


TEMP_PREFIX = ".tmp-"
# A temporary file untouched this long before this process started belongs to a writer that died (a
# write takes milliseconds); younger ones may be another live process's, mid-write.
STALE_AFTER_S = 60.0
_PROCESS_START = time.time()


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete what killed writers left (``.tmp-*.json``, which ``write_atomic`` cannot clean up after a
    SIGKILL); returns what was deleted."""
    removed = []
    try:
        candidates = list(directory.glob(f"{TEMP_PREFIX}*.json"))
    except OSError:
        return removed
    for file in candidates:
        try:
            if file.stat().st_mtime < _PROCESS_START - STALE_AFTER_S:
                file.unlink()
                removed.append(file)
        except OSError:          # gone already (another process cleaned it), or not ours to delete
            continue
    return removed


def write_atomic(path: Path, document: dict) -> None:
    # parallel runs share the directory: write aside, then rename over
    document = _valid_unicode(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dumps(document))
        os.chmod(tmp, 0o644)     # mkstemp makes it private; recordings are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def answer_text(events: list[dict]) -> str:
    """The text an answer's events stream (what a reader of the recording looks for)."""
    parts = []
    for e in events:
        data = e.get("data")
        if isinstance(data, dict) and data.get("type") == "content_block_delta":
            delta = data.get("delta") or {}
            parts.append(delta.get("text") or "")
    return "".join(parts)


def events_document(request: dict, events: list[dict], duration_s: float, headers: dict | None = None) -> dict:
    """A recording of a streamed answer: the canonical request, the answer's events one per entry (replayed
    event by event) and its text for people reading the file. The caller redacts and writes it."""
    return {
        "agentnb_recording": FORMAT,
        "request": request,
        "response": {"status": 200, "headers": dict(headers or {"content-type": "text/event-stream"}),
                     "events": events},
        "duration_s": round(duration_s, 3),
        "answer": answer_text(events),      # for people reading the file; not replayed
    }


def complete(events: list[dict]) -> bool:
    """Whether a stream reached its end: a cut stream is not an answer worth replaying."""
    return any(e.get("event") == "message_stop" for e in events)


def load_events(path: Path) -> list[dict]:
    """The events of a recorded streamed answer. Raises OSError, ValueError, KeyError or TypeError for a
    file that is not one."""
    events = json.loads(Path(path).read_text(encoding="utf-8"))["response"]["events"]
    if not isinstance(events, list):
        raise TypeError("response.events is not a list")
    return events


class _EventStream(httpx2.SyncByteStream):
    def __init__(self, chunks: list[bytes]):
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


class _TeeStream(httpx2.SyncByteStream):
    """Passes the live bytes through as they come and writes the recording once the body is whole."""

    def __init__(self, inner: httpx2.SyncByteStream, on_complete):
        self._inner = inner
        self._on_complete = on_complete
        self._buffer = bytearray()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._buffer += chunk
            yield chunk
        self._on_complete(bytes(self._buffer))

    def close(self) -> None:
        self._inner.close()


class RecordingTransport(httpx2.BaseTransport):
    def __init__(self, directory: str | Path, mode: str = "once", *, inner: httpx2.BaseTransport | None = None,
                 live_allowed: bool = True):
        self.directory = Path(directory)
        self.mode = record_mode(mode)
        self.live_allowed = live_allowed
        self._inner = inner
        remove_stale_temp_files(self.directory)     # once per folder and process: the transport is kept

    @property
    def inner(self) -> httpx2.BaseTransport:
        if self._inner is None:
            # the SDK's public default (its own client uses the same limits)
            self._inner = httpx2.HTTPTransport(limits=anthropic.DEFAULT_CONNECTION_LIMITS)
        return self._inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        canonical = canonical_request(request.method, request.url.path, request.read())
        path = recording_path(self.directory, canonical)
        if self.mode != "all" and path.is_file():
            return self._replay(path, request)
        if self.mode == "none":
            raise MissingRecording(path)
        if not self.live_allowed:
            raise NoCredentials(path)
        started = time.monotonic()
        response = self.inner.handle_request(request)
        if not 200 <= response.status_code < 300:
            return response    # errors are not recorded: a replay must not repeat a passing outage

        def save(body: bytes) -> None:
            content_type = response.headers.get("content-type", "")
            headers = {k: response.headers[k] for k in KEPT_HEADERS if k in response.headers}
            duration = time.monotonic() - started
            if content_type.startswith("text/event-stream"):
                events = parse_sse(body)
                if not complete(events):
                    return
                document = events_document(canonical, events, duration, headers)
            else:
                document = {"agentnb_recording": FORMAT, "request": canonical,
                            "response": {"status": response.status_code, "headers": headers},
                            "duration_s": round(duration, 3)}
                try:
                    document["response"]["json"] = json.loads(body)
                except ValueError:
                    document["response"]["text"] = body.decode("utf-8", "replace")
            document = redact_data(document)     # the answer may quote a credential the prompt held
            try:
                write_atomic(path, document)
            except OSError as err:
                from agentnb.errors import AgentnbError

                raise AgentnbError(f"The answer arrived but its recording could not be written to {path} "
                                   f"({err.strerror or err}). Make that folder writable, or point "
                                   "AGENTNB_RECORDINGS (or %agentnb recordings DIR) at one that is, and run the "
                                   "cell again.") from None

        headers = httpx2.Headers(response.headers)
        headers["x-agentnb-recording"] = path.name
        return httpx2.Response(status_code=response.status_code, headers=headers,
                               stream=_TeeStream(response.stream, save), extensions=response.extensions,
                               request=request)

    def _replay(self, path: Path, request: httpx2.Request) -> httpx2.Response:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            recorded = document["response"]
            headers = dict(recorded.get("headers") or {})
            if "events" in recorded:
                chunks = [render_sse(e) for e in recorded["events"]]
                headers.setdefault("content-type", "text/event-stream")
            elif "json" in recorded:
                chunks = [json.dumps(recorded["json"], ensure_ascii=False).encode("utf-8")]
                headers.setdefault("content-type", "application/json")
            else:
                chunks = [str(recorded.get("text", "")).encode("utf-8")]
            status = int(recorded.get("status", 200))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise anthropic.AnthropicError(
                f"recording {path} is unreadable ({type(err).__name__}: {err}); delete it to record again") from None
        headers["x-agentnb-replayed"] = path.name
        return httpx2.Response(status_code=status, headers=headers, stream=_EventStream(chunks), request=request)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()

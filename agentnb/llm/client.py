"""The one place agentnb talks to the ``anthropic`` SDK: building the client, streaming a call, and
translating the SDK's exceptions into agentnb's own (as httpx's ``map_httpcore_exceptions`` does).

The SDK is imported here and only here, on the first call: never at import or ``%load_ext`` time.
Credentials and endpoint are read by the SDK itself (``ANTHROPIC_API_KEY``, ``ANTHROPIC_AUTH_TOKEN``,
``ANTHROPIC_BASE_URL``, its credential files); agentnb never overrides them.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from agentnb.errors import APIError, CredentialsError, ModelError, RecordingMissingError, StreamInterrupted
from agentnb.llm.models import USAGE_KEYS
from agentnb.redact import redact
from agentnb.text import without_surrogates

# Lent to the SDK when it finds no credentials, so that replays need no key. The recording transport
# refuses to send it anywhere (NoCredentials).
PLACEHOLDER_KEY = "agentnb-no-credentials"


@dataclass
class CallResult:
    text: str
    stop_reason: str | None
    model: str
    usage: dict
    replayed: bool
    recording: Path | None
    latency_s: float
    ttft_s: float | None
    request_id: str | None = None     # the API's id for this call, what support asks for


class Client:
    """An SDK client per (record mode, recordings folder), made on first use."""

    def __init__(self):
        self._clients: dict[tuple, tuple] = {}

    def sdk(self, mode: str, recordings: Path):
        """The SDK client and its recording transport for this mode and folder."""
        key = (mode, str(recordings))
        if key not in self._clients:
            self._clients[key] = _make_sdk_client(mode, recordings)
        return self._clients[key]

    def will_call_live(self, body: dict, *, mode: str, recordings: Path) -> bool:
        """Whether sending ``body`` would reach the API (and cost money) rather than replay a recording.
        Asked before the call, so that the session can refuse a live call before anything is sent."""
        if mode == "none":
            return False
        if mode == "all":
            return True
        from urllib.parse import urlsplit

        from agentnb.llm import recording

        client, _ = self.sdk(mode, recordings)
        # the request's URL path, as the transport sees it (a base URL may carry a path of its own)
        path = urlsplit(str(client.base_url).rstrip("/") + recording.MESSAGES_PATH).path
        return recording.recorded(recordings, body, path=path) is None

    def stream(self, body: dict, *, mode: str, recordings: Path, on_text: Callable[[str], None] | None = None,
               on_start: Callable[[bool], None] | None = None, agent: str | None = None,
               prompt_text: str | None = None) -> CallResult:
        """Send ``body`` as a streamed Messages call; ``on_text`` gets each text delta as it arrives and
        ``on_start(replayed)`` is called once the response headers are in. A failure raises agentnb's
        own error, naming the API's request id when the API gave one."""
        seen: dict = {}
        try:
            return self._stream(body, mode=mode, recordings=recordings, on_text=on_text, on_start=on_start,
                                agent=agent, prompt_text=prompt_text, seen=seen)
        except APIError as err:
            raise err.tag(seen.get("request_id")) from None

    def _stream(self, body: dict, *, mode: str, recordings: Path, on_text, on_start, agent, prompt_text,
                seen: dict) -> CallResult:
        import anthropic
        import httpx2

        from agentnb.llm import recording

        client, _ = self.sdk(mode, recordings)
        started = time.monotonic()
        ttft = None
        parts: list[str] = []
        saw_stop = False
        replayed = False
        recording_file: Path | None = None
        request_id = None
        try:
            with warnings.catch_warnings():
                # agentnb says it once, with the replacement; the SDK would repeat it every call
                warnings.simplefilter("ignore", DeprecationWarning)
                with client.messages.stream(**body) as stream:
                    headers = stream.response.headers
                    replayed = "x-agentnb-replayed" in headers
                    name = headers.get("x-agentnb-recording") or headers.get("x-agentnb-replayed")
                    recording_file = Path(recordings, name) if name else None
                    request_id = seen["request_id"] = headers.get("request-id")
                    if on_start:
                        on_start(replayed)
                    for event in stream:
                        if event.type == "text":
                            if ttft is None:
                                ttft = time.monotonic() - started
                            # a lone surrogate (valid JSON, invalid text) must not cost the answer
                            delta = without_surrogates(event.text)
                            parts.append(delta)
                            if on_text:
                                on_text(delta)
                        elif event.type == "message_stop":
                            saw_stop = True
                    message = stream.current_message_snapshot
        except recording.MissingRecording as err:
            raise RecordingMissingError(err.path, agent=agent, cell=redact(prompt_text or "")) from None
        except recording.NoCredentials:
            raise CredentialsError(
                "No Anthropic credentials for a live call. Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) "
                "in the environment the kernel starts from, or replay recorded answers: put them in "
                f"{recordings} and set AGENTNB_RECORD_MODE=none.") from None
        except httpx2.TransportError as err:
            # a connection dropped mid-body surfaces raw from the SDK's stream iterator
            raise StreamInterrupted(
                f"The connection dropped mid-answer ({redact(str(err))}) after {len(''.join(parts)):,} "
                "characters. The partial answer is shown above and was not added to the conversation; run the "
                "cell again.", kind="connection", partial_text="".join(parts)) from None
        except anthropic.APIStatusError as err:
            raise _status_error(err, body["model"], "".join(parts)) from None
        except anthropic.APITimeoutError:
            raise APIError(f"The request to {client.base_url} timed out (after the SDK's retries). "
                           "Try again, or lower --max-tokens.", kind="timeout", partial_text="".join(parts)) from None
        except anthropic.APIConnectionError as err:
            cause = err.__cause__
            detail = f" ({redact(str(cause))})" if cause else ""
            raise APIError(f"Could not reach {client.base_url}{detail} after the SDK's retries. Check the "
                           "network or ANTHROPIC_BASE_URL; offline, replay recordings with "
                           "AGENTNB_RECORD_MODE=none.", kind="connection", partial_text="".join(parts)) from None
        except anthropic.AnthropicError as err:      # an unreadable recording, or an SDK error of its own
            raise APIError(redact(str(err)), kind=type(err).__name__, partial_text="".join(parts)) from None
        text = "".join(parts)
        if not saw_stop:
            raise StreamInterrupted(
                f"The answer stream ended before the model finished ({len(text):,} characters received). "
                "The partial answer is shown above and was not added to the conversation; run the cell "
                "again.", kind="stream_cut", partial_text=text)
        usage = message.usage.model_dump() if message.usage else {}
        return CallResult(
            text=text, stop_reason=message.stop_reason, model=message.model or body["model"],
            usage={k: usage.get(k) or 0 for k in USAGE_KEYS},
            replayed=replayed, recording=recording_file, latency_s=time.monotonic() - started, ttft_s=ttft,
            request_id=request_id)


def _status_error(err, model: str, partial: str) -> APIError:
    import anthropic

    detail = redact(_error_message(err))
    status = err.status_code
    request_id = getattr(err, "request_id", None)
    kind = getattr(err, "type", None) or _error_type(err)
    if isinstance(err, anthropic.AuthenticationError):
        return APIError(f"Authentication failed ({detail}). Check ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN.",
                        request_id=request_id, status=status, kind="authentication")
    if isinstance(err, anthropic.PermissionDeniedError):
        return APIError(f"Permission denied: {detail}", request_id=request_id, status=status, kind="permission")
    if isinstance(err, anthropic.NotFoundError) and "model" in detail.lower():
        return ModelError(f"The API does not know model {model!r} ({detail}). Choose another with --model "
                          "MODEL, `%agentnb model AGENT MODEL` or AGENTNB_MODEL.")
    if isinstance(err, anthropic.RateLimitError):
        return APIError(f"Rate limited after the SDK's retries ({detail}). Wait a minute and run the cell "
                        "again.", request_id=request_id, status=status, kind="rate_limit", partial_text=partial)
    if status == 529 or kind == "overloaded_error":
        return APIError(f"The API is overloaded ({detail}), even after the SDK's retries. Run the cell again "
                        "in a moment.", request_id=request_id, status=status, kind="overloaded",
                        partial_text=partial)
    if isinstance(err, anthropic.BadRequestError):
        return APIError(f"The API refused the request: {detail}", request_id=request_id, status=status,
                        kind="bad_request")
    if status == 200:
        return APIError(f"The API reported an error mid-answer ({kind}: {detail}). The partial answer is "
                        "shown above; run the cell again.", request_id=request_id, status=status, kind=kind,
                        partial_text=partial)
    return APIError(f"The API answered {status} ({detail}).", request_id=request_id, status=status, kind=kind,
                    partial_text=partial)


def _error_type(err) -> str | None:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return inner.get("type")
    return None


def _error_message(err) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(err, "message", err))


def _make_sdk_client(mode: str, recordings: Path):
    import anthropic

    from agentnb.llm.recording import RecordingTransport

    transport = RecordingTransport(recordings, mode)
    http_client = anthropic.DefaultHttpxClient(transport=transport)
    client = anthropic.Anthropic(http_client=http_client)
    if client.api_key is None and client.auth_token is None and client.credentials is None:
        transport.live_allowed = False
        client = anthropic.Anthropic(http_client=http_client, api_key=PLACEHOLDER_KEY)
    return client, transport

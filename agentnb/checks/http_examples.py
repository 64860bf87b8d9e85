"""Request examples written in an answer: curl and HTTPie commands (continuation lines joined, pipes
and ``&&`` chains split, options that take a value skipped) and raw ``GET /path HTTP/1.1`` lines, each
as (answer line, tool, METHOD, url); and matching an example's path against OpenAPI path templates.
"""

from __future__ import annotations

import re
import shlex

from agentnb.artifacts import Artifact

__all__ = ["LOCAL_HOSTS", "example_requests", "match_path", "url_path"]

_METHODS_UPPER = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "::1", "host.docker.internal"}


def url_path(url: str) -> tuple[str | None, str | None]:
    """(path, host) of an example URL; host None for a variable base (``$BASE_URL/x``) or a bare path.
    Path None when nothing usable is left (``$URL`` alone)."""
    url = url.strip().strip("'\"")
    host = None
    m = re.match(r"^(?:\$\{?\w+\}?|\{\{\s*\w+\s*\}\}|<[\w-]+>)(.*)$", url)      # $BASE_URL, {{baseUrl}}
    if m:
        url = m.group(1)
        if not url:
            return None, None
    else:
        m = re.match(r"^(?:[a-z][\w+.-]*://)?([^/?#\s]*)(.*)$", url, re.I)
        if url.startswith(":"):                                   # HTTPie: :3000/loans
            host, url = "localhost", re.sub(r"^:\d*", "", url)
        elif url.startswith("/"):
            pass
        elif m:
            host, url = m.group(1).split("@")[-1].rsplit(":", 1)[0].lower() or None, m.group(2)
    path = re.split(r"[?#]", url, maxsplit=1)[0] or "/"
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path, host


# curl options that take a value (the next argument); the others are flags.
_CURL_ARG_SHORT = set("HdXuoAbceFmwxKrETCYyPQtUz")
_CURL_ARG_LONG = {
    "--header", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii", "--json",
    "--request", "--user", "--output", "--user-agent", "--cookie", "--cookie-jar", "--referer",
    "--cert", "--key", "--cacert", "--capath", "--form", "--form-string", "--max-time",
    "--connect-timeout", "--write-out", "--proxy", "--config", "--range", "--upload-file",
    "--retry", "--retry-delay", "--retry-max-time", "--resolve", "--connect-to", "--oauth2-bearer",
    "--url", "--limit-rate", "--max-filesize", "--interface", "--dns-servers", "--unix-socket",
    "--aws-sigv4", "--variable", "--expand-url", "--expand-data", "--expand-header", "--url-query",
    "--output-dir", "--trace", "--trace-ascii", "--stderr", "--proto", "--proto-redir",
    "--time-cond", "--local-port", "--speed-limit", "--speed-time",
}
_CURL_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii",
              "--json", "-F", "--form", "--form-string"}
_HTTPIE_ARG = {"-a", "--auth", "-A", "--auth-type", "-o", "--output", "--session",
               "--session-read-only", "--verify", "--cert", "--cert-key", "--proxy", "--timeout",
               "-p", "--print", "--pretty", "-s", "--style", "--max-redirects", "--default-scheme",
               "--boundary", "--format-options", "--response-charset", "--response-mime", "-P",
               "--history-print", "--ssl", "--ciphers", "--raw"}



_CURL_SAME = {"-X": "--request", "-T": "--upload-file", "-I": "--head", "-G": "--get"}


def _curl_options(args: list[str]):
    """curl's arguments as ``(option, value)`` pairs (bundled short flags apart, values taken from the
    next argument where curl takes them), and ``(None, argument)`` for a positional one."""
    i = 0
    while i < len(args):
        tok = args[i]
        if tok.startswith("--"):
            name, eq, value = tok.partition("=")
            if name in _CURL_ARG_LONG and not eq:
                i += 1
                value = args[i] if i < len(args) else ""
            yield name, value
        elif tok.startswith("-") and len(tok) > 1:
            for k in range(1, len(tok)):
                if tok[k] not in _CURL_ARG_SHORT:
                    yield "-" + tok[k], ""
                    continue
                value = tok[k + 1:]
                if not value:
                    i += 1
                    value = args[i] if i < len(args) else ""
                yield "-" + tok[k], value
                break
        else:
            yield None, tok
        i += 1


def _parse_curl(args: list[str]) -> tuple[str, str] | None:
    method, url, data, head, get = None, None, False, False, False
    for name, value in _curl_options(args):
        name = _CURL_SAME.get(name, name)
        if name is None:
            url = url or value
        elif name == "--request":
            method = value.upper()
        elif name == "--url":
            url = value
        elif name == "--upload-file":
            method = method or "PUT"
        elif name == "--head":
            head = True
        elif name == "--get":
            get = True
        data = data or name in _CURL_DATA
    if url is None:
        return None
    if method is None:
        method = "HEAD" if head else "GET" if get else "POST" if data else "GET"
    return method, url


def _parse_httpie(args: list[str]) -> tuple[str, str] | None:
    positional, form = [], False
    i = 0
    while i < len(args):
        tok = args[i]
        if tok.startswith("-") and len(tok) > 1 and not positional:
            name = tok.partition("=")[0]
            if name in ("-f", "--form", "--multipart"):
                form = True
            elif name in _HTTPIE_ARG and "=" not in tok:
                i += 1
        elif tok.startswith("-") and len(tok) > 1:
            pass
        else:
            positional.append(tok)
        i += 1
    if not positional:
        return None
    method = None
    if positional[0].upper() in _METHODS_UPPER and positional[0].isupper() and len(positional) > 1:
        method, positional = positional[0], positional[1:]
    url, items = positional[0], positional[1:]
    if method is None:
        has_data = any(re.match(r"^[^=:@]+(?::=|=(?!=)|@)", it) and not re.match(r"^[\w-]+:(?!=)", it)
                       for it in items)
        method = "POST" if has_data or form else "GET"
    return method, url


_SPLIT = {"|", "||", "&&", ";", "(", ")", "&", "$(", "`"}


def example_requests(a: Artifact) -> list[tuple[int, str, str, str]]:
    """[(answer line, tool, METHOD, url)] for the curl / HTTPie / raw HTTP requests of a block."""
    found: list[tuple[int, str, str, str]] = []
    lines = a.code.split("\n")
    k = 0
    while k < len(lines):
        start = k
        text = lines[k]
        while text.rstrip().endswith("\\") and k + 1 < len(lines):
            k += 1
            text = text.rstrip()[:-1] + " " + lines[k]
        k += 1
        stripped = re.sub(r"^\s*(?:\$|>|PS>|%)\s+", "", text)
        if not stripped.strip() or stripped.lstrip().startswith("#"):
            continue
        lineno = a.line + start
        raw = re.match(r"^\s*(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE)\s+(\S+)(?:\s+HTTP/[\d.]+)?\s*$",
                       stripped)
        if raw:
            found.append((lineno, "http", raw.group(1), raw.group(2)))
            continue
        if not re.search(r"\b(?:curl|https?|xh|xhs)\b", stripped):
            continue
        try:
            lexer = shlex.shlex(stripped, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            tokens = stripped.split()
        commands, current = [], []
        for tok in tokens:
            if tok in _SPLIT or set(tok) <= set("|&;()"):
                commands.append(current)
                current = []
            else:
                current.append(tok)
        commands.append(current)
        for cmd in commands:
            while cmd and re.match(r"^\w+=", cmd[0]) and not cmd[0].startswith(("http", "curl")):
                cmd = cmd[1:]                                     # FOO=bar curl ...
            if not cmd:
                continue
            prog = cmd[0].rsplit("/", 1)[-1]
            if prog == "curl":
                req = _parse_curl(cmd[1:])
                tool = "curl"
            elif prog in ("http", "https", "xh", "xhs"):
                req = _parse_httpie(cmd[1:])
                tool = "HTTPie"
            else:
                continue
            if req:
                found.append((lineno, tool, req[0], req[1]))
    return found


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}/]+\})", template.rstrip("/") or "/")
    rx = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p) for p in parts)
    return re.compile("^" + rx + "/?$")


def _example_segment_is_variable(seg: str) -> bool:
    return bool(re.match(r"^(?:\$\{?\w+\}?|\{\{?\s*\w+\s*\}?\}|<[^>]+>|:\w+)$", seg))


def match_path(path: str, templates: list[str]) -> list[str]:
    """The templates ``path`` matches; ``$ID``, ``{id}``, ``<id>``, ``:id`` segments match a parameter."""
    matches = []
    segs = path.strip("/").split("/") if path != "/" else []
    for t in templates:
        if _template_regex(t).match(path):
            matches.append(t)
            continue
        tsegs = t.strip("/").split("/") if t.strip("/") else []
        if len(tsegs) == len(segs) and any(_example_segment_is_variable(s) for s in segs) and all(
                s == ts or (ts.startswith("{") and ts.endswith("}"))
                or (_example_segment_is_variable(s) and ts.startswith("{")) for s, ts in zip(segs, tsegs)):
            matches.append(t)
    return matches

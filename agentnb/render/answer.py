"""The answer as a notebook shows it: the model's Markdown, notes above it, a footer below it (model,
tokens, cost), and dollar signs kept literal."""

from __future__ import annotations

import html
import re

from agentnb.render import metadata

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
DOLLAR = '<span class="mathjax_ignore">&#36;</span>'
_ESCAPED_DOLLAR = re.compile(r"(\\*)\$")


def escape_dollars(markdown: str) -> str:
    """``$`` outside fenced blocks and inline code becomes an HTML dollar that MathJax ignores, so that
    JupyterLab shows prices and shell variables as written. (A backslash is not enough: JupyterLab 4.6
    typesets the text between two ``\\$`` all the same; its ignore class is what holds, trusted or not.)"""
    out, fence = [], None
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and not line.strip()[len(match.group(1)):].strip():
            fence = None
        elif fence is None and "$" in line:
            parts = re.split(r"(`+[^`]*`+)", line)      # inline code spans keep their dollars
            line = "".join(p if p.startswith("`") else _ESCAPED_DOLLAR.sub(_dollar, p) for p in parts)
        out.append(line)
    return "\n".join(out)


def _dollar(match: re.Match) -> str:
    # "\$" is Markdown's own escape: its backslash would also escape the "<" of the span, which then
    # shows as text. An odd run of backslashes ends with that escape: drop it, keep the escaped pairs.
    slashes = match.group(1)
    return (slashes[:-1] if len(slashes) % 2 else slashes) + DOLLAR


def box_code_blocks(markdown: str) -> str:
    """Each fenced block at the left margin becomes a highlighted ``<pre>`` with a border and a
    background, so that consecutive blocks (up and down migrations, curl examples) do not read as prose.
    Markdown cannot style a fence, and a ``<div>`` around one does not hold: nbconvert's export re-parses
    each raw HTML block alone and closes the div at once. A ``<pre>`` block is whole, blank lines and all.
    Indented fences (in a list item) and Mermaid diagrams (JupyterLab draws them) stay fences."""
    from agentnb.render.code import boxed_pre

    out, fence, boxed, language, body = [], None, False, "", []
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if fence is None:
            info = line[match.end():].strip().split() if match else []
            if match and not (match.group(1)[0] == "`" and "`" in line[match.end():]):
                fence, language, body = match.group(1), (info or [""])[0].lower(), []
                boxed = not line.startswith(" ") and language != "mermaid"
                if boxed:
                    continue
            out.append(line)
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and not line.strip()[len(match.group(1)):].strip():
            out += ["", boxed_pre("\n".join(body), language), ""] if boxed else [line]
            fence = None
        elif boxed:
            body.append(line)
        else:
            out.append(line)
    if fence is not None and boxed:             # an unclosed fence runs to the end of the answer
        out += ["", boxed_pre("\n".join(body), language), ""]
    return "\n".join(out)


def footer(response) -> str:
    """Model, tokens in (cache writes and reads), tokens out, cost, and the notebook's billed total."""
    u = response.usage
    parts = [response.model,
             f"in {response.input_tokens:,} (cache write {u.get('cache_creation_input_tokens', 0):,}, "
             f"cache read {u.get('cache_read_input_tokens', 0):,})",
             f"out {u.get('output_tokens', 0):,}"]
    if response.cost_usd is None:
        parts.append("cost unknown")
    elif response.replayed:
        parts.append(f"${response.cost_usd:.4f} at list price, replayed: not billed")
    else:
        parts.append(f"${response.cost_usd:.4f}")
    if response.notebook_total_usd is not None:
        parts.append(f"notebook ${response.notebook_total_usd:.4f} billed")
    return " · ".join(parts)


def notes(response) -> list[str]:
    """Warnings shown above the answer (and on stderr in a terminal)."""
    shown = list(response.warnings)
    if response.truncated:
        shown.append("the answer stopped at max_tokens: it is incomplete. Run again with a larger "
                     "--max-tokens, or ask the agent to continue.")
    return shown


def answer_markdown(response) -> str:
    """The answer for a Markdown renderer: notes, the text, a footer. Dollar signs outside code are
    escaped, or JupyterLab would typeset the text between two of them as mathematics."""
    above = "".join(f"> ⚠️ {escape_dollars(n)}\n\n" for n in notes(response))
    # MathJax typesets the page after Markdown, entities decoded: only its ignore class keeps the
    # footer's dollars literal (checked in JupyterLab 4.6, trusted and untrusted)
    return f"{above}{box_code_blocks(escape_dollars(response.text))}\n\n---\n{small(footer(response))}\n"


def small(text: str) -> str:
    """One line of small print whose dollars stay dollars."""
    return f'<sub class="mathjax_ignore">{html.escape(text).replace("$", "&#36;")}</sub>'


def plain(response) -> str:
    return f"{response.text}\n\n-- {footer(response)}"


def answer_bundle(response) -> tuple[dict, dict]:
    """The answer's output: Markdown, its text/plain form, and the call's usage and cost as metadata."""
    return {"text/markdown": answer_markdown(response), "text/plain": plain(response)}, metadata.for_answer(response)

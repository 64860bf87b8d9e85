"""Code as HTML: Pygments highlighting with inline styles (JupyterLab's sanitizer keeps them, an exported
file needs no stylesheet) in colours that read on JupyterLab's light and dark themes alike."""

from __future__ import annotations

LEXERS = {"sql": "postgresql", "python": "python", "typescript": "typescript", "javascript": "javascript",
          "yaml": "yaml", "json": "json", "bash": "bash", "shell": "bash", "sh": "bash", "prisma": "text",
          "graphql": "graphql", "dockerfile": "docker", "dotenv": "bash", "tsx": "tsx", "jsx": "jsx"}
GREY = "#808080"
# a box whose border and background are translucent grey: visible on a light and on a dark background
BOX = ("border:1px solid rgba(128,128,128,0.45);border-radius:4px;background-color:rgba(128,128,128,0.1);"
       "padding:6px 8px")
# lines as written: a long one scrolls, none is cut mid-word
PRE = "margin:0;white-space:pre;font-family:monospace"

_STYLE = None


def neutral_style():
    """A Pygments style whose colours have a contrast of 3:1 or more on white and on #111111 (JupyterLab
    Dark); plain text inherits the theme's colour."""
    global _STYLE
    if _STYLE is None:
        from pygments.style import Style
        from pygments.token import Comment, Error, Generic, Keyword, Name, Number, Operator, String

        class Neutral(Style):
            background_color = ""
            styles = {Comment: f"italic {GREY}", Keyword: "bold #9c4fd6", Keyword.Type: "#0f8a8a",
                      Operator.Word: "bold #9c4fd6", Name.Builtin: "#b8690f", Name.Function: "#3b73c8",
                      Name.Class: "bold #3b73c8", Name.Decorator: "#b8690f", Name.Tag: "bold #2a8ec0",
                      Name.Attribute: "#b8690f", Name.Exception: "bold #e53935", String: "#3a8a3a",
                      String.Escape: "bold #b8690f", Number: "#1a7fa0", Error: "#e53935",
                      Generic.Deleted: "#e53935", Generic.Inserted: "#3a8a3a", Generic.Heading: "bold",
                      Generic.Emph: "italic", Generic.Strong: "bold"}
        _STYLE = Neutral
    return _STYLE


def spans(code: str, language: str) -> str:
    """The highlighted code as styled ``<span>`` elements, without a wrapping element."""
    from pygments import highlight as _highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(LEXERS.get(language, language or "text"))
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    return _highlight(code, lexer, HtmlFormatter(noclasses=True, nobackground=True, nowrap=True,
                                                 style=neutral_style()))


def highlight(code: str, language: str) -> str:
    """The code in a ``<pre>``, highlighted."""
    return f"<pre style='{PRE}'>{spans(code, language)}</pre>"


def boxed_pre(code: str, language: str) -> str:
    """The code in a ``<pre>`` that is its own box, scrolling sideways, for Markdown: a raw HTML block
    that starts with ``<pre`` runs to ``</pre>``, blank lines included (CommonMark, marked, mistune).
    Dollars are entities: JupyterLab looks for mathematics in the Markdown source, code included."""
    return (f"<pre style='{BOX};margin:8px 0;white-space:pre;font-family:monospace;overflow-x:auto'>"
            f"{spans(code, language).rstrip(chr(10)).replace('$', '&#36;')}</pre>")



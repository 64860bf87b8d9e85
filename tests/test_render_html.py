"""The answer's Markdown and the panel's HTML as strings: what a browser test would be slow to pin down
(the rendered page itself is judged in tests/test_jupyterlab.py)."""

from __future__ import annotations

import re

from agentnb.render import answer

DOLLAR = answer.DOLLAR


def test_an_escaped_dollar_loses_its_backslash_not_the_span():
    # "\$5" would become "\<span ...>": Markdown then shows the tag as text
    assert answer.escape_dollars("costs \\$5 a day") == f"costs {DOLLAR}5 a day"
    # an escaped backslash before a dollar stays a backslash
    assert answer.escape_dollars("a \\\\$ b") == f"a \\\\{DOLLAR} b"
    assert answer.escape_dollars("`\\$x` and $y") == f"`\\$x` and {DOLLAR}y"


def test_escaped_dollars_render_as_dollars_in_markdown():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rendered = markdown2html_mistune(answer.escape_dollars("Une amende coûte \\$5 et 10 $ au plus."))
    text = re.sub(r"<[^>]+>", "", rendered)
    assert "coûte $5 et 10 $ au plus" in text and "span" not in text and "\\" not in text


def export_markdown(markdown: str) -> str:
    """Markdown as nbconvert's HTML export renders an output (images embedded, as `agentnb run` does)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    return MarkdownWithMath(renderer=IPythonRenderer(escape=False, embed_images=True)).render(markdown)


def test_each_fenced_block_is_a_box_and_lists_and_mermaid_keep_their_fences():
    markdown = ("Up:\n```sql\nCREATE TABLE a (id int);\n\n-- costs $5\n```\n```sql\nDROP TABLE a;\n```\n"
                "- a step\n\n  ```bash\n  curl -X GET http://x\n  ```\n- next step\n\n"
                "```mermaid\nerDiagram\n```\n")
    boxed = answer.box_code_blocks(markdown)
    rendered = export_markdown(boxed)
    # two boxes, whole (the blank line inside the first does not end it), dollars kept out of MathJax
    assert "-- costs &#36;5" in boxed
    boxes = re.findall(r'<pre style="border:1px solid[^"]*">(.*?)</pre>', rendered, re.S)
    assert len(boxes) == 2 and "CREATE" in boxes[0] and "-- costs $5" in boxes[0] and "DROP" in boxes[1]
    # the list's block stays in its item, the list goes on; Mermaid stays a fence for JupyterLab to draw
    assert re.search(r"<li>.*curl.*GET.*</li>\s*<li><p>next step", rendered, re.S)
    assert "```mermaid\nerDiagram\n```" in boxed and boxed.count("```") == 4


def test_an_unclosed_fence_is_boxed_to_the_end():
    boxed = answer.box_code_blocks("text\n~~~~python\nprint(1)\n")
    assert re.fullmatch(r"text\n\n<pre style='border[^']*'>.*print.*\(.*1.*\).*</pre>\n", boxed, re.S)

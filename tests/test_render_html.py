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


def test_each_fenced_block_gets_a_box_and_lists_keep_their_blocks():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    markdown = ("Up:\n```sql\nCREATE TABLE a (id int);\n```\n```sql\nDROP TABLE a;\n```\n"
                "- a step\n\n  ```bash\n  curl -X GET http://x\n  ```\n- next step\n")
    boxed = answer.box_code_blocks(markdown)
    assert boxed.count(answer.CODE_BOX) == 2
    rendered = markdown2html_mistune(boxed)
    # two boxes, each around one <pre>; the list's block stays in its item, the list goes on
    assert len(re.findall(r'<div style="border:1px solid[^"]*">\s*<div class="highlight"><pre', rendered)) == 2
    assert re.search(r"<li>.*curl.*GET.*</li>\s*<li><p>next step", rendered, re.S)
    assert "```" not in rendered


def test_an_unclosed_fence_is_closed_with_its_box():
    boxed = answer.box_code_blocks("text\n~~~~python\nprint(1)\n")
    assert boxed.rstrip().endswith("~~~~\n\n</div>")

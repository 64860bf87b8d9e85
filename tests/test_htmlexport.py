"""The lean HTML export says what nbconvert's own says, attributes included."""

from __future__ import annotations

import re
from html import unescape

import nbformat
from nbconvert import HTMLExporter

from agentnb.batch.htmlexport import _lean_exporter_class


def notebook():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print('x')")
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<div>panel <img src='data:image/png;base64,iVBORw0KGgo='></div>", "text/plain": "p"}),
        nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\nSome **text** and `$x`."), code]
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


def words(html: str) -> list[str]:
    """The visible words; entities decoded (BeautifulSoup writes ¶ where nbconvert's template has &#182;)."""
    html = re.sub(r"<style.*?</style>|<script.*?</script>", "", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html)).split()


def test_same_text_and_the_same_accessibility_attributes():
    standard, _ = HTMLExporter(embed_images=True).from_notebook_node(notebook())
    lean, _ = _lean_exporter_class()(embed_images=True).from_notebook_node(notebook())
    assert words(lean) == words(standard)
    assert lean.count('tabindex="0"') == standard.count('tabindex="0"') > 0
    assert lean.count("No description has been provided for this image") == \
        standard.count("No description has been provided for this image") == 1

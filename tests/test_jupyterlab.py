"""The answer, its panel and its ER diagram as JupyterLab shows them, in a real JupyterLab and a real
headless Chromium (see ``jupyterlab_page``), in the notebook's two states: trusted (the user ran it) and
untrusted (an ``agentnb run`` output, a shipped notebook: its HTML goes through JupyterLab's sanitizer).
Screenshots are written to ``AGENTNB_SCREENSHOTS`` when it names a folder, for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from jupyterlab_page import Lab, browser, chromium_or_skip, open_notebook

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
LONG_WORD = "reservations_book_id_fkey_constraint"


def library_response():
    """The design session's six-table library answer, its schema as DuckDB reflects it (no PostgreSQL
    needed), a ``\\$`` in its prose, and check rows of every status, two failed."""
    from agentnb.checks import CheckReport
    from agentnb.checks import duckdb as duckschema
    from agentnb.checks.result import CheckResult
    from agentnb.response import Response

    text = (REPO / "data" / "answers" / "design_session" / "02.md").read_text()
    text += "\n\nUne amende coûte \\$5 par jour de retard.\n"
    response = Response(text=text, agent="backend-dev", model="claude-sonnet-5-5",
                        usage={"input_tokens": 1200, "output_tokens": 300}, cost_usd=0.0125)
    rows = [CheckResult("SQL syntax", "passed", "12 statements"),
            CheckResult("Schema on PostgreSQL", "failed",
                        f'relation "loans" does not exist\nLINE 10: REFERENCES {LONG_WORD} (id)'),
            CheckResult("Schema on DuckDB", "skipped", "no DuckDB"),
            CheckResult("OpenAPI contract", "passed", "valid OpenAPI 3.1"),
            CheckResult("No hard-coded secrets", "failed", "app.py line 3: a key")]
    response.check_report = CheckReport(rows=rows, schema=duckschema.load(response.schema).schema)
    return response


def notebook(response) -> dict:
    """One cell with the outputs the magics display for ``response``: answer, panel, Mermaid diagram."""
    from agentnb.render import answer, panel

    outputs = [nbformat.v4.new_output("display_data", data=data, metadata=meta) for data, meta in (
        answer.answer_bundle(response), panel.panel_bundle(response), panel.erd_bundle(response.schema_model))]
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("%%backend_dev\nA lending library.")
    cell.outputs = outputs
    nb.cells.append(cell)
    probe = nbformat.v4.new_code_cell("probe")        # an inline <svg> shows only in a trusted notebook
    probe.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<div class='trust-probe'><svg width='4' height='4'></svg></div>", "text/plain": "probe"})]
    nb.cells.append(probe)
    return nb


def screenshot(page, name: str) -> None:
    """Pictures of the parts judged: the answer's code blocks and dollars, the diagram in the Schema
    section (opened), the Checks section, the Mermaid diagram; and the window."""
    folder = os.environ.get("AGENTNB_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    outputs = page.locator(".jp-Cell").first.locator(".jp-OutputArea-output")
    parts = {"answer-code": outputs.nth(0).locator("pre").nth(1),
             "answer-dollar": outputs.nth(0).locator("p", has_text="par jour de retard"),
             "diagram": outputs.nth(1).locator("img").locator("xpath=.."),
             "checks": outputs.nth(1).locator("details").last, "mermaid": outputs.nth(2)}
    for part, locator in parts.items():
        locator.scroll_into_view_if_needed()
        locator.screenshot(path=str(Path(folder) / f"{name}-{part}.png"))
    page.screenshot(path=str(Path(folder) / f"{name}-window.png"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chromium_or_skip()
    server = Lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def pages(lab):
    """Open the same notebook untrusted and trusted (light theme) and untrusted in the dark theme, in a
    900 px wide window; yield each page's measurements."""
    nb = notebook(library_response())
    found = {}
    with browser() as chromium:
        for state, theme in (("untrusted", "JupyterLab Light"), ("trusted", "JupyterLab Light"),
                             ("untrusted-dark", "JupyterLab Dark")):
            page = chromium.new_page(viewport={"width": 900, "height": 900})
            open_notebook(page, lab.write(f"{state}.ipynb", nb, trusted=state == "trusted"), theme)
            closed = page.evaluate(MEASURE, LONG_WORD)
            # a click on a closed section's summary opens it, untrusted too
            page.locator(".jp-OutputArea-output summary", has_text="Schema").first.click()
            page.wait_for_timeout(200)
            found[state] = page.evaluate(MEASURE, LONG_WORD)
            found[state]["closed"] = closed
            found[state]["trusted"] = page.evaluate("() => !!document.querySelector('.trust-probe svg')")
            screenshot(page, state)
            page.close()
    return found


# what the tests judge, read from the page: the panel's DOM (tags, attributes, computed inline styles),
# sections, check rows, the diagram's size, colours and contrasts
MEASURE = """(longWord) => {
  const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
  const panel = outputs.find(o => o.querySelector('details'));
  const answer = outputs[0];
  const lum = c => { const m = c.match(/[\\d.]+/g).map(Number);
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]); };
  const parse = c => c.match(/[\\d.]+/g).map(Number);
  // the colour behind an element: its ancestors' backgrounds composed over the page's
  const behind = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3) c.push(1); if (c[3] > 0) layers.push(c); if (c[3] === 1) break; }
    let rgb = [255, 255, 255];
    for (const c of layers.reverse()) rgb = rgb.map((v, i) => v * (1 - c[3]) + c[i] * c[3]);
    return `rgb(${rgb.join(',')})`; };
  const contrast = el => { const a = lum(getComputedStyle(el).color), b = lum(behind(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const serial = el => el.nodeType === 3 ? el.textContent : [el.tagName,
    [...el.attributes].filter(a => a.name !== 'style').map(a => a.name + '=' + a.value).sort().join(' '),
    el.style.cssText, [...el.childNodes].map(serial)];
  const sections = [...panel.querySelectorAll(':scope > div > details')];
  const rows = [...panel.querySelectorAll('details:last-of-type tbody tr')];
  const img = panel.querySelector('img');
  const box = img && img.parentElement;
  const wordLines = el => { const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let n;
    while ((n = walker.nextNode())) { const i = n.textContent.indexOf(longWord);
      if (i >= 0) { const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + longWord.length);
        return new Set([...r.getClientRects()].map(q => Math.round(q.top))).size; } } return 0; };
  const pres = [...answer.querySelectorAll('pre')];
  return {
    dom: JSON.stringify([...panel.childNodes].map(serial)),
    answerText: answer.innerText,
    codeBlocks: pres.map(p => { let e = p, boxed = false;
      for (; e && e !== answer; e = e.parentElement) { const s = getComputedStyle(e);
        if (s.borderTopStyle !== 'none' && parseFloat(s.borderTopWidth) > 0 || parse(s.backgroundColor)[3] > 0) boxed = true; }
      return boxed; }),
    inputs: panel.querySelectorAll('input, style, svg').length,
    sections: sections.map(d => ({summary: d.querySelector('summary').innerText, open: d.open,
      height: d.getBoundingClientRect().height, contrast: contrast(d.querySelector('summary')),
      badges: [...d.querySelector(':scope > summary').querySelectorAll('span')].filter(s => s.innerText.includes('failed'))
        .map(s => ({color: getComputedStyle(s).backgroundColor, contrast: contrast(s)}))})),
    rows: rows.map(r => ({text: r.innerText, background: behind(r.cells[1]),
      icon: (() => { const s = r.cells[0].querySelector('span'), c = getComputedStyle(s), b = s.getBoundingClientRect();
        return {width: b.width, height: b.height, radius: c.borderTopLeftRadius, color: c.backgroundColor,
                border: c.borderTopColor}; })(),
      statusContrast: contrast(r.cells[2].querySelector('span') || r.cells[2]),
      nameContrast: contrast(r.cells[1].querySelector('b') || r.cells[1])})),
    emoji: /[\\u{1F300}-\\u{1FAFF}\\u{2600}-\\u{27BF}\\u{2B00}-\\u{2BFF}]/u.test(panel.innerText),
    wordLines: wordLines(panel),
    image: img && {natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
      boxWidth: box.clientWidth, scrollWidth: box.scrollWidth, loaded: img.complete && img.naturalWidth > 0},
    tokenContrasts: [...panel.querySelectorAll('pre span[style*="color"]')].map(contrast),
    mermaid: [...outputs[2].querySelectorAll('svg, img')].some(e => e.getBoundingClientRect().height > 200),
    pageBackground: behind(panel)};
}"""


def test_the_two_states_are_what_they_claim(pages):
    assert pages["untrusted"]["trusted"] is False and pages["trusted"]["trusted"] is True


def test_the_panel_is_the_same_untrusted_and_trusted(pages):
    """JupyterLab's sanitizer changes nothing in the panel: same elements, attributes and styles."""
    untrusted, trusted = pages["untrusted"], pages["trusted"]
    assert untrusted["dom"] == trusted["dom"]
    assert untrusted["inputs"] == 0
    names = [s["summary"].split()[0] for s in untrusted["sections"]]
    assert names == ["Schema", "Migrations", "Code", "API", "Examples", "Checks"]


@pytest.mark.parametrize("state", ["untrusted", "trusted", "untrusted-dark"])
def test_sections_open_and_close_and_failures_show(pages, state):
    got = pages[state]
    sections = {s["summary"].split()[0]: s for s in got["sections"]}
    # two checks failed: the panel opens on Checks, whose summary carries a red count
    opened = {s["summary"].split()[0] for s in got["closed"]["sections"] if s["open"]}
    assert opened == {"Checks"}
    assert [name for name, s in sections.items() if s["open"]] == ["Schema", "Checks"]     # clicked open
    assert "2 failed" in sections["Checks"]["summary"]
    [count] = sections["Checks"]["badges"]
    red, green, blue = (float(v) for v in count["color"][4:-1].split(",")[:3])
    assert red > 150 and green < 80 and blue < 80 and count["contrast"] >= 4.5
    assert sections["Migrations"]["height"] < 40 < sections["Schema"]["height"]   # closed: its summary only
    # a failed row differs from a passed one besides its text: background, icon shape and colour
    rows = {r["text"].split("\t")[1].strip(): r for r in got["rows"]}
    failed, passed, skipped = rows["Schema on PostgreSQL"], rows["SQL syntax"], rows["Schema on DuckDB"]
    assert failed["background"] != passed["background"]
    assert failed["icon"]["radius"] == "0px" and passed["icon"]["radius"] != "0px"
    assert failed["icon"]["color"] != passed["icon"]["color"] and skipped["icon"]["color"] != passed["icon"]["color"]
    assert all(r["icon"]["width"] >= 8 and r["icon"]["height"] >= 8 for r in got["rows"])
    assert not got["emoji"]
    assert all(r["statusContrast"] >= 4.5 and r["nameContrast"] >= 4.5 for r in got["rows"])
    # a long word in a message is not cut mid-word by the line end
    assert got["wordLines"] == 1


@pytest.mark.parametrize("state", ["untrusted", "trusted", "untrusted-dark"])
def test_the_diagram_shows_at_its_size_and_scrolls_in_a_900px_window(pages, state):
    image = pages[state]["image"]
    assert image["loaded"], "the ER diagram is not drawn"
    assert image["shown"] >= image["natural"] > 900      # not shrunk to the window
    assert image["scrollWidth"] > image["boxWidth"]       # its box scrolls instead
    assert pages[state]["mermaid"], "the Mermaid diagram is not drawn"


def test_dark_theme_keeps_text_readable(pages):
    dark = pages["untrusted-dark"]
    red, green, blue = (float(v) for v in dark["pageBackground"][4:-1].split(",")[:3])
    assert max(red, green, blue) < 80, dark["pageBackground"]        # the dark theme is on
    assert all(s["contrast"] >= 4.5 for s in dark["sections"]), dark["sections"]
    assert dark["tokenContrasts"] and min(dark["tokenContrasts"]) >= 3
    assert min(pages["untrusted"]["tokenContrasts"]) >= 3


@pytest.mark.parametrize("state", ["untrusted", "trusted"])
def test_the_answer_shows_dollars_and_boxed_code_blocks(pages, state):
    got = pages[state]
    assert "coûte $5 par jour" in got["answerText"] and "mathjax_ignore" not in got["answerText"]
    assert got["codeBlocks"] and all(got["codeBlocks"])


# -- the HTML report of `agentnb run` (nbconvert's export), in the same browser -------------------------

EXPORT_MEASURE = """() => {
  const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
  const answer = outputs[0], panel = outputs.find(o => o.querySelector('details'));
  const bordered = p => { for (let e = p; e && e !== answer; e = e.parentElement) {
      const s = getComputedStyle(e); if (s.borderTopStyle !== 'none' && parseFloat(s.borderTopWidth) >= 1) return true; }
    return false; };
  const img = panel.querySelector('img');
  return {boxed: [...answer.querySelectorAll('pre')].map(bordered), answerText: answer.innerText,
          sections: [...panel.querySelectorAll('.agentnb-panel > details')].map(d => [d.querySelector('summary').innerText, d.open]),
          image: {natural: img.naturalWidth, shown: img.getBoundingClientRect().width}};
}"""


def test_the_exported_report_shows_boxes_sections_and_the_diagram(tmp_path):
    from agentnb.batch.htmlexport import export_html

    chromium_or_skip()
    path = tmp_path / "report.html"
    export_html(nbformat.from_dict(notebook(library_response())), path)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 900, "height": 900})
        page.goto(path.as_uri())
        page.locator("summary", has_text="Schema").first.click()
        got = page.evaluate(EXPORT_MEASURE)
        folder = os.environ.get("AGENTNB_SCREENSHOTS")
        if folder:
            page.locator("pre").nth(1).screenshot(path=str(Path(folder) / "export-code.png"))
            page.locator("details").last.screenshot(path=str(Path(folder) / "export-checks.png"))
    # consecutive code blocks (the up and down migrations) each in a box of their own
    assert len(got["boxed"]) >= 4 and all(got["boxed"])
    assert "coûte $5 par jour" in got["answerText"]
    assert [name.split()[0] for name, _ in got["sections"]] == ["Schema", "Migrations", "Code", "API",
                                                                 "Examples", "Checks"]
    assert [name.split()[0] for name, opened in got["sections"] if opened] == ["Schema", "Checks"]
    assert got["image"]["shown"] == got["image"]["natural"] > 0

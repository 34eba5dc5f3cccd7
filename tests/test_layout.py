"""No sideways scrolling, on a desktop (1280 px) and a phone (390 px): on every page of the built
site the document is no wider than the viewport, and every chart, table and code block either fits
the article column or scrolls inside a wrapper of its own that does. Closed ``<details>`` are opened
first, so the tables under charts and the robustness panels are measured too."""

from __future__ import annotations

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, site_pages

pytestmark = [pytest.mark.build, pytest.mark.browser]  # serves the book that book_copy builds

WIDTHS = {"desktop": 1280, "phone": 390}
#: pages screenshotted at each width (and in dark mode) into _build/screenshots/layout/
SHOTS = ["book/intro.html", "notebooks/workforce.html", "notebooks/admissions.html", "book/claims_ledger.html"]

MEASURE = """
() => {
  const out = {doc: document.scrollingElement.scrollWidth, vw: window.innerWidth, bad: []};
  const column = document.querySelector('.bd-article') || document.querySelector('main') || document.body;
  const right = column.getBoundingClientRect().right + 1, left = column.getBoundingClientRect().left - 1;
  const scrolls = (el) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '');
  for (const el of column.querySelectorAll('.vertint-figure, table, pre')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not displayed
    if (r.right <= right && r.left >= left) continue;
    // it overflows the column: fine only if an ancestor inside the column clips and scrolls it
    let ok = false;
    for (let a = el.parentElement; a && a !== column; a = a.parentElement) {
      const ar = a.getBoundingClientRect();
      if (scrolls(a) && ar.right <= right && ar.left >= left) { ok = true; break; }
    }
    if (!ok) out.bad.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px, column ${Math.round(left)}..${Math.round(right)}`);
  }
  return out;
}
"""


def measure(base: str, pages: list[str], width: int, shots=None, scheme: str = "light") -> tuple[list[str], dict]:
    """Problems on each page at ``width`` and the document width measured there."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    widths: dict[str, int] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        phone = width < 600
        context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900},
                                      is_mobile=phone, has_touch=phone, color_scheme=scheme)
        page = context.new_page()
        for rel in pages:
            page.goto(f"{base}/{rel}", wait_until="networkidle")  # index.html redirects
            if page.locator(".vertint-chart").count():
                page.wait_for_function(
                    "() => Array.from(document.querySelectorAll('.vertint-chart')).every(el => el.querySelector('svg'))",
                    timeout=20000)
            if shots is not None and rel in SHOTS:
                shots.mkdir(parents=True, exist_ok=True)
                stem = f"{rel.replace('/', '__')}-{width}-{scheme}"
                page.screenshot(path=str(shots / f"{stem}.png"), full_page=False)
                if page.locator(".vertint-figure").count():
                    page.locator(".vertint-figure").first.scroll_into_view_if_needed()
                    page.screenshot(path=str(shots / f"{stem}-chart.png"), full_page=False)
            page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
            page.wait_for_timeout(100)
            m = page.evaluate(MEASURE)
            widths[rel] = m["doc"]
            # a phone browser widens its layout viewport to fit a too-wide page, so compare with the
            # width asked for, not with window.innerWidth
            if m["doc"] > width + 1 or m["vw"] > width + 1:
                problems.append(f"{width}px {rel}: the page scrolls sideways ({m['doc']} px wide in a {width} px viewport)")
            problems += [f"{width}px {rel}: {b}" for b in m["bad"]]
        browser.close()
    return problems, widths


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_nothing_scrolls_the_page_sideways(site, book_copy, device):
    base, html = site
    shots = book_copy / "_build" / "screenshots" / "layout"
    problems, _ = measure(base, site_pages(html), WIDTHS[device], shots)
    assert not problems, "\n".join(problems)


def test_dark_mode_screenshots(site, book_copy):
    """Dark-mode screenshots of the pages in SHOTS (for a person to look at) and, since charts are
    drawn again in dark mode, the same no-overflow check on those pages."""
    base, _ = site
    shots = book_copy / "_build" / "screenshots" / "layout"
    problems = []
    for width in WIDTHS.values():
        problems += measure(base, SHOTS, width, shots, scheme="dark")[0]
    assert not problems, "\n".join(problems)
    assert len(list(shots.glob("*-dark.png"))) == len(SHOTS) * len(WIDTHS)


def test_the_measure_can_fail(site):
    """A page with a wide unwrapped table and a wide figure is reported at phone width."""
    base, html = site
    bad = html / "_layout_canary.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>canary</title></head><body><main><article class="bd-article">'
        '<table><tr><td style="white-space:nowrap">' + "wide " * 200 + "</td></tr></table>"
        '<div class="vertint-figure" style="width:900px">figure</div>'
        "</article></main></body></html>",
        encoding="utf-8",
    )
    try:
        problems, widths = measure(base, [bad.name], 390)
    finally:
        bad.unlink()
    assert any("scrolls sideways" in p for p in problems), problems
    assert any("table" in p for p in problems) and any("vertint-figure" in p for p in problems), problems

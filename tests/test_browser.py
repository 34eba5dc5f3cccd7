"""Open every page of the built site in headless Debian Chromium (Playwright, never a downloaded
browser), served on 127.0.0.1 only. Each chart's SVG must have marks, no request may leave
127.0.0.1, and there must be no console errors or page errors."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, site_pages

pytestmark = [pytest.mark.build, pytest.mark.browser]  # serves the book that book_copy builds (conftest's site)


COUNT_MARKS = """
() => Array.from(document.querySelectorAll('.vertint-chart')).map(el => ({
  id: el.id,
  svg: !!el.querySelector('svg'),
  marks: el.querySelectorAll('svg g[class*="mark-"] path, svg g[class*="mark-"] line, svg g[class*="mark-"] text, svg g[class*="mark-"] rect').length
}))
"""


def test_every_page_draws_offline_without_errors(site, book_copy):
    from playwright.sync_api import sync_playwright

    base, html = site
    pages = site_pages(html)
    shots = book_copy / "_build" / "screenshots"
    shots.mkdir(exist_ok=True)
    problems: list[str] = []
    charts_seen = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        for rel in pages:
            page = context.new_page()
            errors: list[str] = []
            outside: list[str] = []
            page.on("console", lambda m, e=errors: e.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(f"page error: {exc}"))

            def on_request(req, o=outside):
                host = urlsplit(req.url).hostname
                if req.url.startswith(("data:", "blob:", "about:")):
                    return
                if host != "127.0.0.1":
                    o.append(req.url)

            page.on("request", on_request)
            page.goto(f"{base}/{rel}", wait_until="networkidle")
            if page.locator(".vertint-chart").count():
                page.wait_for_function(
                    "() => Array.from(document.querySelectorAll('.vertint-chart')).every(el => el.querySelector('svg'))",
                    timeout=15000,
                )
            for chart in page.evaluate(COUNT_MARKS):
                charts_seen += 1
                if not chart["svg"] or chart["marks"] == 0:
                    problems.append(f"{rel}: chart {chart['id']} drew no marks")
            page.screenshot(path=str(shots / (rel.replace("/", "__") + ".png")), full_page=False)
            problems += [f"{rel}: {e}" for e in errors]
            problems += [f"{rel}: request left 127.0.0.1: {u}" for u in outside]
            page.close()
        browser.close()
    assert not problems, "\n".join(problems)
    expected = sum(p.read_text(encoding="utf-8").count('class="vertint-chart"') for p in html.rglob("*.html"))
    assert charts_seen == expected

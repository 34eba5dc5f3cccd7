"""One walk of headless Debian Chromium over the built site, shared by the browser tests.

Each page is opened once per *pass* (a viewport width and a colour scheme) and everything the
browser tests check is read from that one visit: whether every chart drew marks in the page's
mode, console and page errors, requests that left 127.0.0.1 (:mod:`test_browser`), axe-core's
violations (:mod:`test_a11y`, before anything on the page is changed), and, after every
``<details>`` is opened, whether anything is wider than the article column (:mod:`test_layout`).
Two pages are open at a time (Playwright's async API, one browser), so on a 2-core machine both
cores work; the results are the same as one page at a time, since each page has its own tab.

The canary tests call :func:`survey` on a single hand-made page, so the checks the site passes are
the ones shown to fail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from conftest import CHROMIUM, CHROMIUM_FLAGS


@dataclass(frozen=True)
class Pass:
    """One way of looking at the site: viewport ``width``, colour ``scheme``, and what to do."""

    name: str
    width: int
    scheme: str = "light"
    axe: bool = False
    layout: bool = False
    pages: tuple[str, ...] | None = None  # None: every page
    shots: tuple[str, ...] = ()  # pages screenshotted as <page>-<width>-<scheme>.png (and -chart.png)
    shot_every_page: bool = False  # also <page>.png for every page (the draw check's screenshots)

    @property
    def phone(self) -> bool:
        return self.width < 600


@dataclass
class PageResult:
    charts: list[dict] = field(default_factory=list)  # {id, svg, marks}
    errors: list[str] = field(default_factory=list)  # console errors and page errors
    outside: list[str] = field(default_factory=list)  # requests that left 127.0.0.1
    axe: list[dict] = field(default_factory=list)  # axe-core violations (as axe reports them)
    layout: dict | None = None  # {doc, vw, bad}


WAIT_CHARTS = """
(mode) => Array.from(document.querySelectorAll('.vertint-chart'))
  .every(el => el.querySelector('svg') && el.dataset.mode === mode)
"""

COUNT_MARKS = """
() => Array.from(document.querySelectorAll('.vertint-chart')).map(el => ({
  id: el.id,
  svg: !!el.querySelector('svg'),
  marks: el.querySelectorAll('svg g[class*="mark-"] path, svg g[class*="mark-"] line, svg g[class*="mark-"] text, svg g[class*="mark-"] rect').length
}))
"""

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


def survey(base: str, pages: list[str], passes: list[Pass], shots: Path | None = None,
           at_once: int = 2) -> dict[tuple[str, str], PageResult]:
    """Visit ``pages`` (relative to ``base``) in each pass; results by (pass name, page)."""
    return asyncio.run(_survey(base, pages, passes, shots, at_once))


async def _survey(base, pages, passes, shots, at_once):
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    axe = Axe()
    results: dict[tuple[str, str], PageResult] = {}
    gate = asyncio.Semaphore(at_once)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        contexts = {}
        for p in passes:
            contexts[p.name] = await browser.new_context(
                viewport={"width": p.width, "height": 844 if p.phone else 900},
                is_mobile=p.phone, has_touch=p.phone, color_scheme=p.scheme)

        async def visit(p: Pass, rel: str) -> None:
            async with gate:
                results[(p.name, rel)] = await _visit(contexts[p.name], axe, base, p, rel, shots)

        jobs = [visit(p, rel) for p in passes for rel in (pages if p.pages is None else [r for r in pages if r in p.pages])]
        await asyncio.gather(*jobs)
        await browser.close()
    return results


async def _visit(context, axe, base: str, p: Pass, rel: str, shots: Path | None) -> PageResult:
    res = PageResult()
    listen = {"on": True}  # off while axe runs: its CSSOM preload re-fetches stylesheets' @imports
    # from the page's root (a 404 for the theme's basic.css) - axe's request, not the page's
    page = await context.new_page()
    page.on("console", lambda m: res.errors.append(f"console {m.type}: {m.text}") if m.type == "error" and listen["on"] else None)
    page.on("pageerror", lambda exc: res.errors.append(f"page error: {exc}"))

    def on_request(req) -> None:
        if req.url.startswith(("data:", "blob:", "about:")):
            return
        if urlsplit(req.url).hostname != "127.0.0.1":
            res.outside.append(req.url)

    page.on("request", on_request)
    await page.goto(f"{base}/{rel}", wait_until="networkidle")  # index.html redirects
    if await page.evaluate("() => !!document.querySelector('.theme-switch-button')"):
        await page.wait_for_function(f"() => document.documentElement.dataset.theme === '{p.scheme}'", timeout=10000)
    if await page.locator(".vertint-chart").count():
        await page.wait_for_function(WAIT_CHARTS, arg=p.scheme, timeout=30000)
    res.charts = await page.evaluate(COUNT_MARKS)
    stem = rel.replace("/", "__")
    if shots is not None and p.shot_every_page:
        await page.screenshot(path=str(shots / f"{stem}.png"), full_page=False)
    if shots is not None and rel in p.shots:
        await page.screenshot(path=str(shots / f"{stem}-{p.width}-{p.scheme}.png"), full_page=False)
        if await page.locator(".vertint-figure").count():
            await page.locator(".vertint-figure").first.scroll_into_view_if_needed()
            await page.screenshot(path=str(shots / f"{stem}-{p.width}-{p.scheme}-chart.png"), full_page=False)
    if p.axe:  # before anything on the page is changed
        listen["on"] = False
        res.axe = (await axe.run(page, options={"resultTypes": ["violations"]})).response["violations"]
        await page.wait_for_timeout(50)  # let the console deliver what axe's fetches logged
        listen["on"] = True
    if p.layout:
        await page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        await page.wait_for_timeout(100)
        res.layout = await page.evaluate(MEASURE)
    await page.close()
    return res


def layout_problems(p: Pass, rel: str, m: dict) -> list[str]:
    """What the layout measure found on one page, as readable lines."""
    problems = []
    # a phone browser widens its layout viewport to fit a too-wide page, so compare with the width
    # asked for, not with window.innerWidth
    if m["doc"] > p.width + 1 or m["vw"] > p.width + 1:
        problems.append(f"{p.width}px {p.scheme} {rel}: the page scrolls sideways ({m['doc']} px wide in a {p.width} px viewport)")
    return problems + [f"{p.width}px {p.scheme} {rel}: {b}" for b in m["bad"]]


#: Pages screenshotted in every pass, for a person to look at (``_build/screenshots/``).
SHOT_PAGES = ("book/intro.html", "notebooks/workforce.html", "notebooks/admissions.html", "book/claims_ledger.html")

#: The walk the browser tests share: axe in light and dark at desktop width on every page (the
#: site follows the OS colour scheme); the layout measure on every page at desktop and phone width,
#: and in dark mode at desktop width on every page and at phone width on the screenshotted pages.
PASSES = [
    Pass("desktop-light", 1280, "light", axe=True, layout=True, shots=SHOT_PAGES, shot_every_page=True),
    Pass("desktop-dark", 1280, "dark", axe=True, layout=True, shots=SHOT_PAGES),
    Pass("phone-light", 390, "light", layout=True, shots=SHOT_PAGES),
    Pass("phone-dark", 390, "dark", layout=True, pages=SHOT_PAGES, shots=SHOT_PAGES),
]

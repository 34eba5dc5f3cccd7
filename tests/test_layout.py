"""No sideways scrolling, on a desktop (1280 px) and a phone (390 px): on every page of the built
site the document is no wider than the viewport, and every chart, table and code block either fits
the article column or scrolls inside a wrapper of its own that does. Closed ``<details>`` are opened
first, so the tables under charts and the robustness panels are measured too. Measured in the
shared walk of :mod:`sitecheck` (every page in light mode at both widths and in dark mode on the
desktop; the screenshotted pages in dark mode on the phone too)."""

from __future__ import annotations

import pytest
from sitecheck import SHOT_PAGES, Pass, layout_problems, survey

pytestmark = [pytest.mark.build, pytest.mark.browser]  # serves the book that book_copy builds

WIDTHS = {"desktop": 1280, "phone": 390}


def _problems(site_survey, width: int, scheme: str) -> tuple[list[str], int]:
    results, passes, pages = site_survey
    problems, measured = [], 0
    for (name, rel), res in sorted(results.items()):
        p = passes[name]
        if p.width == width and p.scheme == scheme and p.layout:
            problems += layout_problems(p, rel, res.layout)
            measured += 1
    return problems, measured


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_nothing_scrolls_the_page_sideways(site_survey, device):
    problems, measured = _problems(site_survey, WIDTHS[device], "light")
    assert measured == len(site_survey[2])  # every page
    assert not problems, "\n".join(problems)


def test_dark_mode_screenshots(site_survey, book_copy):
    """Dark-mode screenshots of the pages in SHOT_PAGES (for a person to look at) and, since charts
    are drawn again in dark mode, the same no-overflow check in dark mode."""
    shots = book_copy / "_build" / "screenshots"
    problems = []
    for width in WIDTHS.values():
        found, measured = _problems(site_survey, width, "dark")
        assert measured >= len(SHOT_PAGES)
        problems += found
    assert not problems, "\n".join(problems)
    assert len(list(shots.glob("*-dark.png"))) == len(SHOT_PAGES) * len(WIDTHS)


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
    phone = Pass("canary", 390, layout=True)
    try:
        found = survey(base, [bad.name], [phone])
    finally:
        bad.unlink()
    problems = layout_problems(phone, bad.name, found[("canary", bad.name)].layout)
    assert any("scrolls sideways" in p for p in problems), problems
    assert any("table" in p for p in problems) and any("vertint-figure" in p for p in problems), problems

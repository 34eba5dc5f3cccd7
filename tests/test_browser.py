"""Open every page of the built site in headless Debian Chromium (Playwright, never a downloaded
browser), served on 127.0.0.1 only, at desktop and phone width, in light and dark mode (the shared
walk of :mod:`sitecheck`). Each chart's SVG must have marks, no request may leave 127.0.0.1, and
there must be no console errors or page errors."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.build, pytest.mark.browser]  # serves the book that book_copy builds (conftest's site)


def test_every_page_draws_offline_without_errors(site_survey, book_copy):
    results, passes, pages = site_survey
    html = book_copy / "_build" / "html"
    problems: list[str] = []
    for (name, rel), res in sorted(results.items()):
        for chart in res.charts:
            if not chart["svg"] or chart["marks"] == 0:
                problems.append(f"{name} {rel}: chart {chart['id']} drew no marks")
        problems += [f"{name} {rel}: {e}" for e in res.errors]
        problems += [f"{name} {rel}: request left 127.0.0.1: {u}" for u in res.outside]
    assert not problems, "\n".join(problems)
    expected = sum(p.read_text(encoding="utf-8").count('class="vertint-chart"') for p in html.rglob("*.html"))
    assert sum(len(results[("desktop-light", rel)].charts) for rel in pages) == expected
    assert all((book_copy / "_build" / "screenshots" / (rel.replace("/", "__") + ".png")).is_file() for rel in pages)

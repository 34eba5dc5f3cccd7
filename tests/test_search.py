"""The site's built-in search finds a claim by its words, offline (issue 14): for a spread of
claims, search the two longest words of the quotation and expect the claim's chapter page among
the results, with no request leaving 127.0.0.1."""

from __future__ import annotations

import json
import re
from urllib.parse import quote_plus

import pytest

pytestmark = [pytest.mark.build, pytest.mark.browser]


def _queries(records: list[dict]) -> list[tuple[str, str, str]]:
    """(claim id, query, expected page) for every ninth claim: the quotation's two longest words."""
    out = []
    for rec in records[::9]:
        words = sorted(set(re.findall(r"[A-Za-z]{5,}", rec["claim"])), key=lambda w: (-len(w), w))[:2]
        if words:
            out.append((rec["id"], " ".join(words), f"notebooks/{rec['chapter']}.html"))
    return out


def test_search_finds_claims_by_their_words(site, book_copy):
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM

    base, html = site
    records = json.loads((book_copy / "_build" / "claims.json").read_text(encoding="utf-8"))
    queries = _queries(records)
    assert len(queries) >= 8
    outside, missed = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:", "blob:", "about:")) else None)
        for cid, q, expected in queries:
            page.goto(f"{base}/search.html?q={quote_plus(q)}")
            page.wait_for_function("() => document.querySelectorAll('ul.search li').length > 0 || "
                                   "/did not match|no results/i.test(document.body.innerText)", timeout=20000)
            hrefs = page.eval_on_selector_all("ul.search li a", "els => els.map(e => e.getAttribute('href'))")
            if not any(h and h.split("#")[0].split("?")[0].endswith(expected) for h in hrefs):
                missed.append((cid, q, hrefs[:5]))
        browser.close()
    assert not missed, f"search did not find these claims' pages: {missed}"
    assert not outside, f"requests left 127.0.0.1: {outside[:5]}"

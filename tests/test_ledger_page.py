"""The pages made from the ledger: the key findings that open the introduction, the ledger table
(one HTML table that assets/ledger.js filters, counts and sorts), the site's copy of claims.csv,
and (in headless Chromium, without a book build) the filters, counts and narrow-screen layout."""

from __future__ import annotations

import copy
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vertint import claims, pages

ROOT = Path(__file__).resolve().parents[1]
VERDICTS = ["supported", "partly supported", "not supported", "not reproducible from public data"]
LEVELS = ["high", "moderate", "low", "very low", "not applicable"]


def make_record(cid: str, verdict: str, level: str, chapter: str | None = None, robustness: dict | None = None,
                claim: str = "a claim", made: str = "2023-05") -> dict:
    chapter = chapter or cid.split("-", 1)[0]
    cert = ({"level": "not applicable", "reason": "a count"} if level == "not applicable" else
            {"level": level, "question": "Did it change?", "evidence_type": "observational", "start": "low",
             "studies": [], "steps": []})
    rec = {"id": cid, "chapter": chapter, "claim": claim, "source": "A report, 2023", "made": made,
           "section": f"{chapter}-section", "published": {"value": 8, "unit": "practices"},
           "reproduced": {"value": 10, "unit": "practices"}, "verdict": verdict, "rule": "equals",
           "reason": "published 8, source says 10", "caveat": "a caveat",
           "as_of": {"date": made, "figure": "as published", "why": "the documents"},
           "now": {"verdict": verdict, "date": made, "note": "no later figure"},
           "certainty": cert, "rubric_hash": "0123456789abcdef"}
    if robustness is not None:
        rec["robustness"] = robustness
    return rec


ROBUST = {"label": "robust", "n_specs": 12, "n_decided": 10, "size": 12, "sampled": False,
          "shares": {"supported": 0.9}, "default_verdict": "supported", "default_value": 1.0, "default_share": 0.9,
          "flips": [], "undecided": [], "combination_only": False, "choices": ["measure"]}
NA = {"label": "not applicable", "why": "no analytic choices are declared for this claim"}


@pytest.fixture
def records() -> list[dict]:
    return [
        make_record("alpha-one", "supported", "high", robustness=ROBUST),
        make_record("alpha-two", "supported", "very low", robustness=NA),
        make_record("alpha-three", "not supported", "not applicable", robustness=NA),
        make_record("beta-one", "not reproducible from public data", "very low"),
        make_record("beta-two", "not reproducible from public data", "not applicable", robustness=NA),
        make_record("beta-three", "partly supported", "moderate", robustness=NA,
                    claim="costs <b>fell</b> & \u201cquoted\u201d"),
    ]


KEY = [{"id": "beta-one", "why": "the cost case"}, {"id": "alpha-one", "why": "the premise"}]
CHAPTERS = {"alpha": "Alpha chapter", "beta": "Beta chapter"}


def test_the_fixture_records_are_valid_ledger_records(records):
    claims.validate_records(records)  # the schema of _build/claims.json


# --------------------------------------------------------------------------- key findings


def test_key_findings_counts_come_from_the_records(records):
    text = pages.key_findings_markdown(records, KEY, VERDICTS, LEVELS)
    assert "Of the 6 claims examined, 2 are *supported*, 1 *partly supported*, 1 *not supported* and 2 " \
           "*not reproducible from public data*." in text
    assert "For the 4 claims about effects and trends the evidence can be graded: certainty is *high* for 1, " \
           "*moderate* for 1 and *very low* for 2; for the other 2 " in text
    assert "2 of the 6 claims are *not reproducible from public data*" in text
    # the claims whose certainty is very low, each linked to its box
    weakest = text.split("### What the evidence cannot settle", 1)[1]
    assert "*very low* for 2 claims" in weakest
    assert "{ref}`alpha-two <alpha-two>`" in weakest and "{ref}`beta-one <beta-one>`" in weakest
    assert "alpha-one <" not in weakest


def test_key_findings_follow_the_records_not_typed_numbers(records):
    more = records + [make_record("beta-four", "supported", "not applicable")]
    text = pages.key_findings_markdown(more, KEY, VERDICTS, LEVELS)
    assert "Of the 7 claims examined, 3 are *supported*" in text
    assert "for the other 3 " in text


def test_key_claims_are_listed_in_declared_order_with_verdicts(records):
    text = pages.key_findings_markdown(records, KEY, VERDICTS, LEVELS)
    body = text.split("### The claims that matter most", 1)[1].split("###", 1)[0]
    items = [line for line in body.splitlines() if line.startswith("- ")]
    assert [re.search(r"\{ref\}`([a-z-]+) <", i).group(1) for i in items] == ["beta-one", "alpha-one"]
    assert "[not reproducible from public data]{.vbadge .v-not-reproducible-from-public-data}" in items[0]
    assert "*Why it matters:* the cost case" in items[0]
    assert "robustness: robust" in items[1] and "robustness" not in items[0]  # absent or not applicable: not shown


def test_key_findings_with_no_records():
    assert "No claims" in pages.key_findings_markdown([], [], VERDICTS, LEVELS)


def _key_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "key_claims.yml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("text, message", [
    ("key_claims:\n  - id: gamma-one\n    why: x\n", "claim id 'gamma-one' is not in the ledger"),
    ("key_claims:\n  - id: alpha-one\n", "entry 1 (alpha-one): 'why'"),
    ("key_claims:\n  - id: alpha-one\n    why: x\n  - id: alpha-one\n    why: y\n", "entry 2: claim id 'alpha-one' is listed twice"),
    ("key_claims:\n  - why: x\n", "entry 1 needs an 'id'"),
    ("key_claims: []\n", "non-empty list 'key_claims'"),
    ("key_claims: [\n", "not valid YAML"),
])
def test_bad_key_claims_file_names_file_and_entry(tmp_path, records, text, message):
    with pytest.raises(pages.GeneratedPageError) as exc:
        pages.load_key_claims(_key_file(tmp_path, text), records)
    assert "book/key_claims.yml" in str(exc.value) and message in str(exc.value)


def test_missing_key_claims_file(tmp_path, records):
    with pytest.raises(pages.GeneratedPageError, match="book/key_claims.yml: file not found"):
        pages.load_key_claims(tmp_path / "nope.yml", records)


def test_committed_key_claims_name_registered_claims():
    reg = claims.registry(ROOT)
    fake = [{"id": cid} for cid in reg]
    items = pages.load_key_claims(ROOT / pages.KEY_CLAIMS_FILE, fake)
    assert items
    from test_prose import NUMBER_WORDS, typed_numbers

    for item in items:  # the reasons are prose: no typed numbers
        assert not typed_numbers(item["why"]) and not NUMBER_WORDS.search(item["why"]), item


def test_intro_carries_the_key_findings_marker_first():
    body = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert pages.KEY_FINDINGS_MARKER in body
    # the answer comes first: nothing but the title before it
    before = body.split(pages.KEY_FINDINGS_MARKER, 1)[0]
    assert [line for line in before.splitlines() if line.strip()] == ["(intro)=", "# Should hospital trusts run GP practices?"]


# --------------------------------------------------------------------------- the ledger table


class _Table(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.labels, self.controls, self.links, self.tables = [], set(), [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables += 1
        if tag == "tr" and "data-verdict" in a:
            self.rows.append(a)
        if tag == "label":
            self.labels.add(a.get("for"))
        if tag in ("select", "input"):
            self.controls.append(a.get("id"))
        if tag == "a":
            self.links.append(a.get("href"))


def _ledger_html(md: str) -> str:
    m = re.search(r"```\{raw\} html\n(.*?)\n```", md, re.S)
    assert m, "the ledger is one raw HTML block"
    return m.group(1)


def test_ledger_is_one_table_with_a_row_per_claim(records):
    md = pages.ledger_markdown(records, CHAPTERS, {"alpha": "notebooks/alpha", "beta": "notebooks/beta"})
    p = _Table()
    p.feed(_ledger_html(md))
    assert p.tables == 1
    assert [r["data-id"] for r in p.rows] == [r["id"] for r in records]
    for row, rec in zip(p.rows, records):
        assert row["id"] == f"ledger-{rec['id']}"
        assert row["data-chapter"] == rec["chapter"] and row["data-verdict"] == rec["verdict"]
        assert row["data-certainty"] == rec["certainty"]["level"]
        assert row["data-robustness"] == rec.get("robustness", {}).get("label", "not assessed")
    # each row links to the claim's box in its chapter
    for rec in records:
        assert f"../notebooks/{rec['chapter']}.html#{rec['id']}" in p.links
    # the exports, relative to the ledger page (the site root holds them)
    assert "../claims.csv" in p.links and "../claims.json" in p.links
    # every control has a label
    assert p.controls and all(c in p.labels for c in p.controls)


def test_ledger_counts_and_escaping(records):
    md = pages.ledger_markdown(records, CHAPTERS)
    html_block = _ledger_html(md)
    assert "Fidelity verdict" in html_block
    assert '<option value="not reproducible from public data" data-label="not reproducible from public data">' \
           "not reproducible from public data (2)</option>" in html_block
    assert '<option value="alpha" data-label="Alpha chapter">Alpha chapter (3)</option>' in html_block
    assert '<option value="not assessed" data-label="not assessed">not assessed (1)</option>' in html_block
    assert "costs &lt;b&gt;fell&lt;/b&gt; &amp;" in html_block and "<b>fell" not in html_block
    assert md.startswith("6 claims. Fidelity: 2 supported, 1 partly supported, 1 not supported, 2 not reproducible")
    # robustness: a badge and the share when assessed, the label when not applicable
    assert '<span class="rbadge r-robust">robust</span> (90% of 10 decided specifications)' in html_block
    assert html_block.count('<td data-label="Robustness">not applicable</td>') == 4


def test_csv_for_the_site_is_the_build_csv(records, tmp_path):
    from vertint import runner

    runner._write_csv_atomic(records, tmp_path / "claims.csv")
    assert (tmp_path / "claims.csv").read_text(encoding="utf-8") == pages.claims_csv_text(records)
    assert pages.claims_csv_text(records).splitlines()[0].split(",") == list(claims.CSV_COLUMNS)


# --------------------------------------------------------------------------- write_generated on a staged book


def _staged(tmp_path: Path, records: list[dict]) -> tuple[Path, dict]:
    """A staged book: the real book/ and _config.yml, a notebook per fixture chapter with its claim outputs."""
    from types import SimpleNamespace

    stage = tmp_path / "src"
    shutil.copytree(ROOT / "book", stage / "book")
    shutil.copy2(ROOT / "_config.yml", stage / "_config.yml")
    (stage / "book" / "key_claims.yml").write_text(
        "key_claims:\n" + "".join(f"  - id: {k['id']}\n    why: {k['why']}\n" for k in KEY), encoding="utf-8")
    (stage / "notebooks").mkdir()
    runs = {}
    for chapter, title in CHAPTERS.items():
        runs[chapter] = SimpleNamespace(title=title, path=f"notebooks/{chapter}.md", params={}, values={})
        cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": "", "execution_count": 1,
                  "outputs": [{"output_type": "display_data", "metadata": {},
                               "data": {claims.MIME: {k: v for k, v in r.items() if k != "robustness"},
                                        "text/markdown": claims.markdown(r, collapsed=i == 1)}}]}
                 for i, r in enumerate(r for r in records if r["chapter"] == chapter)]
        nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (stage / "notebooks" / f"{chapter}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return stage, runs


def test_write_generated_fills_pages_boxes_and_exports(tmp_path, records):
    stage, runs = _staged(tmp_path, records)
    pages.write_generated(stage, records, runs, None)
    intro = (stage / "book" / "intro.md").read_text(encoding="utf-8")
    assert pages.KEY_FINDINGS_MARKER not in intro and "## Key findings" in intro
    assert "Of the 6 claims examined" in intro
    ledger = (stage / "book" / "claims_ledger.md").read_text(encoding="utf-8")
    assert 'id="ledger-beta-three"' in ledger and "../notebooks/beta.html#beta-three" in ledger
    # the site's copies of the exports, byte for byte as the build writes them
    assert (stage / "assets" / "root" / "claims.csv").read_text(encoding="utf-8") == pages.claims_csv_text(records)
    assert json.loads((stage / "assets" / "root" / "claims.json").read_text(encoding="utf-8")) == records
    nb = json.loads((stage / "notebooks" / "beta.ipynb").read_text(encoding="utf-8"))
    boxes = [o["data"]["text/markdown"] for c in nb["cells"] for o in c.get("outputs", [])]
    assert len(boxes) == 3
    assert ":name: beta-one" in boxes[0]
    assert "dropdown" in boxes[1].splitlines()[1] and "dropdown" not in boxes[0].splitlines()[1]  # collapsed kept
    assert nb["cells"][-1]["id"] == "vertint-claimreview"
    assert '<script type="application/ld+json" data-ledger="../book/claims_ledger.html">' in nb["cells"][-1]["source"]


def test_write_generated_stops_on_an_unknown_key_claim(tmp_path, records):
    stage, runs = _staged(tmp_path, records)
    (stage / "book" / "key_claims.yml").write_text("key_claims:\n  - id: gamma-nine\n    why: x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"book/key_claims.yml: key_claims entry 1: claim id 'gamma-nine'"):
        pages.write_generated(stage, records, runs, None)


# --------------------------------------------------------------------------- in the browser (no book build)


@pytest.mark.browser
def test_ledger_filters_counts_and_fits_a_phone(tmp_path, records):
    from conftest import CHROMIUM, CHROMIUM_FLAGS, need_browser

    need_browser()
    from playwright.sync_api import sync_playwright

    many = records + [make_record(f"beta-extra-{i}", "supported", "not applicable", claim="word " * 40)
                      for i in range(6)]
    page_html = ("<!doctype html><html><head><meta name='viewport' content='width=device-width, initial-scale=1'>"
                 "<link rel='stylesheet' href='ledger.css'></head><body><div class='bd-content'>"
                 + _ledger_html(pages.ledger_markdown(many, CHAPTERS))
                 + "</div><script src='ledger.js'></script></body></html>")
    (tmp_path / "index.html").write_text(page_html, encoding="utf-8")
    for name in ("ledger.js", "ledger.css"):
        shutil.copy2(ROOT / "assets" / name, tmp_path / name)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            errors = []
            pg = browser.new_page(viewport={"width": 1280, "height": 900})
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.goto((tmp_path / "index.html").as_uri())
            assert pg.is_visible(".ledger-controls")
            assert pg.inner_text(".ledger-status").startswith("Showing 12 of 12 claims")
            pg.select_option("#ledger-chapter", "alpha")
            assert pg.inner_text(".ledger-status") == "Showing 3 of 12 claims: 2 supported, 1 not supported."
            # the other filters' counts follow the chapter filter
            assert "very low (1)" in pg.eval_on_selector_all("#ledger-certainty option", "os => os.map(o => o.textContent)")
            pg.select_option("#ledger-certainty", "very low")
            assert pg.eval_on_selector_all("tbody tr:not([hidden])", "rs => rs.map(r => r.dataset.id)") == ["alpha-two"]
            pg.click("button[type=reset]")
            pg.wait_for_timeout(50)
            assert pg.inner_text(".ledger-status").startswith("Showing 12 of 12")
            pg.fill("#ledger-q", "QUOTED")
            assert pg.eval_on_selector_all("tbody tr:not([hidden])", "rs => rs.map(r => r.dataset.id)") == ["beta-three"]
            pg.fill("#ledger-q", "")
            # sort: by fidelity verdict, then descending
            pg.select_option("#ledger-sort", "verdict")
            ids = pg.eval_on_selector_all("tbody tr", "rs => rs.map(r => r.dataset.verdict)")
            assert ids == sorted(ids, key=VERDICTS.index)
            pg.select_option("#ledger-dir", "desc")
            ids = pg.eval_on_selector_all("tbody tr", "rs => rs.map(r => r.dataset.verdict)")
            assert ids == sorted(ids, key=VERDICTS.index, reverse=True)
            # keyboard: the controls are reachable with Tab
            pg.focus("#ledger-chapter")
            pg.keyboard.press("Tab")
            assert pg.evaluate("document.activeElement.id") == "ledger-verdict"
            # presets from the address, and a link to a row shows that row
            pg.goto((tmp_path / "index.html").as_uri() + "?verdict=not+supported")
            assert pg.inner_text(".ledger-status") == "Showing 1 of 12 claims: 1 not supported."
            assert not errors, errors
            # a phone: no horizontal overflow of the page
            phone = browser.new_page(viewport={"width": 390, "height": 800})
            phone.goto((tmp_path / "index.html").as_uri())
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()

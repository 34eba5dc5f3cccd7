"""Citable claims: each claim's anchor, its "Cite this claim" snippet (plain text and BibTeX) and the
schema.org ClaimReview JSON-LD each chapter page embeds, checked against claims/claimreview.schema.json."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from test_ledger_page import CHAPTERS, _staged, make_record

from vertint import claims, pages

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "claims" / "claimreview.schema.json").read_text(encoding="utf-8"))
BOOK = {"title": "Should hospital trusts run GP practices?", "author": "The vertint evidence-review team",
        "version": "1.2.0", "date": "2026-11-20", "commit": "abcdef012345", "base_url": "",
        "pages": {"alpha": "notebooks/alpha", "beta": "notebooks/beta"}}


@pytest.fixture
def rec() -> dict:
    return make_record("alpha-cost-fell", "partly supported", "very low",
                       claim="costs fell by 10% & more_than {expected}", made="2020-10")


def _validate(doc):
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def _review(doc: dict, cid: str) -> dict:
    return next(n for n in doc["@graph"] if n.get("identifier") == cid)


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_claim_reviews_validate(rec):
    doc = claims.claim_reviews([rec], BOOK)
    _validate(doc)
    claims.validate_claim_reviews(doc)
    author, book, review = doc["@graph"]
    assert author == {"@type": "Organization", "@id": "#vertint-author", "name": BOOK["author"]}
    assert book["name"] == BOOK["title"] and book["version"] == "1.2.0"
    assert review["claimReviewed"] == rec["claim"]
    assert review["itemReviewed"] == {"@type": "Claim", "author": {"@type": "Organization", "name": rec["source"]},
                                      "datePublished": "2020-10"}
    assert review["reviewRating"] == {"@type": "Rating", "alternateName": "partly supported"}
    assert review["datePublished"] == BOOK["date"]
    assert review["author"] == {"@id": "#vertint-author"} and review["isPartOf"] == {"@id": "#vertint-book"}
    assert review["url"] == "notebooks/alpha.html#alpha-cost-fell"


def test_undated_claim_has_no_date_published(rec):
    rec["made"] = "undated"
    doc = claims.claim_reviews([rec], BOOK)
    assert "datePublished" not in _review(doc, rec["id"])["itemReviewed"]
    _validate(doc)


def test_base_url_makes_absolute_urls(rec):
    doc = claims.claim_reviews([rec], dict(BOOK, base_url="https://example.org/book/"))
    assert _review(doc, rec["id"])["url"] == "https://example.org/book/notebooks/alpha.html#alpha-cost-fell"
    _validate(doc)


@pytest.mark.parametrize("mutate, field", [
    (lambda r: r["reviewRating"].pop("alternateName"), "reviewRating"),
    (lambda r: r.__setitem__("datePublished", ""), "datePublished"),
    (lambda r: r["itemReviewed"].__setitem__("datePublished", "23 May 2023"), "itemReviewed.datePublished"),
    (lambda r: r.__setitem__("url", "notebooks/alpha.html"), "url"),
    (lambda r: r.__setitem__("@type", "Review"), "@type"),
    (lambda r: r.pop("isPartOf"), "(node)"),
])
def test_schema_rejects_broken_reviews(rec, mutate, field):
    doc = claims.claim_reviews([rec], BOOK)
    mutate(_review(doc, rec["id"]))
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)
    with pytest.raises(claims.ClaimError, match=rf"claim 'alpha-cost-fell', field {re.escape(field)}"):
        claims.validate_claim_reviews(doc)


def test_schema_needs_the_shared_nodes(rec):
    doc = claims.claim_reviews([rec], BOOK)
    del doc["@graph"][1]["version"]
    with pytest.raises(claims.ClaimError, match=r"'#vertint-book', field \(node\): 'version' is a required property"):
        claims.validate_claim_reviews(doc)


def test_verdict_must_be_a_rubric_word(rec):
    doc = claims.claim_reviews([rec], BOOK)
    _review(doc, rec["id"])["reviewRating"]["alternateName"] = "mostly true"
    _validate(doc)  # the schema does not type the verdict words: the rubric holds them
    with pytest.raises(claims.ClaimError, match="not a verdict of rubric/rubric.yml"):
        claims.validate_claim_reviews(doc)


def test_jsonld_script_is_safe_html_and_round_trips(rec):
    rec["claim"] = "a </script><script>alert(1)</script> claim"
    doc = claims.claim_reviews([rec], BOOK)
    tag = claims.jsonld_html(doc)
    assert tag.startswith('<script type="application/ld+json">') and tag.endswith("</script>")
    inner = tag[len('<script type="application/ld+json">'):-len("</script>")]
    assert "<" not in inner and ">" not in inner
    assert json.loads(inner) == doc
    assert claims.jsonld_html(doc) == tag  # deterministic


def test_citation_names_claim_book_release_and_path(rec):
    cite = claims.citation(rec, BOOK)
    text, bib = cite["text"], cite["bibtex"]
    for part in ("alpha-cost-fell", BOOK["title"], "release 1.2.0", "notebooks/alpha.html#alpha-cost-fell",
                 "partly supported", BOOK["author"], rec["claim"], rec["source"]):
        assert part in text
    assert "accessed" not in text.lower() and "urldate" not in bib
    assert bib.startswith("@misc{vertint:alpha-cost-fell,")
    assert "url = {notebooks/alpha.html#alpha-cost-fell}" in bib
    assert "year = {2026}" in bib and "release 1.2.0" in bib
    # BibTeX specials are escaped, braces dropped, so the entry parses
    assert r"10\% \& more\_than expected" in bib
    assert bib.count("{") == bib.count("}")
    assert claims.citation(rec, BOOK) == cite


def test_box_has_its_anchor(rec):
    md = claims.markdown(rec)
    lines = md.splitlines()
    assert lines[0].startswith("```{admonition} Claim alpha-cost-fell") and lines[-1] == "```"
    assert ":name: alpha-cost-fell" in lines[:4]


def test_jsonld_carries_the_ledger_url(rec):
    tag = claims.jsonld_html(claims.claim_reviews([rec], BOOK), "../book/claims_ledger.html")
    assert tag.startswith('<script type="application/ld+json" data-ledger="../book/claims_ledger.html">')


def test_box_shows_robustness_only_when_assessed(rec):
    from test_ledger_page import NA, ROBUST

    assert "Robustness" not in claims.markdown(rec)
    assert "Robustness" not in claims.markdown(dict(rec, robustness=NA))
    assert "**Robustness:** robust (the default verdict holds in 90% of 10 decided specifications)" in \
        claims.markdown(dict(rec, robustness=ROBUST))


def test_a_folded_box_is_recognised(rec):
    assert claims.is_collapsed(claims._ClaimDisplay(rec, collapsed=True)._repr_mimebundle_()["text/markdown"])
    assert not claims.is_collapsed(claims._ClaimDisplay(rec)._repr_mimebundle_()["text/markdown"])
    assert not claims.is_collapsed("")


# --------------------------------------------------------------------------- release


def test_release_from_releases_dir(tmp_path):
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "v0.9.0.json").write_text(json.dumps({"version": "0.9.0", "date": "2026-10-01"}))
    (tmp_path / "releases" / "v0.10.0.json").write_text(json.dumps({"version": "0.10.0", "date": "2026-11-01"}))
    rel = pages.release_info(tmp_path)
    assert rel["version"] == "0.10.0" and rel["date"] == "2026-11-01"


def test_release_file_without_version_is_an_error(tmp_path):
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "bad.json").write_text(json.dumps({"date": "2026-10-01"}))
    with pytest.raises(pages.GeneratedPageError, match=r"releases/bad.json: needs a 'version' field"):
        pages.release_info(tmp_path)


def test_release_without_releases_is_the_commit(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b",
           "GIT_AUTHOR_DATE": "2026-03-04T05:06:07Z", "GIT_COMMITTER_DATE": "2026-03-04T05:06:07Z", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True, env=env)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "x"], check=True, env=env)
    rel = pages.release_info(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{12}", rel["version"]) and rel["date"] == "2026-03-04"
    assert pages.release_info(tmp_path) == rel  # deterministic: no clock


def test_release_outside_git_falls_back_to_citation_cff(tmp_path):
    (tmp_path / "CITATION.cff").write_text("version: 0.1.0\ndate-released: '2026-11-23'\n")
    assert pages.release_info(tmp_path) == {"version": "0.1.0", "date": "2026-11-23", "commit": ""}


# --------------------------------------------------------------------------- what a staged chapter embeds


def test_staged_chapters_embed_valid_claim_reviews(tmp_path):
    from test_ledger_page import ROBUST

    records = [make_record("alpha-one", "supported", "high", robustness=ROBUST),
               make_record("alpha-two", "not reproducible from public data", "not applicable", made="undated"),
               make_record("beta-one", "not supported", "very low")]
    stage, runs = _staged(tmp_path, records)
    pages.write_generated(stage, records, runs, None)
    seen = []
    for chapter in CHAPTERS:
        nb = json.loads((stage / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        cell = nb["cells"][-1]["source"]
        m = re.search(r'<script type="application/ld\+json"[^>]*>(.*)</script>', cell)
        doc = json.loads(m.group(1))
        _validate(doc)
        assert doc["@graph"][1]["name"] == "Should hospital trusts run GP practices?"
        reviews = doc["@graph"][2:]
        seen += [(r["identifier"], r["reviewRating"]["alternateName"]) for r in reviews]
        for r in reviews:
            assert r["url"] == f"notebooks/{chapter}.html#{r['identifier']}"
    assert seen == [(r["id"], r["verdict"]) for r in records]


def test_a_bad_review_stops_the_build_naming_the_chapter(tmp_path, monkeypatch):
    records = [make_record("alpha-one", "supported", "high"), make_record("beta-one", "supported", "high")]
    stage, runs = _staged(tmp_path, records)
    real = claims.claim_review
    monkeypatch.setattr(claims, "claim_review", lambda r, b: dict(real(r, b), datePublished="soon"))
    with pytest.raises(ValueError, match=r"notebooks/alpha.md: ClaimReview JSON-LD: claim 'alpha-one', field datePublished"):
        pages.write_generated(stage, records, runs, None)


# --------------------------------------------------------------------------- the snippet the browser draws


@pytest.mark.browser
def test_browser_draws_the_same_citation_as_python(tmp_path):
    import shutil

    from conftest import CHROMIUM, CHROMIUM_FLAGS, need_browser

    need_browser()
    from playwright.sync_api import sync_playwright

    records = [make_record("alpha-cost-fell", "partly supported", "very low",
                           claim="costs fell by 10% & more_than {expected} \\ \u201cquoted\u201d", made="2020-10"),
               make_record("alpha-undated", "not reproducible from public data", "not applicable", made="undated")]
    book = dict(BOOK, base_url="https://example.org/book/")
    boxes = "".join(f'<div class="admonition verdict" id="{r["id"]}"><p>box</p></div>' for r in records)
    page = (f"<!doctype html><html><body>{boxes}"
            f"{claims.jsonld_html(claims.claim_reviews(records, book), '../book/claims_ledger.html')}"
            "<script src='ledger.js'></script></body></html>")
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    shutil.copy2(ROOT / "assets" / "ledger.js", tmp_path / "ledger.js")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            pg = browser.new_page()
            errors = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.goto((tmp_path / "index.html").as_uri())
            for r in records:
                want = claims.citation(r, book)
                box = pg.locator(f"#{r['id']}")
                assert box.locator("details.claim-cite summary").inner_text() == "Cite this claim"
                assert box.locator("pre.cite-text").text_content() == want["text"]
                assert box.locator("pre.cite-bibtex").text_content() == want["bibtex"]
                assert box.locator(".claim-ledger-link a").get_attribute("href") == \
                    f"../book/claims_ledger.html#ledger-{r['id']}"
            assert not errors, errors
        finally:
            browser.close()

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


def _validate(reviews):
    jsonschema.Draft202012Validator(SCHEMA).validate(reviews)


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_claim_review_validates(rec):
    review = claims.claim_review(rec, BOOK)
    _validate([review])
    claims.validate_claim_reviews([review])
    assert review["claimReviewed"] == rec["claim"]
    assert review["itemReviewed"] == {"@type": "Claim", "author": {"@type": "Organization", "name": rec["source"]},
                                      "datePublished": "2020-10"}
    assert review["reviewRating"]["alternateName"] == "partly supported"
    assert review["datePublished"] == BOOK["date"]
    assert review["url"] == "notebooks/alpha.html#alpha-cost-fell"


def test_undated_claim_has_no_date_published(rec):
    rec["made"] = "undated"
    review = claims.claim_review(rec, BOOK)
    assert "datePublished" not in review["itemReviewed"]
    _validate([review])


def test_base_url_makes_absolute_urls(rec):
    book = dict(BOOK, base_url="https://example.org/book/")
    review = claims.claim_review(rec, book)
    assert review["url"] == "https://example.org/book/notebooks/alpha.html#alpha-cost-fell"
    _validate([review])


@pytest.mark.parametrize("mutate, field", [
    (lambda r: r["reviewRating"].pop("alternateName"), "reviewRating"),
    (lambda r: r.__setitem__("datePublished", ""), "datePublished"),
    (lambda r: r["itemReviewed"].__setitem__("datePublished", "23 May 2023"), "itemReviewed.datePublished"),
    (lambda r: r.__setitem__("url", "notebooks/alpha.html"), "url"),
    (lambda r: r.__setitem__("@type", "Review"), "@type"),
])
def test_schema_rejects_broken_reviews(rec, mutate, field):
    review = claims.claim_review(rec, BOOK)
    mutate(review)
    with pytest.raises(jsonschema.ValidationError):
        _validate([review])
    with pytest.raises(claims.ClaimError, match=rf"claim 'alpha-cost-fell', field {re.escape(field)}"):
        claims.validate_claim_reviews([review])


def test_verdict_must_be_a_rubric_word(rec):
    review = claims.claim_review(rec, BOOK)
    review["reviewRating"]["alternateName"] = "mostly true"
    _validate([review])  # the schema does not type the verdict words: the rubric holds them
    with pytest.raises(claims.ClaimError, match="not a verdict of rubric/rubric.yml"):
        claims.validate_claim_reviews([review])


def test_jsonld_script_is_safe_html_and_round_trips(rec):
    rec["claim"] = "a </script><script>alert(1)</script> claim"
    reviews = [claims.claim_review(rec, BOOK)]
    tag = claims.jsonld_html(reviews)
    assert tag.startswith('<script type="application/ld+json">') and tag.endswith("</script>")
    inner = tag[len('<script type="application/ld+json">'):-len("</script>")]
    assert "<" not in inner and ">" not in inner
    assert json.loads(inner) == reviews
    assert claims.jsonld_html(reviews) == tag  # deterministic


def test_citation_names_claim_book_release_and_path(rec):
    cite = claims.citation(rec, BOOK)
    text, bib = cite["text"], cite["bibtex"]
    for part in ("alpha-cost-fell", BOOK["title"], "release 1.2.0", "notebooks/alpha.html#alpha-cost-fell",
                 "partly supported", BOOK["author"]):
        assert part in text
    assert "accessed" not in text.lower() and "urldate" not in bib
    assert bib.startswith("@misc{vertint:alpha-cost-fell,")
    assert "url = {notebooks/alpha.html#alpha-cost-fell}" in bib
    assert "year = {2026}" in bib and "release 1.2.0" in bib
    # BibTeX specials are escaped, braces dropped, so the entry parses
    assert r"10\% \& more\_than expected" in bib
    assert bib.count("{") == bib.count("}")
    assert claims.citation(rec, BOOK) == cite


def test_box_has_anchor_ledger_link_and_citation(rec):
    md = claims.markdown(rec, ledger_url="../book/claims_ledger.html", cite=claims.citation(rec, BOOK))
    lines = md.splitlines()
    assert lines[0].startswith("````{admonition} Claim alpha-cost-fell")
    assert ":name: alpha-cost-fell" in lines[:4]
    assert 'href="../book/claims_ledger.html#ledger-alpha-cost-fell"' in md
    assert ":::{admonition} Cite this claim" in md and "```bibtex" in md
    assert lines[-1] == "````"
    # while a notebook executes, neither link nor citation (the release is known only when staged)
    plain = claims.markdown(rec)
    assert "Cite this claim" not in plain and "claims_ledger" not in plain and ":name: alpha-cost-fell" in plain
    assert plain.startswith("```{admonition}") and plain.endswith("\n```")


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
        m = re.search(r'<script type="application/ld\+json">(.*)</script>', cell)
        reviews = json.loads(m.group(1))
        _validate(reviews)
        seen += [(r["identifier"], r["reviewRating"]["alternateName"]) for r in reviews]
        for r in reviews:
            assert r["url"] == f"notebooks/{chapter}.html#{r['identifier']}"
            assert r["isPartOf"]["name"] == "Should hospital trusts run GP practices?"
    assert seen == [(r["id"], r["verdict"]) for r in records]

"""End-to-end: the default build, a variant build, a no-change rebuild, determinism of two clean
builds (the second with the network cut where the machine allows), internal links and page sizes."""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from conftest import (
    BUILT_DIGEST,
    ISSUE3_VARIANT,
    after_book,
    second_build,
    tree_digest,
    variant_build,
    vertint,
)

pytestmark = pytest.mark.build

VERDICTS = {"supported", "partly supported", "not supported", "not reproducible from public data"}
PAGE_LIMIT = 300 * 1024


def test_default_build_has_every_page_and_claim(book_copy):
    html = book_copy / "_build" / "html"
    toc = yaml.safe_load((book_copy / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for f in files:
        assert (html / f"{f}.html").exists(), f
    claims = json.loads((book_copy / "_build" / "claims.json").read_text())
    from vertint.claims import registry

    reg = registry(book_copy)
    assert sorted(c["id"] for c in claims) == sorted(reg)
    for c in claims:
        assert set(c) >= {"id", "claim", "chapter", "published", "reproduced", "verdict", "caveat", "rule"}
        assert c["verdict"] in VERDICTS
        assert c["caveat"].strip()
    # every claim row in the ledger page links to the section that examines it
    ledger = (html / "book" / "claims_ledger.html").read_text()
    for c in claims:
        assert c["id"] in ledger


def test_headline_ledger_regenerates_exactly(book_copy):
    """PolicyEngine style: the committed ledger lock must equal what a fresh build computes.
    A verdict or value that changes must be re-locked deliberately: `vertint claims --write-lock`."""
    from vertint.claims import lock_entries

    built = lock_entries(json.loads((book_copy / "_build" / "claims.json").read_text()))
    locked = json.loads((book_copy / "claims" / "ledger.lock.json").read_text())
    assert built["rubric_hash"] == locked["rubric_hash"], "the rubric changed: re-lock after its changelog entry"
    assert {e["id"]: e for e in built["claims"]} == {e["id"]: e for e in locked["claims"]}


def test_executed_notebooks_are_not_in_the_source_tree(book_copy):
    from vertint.runner import read_source

    assert not list((book_copy / "notebooks").glob("*.ipynb")), "executed notebooks belong in _build, sources are MyST text"
    for nb in (book_copy / "notebooks").glob("*.md"):
        cells = read_source(nb)["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), nb


def test_no_change_rebuild_is_skipped(book_copy):
    before = tree_digest(book_copy / "_build" / "html")
    t0 = time.monotonic()
    proc = vertint(book_copy, "book")
    assert proc.returncode == 0, proc.stderr
    assert "Up to date" in proc.stderr
    assert tree_digest(book_copy / "_build" / "html") == before
    assert time.monotonic() - t0 < 30


def test_variant_goes_to_its_own_folder_and_changes_the_right_verdict(book_copy):
    """Issue 3's acceptance check: counting heads including trainees, GPs rose since 2015. Built in
    the variants' copy of the book (conftest starts it as soon as the book is built)."""
    root, proc = variant_build(*ISSUE3_VARIANT)
    assert proc.returncode == 0, proc.stderr
    before = after_book("variants")["before"]
    claims_before = before["claims"]
    name = "workforce.include_trainees=true+workforce.measure=headcount"
    vdir = root / "_build" / "variants" / name
    assert (vdir / "html" / "index.html").exists()
    assert f"variant <code>{name}</code>" in (vdir / "html" / "book" / "intro.html").read_text()
    assert tree_digest(root / "_build" / "html") == before["html"] == BUILT_DIGEST
    assert (root / "_build" / "claims.json").read_bytes() == claims_before == (book_copy / "_build" / "claims.json").read_bytes()
    default = {c["id"]: c for c in json.loads(claims_before)}
    variant = {c["id"]: c for c in json.loads((vdir / "claims.json").read_text())}
    assert default["workforce-fte-fallen"]["verdict"] == "supported"
    assert variant["workforce-fte-fallen"]["verdict"] == "not supported"
    # as of the claim (Jan 2022, the latest headcount before the 2023 long read): +4,102
    assert variant["workforce-fte-fallen"]["reproduced"]["value"] == 4102
    # still true now? 41,193 (Sept 2015) to 48,758 (Sept 2024), BJGP 2025 (Pettigrew et al.): +7,565
    assert variant["workforce-fte-fallen"]["now"]["verdict"] == "not supported"
    assert "+7,565" in variant["workforce-fte-fallen"]["now"]["note"]
    proc = vertint(root, "claims", "--variant", name)
    assert proc.returncode == 0, proc.stderr
    assert "workforce-fte-fallen" in proc.stdout and "not supported" in proc.stdout


@pytest.fixture(scope="module")
def clean_rebuild(book_copy, tmp_path_factory):
    """The second clean build of the same tree, made from nothing in another folder (network cut if
    possible) while the quick tests ran (conftest's background builds), digested beside the first
    build's site as it was when it finished."""
    second = second_build(tmp_path_factory.mktemp("second"))
    build = second["root"] / "_build"
    first = BUILT_DIGEST or tree_digest(book_copy / "_build" / "html")
    first_claims = (book_copy / "_build" / "claims.json").read_bytes()
    digest = tree_digest(build / "html") if (build / "html").is_dir() else {}
    claims = (build / "claims.json").read_bytes() if (build / "claims.json").is_file() else b""
    return first, first_claims, digest, claims, second["proc"], second["offline"], second["why"]


def test_two_clean_builds_are_byte_identical(clean_rebuild):
    first, first_claims, second, second_claims, proc, _, _ = clean_rebuild
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert second, "the second clean build left no site"
    differ = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))
    assert not differ, f"files differ between two clean builds: {differ[:10]}"
    assert second_claims == first_claims


def test_build_with_network_cut(clean_rebuild):
    *_, proc, offline, why = clean_rebuild
    if not offline:
        pytest.skip(f"cannot cut the network on this machine: {why}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("script", "img", "link") and (a.get("src") or a.get("href")):
            self.srcs.append(a.get("src") or a.get("href"))


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_internal_links_and_assets_resolve(book_copy):
    html = book_copy / "_build" / "html"
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)
    parsed = {p: _parse(p) for p in pages}
    broken = []
    for page, info in parsed.items():
        for href in info.links + info.srcs:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("mailto:", "data:", "//")):
                if parts.scheme in ("http", "https") and href in info.srcs:
                    broken.append(f"{page.name}: external asset {href}")
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(html)}: {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if parts.fragment not in ids:
                    broken.append(f"{page.relative_to(html)}: #{parts.fragment} missing in {target.name}")
    assert not broken, "\n".join(broken[:20])


def test_pages_stay_small(book_copy):
    html = book_copy / "_build" / "html"
    big = {str(p.relative_to(html)): p.stat().st_size for p in html.rglob("*.html") if p.stat().st_size > PAGE_LIMIT}
    assert not big, f"pages over 300 KB: {big}"


def test_site_references_no_cdn(book_copy):
    html = book_copy / "_build" / "html"
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for host in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "mathjax"):
            assert not re.search(rf"<script[^>]+{re.escape(host)}", text), f"{page.name} loads a script from {host}"

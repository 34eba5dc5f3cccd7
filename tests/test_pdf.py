"""The whole-book PDF (``make pdf``, :mod:`vertint.pdf`).

The quick tests stitch a small fake site and check the refusals. The browser tests print with
headless Debian Chromium and read the PDF back with pypdf. The small fake site, given the real
chart runtime (the vega bundle and ``vertint-charts.js``) and a real chart, is printed to check
that two prints of one site are byte-identical, that an up-to-date PDF is not reprinted and that a
chart that fails leaves the previous PDF untouched (each a few seconds). The book that
``book_copy`` built is printed once (in a copy of it, so the other build tests see the site as
built): a sensible page count, every figure's caption and every chart's own text in the PDF's text
(vector, not pictures), no raster image, no chart drawn blank, the site linked to the PDF."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from conftest import after_book, need_browser, vertint

from vertint import pdf

# --------------------------------------------------------------------------- quick: no browser


def _page(body: str, title: str = "A page") -> str:
    return (f'<!DOCTYPE html><html><head><title>{title} &#8212; The book</title>'
            '<link rel="stylesheet" href="../_static/vertint.css"/><script src="../_static/vega-bundle.js"></script>'
            '<script src="../_static/other.js"></script></head><body><nav>navigation</nav>'
            f'<article class="bd-article">{body}</article>'
            '<footer><div class="extra_footer">Built from commit <code>abc</code>.<span class="vertint-pdf"></span></div></footer>'
            '</body></html>')


@pytest.fixture()
def site(tmp_path):
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Part one\n    chapters:\n"
        "      - file: book/a\n        sections:\n          - file: book/b\n", encoding="utf-8")
    html = root / "_build" / "html"
    (html / "book").mkdir(parents=True)
    (html / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />', encoding="utf-8")
    (html / "book" / "intro.html").write_text(_page(
        '<section id="summary"><h1>Intro</h1><p><a href="a.html#summary">to a</a> '
        '<a href="b.html">to b</a> <a href="#summary">self</a> <a href="../genindex.html">index</a> '
        '<a href="https://example.org/x">out</a><a class="headerlink" href="#summary">#</a></p></section>'), encoding="utf-8")
    (html / "book" / "a.html").write_text(_page(
        '<section id="summary"><h1>Chapter A</h1><details><summary>more</summary><p>hidden</p></details>'
        '<label for="pick">pick</label><select id="pick"></select>'
        '<figure><div class="vertint-figure"><div id="vertint-fig-a_one" class="vertint-chart"></div>'
        '<script>vegaEmbed("#vertint-fig-a_one", {}, {})</script>'
        '<p class="vertint-download"><a download="a.csv" href="data:text/csv;base64,eA==">csv</a></p></div>'
        '<figcaption>Figure 1 A chart</figcaption></figure></section>'), encoding="utf-8")
    (html / "book" / "b.html").write_text(_page('<section id="summary"><h1>Section B</h1><img src="../_static/x.png"/></section>'), encoding="utf-8")
    return root


def test_toc_order_and_parts(site):
    docs = pdf.toc_docs(site)
    assert [d.name for d in docs] == ["book/intro", "book/a", "book/b"]
    assert [d.part for d in docs] == [None, "Part one", None]


def test_stitch_keeps_one_document_consistent(site):
    from bs4 import BeautifulSoup

    html = site / "_build" / "html"
    doc = BeautifulSoup(pdf.stitch(html, pdf.toc_docs(site)), "html.parser")
    ids = [el["id"] for el in doc.find_all(id=True)]
    assert len(ids) == len(set(ids)), "ids must stay unique across pages"
    assert {"book-intro", "book-a", "book-b", "book-intro--summary", "book-a--summary", "vertint-fig-a_one"} <= set(ids)
    hrefs = [a.get("href") for a in doc.select("#book-intro a")]
    assert hrefs == ["#book-a--summary", "#book-b", "#book-intro--summary", None, "https://example.org/x"]
    assert doc.select_one("label")["for"] == "book-a--pick"
    assert doc.find("details").has_attr("open")
    assert not doc.select(".headerlink, .vertint-download, nav, footer")
    assert doc.find("img")["src"] == "_static/x.png"
    heads = [t.get("href") or t.get("src") for t in doc.head.find_all(["link", "script"])]
    assert heads == ["_static/vertint.css", "_static/vega-bundle.js"]
    assert doc.find("script", string=re.compile("vegaEmbed")) is not None  # the chart still draws itself
    assert doc.select_one("section#book-a")["data-part"] == "Part one"
    cover = doc.select_one(".vertint-print-cover")
    assert cover.h1.get_text() == "The book" and "commit" in cover.get_text()
    assert [a["href"] for a in cover.select("a")] == ["#book-intro", "#book-a", "#book-b"]


def test_stitch_refuses_a_chart_id_used_twice(site):
    html = site / "_build" / "html"
    b = html / "book" / "b.html"
    b.write_text(b.read_text(encoding="utf-8").replace("<img", '<div id="vertint-fig-a_one" class="vertint-chart"></div><img'), encoding="utf-8")
    with pytest.raises(pdf.PdfError, match="vertint-fig-a_one.*unique"):
        pdf.stitch(html, pdf.toc_docs(site))


def test_stitch_refuses_a_page_missing_from_the_site(site):
    (site / "_build" / "html" / "book" / "b.html").unlink()
    with pytest.raises(pdf.PdfError, match=r"lacks book/b\.html.*make book"):
        pdf.stitch(site / "_build" / "html", pdf.toc_docs(site))


def test_link_footer_fills_the_marker_once(site):
    html = site / "_build" / "html"
    assert pdf.link_footer(html, "book.pdf", 12, 3_400_000) == 3
    text = (html / "book" / "a.html").read_text(encoding="utf-8")
    assert '<a href="../book.pdf">PDF</a> (12 pages, 3.4 MB)' in text
    assert pdf.link_footer(html, "book.pdf", 13, 3_400_000) == 3  # a reprint updates it, never doubles it
    assert (html / "book" / "a.html").read_text(encoding="utf-8").count("book.pdf") == 1


def test_refuses_without_a_built_book(tmp_path):
    proc = vertint(tmp_path, "pdf", timeout=120)
    assert proc.returncode == 1
    assert "no built book" in proc.stderr and "make book" in proc.stderr
    assert not (tmp_path / "_build" / "pdf").exists()


def test_pages_workflow_prints_the_pdf_it_deploys():
    """The site links to book.pdf, so the Pages workflow prints it (with Debian's Chromium, as CI
    installs it) after building the book and before uploading the site."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    job = yaml.safe_load((root / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))["jobs"]["build"]
    assert "bookworm" in str(job.get("container", "")), "the PDF needs Debian's chromium (ubuntu's is a snap)"
    steps = [str(s.get("run", "")) + " " + str(s.get("uses", "")) for s in job["steps"]]
    where = {what: next((i for i, s in enumerate(steps) if what in s), None)
             for what in ("apt-get install", "make book", "make pdf", "upload-pages-artifact")}
    assert None not in where.values(), where
    assert "chromium" in steps[where["apt-get install"]]
    assert where["apt-get install"] < where["make pdf"] and where["make book"] < where["make pdf"] < where["upload-pages-artifact"]


# --------------------------------------------------------------------------- a small site, printed


@pytest.fixture(scope="module")
def chart_runtime(tmp_path_factory) -> dict[str, bytes]:
    """What the build puts in ``_static`` for charts: the vega bundle (made offline by vl-convert, as
    the build makes it) and the chart registry; and the site's stylesheets."""
    from vertint import charts, runner

    cache = tmp_path_factory.mktemp("vega")
    root = Path(__file__).resolve().parents[1]
    return {"vega-bundle.js": runner.vega_bundle(cache).read_bytes(),
            "vertint-charts.js": charts.runtime_js().encode("utf-8"),
            "vertint.css": (root / "assets" / "vertint.css").read_bytes(),
            "print.css": (root / "assets" / "print.css").read_bytes()}


@pytest.fixture()
def small_site(site, chart_runtime):
    """The fake site made printable: a title, a build state, the chart runtime, and a real chart
    (drawn the way the chapters draw theirs, through ``charts.embed_html`` and ``vertintCharts``)."""
    import altair as alt
    import pandas as pd

    from vertint import charts

    need_browser()
    html = site / "_build" / "html"
    static = html / "_static"
    static.mkdir()
    for name, content in chart_runtime.items():
        (static / name).write_bytes(content)
    import base64

    (static / "x.png").write_bytes(base64.b64decode(  # b.html's picture (1 pixel): served, never a chart
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="))
    (site / "_config.yml").write_text("title: The small book\nauthor: Tests\n", encoding="utf-8")
    (site / "_build" / "state.json").write_text('{"site_hash": "small-site-1"}\n', encoding="utf-8")
    data = pd.DataFrame({"year": [2019, 2020, 2021, 2022], "practices": [11, 14, 19, 23]})
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("year:O", title="Year of the takeover"), y=alt.Y("practices:Q", title="Practices run by trusts"))
    figure = charts.embed_html(chart.to_dict(), "small_trend", "Practices run by trusts, by year.", data)
    page = _page(f'<section id="summary"><h1>Chapter A</h1><p>Some text.</p><figure>{figure}'
                 '<figcaption>Figure 1 Practices run by trusts</figcaption></figure></section>')
    (html / "book" / "a.html").write_text(page, encoding="utf-8")
    for f in (html / "book").glob("*.html"):  # every page loads the chart registry after the bundle, as the site's do
        f.write_text(f.read_text(encoding="utf-8").replace(
            '<script src="../_static/other.js"></script>', '<script src="../_static/vertint-charts.js"></script>'), encoding="utf-8")
    return site


@pytest.mark.browser
def test_small_site_prints_its_chart_as_vector(small_site):
    proc = vertint(small_site, "pdf", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from pypdf import PdfReader

    reader = PdfReader(str(small_site / "_build" / "pdf" / "book.pdf"))
    whole = _flat(" ".join(p.extract_text() or "" for p in reader.pages))
    assert reader.metadata.title == "The small book"
    for text in ("Chapter A", "Figure 1 Practices run by trusts", "Year of the takeover", "Practices run by trusts"):
        assert _flat(text) in whole, text
    import json

    charts = json.loads((small_site / "_build" / "pdf" / "state.json").read_text(encoding="utf-8"))["charts"]
    assert [c["id"] for c in charts] == ["vertint-fig-small_trend"] and charts[0]["marks"] > 0


@pytest.mark.browser
def test_up_to_date_pdf_is_not_reprinted_and_reprint_is_byte_identical(small_site):
    proc = vertint(small_site, "pdf", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = (small_site / "_build" / "pdf" / "book.pdf").read_bytes()
    proc = vertint(small_site, "pdf", timeout=300)
    assert proc.returncode == 0 and "Up to date" in proc.stderr, proc.stderr
    proc = vertint(small_site, "pdf", "--force", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (small_site / "_build" / "pdf" / "book.pdf").read_bytes() == first, "two prints of one site differ"


@pytest.mark.browser
def test_a_chart_that_fails_leaves_the_previous_pdf(small_site):
    proc = vertint(small_site, "pdf", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before = (small_site / "_build" / "pdf" / "book.pdf").read_bytes()
    site_before = (small_site / "_build" / "html" / "book" / "intro.html").read_bytes()
    page = small_site / "_build" / "html" / "book" / "a.html"
    text = page.read_text(encoding="utf-8")
    assert 'window.vertintCharts.add("' in text  # the mutation below must bite
    page.write_text(text.replace('window.vertintCharts.add("', 'window.vertintCharts.add("broken-', 1), encoding="utf-8")
    proc = vertint(small_site, "pdf", "--force", timeout=300)
    assert proc.returncode == 1
    assert "error:" in proc.stderr and ("chart" in proc.stderr or "Chromium" in proc.stderr), proc.stderr
    assert (small_site / "_build" / "pdf" / "book.pdf").read_bytes() == before
    assert (small_site / "_build" / "html" / "book" / "intro.html").read_bytes() == site_before
    assert not list((small_site / "_build" / "pdf").glob("*.tmp"))


# --------------------------------------------------------------------------- slow: print the book


def _flat(text: str) -> str:
    """Text for comparison: ligatures unfolded (NFKC), no whitespace (PDF lines wrap anywhere)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def read_back(root: Path) -> dict | None:
    """The whole-book PDF in ``root`` read back (:mod:`pdfread`, in a process of its own), or None if
    there is none (the print failed: :func:`printed` reports it)."""
    import json
    import subprocess
    import sys

    book = root / "_build" / "pdf" / "book.pdf"
    if not book.is_file():
        return None
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("pdfread.py")), str(book)],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"reading {book} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def printed(book_copy):
    """A copy of the built book, printed once with ``vertint pdf`` (timed) and read back: the copy's
    root, the PDF (:func:`pdfread.read`), its text by page and the seconds the print took. Both begin
    in the background as soon as the book is built (conftest)."""
    need_browser()
    job = after_book("pdf")
    proc, seconds = job["results"][("pdf",)]
    assert proc.returncode == 0, f"vertint pdf failed:\n{proc.stdout}\n{proc.stderr}"
    read, _ = job["results"]["read"]
    return job["root"], read, read["text"], seconds


@pytest.mark.build
@pytest.mark.browser
def test_page_count_is_sensible(printed):
    root, read, _, seconds = printed
    chapters = len(pdf.toc_docs(root))
    pages = read["pages"]
    assert chapters + 1 <= pages <= 40 * chapters, f"{pages} pages for {chapters} chapters"  # cover + a page each at least
    assert read["title"] == "Should hospital trusts run GP practices?"
    assert read["outline"], "the PDF has no bookmarks"
    print(f"\nPDF: {pages} pages, {(root / '_build/pdf/book.pdf').stat().st_size / 1e6:.1f} MB, printed in {seconds:.0f} s")


@pytest.mark.build
@pytest.mark.browser
def test_every_chapter_starts_on_its_own_page(printed):
    root, _, text, _ = printed
    html = root / "_build" / "html"
    from bs4 import BeautifulSoup

    tops = [_flat(t[:300]) for t in text]
    for d in pdf.toc_docs(root):
        h1 = BeautifulSoup((html / f"{d.name}.html").read_text(encoding="utf-8"), "html.parser").select_one("article h1")
        title = _flat(h1.get_text(" ", strip=True).rstrip("#"))[:25]
        assert any(title in t for t in tops), f"{d.name}: no page starts with its title {title!r}"


@pytest.mark.build
@pytest.mark.browser
def test_every_figure_and_chart_is_in_the_pdf_as_vector(printed):
    import json

    from bs4 import BeautifulSoup

    root, read, text, _ = printed
    html = root / "_build" / "html"
    articles = [BeautifulSoup((html / f"{d.name}.html").read_text(encoding="utf-8"), "html.parser").select_one("article")
                for d in pdf.toc_docs(root)]
    captions = [" ".join(c.get_text(" ", strip=True).split()) for a in articles for c in a.find_all("figcaption")]
    charts_html = [c["id"] for a in articles for c in a.select(".vertint-chart")]
    assert captions and charts_html
    assert len(captions) == sum(len(a.find_all("figure")) for a in articles)
    whole = _flat(" ".join(text))
    missing = [c for c in captions if _flat(c)[:60] not in whole]
    assert not missing, f"figure captions not in the PDF's text: {missing}"
    # every chart drew marks in the browser before printing (vertint pdf refuses otherwise) ...
    charts = json.loads((root / "_build" / "pdf" / "state.json").read_text(encoding="utf-8"))["charts"]
    assert [c["id"] for c in charts] == charts_html
    assert all(c["svg"] and c["marks"] > 0 for c in charts)
    # ... and each is in the PDF as vector graphics: its own text is text in the PDF, and the PDF holds
    # no raster image beyond the <img> pictures of the pages (none of which is a chart)
    not_text = [c["id"] for c in charts if not any(_flat(t) in whole for t in c["texts"] if len(_flat(t)) >= 6)]
    assert not not_text, f"charts whose text is not text in the PDF (drawn as pictures?): {not_text}"
    rasters = sum(1 for a in articles for img in a.find_all("img") if not img.get("src", "").endswith(".svg"))
    assert sum(read["images"]) == rasters


def _row_label(text: str, label: str) -> bool:
    """Whether ``text`` is a decision-matrix row label ("<label>: <value>", maybe cut short with "…")."""
    row = label + ": "
    return text.startswith(row) or (text.endswith("\u2026") and len(text) > 4 and row.startswith(text[:-1]))


@pytest.mark.build
@pytest.mark.browser
def test_robustness_panels_print_their_headline_and_curve_only(printed):
    """In the PDF a robustness panel is its headline and specification curve: no dropdowns, decision
    matrix, readout, declared choices or fallback table (they made the book some 190 pages)."""
    import json

    from bs4 import BeautifulSoup

    root, _, text, _ = printed
    html = root / "_build" / "html"
    whole = _flat(" ".join(text))
    heads = [h.get_text(" ", strip=True)
             for d in pdf.toc_docs(root)
             for h in BeautifulSoup((html / f"{d.name}.html").read_text(encoding="utf-8"), "html.parser").select(
                 "details.robustness-panel > summary span[id$='-h']")]
    assert heads, "no robustness panels in the book"
    missing = [h for h in heads if _flat(h) not in whole]
    assert not missing, f"panel headlines not in the PDF: {missing[:3]}"
    for gone in ("The declared choices", "What if? Choose another specification", "This combination:"):
        assert _flat(gone) not in whole, f"{gone!r} printed"
    # the decision matrix's rows are "<choice label>: <value>": none is among the printed charts' texts
    labels = {}
    for d in pdf.toc_docs(root):
        for m in re.finditer(r'vertintRobustness\("#(rob-[^"]+)", (\{.*?\})\);</script>',
                             (html / f"{d.name}.html").read_text(encoding="utf-8")):
            labels[m.group(1)] = [c["l"] for c in json.loads(m.group(2).replace("<\\/", "</"))["ch"]]
    charts = json.loads((root / "_build" / "pdf" / "state.json").read_text(encoding="utf-8"))["charts"]
    rob = [c for c in charts if c["id"] in labels]
    assert rob and len(rob) == len(labels)
    matrix = [(c["id"], t) for c in rob for t in c["texts"] if any(_row_label(t, lab) for lab in labels[c["id"]])]
    assert not matrix, f"panels printed their decision matrix: {matrix[:3]}"


@pytest.mark.build
@pytest.mark.browser
def test_site_links_to_the_pdf(printed):
    root, *_ = printed
    html = root / "_build" / "html"
    assert (html / "book.pdf").read_bytes() == (root / "_build" / "pdf" / "book.pdf").read_bytes()
    for page in ("book/intro.html", "notebooks/workforce.html", "book/reproduce.html"):
        text = (html / page).read_text(encoding="utf-8")
        assert text.count('href="../book.pdf"') == 1, page


def test_struct_ids_are_renumbered_in_order_keeping_their_length():
    data = b"/ID (node00000129) /Headers [(node00000077) (node00000129)] /ID (node00000077)"
    assert pdf.renumber_struct_ids(data) == b"/ID (node00000001) /Headers [(node00000002) (node00000001)] /ID (node00000002)"

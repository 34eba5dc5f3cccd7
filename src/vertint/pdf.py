"""The whole book as one PDF: ``make pdf`` (``vertint pdf``) after ``make book``.

:func:`build_pdf`, in order,

1. refuses at once if there is no built book (``_build/html`` with its ``state.json``), and takes
   the build lock, so a ``make book`` cannot swap the site away while it is being printed;
2. stitches the built pages, in the order of ``_toc.yml``, into one print document
   (:func:`stitch`): each page's article, ids prefixed with the page's name so they stay unique,
   links between pages turned into links inside the document, every ``<details>`` open, with
   the site's own stylesheets (``assets/print.css`` last) and the local vega bundle (a robustness
   panel prints as its headline and specification curve only: ``assets/robustness.js`` draws the
   curve without its decision matrix and dropdowns under ``body.vertint-print``, and
   ``print.css`` hides the rest);
3. opens it in headless Debian Chromium (Playwright, ``/usr/bin/chromium``, never a downloaded
   browser), every request answered from ``_build/html`` and any other refused, waits until
   every chart has drawn its SVG, refuses a chart with no marks (:func:`print_pdf`); and
4. prints it to PDF (A4, page numbers in the footer, a bookmark outline from the headings),
   normalises the PDF's metadata so two prints of one site are byte-identical, and only then
   replaces ``_build/pdf/book.pdf``. It copies it to ``_build/html/book.pdf`` and fills the
   page footers' PDF link (an empty ``<span class="vertint-pdf">`` that the build leaves, so a
   site without a PDF has no dead link).

A failure at any step leaves the previous PDF, and the site, untouched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from . import VertintError, paths

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--dns-prefetch-disable"]
ORIGIN = "http://127.0.0.1:9"  # never contacted: Playwright answers every request from disk
PRINT_DOC = "__vertint_print__.html"  # the stitched document's (virtual) name at the site root
FOOTER_MARK = re.compile(r'<span class="vertint-pdf">.*?</span>', re.DOTALL)
#: ids that inline scripts refer to (charts "#vertint-fig-...", robustness panels "#rob-..."): kept as they are
KEEP_ID = re.compile(r"^(vertint-fig-|rob-)")  # rob-: robustness panels (vertint.robustness.panel)
ID_REFS = ("for", "aria-labelledby", "aria-describedby", "aria-controls", "headers")
MARGIN = {"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"}
FOOTER = ('<div style="font-size:8pt;width:100%;text-align:center;color:#555;'
          'font-family:system-ui,sans-serif"><span class="pageNumber"></span> / <span class="totalPages"></span></div>')

COUNT_MARKS = """
() => Array.from(document.querySelectorAll('.vertint-chart')).map(el => ({
  id: el.id,
  svg: !!el.querySelector('svg'),
  marks: el.querySelectorAll('svg g[class*="mark-"] path, svg g[class*="mark-"] line, svg g[class*="mark-"] text, svg g[class*="mark-"] rect, svg g[class*="mark-"] circle').length,
  texts: Array.from(el.querySelectorAll('svg text')).map(t => t.textContent.trim()).filter(t => t.length > 3)
}))
"""
ALL_DRAWN = "() => Array.from(document.querySelectorAll('.vertint-chart')).every(el => el.querySelector('svg'))"


class PdfError(VertintError):
    pass


@dataclass
class Doc:
    name: str  # the page's docname, e.g. "notebooks/workforce"
    part: str | None  # the caption of the part of _toc.yml it opens, if it opens one


@dataclass
class PdfResult:
    pdf: Path
    pages: int
    size: int
    seconds: float
    charts: list[dict] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    skipped: bool = False


# --------------------------------------------------------------------------- the book's order


def toc_docs(root: Path | None = None) -> list[Doc]:
    """The book's pages in reading order, from ``_toc.yml`` (root first, then every chapter and
    its sections, depth first); the first page of each part carries the part's caption."""
    root = root or paths.root()
    try:
        toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PdfError(f"_toc.yml: cannot read the table of contents ({type(exc).__name__}: {exc})") from None
    if not isinstance(toc, dict) or not isinstance(toc.get("root"), str):
        raise PdfError("_toc.yml: expected a mapping with 'root:' and 'parts:' or 'chapters:'")
    docs = [Doc(toc["root"], None)]

    def walk(entries, part):
        for e in entries or []:
            if isinstance(e, dict) and isinstance(e.get("file"), str):
                docs.append(Doc(e["file"], part))
                part = None
                walk(e.get("sections"), None)

    for p in toc.get("parts") or []:
        walk(p.get("chapters"), p.get("caption"))
    walk(toc.get("chapters"), None)
    return docs


def slug(docname: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", docname).strip("-")


# --------------------------------------------------------------------------- stitching


def _resolve(page: str, url: str) -> str:
    """``url`` (relative to site page ``page``) as a path from the site root, '' for the page."""
    if not url:
        return page
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(url)))


def stitch(html_dir: Path, docs: list[Doc], title: str = "") -> str:
    """One HTML document holding every page of the built site at ``html_dir``, in ``docs`` order,
    to be opened at the site root (its URLs are relative to ``html_dir``)."""
    from bs4 import BeautifulSoup

    pages = {d.name + ".html": d for d in docs}
    missing = [p for p in pages if not (html_dir / p).is_file()]
    if missing:
        raise PdfError(f"{html_dir}: the built site lacks {', '.join(missing)} (listed in _toc.yml); run 'make book' again")
    out = BeautifulSoup("<!DOCTYPE html><html lang=\"en\" data-theme=\"light\" data-mode=\"light\"><head>"
                        "<meta charset=\"utf-8\"/></head><body class=\"vertint-print\"></body></html>", "html.parser")
    head, body = out.head, out.body
    chart_ids: dict[str, str] = {}
    footer_text = ""
    for i, (page, doc) in enumerate(pages.items()):
        soup = BeautifulSoup((html_dir / page).read_text(encoding="utf-8"), "html.parser")
        if i == 0:
            site_title = title or (soup.title.get_text().split("\u2014")[-1].strip() if soup.title else "")
            t = out.new_tag("title")
            t.string = site_title
            head.append(t)
            for link in soup.head.find_all("link", rel="stylesheet"):
                head.append(out.new_tag("link", rel="stylesheet", href=_resolve(page, link["href"])))
            for script in soup.head.find_all("script", src=True):
                if any(name in script["src"] for name in ("vega-bundle", "vertint-charts", "robustness.js")):  # what charts need
                    head.append(out.new_tag("script", src=_resolve(page, script["src"])))
            extra = soup.select_one(".extra_footer")
            for el in extra.select(".vertint-pdf") if extra else []:
                el.decompose()  # the link to this very PDF (filled in by a previous print)
            footer_text = extra.decode_contents().strip() if extra else ""
        article = soup.select_one("article.bd-article")
        if article is None:
            raise PdfError(f"{page}: no <article class=\"bd-article\"> (not a page of this book's theme?)")
        prefix = slug(doc.name)
        for el in article.select(".headerlink, .vertint-download, script[type]"):
            el.decompose()
        for el in article.find_all(id=True):
            if KEEP_ID.match(el["id"]):
                if el["id"] in chart_ids:
                    raise PdfError(f"chart id {el['id']!r} is on both {chart_ids[el['id']]} and {page}: chart keys must be unique in the book")
                chart_ids[el["id"]] = page
            else:
                el["id"] = f"{prefix}--{el['id']}"
        for attr in ID_REFS:
            for el in article.find_all(attrs={attr: True}):
                el[attr] = " ".join(v if KEEP_ID.match(v) else f"{prefix}--{v}" for v in str(el[attr]).split())
        for a in article.find_all("a", href=True):
            href = a["href"]
            parts = urlsplit(href)
            if parts.scheme or href.startswith("//"):
                continue
            target = _resolve(page, parts.path)
            if target in pages:
                tslug = slug(pages[target].name)
                a["href"] = f"#{tslug}--{parts.fragment}" if parts.fragment else f"#{tslug}"
            else:  # a file of the site (index, download): no use in a PDF
                del a["href"]
        for el in article.find_all(["img", "source"], src=True):
            if not urlsplit(el["src"]).scheme:
                el["src"] = _resolve(page, el["src"])
        for d in article.find_all("details"):
            d["open"] = ""
        section = out.new_tag("section", id=prefix, attrs={"class": "vertint-print-page"})
        if doc.part:
            section["data-part"] = doc.part
        article.name = "div"
        section.append(article)
        body.append(section)
    cover = BeautifulSoup(_cover(out.title.get_text(), docs, footer_text, out), "html.parser")
    body.insert(0, cover)
    return str(out)


def _cover(title: str, docs: list[Doc], footer: str, out) -> str:
    import html as _h

    items = []
    for d in docs:
        sec = out.find("section", id=slug(d.name))
        h1 = sec.find("h1") if sec else None
        name = h1.get_text(" ", strip=True) if h1 else d.name
        if d.part:
            items.append(f'<li class="vertint-print-part">{_h.escape(d.part)}</li>')
        items.append(f'<li><a href="#{slug(d.name)}">{_h.escape(name)}</a></li>')
    return (f'<section class="vertint-print-cover"><h1>{_h.escape(title)}</h1>'
            f'<p class="vertint-print-footer">{footer}</p>'
            f'<h2>Contents</h2><ol class="vertint-print-toc">{"".join(items)}</ol></section>')


# --------------------------------------------------------------------------- printing


def print_pdf(html_dir: Path, document: str, out: Path, timeout: float = 60.0) -> list[dict]:
    """Open ``document`` (HTML text, placed at the root of ``html_dir``) in headless Chromium and
    print it to ``out``. Returns, per chart, its id, mark count and SVG texts; raises if a chart
    did not draw, a request had to leave the site, or the page raised an error."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise PdfError(f"{CHROMIUM} not found: the PDF is printed by Debian's chromium (apt-get install chromium)")
    root = html_dir.resolve()
    problems: list[str] = []

    def answer(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")):
            return route.continue_()
        parts = urlsplit(url)
        if not url.startswith(ORIGIN + "/"):
            problems.append(f"request outside the site refused: {url}")
            return route.abort()
        rel = unquote(parts.path).lstrip("/")
        if rel == PRINT_DOC:
            return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=document)
        target = (root / rel).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            problems.append(f"not in the site: {rel}")
            return route.fulfill(status=404, body="")
        return route.fulfill(status=200, path=str(target))

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 1100, "height": 1400}, java_script_enabled=True)
                page = context.new_page()
                page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
                page.route("**/*", answer)
                page.goto(f"{ORIGIN}/{PRINT_DOC}", wait_until="load", timeout=timeout * 1000)
                deadline = time.monotonic() + timeout
                while not page.evaluate(ALL_DRAWN):  # every chart has its SVG, or stop at the first error
                    if problems or time.monotonic() > deadline:
                        problems.append(f"charts not drawn after {timeout:.0f} s" if not problems else "")
                        raise PdfError("printing the book: " + "; ".join(p for p in problems[:10] if p))
                    page.wait_for_timeout(200)
                page.evaluate("() => document.fonts.ready")
                charts = page.evaluate(COUNT_MARKS)
                blank = [c["id"] for c in charts if not c["svg"] or c["marks"] == 0]
                if blank:
                    problems.append(f"chart(s) drew no marks: {', '.join(blank)}")
                if problems:
                    raise PdfError("printing the book: " + "; ".join(problems[:10]))
                page.emulate_media(media="print")
                page.pdf(path=str(out), format="A4", print_background=True, margin=MARGIN,
                         display_header_footer=True, header_template="<div></div>", footer_template=FOOTER,
                         outline=True, tagged=True)
            finally:
                browser.close()
    except PlaywrightError as exc:
        detail = "; ".join(problems[:5])
        raise PdfError(f"Chromium failed while printing the book: {' '.join(str(exc).split())[:500]}"
                       + (f" ({detail})" if detail else "")) from None
    return charts


def normalise(src: Path, dest: Path, title: str, author: str, file_id: bytes) -> int:
    """Rewrite the printed PDF with fixed metadata (title and author, no dates) and the file id
    ``file_id`` (16 bytes), so two prints of the same site are byte-identical. Returns the page count."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    reader = PdfReader(str(src))
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    writer.add_metadata({"/Title": title, "/Author": author, "/Creator": "vertint pdf (Chromium)"})
    writer.compress_identical_objects()
    writer._ID = ArrayObject([ByteStringObject(file_id), ByteStringObject(file_id)])
    buf = io.BytesIO()
    writer.write(buf)
    dest.write_bytes(renumber_struct_ids(buf.getvalue()))
    return len(reader.pages)


_NODE_ID = re.compile(rb"\(node(\d{8})\)")


def renumber_struct_ids(data: bytes) -> bytes:
    """Chromium names the tagged PDF's structure elements after its DOM nodes ("(node00000129)"),
    which differ from run to run; number them in order of appearance instead. The names keep their
    length, so the cross-reference offsets stay right."""
    seen: dict[bytes, int] = {}
    return _NODE_ID.sub(lambda m: b"(node%08d)" % seen.setdefault(m.group(1), len(seen) + 1), data)


# --------------------------------------------------------------------------- the command


def link_footer(html_dir: Path, pdf_name: str, pages: int, size: int) -> int:
    """Fill the empty PDF link the build leaves in every page footer; returns pages changed."""
    changed = 0
    for page in sorted(html_dir.rglob("*.html")):
        if "_static" in page.relative_to(html_dir).parts:
            continue
        text = page.read_text(encoding="utf-8")
        rel = posixpath.relpath(pdf_name, posixpath.dirname(page.relative_to(html_dir).as_posix()) or ".")
        new = FOOTER_MARK.sub(f'<span class="vertint-pdf"> The whole book as one <a href="{rel}">PDF</a> '
                              f'({pages} pages, {size / 1e6:.1f} MB).</span>', text, count=1)
        if new != text:
            tmp = page.with_name(page.name + ".tmp")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, page)
            changed += 1
    return changed


def build_pdf(root: Path | None = None, console=None, force: bool = False, timeout: float = 90.0) -> PdfResult:
    """Print the built default book to ``_build/pdf/book.pdf`` (see the module docstring)."""
    from .runner import build_lock

    started = time.monotonic()
    root = root or paths.root()
    build = root / "_build"
    html_dir = build / "html"
    state_path = build / "state.json"
    if not (html_dir / "index.html").is_file() or not state_path.is_file():
        raise PdfError(f"no built book at {html_dir}: run 'make book' first")
    with build_lock(root):
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except ValueError:
            raise PdfError(f"{state_path}: unreadable; run 'make book' again") from None
        out_dir = build / "pdf"
        out_dir.mkdir(parents=True, exist_ok=True)
        final = out_dir / "book.pdf"
        stamp = out_dir / "state.json"
        site = state.get("site_hash")
        if not force and final.is_file() and stamp.is_file() and (html_dir / "book.pdf").is_file():
            try:
                old = json.loads(stamp.read_text(encoding="utf-8"))
            except ValueError:
                old = {}
            if site and old.get("site_hash") == site and "pages" in old:
                return PdfResult(final, old["pages"], final.stat().st_size, time.monotonic() - started,
                                 old.get("charts", []), old.get("figures", []), skipped=True)
        docs = toc_docs(root)
        try:
            cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise PdfError(f"_config.yml: cannot read the book's title ({type(exc).__name__})") from None
        title, author = str(cfg.get("title", "")), str(cfg.get("author", ""))
        document = stitch(html_dir, docs, title)
        figures = _figure_captions(document)
        raw = out_dir / "book.raw.pdf.tmp"
        tmp = out_dir / "book.pdf.tmp"
        try:
            if console:
                console.print(f"Printing {len(docs)} pages of the site with Chromium ...")
            charts = print_pdf(html_dir, document, raw, timeout=timeout)
            pages = normalise(raw, tmp, title, author, hashlib.sha256(document.encode()).digest()[:16])
            os.replace(tmp, final)
        finally:
            raw.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)
        size = final.stat().st_size
        shutil.copy2(final, html_dir / "book.pdf.tmp")
        os.replace(html_dir / "book.pdf.tmp", html_dir / "book.pdf")
        link_footer(html_dir, "book.pdf", pages, size)
        summary = {"site_hash": site, "pages": pages, "size": size, "charts": charts, "figures": figures}
        stamp.with_suffix(".json.tmp").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(stamp.with_suffix(".json.tmp"), stamp)
        return PdfResult(final, pages, size, time.monotonic() - started, charts, figures)


def _figure_captions(document: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(document, "html.parser")
    return [" ".join(c.get_text(" ", strip=True).split()) for c in soup.find_all("figcaption")]

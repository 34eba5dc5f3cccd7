"""The ``vertint`` command line (typer). ``make book``, ``make claims`` and the tests call it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import VertintError, paths

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Build and check the evidence review.")
data_app = typer.Typer(no_args_is_help=True, help="The vendored data.")
app.add_typer(data_app, name="data")
console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160)


def _fail(exc: Exception) -> None:
    sys.stderr.write(f"error: {exc}\n")
    raise typer.Exit(code=1)


@app.command()
def book(
    param: List[str] = typer.Option([], "-p", "--param", help="Override NOTEBOOK.PARAMETER=VALUE (repeatable)."),
    variant: Optional[str] = typer.Option(None, help="Name of the variant output folder (default: from the overrides)."),
    force: bool = typer.Option(False, help="Rebuild even if nothing changed (notebooks still cached)."),
    render_only: bool = typer.Option(False, "--render-only", help="Re-render from cached executed notebooks."),
    workers: int = typer.Option(2, min=1, max=8, help="Notebooks executed in parallel."),
):
    """Execute the notebooks (papermill) and render the book (Jupyter Book)."""
    from .runner import build

    try:
        res = build(param, variant=variant, force=force, render_only=render_only, workers=workers, console=console)
    except VertintError as exc:
        _fail(exc)
    where = res.html.relative_to(paths.root()) if res.html.is_relative_to(paths.root()) else res.html
    if res.skipped:
        console.print(f"Up to date: {where}/index.html (nothing changed; --force to rebuild)")
    else:
        ran = sum(1 for o in res.outcomes.values() if o.status == "ran")
        console.print(f"Built {where}/index.html in {res.seconds:.1f} s ({ran} notebook(s) executed, "
                      f"{len(res.outcomes) - ran} from cache); claims in {res.claims.name}")


def _load_claims(variant: Optional[str]) -> list[dict]:
    base = paths.build_dir() / "variants" / variant if variant else paths.build_dir()
    path = base / "claims.json"
    if not path.exists():
        raise VertintError(f"{path}: not found; run 'make book' first")
    return json.loads(path.read_text(encoding="utf-8"))


def _latest_variant() -> Optional[str]:
    vdir = paths.build_dir() / "variants"
    if not vdir.exists():
        return None
    found = sorted((p for p in vdir.iterdir() if (p / "claims.json").exists()), key=lambda p: p.stat().st_mtime)
    return found[-1].name if found else None


@app.command()
def claims(
    variant: Optional[str] = typer.Option(None, help="Compare this variant against the default book (default: the latest variant, if any)."),
    json_out: bool = typer.Option(False, "--json", help="Print the records as JSON."),
    write_lock: bool = typer.Option(False, "--write-lock", help="Record the default book's verdicts and values in claims/ledger.lock.json (do it deliberately, in its own commit)."),
):
    """Print the claims ledger; after a variant run, show which verdicts changed."""
    from .claims import lock_entries

    try:
        default = _load_claims(None)
        if write_lock:
            path = paths.root() / "claims" / "ledger.lock.json"
            path.write_text(json.dumps(lock_entries(default), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            console.print(f"wrote {path.relative_to(paths.root())} ({len(default)} claims)")
            return
        variant = variant or _latest_variant()
        other = _load_claims(variant) if variant else None
    except VertintError as exc:
        _fail(exc)
    if json_out:
        out.print_json(json.dumps(other if other is not None else default))
        return
    table = Table(title="Claims ledger (default book)", show_lines=False)
    for col in ("id", "published", "reproduced", "verdict", "robustness"):
        table.add_column(col, overflow="fold")
    for r in default:
        rob = r.get("robustness") or {}
        share = (f" ({rob['default_share']:.0%} of {rob['n_decided']:,} decided; {rob['n_specs']:,} specs)"
                 if rob.get("n_decided") else "")
        table.add_row(r["id"], f"{r['published']['value']} {r['published']['unit']}",
                      f"{r['reproduced']['value']} {r['reproduced']['unit']}", r["verdict"], f"{rob.get('label', '-')}{share}")
    out.print(table)
    if other is not None:
        base = {r["id"]: r for r in default}
        changed = [(r, base.get(r["id"])) for r in other if base.get(r["id"]) is None or base[r["id"]]["verdict"] != r["verdict"]]
        t2 = Table(title=f"Verdicts changed in variant {variant}")
        for col in ("id", "default", "variant", "reproduced (variant)"):
            t2.add_column(col, overflow="fold")
        for r, b in changed:
            t2.add_row(r["id"], b["verdict"] if b else "-", r["verdict"], f"{r['reproduced']['value']} {r['reproduced']['unit']}")
        out.print(t2 if changed else f"Variant {variant}: no verdict changed against the default book.")


@app.command()
def validate():
    """Validate the data manifest (hashes, schemas, provenance) and the run matrix contracts."""
    from . import data
    from .runner import check_contracts, load_matrix

    try:
        names = data.validate_all()
        check_contracts(load_matrix())
    except VertintError as exc:
        _fail(exc)
    console.print(f"OK: {len(names)} data files match data/datapackage.yaml; runs.yml agrees with _toc.yml and the notebooks")


@app.command()
def params(notebook: str = typer.Argument(..., help="Notebook name from runs.yml.")):
    """List a notebook's parameters, types, defaults and allowed values."""
    from .runner import load_matrix

    try:
        runs = load_matrix()
    except VertintError as exc:
        _fail(exc)
    if notebook not in runs:
        _fail(VertintError(f"no notebook {notebook!r} in runs.yml (known: {', '.join(runs)})"))
    t = Table(title=f"{notebook}: {runs[notebook].path}")
    for col in ("parameter", "type", "default", "allowed", "meaning"):
        t.add_column(col, overflow="fold")
    for p in runs[notebook].params.values():
        allowed = ", ".join(map(str, p.choices)) if p.choices else (f"{p.min}..{p.max}" if p.min is not None or p.max is not None else "")
        if p.pattern:
            allowed = f"matches {p.pattern}" + (f"; {allowed}" if allowed else "")
        t.add_row(p.name, p.type, repr(p.default), allowed, p.help)
    out.print(t)


# --- releases (vertint.release) ---
@app.command("release")
def release_cmd(
    version: str = typer.Argument(..., help="MAJOR.MINOR.PATCH, greater than the last release in releases/."),
    date: Optional[str] = typer.Option(None, "--date", help="Release date YYYY-MM-DD (default: today)."),
    notes: str = typer.Option("", "--notes", help="One line on what this release is (shown on the What changed page)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing."),
):
    """Record the default book's last build as numbered release VERSION in releases/VERSION.json."""
    from .release import make

    try:
        path, doc, diff = make(version, date=date, notes=notes, dry_run=dry_run)
    except VertintError as exc:
        _fail(exc)
    against = (f"against the previous release: {len(diff['changed'])} verdict(s) changed, {len(diff['added'])} claim(s) "
               f"added, {len(diff['removed'])} removed" if diff is not None else "the first release")
    verb = "would write" if dry_run else "wrote"
    console.print(f"{verb} releases/{path.name}: {doc['version']} ({doc['date']}), commit {str(doc['commit'])[:12]}, "
                  f"{len(doc['claims'])} claims; {against}" + ("" if dry_run else "; commit it"), highlight=False)
# --- end releases ---


@data_app.command("refresh")
def data_refresh(
    base_url: str = typer.Option("https://digital.nhs.uk", help="Site to read the publications from (tests use a local server)."),
    only: List[str] = typer.Option([], "--only", help="Publication to refresh: appointments, patients or workforce (repeatable; default all)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Download and report what would change; write nothing."),
    timeout: float = typer.Option(30.0, help="Seconds to wait for each download."),
):
    """Download the current NHS files, rebuild the workforce tables and manifest hashes, report changes."""
    from .refresh import refresh

    try:
        report = refresh(base_url=base_url, only=only or None, dry_run=dry_run, timeout=timeout)
    except VertintError as exc:
        _fail(exc)
    for line in report.lines():
        out.print(line, highlight=False, markup=False)


@data_app.command("practice")
def data_practice(
    raw: Optional[Path] = typer.Option(None, "--raw", help="Directory of the raw practice files (default: $VERTINT_PRACTICE_DIR)."),
    check: bool = typer.Option(False, "--check", help="Rebuild in memory and fail if a table or raw-file hash would change; write nothing."),
    # --- practice --fetch (begin): download the raw files instead of reading --raw (vertint.practice.fetch_and_build)
    fetch: bool = typer.Option(False, "--fetch", help="Download the raw files from the sources recorded in data/datapackage.yaml (raw_files) and check their sha256; needs a network."),
    base: Optional[str] = typer.Option(None, "--base", help="With --fetch: replace the scheme and host of every recorded URL (tests use a local server)."),
    accept_new_release: bool = typer.Option(False, "--accept-new-release", help="With --fetch: accept raw files whose sha256 differs from the manifest, rebuild from them and record their sha256."),
    timeout: float = typer.Option(60.0, "--timeout", min=1.0, help="With --fetch: seconds to wait for each download."),
    # --- practice --fetch (end)
):
    """Rebuild the practice tables (payments, names, QOF, workforce) from the raw files and update their manifest hashes."""
    from .practice import build, fetch_and_build

    try:
        # --- practice --fetch (begin)
        if fetch and raw is not None:
            raise VertintError("--raw and --fetch exclude each other: --fetch downloads the raw files itself")
        if not fetch and (base is not None or accept_new_release):
            raise VertintError(f"{'--base' if base is not None else '--accept-new-release'} only applies with --fetch")
        if fetch:
            report = fetch_and_build(base=base, check=check, accept_new=accept_new_release, timeout=timeout)
        else:
            report = build(raw, check=check)
        # --- practice --fetch (end)
    except VertintError as exc:
        _fail(exc)
    for line in report.lines():
        out.print(line, highlight=False, markup=False)
    if check and report.changed:
        _fail(VertintError("the vendored practice tables differ from a rebuild of the raw files"))


@app.command("new-chapter")
def new_chapter(
    name: str = typer.Argument(..., help="Chapter name: lower-case letters, digits and _ (used in file names and claim ids)."),
    title: str = typer.Option(..., "--title", help="The chapter's title."),
):
    """Write a new chapter that builds (notebook, module, claims, run-matrix, table-of-contents and
    certainty entries), following CONTRIBUTING.md; replace its placeholders."""
    from .scaffold import new_chapter as scaffold

    try:
        written = scaffold(name, title)
    except VertintError as exc:
        _fail(exc)
    out.print("wrote " + ", ".join(written))


# --- vertint pdf (issue 14): the whole book as one PDF ---
@app.command()
def pdf(
    force: bool = typer.Option(False, help="Print again even if the PDF is up to date with the site."),
):
    """Print the built book to one PDF (_build/pdf/book.pdf) with headless Chromium; run 'make book' first."""
    from .pdf import build_pdf

    try:
        res = build_pdf(console=console, force=force)
    except VertintError as exc:
        _fail(exc)
    where = res.pdf.relative_to(paths.root()) if res.pdf.is_relative_to(paths.root()) else res.pdf
    state = "Up to date" if res.skipped else f"Printed in {res.seconds:.1f} s"
    console.print(f"{state}: {where} ({res.pages} pages, {res.size / 1e6:.1f} MB, {len(res.charts)} charts); "
                  "linked from the site's page footers as book.pdf")
# --- end vertint pdf ---


if __name__ == "__main__":  # pragma: no cover
    app()

"""Pages generated at build time from data: the key findings, the claims ledger, the data provenance.

The committed ``book/intro.md``, ``book/claims_ledger.md`` and ``book/data_provenance.md`` hold the
prose and a marker line; the runner replaces the marker in the staged copy with text made here. The
staged chapter notebooks also get each claim box's ledger link and citation, and the chapter's
schema.org ClaimReview JSON-LD (:func:`annotate_notebooks`).
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from . import VertintError, data, paths

LEDGER_MARKER = "<!-- vertint:ledger -->"
PROVENANCE_MARKER = "<!-- vertint:provenance -->"
PARAMS_MARKER = "<!-- vertint:parameters -->"
RUBRIC_MARKER = "<!-- vertint:rubric -->"
ROBINS_MARKER = "<!-- vertint:robins -->"
KEY_FINDINGS_MARKER = "<!-- vertint:key-findings -->"
KEY_CLAIMS_FILE = "book/key_claims.yml"
LEDGER_PAGE = "book/claims_ledger"


class GeneratedPageError(VertintError, ValueError):
    """A generated page cannot be made from its inputs (the message names the file and entry)."""


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(v) -> str:
    from .claims import _fmt_value

    return _fmt_value(v)


def _orders() -> tuple[list[str], list[str]]:
    """The fidelity verdicts and the certainty levels in the rubric's order (never typed here)."""
    from . import certainty
    from . import rubric as rb

    doc = rb.load()
    return list(doc["verdicts"]), list(doc["certainty"]["levels"]) + [certainty.NOT_APPLICABLE]


def _ranked(values, order: list[str]) -> list[str]:
    """``values`` (distinct) in ``order``, then any others alphabetically."""
    present = set(values)
    return [v for v in order if v in present] + sorted(present - set(order))


def _count(records: list[dict], key) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        k = key(r)
        out[k] = out.get(k, 0) + 1
    return out


def _robustness_label(r: dict) -> str:
    return (r.get("robustness") or {}).get("label", "not assessed")


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _badge(verdict: str) -> str:
    return f"[{verdict}]{{.vbadge .v-{verdict.replace(' ', '-')}}}"


# --------------------------------------------------------------------------- key findings (intro)


def load_key_claims(path: Path, records: list[dict]) -> list[dict]:
    """``book/key_claims.yml``: the claims the introduction leads with, each ``{id, why}``, in order.
    An unknown id, a missing reason or a malformed file is an error naming the file and the entry."""
    rel = KEY_CLAIMS_FILE
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GeneratedPageError(f"{rel}: file not found (it lists the claims the introduction leads with)") from None
    except yaml.YAMLError as exc:
        from . import yaml_problem

        raise GeneratedPageError(f"{rel}: not valid YAML: {yaml_problem(exc)}") from None
    items = doc.get("key_claims") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise GeneratedPageError(f"{rel}: expected a mapping with a non-empty list 'key_claims' of {{id, why}} entries")
    known = {r["id"] for r in records}
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise GeneratedPageError(f"{rel}: key_claims entry {i} needs an 'id' (a claim id from claims/*.yml)")
        cid = item["id"]
        if known and cid not in known:
            raise GeneratedPageError(f"{rel}: key_claims entry {i}: claim id {cid!r} is not in the ledger (claims/*.yml)")
        if cid in seen:
            raise GeneratedPageError(f"{rel}: key_claims entry {i}: claim id {cid!r} is listed twice")
        why = item.get("why")
        if not isinstance(why, str) or not why.strip():
            raise GeneratedPageError(f"{rel}: key_claims entry {i} ({cid}): 'why' (why the claim matters) is missing or empty")
        seen.add(cid)
        out.append({"id": cid, "why": " ".join(why.split())})
    return out


def key_findings_markdown(records: list[dict], key_claims: list[dict], verdicts: list[str] | None = None,
                          levels: list[str] | None = None) -> str:
    """The introduction's opening: counts by fidelity verdict and by certainty, the key claims with
    their verdicts, and what the evidence cannot settle. Every figure and verdict comes from
    ``records``; the only prose typed elsewhere is each key claim's reason in book/key_claims.yml."""
    from . import certainty
    from .claims import anchor
    from .verdicts import NOT_REPRODUCIBLE

    if not records:
        return "## Key findings\n\nNo claims have been examined yet.\n"
    if verdicts is None or levels is None:
        v_order, l_order = _orders()
        verdicts, levels = verdicts or v_order, levels or l_order
    by_id = {r["id"]: r for r in records}
    n = len(records)
    vcount = _count(records, lambda r: r["verdict"])
    ccount = _count(records, lambda r: r["certainty"]["level"])
    vparts = [f"{vcount[v]:,} {'are ' if i == 0 else ''}*{v}*" for i, v in enumerate(_ranked(vcount, verdicts))]
    out = ["## Key findings", "",
           f"**Fidelity.** Of the {n:,} claims examined, {_join(vparts)}."]
    graded = [lv for lv in _ranked(ccount, levels) if lv != certainty.NOT_APPLICABLE]
    n_graded = sum(ccount[lv] for lv in graded)
    n_na = ccount.get(certainty.NOT_APPLICABLE, 0)
    if graded:
        cparts = [f"*{lv}* for {ccount[lv]:,}" for lv in graded]
        line = (f"**Certainty of the evidence.** For the {n_graded:,} claims about effects and trends the evidence "
                f"can be graded: certainty is {_join(cparts)}")
        line += f"; for the other {n_na:,} (counts, quotations and descriptions) it does not apply." if n_na else "."
        out += ["", line]
    elif n_na:
        out += ["", f"**Certainty of the evidence.** It does not apply to any of the {n:,} claims (counts, quotations and descriptions)."]
    out += ["", "### The claims that matter most", ""]
    for k in key_claims:
        r = by_id.get(k["id"])
        if r is None:
            raise GeneratedPageError(f"{KEY_CLAIMS_FILE}: claim id {k['id']!r} is not in the ledger (claims/*.yml)")
        rob = (r.get("robustness") or {}).get("label")
        extra = f"; robustness: {rob}" if rob and rob != "not applicable" else ""
        out.append(f"- {{ref}}`{r['id']} <{anchor(r['id'])}>`: \u201c{_cell(r['claim'])}\u201d ({_cell(r['source'])}, {r['made']}). "
                   f"{_badge(r['verdict'])}; certainty {r['certainty']['level']}{extra}. *Why it matters:* {_cell(k['why'])}")
    out += ["", "### What the evidence cannot settle", ""]
    n_nr = vcount.get(NOT_REPRODUCIBLE, 0)
    lowest = levels[len([lv for lv in levels if lv != certainty.NOT_APPLICABLE]) - 1] if levels else None
    weakest = [r for r in records if r["certainty"]["level"] == lowest]
    if n_nr:
        out.append(f"{n_nr:,} of the {n:,} claims are *{NOT_REPRODUCIBLE}*: each box, and the "
                   f"{{ref}}`claims ledger <claims-ledger>`, gives the reason.")
    else:
        out.append("Every claim could be checked against public data or the studies cited.")
    if weakest:
        links = ", ".join(f"{{ref}}`{r['id']} <{anchor(r['id'])}>`" for r in weakest)
        out += ["", f"The certainty of the evidence is *{lowest}* for {len(weakest):,} claims: whatever their verdicts, the true "
                f"answer may well differ from what the sources report. They are {links}."]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the claims ledger


def claims_csv_text(records: list[dict]) -> str:
    """The ledger as CSV (columns: vertint.claims.CSV_COLUMNS): ``_build/claims.csv`` and the site's copy."""
    from .claims import CSV_COLUMNS, csv_rows

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(csv_rows(records))
    return buf.getvalue()


def claims_json_text(records: list[dict]) -> str:
    """The ledger as JSON, byte for byte as ``_build/claims.json``."""
    return json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _rel(target: str, page: str) -> str:
    """URL of the page ``target`` (a docname) from the page ``page`` (a docname)."""
    return os.path.relpath(target + ".html", os.path.dirname(page) or ".").replace(os.sep, "/")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _select(name: str, label: str, values: list[str], counts: dict[str, int], names: dict[str, str] | None = None) -> str:
    names = names or {}
    opts = [f'<option value="">All ({sum(counts.values()):,})</option>']
    opts += [f'<option value="{_e(v)}" data-label="{_e(names.get(v, v))}">{_e(names.get(v, v))} ({counts.get(v, 0):,})</option>'
             for v in values]
    return (f'<div class="ledger-field"><label for="ledger-{name}">{_e(label)}</label>'
            f'<select id="ledger-{name}" data-filter="{name}">{"".join(opts)}</select></div>')


def ledger_markdown(records: list[dict], chapters: dict[str, str], pages: dict[str, str] | None = None) -> str:
    """Summary line, then the whole ledger as one HTML table (rows carry data-* attributes that
    ``assets/ledger.js`` filters, counts and sorts, offline) with controls that work by keyboard.

    ``chapters``: chapter name -> title, in book order; ``pages``: chapter name -> docname of its
    page (default ``notebooks/<name>``)."""
    from .claims import _fmt_value, anchor, ledger_anchor

    if not records:
        return "No claims yet."
    pages = pages or {}
    verdicts, levels = _orders()
    counts = _count(records, lambda r: r["verdict"])
    certs = _count(records, lambda r: r["certainty"]["level"])
    robs = _count(records, _robustness_label)
    summary = ", ".join(f"{counts[v]:,} {v}" for v in _ranked(counts, verdicts))
    csum = ", ".join(f"{certs[v]:,} {v}" for v in _ranked(certs, levels))
    hashes = sorted({r["rubric_hash"] for r in records})
    here = LEDGER_PAGE
    csv_url = _rel("claims", here)[: -len(".html")] + ".csv"
    json_url = csv_url[: -len(".csv")] + ".json"
    out = [f"{len(records):,} claims. Fidelity: {summary}. Certainty of the evidence: {csum}. "
           f"Judged under rubric `{', '.join(hashes)}`.", ""]
    order = list(chapters) + sorted({r["chapter"] for r in records} - set(chapters))
    chapter_counts = _count(records, lambda r: r["chapter"])
    rob_order = _ranked(robs, ["robust", "fragile", "single specification", "not applicable", "not assessed"])
    v_rank = {v: i for i, v in enumerate(_ranked(counts, verdicts))}
    c_rank = {v: i for i, v in enumerate(_ranked(certs, levels))}
    r_rank = {v: i for i, v in enumerate(rob_order)}
    h = ['<div class="vertint-ledger">',
         f'<p class="ledger-downloads">Download the ledger: <a href="{_e(csv_url)}" download>claims.csv</a> '
         f'(one row per claim) or <a href="{_e(json_url)}" download>claims.json</a> (the full records).</p>',
         '<form class="ledger-controls" hidden aria-label="Filter and sort the claims">',
         _select("chapter", "Chapter", [c for c in order if c in chapter_counts], chapter_counts, chapters),
         _select("verdict", "Fidelity verdict", _ranked(counts, verdicts), counts),
         _select("certainty", "Certainty", _ranked(certs, levels), certs),
         _select("robustness", "Robustness", rob_order, robs),
         '<div class="ledger-field ledger-search"><label for="ledger-q">Search</label>'
         '<input id="ledger-q" type="search" data-filter="q" autocomplete="off" placeholder="id, words of the claim or source"></div>',
         '<div class="ledger-field"><label for="ledger-sort">Sort by</label><select id="ledger-sort">'
         '<option value="order">Book order</option><option value="id">Claim id</option>'
         '<option value="verdict">Fidelity verdict</option><option value="certainty">Certainty</option>'
         '<option value="robustness">Robustness</option><option value="made">Date made</option></select></div>',
         '<div class="ledger-field"><label for="ledger-dir">Order</label><select id="ledger-dir">'
         '<option value="asc">Ascending</option><option value="desc">Descending</option></select></div>',
         '<div class="ledger-field ledger-reset"><button type="reset">Show all</button></div>',
         '</form>',
         '<p class="ledger-status" role="status" aria-live="polite"></p>',
         '<div class="ledger-scroll">',
         '<table class="ledger-table">',
         '<caption>The claims ledger: one row per claim</caption>',
         '<thead><tr><th scope="col">Claim</th><th scope="col">Asserted (source, date)</th>'
         '<th scope="col">Published and reproduced</th>'
         '<th scope="col">Verdict: fidelity; certainty; still true now?</th><th scope="col">Robustness</th></tr></thead>',
         '<tbody>']
    i = 0
    for chapter in order:
        for r in (r for r in records if r["chapter"] == chapter):
            page = pages.get(chapter, f"notebooks/{chapter}")
            href = f"{_rel(page, here)}#{anchor(r['id'])}"
            pub, rep = r["published"], r["reproduced"]
            rob = _robustness_label(r)
            text = " ".join([r["id"], r["claim"], r["source"]]).lower()
            h.append(
                f'<tr id="{ledger_anchor(r["id"])}" data-order="{i}" data-id="{_e(r["id"])}" data-chapter="{_e(chapter)}" '
                f'data-verdict="{_e(r["verdict"])}" data-certainty="{_e(r["certainty"]["level"])}" '
                f'data-robustness="{_e(rob)}" data-made="{_e(r["made"])}" data-text="{_e(text)}" '
                f'data-rank-verdict="{v_rank[r["verdict"]]}" data-rank-certainty="{c_rank[r["certainty"]["level"]]}" '
                f'data-rank-robustness="{r_rank[rob]}">'
                f'<td data-label="Claim"><a class="ledger-claim" href="{_e(href)}">{_e(r["id"])}</a>'
                f'<span class="ledger-chapter">{_e(chapters.get(chapter, chapter))}</span></td>'
                f'<td data-label="Asserted">\u201c{_e(r["claim"])}\u201d <span class="ledger-source">({_e(r["source"])}, {_e(r["made"])})</span></td>'
                f'<td data-label="Published and reproduced"><span class="ledger-k">Published:</span> '
                f'{_e(_fmt_value(pub["value"]))} {_e(pub["unit"])}<br><span class="ledger-k">Reproduced:</span> '
                f'{_e(_fmt_value(rep["value"]))} {_e(rep["unit"])} (as of {_e(r["as_of"]["date"])})</td>'
                f'<td data-label="Verdict"><span class="vbadge v-{_e(r["verdict"].replace(" ", "-"))}">{_e(r["verdict"])}</span>; '
                f'certainty {_e(r["certainty"]["level"])}; now {_e(r["now"]["verdict"])} ({_e(r["now"]["date"])})</td>'
                f'<td data-label="Robustness">{_robustness_html(r)}</td></tr>')
            i += 1
    h += ["</tbody>", "</table>", "</div>", "</div>"]
    out += ["```{raw} html", "\n".join(h), "```", ""]
    return "\n".join(out)


def _robustness_html(r: dict) -> str:
    rob = r.get("robustness")
    if not rob:
        return "not assessed"
    if "n_specs" not in rob:
        return _e(rob["label"])
    share = (f"{rob['default_share']:.0%} of {rob['n_decided']:,} decided specifications" if rob["n_decided"]
             else "none decided")
    return f'<span class="rbadge r-{_e(rob["label"].replace(" ", "-"))}">{_e(rob["label"])}</span> ({_e(share)})'


def _robustness_cell(r: dict) -> str:
    rob = r.get("robustness")
    if not rob:
        return ""
    if "n_specs" not in rob:
        return _cell(rob["label"])
    share = f"{rob['default_share']:.0%} of {rob['n_decided']:,} decided specifications" if rob["n_decided"] else "none decided"
    return f"[{rob['label']}]{{.rbadge .r-{rob['label'].replace(' ', '-')}}} ({share})"


# --------------------------------------------------------------------------- citable claims


def release_info(root: Path | None = None) -> dict:
    """The release the book is built as: the newest ``releases/*.json`` (its ``version`` and date),
    else the short git commit and its commit date, else CITATION.cff's version and date. Never the
    clock: two builds of one commit give the same text."""
    root = root or paths.root()
    rels = []
    for f in sorted((root / "releases").glob("*.json")) if (root / "releases").is_dir() else []:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GeneratedPageError(f"releases/{f.name}: not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or not doc.get("version"):
            raise GeneratedPageError(f"releases/{f.name}: needs a 'version' field")
        rels.append(doc)
    commit, cdate = _git(root, "rev-parse", "--short=12", "HEAD"), _git(root, "log", "-1", "--format=%cs", "HEAD")
    if rels:
        def key(d):
            return [int(x) if x.isdigit() else x for x in re.split(r"[.\-+]", str(d["version"]).lstrip("v"))]
        rel = max(rels, key=lambda d: (key(d), str(d["version"])))
        date = str(next((rel[k] for k in ("date", "released", "date_released", "datePublished") if rel.get(k)), "") or cdate or "")
        return {"version": str(rel["version"]), "date": date[:10], "commit": commit or ""}
    if commit and cdate:
        return {"version": commit, "date": cdate, "commit": commit}
    cff = {}
    if (root / "CITATION.cff").exists():
        cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8")) or {}
    return {"version": str(cff.get("version", "unreleased")), "date": str(cff.get("date-released", "")), "commit": ""}


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def book_meta(config: dict, runs, root: Path | None = None) -> dict:
    """What a citation and the JSON-LD need: title and author (from _config.yml), release and
    date, the site's base URL (``html.baseurl``; empty for a site path relative to its root) and
    each chapter's page."""
    rel = release_info(root)
    base = str((config.get("html") or {}).get("baseurl") or "")
    if base and not base.endswith("/"):
        base += "/"
    return {"title": str(config.get("title", "")), "author": str(config.get("author", "")),
            "version": rel["version"], "date": rel["date"], "commit": rel["commit"], "base_url": base,
            "pages": {name: Path(run.path).with_suffix("").as_posix() for name, run in runs.items()}}


def annotate_notebooks(stage_dir: Path, records: list[dict], runs, book: dict) -> int:
    """In the staged chapter notebooks, redraw each claim box from its final record (with the build's
    robustness), and add the chapter's ClaimReview JSON-LD as a last cell, from which
    assets/ledger.js draws each box's link to its ledger row and its citation. Returns the number
    of boxes redrawn."""
    from . import claims as claims_mod

    by_id = {r["id"]: r for r in records}
    done = 0
    for name, run in runs.items():
        path = stage_dir / Path(run.path).with_suffix(".ipynb")
        if not path.exists():
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        page = book["pages"][name]
        ledger = _rel(LEDGER_PAGE, page)
        reviews = []
        for cell in nb.get("cells", []):
            for output in cell.get("outputs", []) or []:
                payload = (output.get("data") or {}).get(claims_mod.MIME)
                if payload is None:
                    continue
                rec = json.loads(payload) if isinstance(payload, str) else payload
                rec = by_id.get(rec["id"], rec)
                box = output["data"].get("text/markdown", "")
                collapsed = claims_mod.is_collapsed("".join(box) if isinstance(box, list) else box)
                output["data"]["text/markdown"] = claims_mod.markdown(rec, collapsed)
                reviews.append(rec)
                done += 1
        if reviews:
            doc = claims_mod.claim_reviews(reviews, book)
            try:
                claims_mod.validate_claim_reviews(doc)
            except claims_mod.ClaimError as exc:
                raise GeneratedPageError(f"{run.path}: {exc}") from None
            nb["cells"].append({"cell_type": "markdown", "id": "vertint-claimreview", "metadata": {},
                                "source": "```{raw} html\n" + claims_mod.jsonld_html(doc, ledger) + "\n```\n"})
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return done


def provenance_markdown() -> str:
    """A short index table, then one block per file with its full provenance."""
    man = data.manifest()
    resources = man.get("resources", [])
    lines = ["| File | Licence | Rows |", "|---|---|---|"]
    for res in resources:
        rows = _row_count(res)
        lines.append(f"| {{ref}}`data/{res['path']} <{_anchor(res)}>` "
                     f"| {_cell('; '.join(l.get('name', '') for l in res.get('licenses', [])))} | {rows:,} |")
    lines.append("")
    for res in resources:
        srcs = "; ".join(f"[{_cell(s.get('title', s['path']))}]({s['path']})" for s in res.get("sources", []))
        lic = "; ".join(
            f"[{l.get('name', '')}]({l['path']})" if l.get("path") else l.get("name", "") for l in res.get("licenses", [])
        )
        lines += [
            f"({_anchor(res)})=",
            f"## data/{res['path']}",
            "",
            res.get("title", ""),
            "",
            "Publisher",
            f": {res.get('publisher', '')}",
            "",
            "Release / vintage",
            f": {res.get('vintage', '')}",
            "",
            "Licence",
            f": {lic}",
            "",
            "sha256",
            f": `{str(res.get('hash', '')).split(':', 1)[-1]}`",
            "",
            "Columns",
            f": {', '.join('`' + f['name'] + '`' for f in res['schema']['fields'])}",
            "",
            "Sources",
            f": {srcs}",
            "",
        ]
    return "\n".join(lines) + "\n"


def _anchor(res: dict) -> str:
    return "data-" + str(res["name"]).replace("_", "-")


def _row_count(res: dict) -> int:
    with open(paths.data_dir() / res["path"], encoding="utf-8", newline="") as fh:
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)


def parameters_markdown(runs) -> str:
    lines = ["| Notebook | Parameter | Type | Default | Allowed | Meaning |", "|---|---|---|---|---|---|"]
    for name, run in runs.items():
        for p in run.params.values():
            allowed = ", ".join(map(str, p.choices)) if p.choices else (
                f"{p.min} to {p.max}" if p.min is not None or p.max is not None else "")
            lines.append(f"| `{name}` | `{p.name}` | {p.type} | `{p.default!r}` | {_cell(allowed)} | {_cell(p.help)} |")
    return "\n".join(lines) + "\n"


def rubric_markdown() -> str:
    """The Methods page's rubric section, rendered from rubric/rubric.yml (never typed)."""
    from . import rubric as rb

    doc = rb.load()
    lines = [f"Rubric hash: `{rb.rubric_hash()}`.", "", "### The four verdicts (fidelity)", ""]
    for word, text in doc["verdicts"].items():
        lines += [f"*{word}*", f": {_cell(' '.join(str(text).split()))}", ""]
    lines += ["### When a claim is judged", ""]
    for key in ("made", "as_of", "still_true_now"):
        lines += [f"`{key}`", f": {_cell(' '.join(str(doc['timing'][key]).split()))}", ""]
    lines += ["### Rules", ""]
    for name, spec in doc["rules"].items():
        lines += [f"`{name}`", f": {_cell(' '.join(str(spec['description']).split()))}", ""]
    lines += ["### Parameters", ""]
    params = [("timing", k, v) for k, v in (doc["timing"].get("parameters") or {}).items()]
    params += [(rule, k, v) for rule, spec in doc["rules"].items() for k, v in (spec.get("parameters") or {}).items()]
    for rule, k, v in params:
        items = v["value"] if isinstance(v["value"], list) else [v["value"]]
        val = ", ".join(f"{x:.4g}" if isinstance(x, (int, float)) else str(x) for x in items)
        lines += [f"`{rule}.{k}` = {val} ({_cell(v['unit'])})",
                  f": **{_cell(v['label'])}.** {_cell(' '.join(str(v['reason']).split()))} *Reference:* {_cell(v['reference'])}", ""]
    cert = doc["certainty"]
    lines += ["", "### Certainty of the evidence", "", _cell(" ".join(str(cert["reason"]).split())), "",
              f"Levels: {', '.join(cert['levels'])}. Starting levels: "
              + "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in cert["start"].items())
              + ". ROBINS-I overall to risk-of-bias downgrade: "
              + "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in cert["robins_i_steps"].items()) + ".",
              "", f"References: {_cell(' '.join(str(cert['reference']).split()))}.", "",
              "### Rubric changelog", "", "| Date | Rubric hash | What changed and why |", "|---|---|---|"]
    for e in doc["changelog"]:
        lines.append(f"| {e['date']} | `{e['hash']}` | {_cell(' '.join(str(e['change']).split()))} |")
    return "\n".join(lines) + "\n"


def robins_markdown() -> str:
    """ROBINS-I judgements, one row per study (domains as columns), then the reasons."""
    from . import certainty

    rob = certainty.robins_i()
    short = {d: d.replace("_", " ").replace("deviations from intended interventions", "deviations")
             .replace("classification of interventions", "classification").replace("selection of participants", "selection")
             .replace("measurement of outcomes", "measurement").replace("selection of reported result", "reporting")
             for d in certainty.ROBINS_DOMAINS}
    lines = ["| Study | " + " | ".join(short[d] for d in certainty.ROBINS_DOMAINS) + " | Overall |",
             "|---" * (len(certainty.ROBINS_DOMAINS) + 2) + "|"]
    for key, st in rob.items():
        lines.append(f"| `{key}` | " + " | ".join(st["domains"][d]["judgement"].replace("_", " ") for d in certainty.ROBINS_DOMAINS)
                     + f" | **{st['overall']['judgement'].replace('_', ' ')}** |")
    lines.append("")
    for key, st in rob.items():
        lines += [f"`{key}`", f": {_cell(st.get('citation', key))}. Overall: {_cell(st['overall']['reason'])}", ""]
    return "\n".join(lines) + "\n"


def write_generated(stage_dir: Path, records: list[dict], runs, variant: str | None) -> None:
    chapters = {name: run.title for name, run in runs.items()}
    config = yaml.safe_load((stage_dir / "_config.yml").read_text(encoding="utf-8")) if (stage_dir / "_config.yml").exists() else {}
    book = book_meta(config or {}, runs)
    replacements = {
        stage_dir / "book" / "claims_ledger.md": (LEDGER_MARKER, lambda: ledger_markdown(records, chapters, book["pages"])),
        stage_dir / "book" / "data_provenance.md": (PROVENANCE_MARKER, provenance_markdown),
        stage_dir / "book" / "reproduce.md": (PARAMS_MARKER, lambda: parameters_markdown(runs)),
        stage_dir / "book" / "methods.md": (RUBRIC_MARKER, lambda: rubric_markdown() + "\n### Risk of bias of the effect studies (ROBINS-I)\n\n" + robins_markdown()),
        stage_dir / "book" / "intro.md": (KEY_FINDINGS_MARKER, lambda: key_findings_markdown(
            records, load_key_claims(stage_dir / KEY_CLAIMS_FILE, records))),
    }
    for path, (marker, make) in replacements.items():
        if not path.exists():
            continue
        body = path.read_text(encoding="utf-8")
        if marker not in body:
            raise ValueError(f"{path.name}: marker {marker} not found")
        text = make()
        if variant:
            text = f"```{{note}}\nThis is the variant build `{variant}`, not the default book.\n```\n\n" + text
        path.write_text(body.replace(marker, text), encoding="utf-8")
    annotate_notebooks(stage_dir, records, runs, book)
    # the ledger's exports, in the site root (assets/root is the html_extra_path), so the links work offline
    root_dir = stage_dir / "assets" / "root"
    root_dir.mkdir(parents=True, exist_ok=True)
    (root_dir / "claims.csv").write_text(claims_csv_text(records), encoding="utf-8")
    (root_dir / "claims.json").write_text(claims_json_text(records), encoding="utf-8")

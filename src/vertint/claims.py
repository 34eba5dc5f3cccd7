"""The claims registry.

What was asserted (quotation, source, published value) is kept as data in ``claims/*.yml``: one
file per chapter. What the data show (reproduced value, verdict, caveat) is computed in the
chapter notebook and emitted with :func:`emit`, which shows a verdict box in the page and carries a
machine-readable record that the runner collects into ``_build/claims.json`` and the ledger page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import yaml

from . import VertintError, certainty, paths, rubric, yaml_problem
from .verdicts import NOT_REPRODUCIBLE, Verdict

MIME = "application/vnd.vertint.claim+json"
REGISTRY_FIELDS = ("id", "chapter", "claim", "source", "published", "section", "made")
#: the "as of" basis of a claim judged on the documents themselves (a study's reported figures, a
#: count in a report): they are fixed, so the claim is judged on them as published.
DOCUMENT_BASIS = "the documents and studies cited, as published on or before the claim's date"


class ClaimError(VertintError):
    pass


def registry(root: Path | None = None) -> dict[str, dict]:
    """All registered claims, by id, in file order (a fresh copy; parsed once per version of the files)."""
    import copy

    return copy.deepcopy(_registry_shared(root))


def _registry_shared(root: Path | None = None) -> dict[str, dict]:
    """The cached registry itself: for read-only lookups inside this module (no copy)."""
    base = (root or paths.root()) / "claims"
    files = sorted(base.glob("*.yml"))
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if key not in _REGISTRY_CACHE:
        _REGISTRY_CACHE.clear()
        _REGISTRY_CACHE[key] = _parse_registry(base, files)
    return _REGISTRY_CACHE[key]


_REGISTRY_CACHE: dict[tuple, dict] = {}


def _parse_registry(base: Path, files: list[Path]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for file in files:
        rel = file.relative_to(base.parent)
        try:
            records = yaml.safe_load(file.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            raise ClaimError(f"{rel}: not valid YAML: {yaml_problem(exc)}") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ClaimError(f"{rel}: expected a list of claims (each a mapping with {', '.join(REGISTRY_FIELDS)})")
        for rec in records:
            missing = [k for k in REGISTRY_FIELDS if k not in rec]
            if missing:
                raise ClaimError(f"{file.relative_to(base.parent)}: claim {rec.get('id', '?')!r} lacks {', '.join(missing)}")
            if rec["id"] in out:
                raise ClaimError(f"{file.relative_to(base.parent)}: duplicate claim id {rec['id']!r}")
            out[rec["id"]] = rec
    return out


def id_problems(reg: dict[str, dict], released: set[str]) -> list[str]:
    """House style of claim ids: ``<chapter>-<slug>``. Ids are citable anchors, so a claim that has
    been released (its id is in ``released``, the ids of ``claims/ledger.lock.json``) keeps its id
    when it moves to another chapter; a new claim must carry its chapter's prefix."""
    return [f"claim {cid!r} (chapter {rec['chapter']!r}): a new claim's id starts with '{rec['chapter']}-' "
            "(only a released claim keeps its old id when it moves chapter)"
            for cid, rec in reg.items() if not cid.startswith(rec["chapter"] + "-") and cid not in released]


def seen_up_to(claim_id: str) -> str:
    """The last month (YYYY-MM) whose figures a claim could have seen: the month of its ``made`` date,
    or for a claim dated only by year, the December before (the rubric's ``timing.as_of`` rule)."""
    made = str(_registry_shared()[claim_id]["made"])
    if len(made) == 4 and made.isdigit():
        return f"{int(made) - 1}-12"
    if len(made) >= 7 and made[4] == "-":
        return made[:7]
    raise ClaimError(f"claim {claim_id!r}: made={made!r} has no month or year to judge it as of")


def fy_end(year: str) -> str:
    """The month (YYYY-MM) a financial year such as '2020-21' ends: March of its second year."""
    return f"{int(year[:4]) + 1}-03"


def last_financial_year(claim_id: str) -> str:
    """The last financial year ('2018-19') that ended before the month a claim could see
    (:func:`seen_up_to`): its figures were complete when the claim was made."""
    upto = seen_up_to(claim_id)
    end = int(upto[:4]) if int(upto[5:]) > 3 else int(upto[:4]) - 1
    return f"{end - 1}-{str(end)[2:]}"


def precision(claim_id: str) -> float:
    """The rounding unit a claim states its figure to (its ``precision`` in claims/*.yml)."""
    rec = _registry_shared()[claim_id]
    if "precision" not in rec:
        raise ClaimError(f"claim {claim_id!r} declares no precision in claims/{rec['chapter']}.yml")
    return float(rec["precision"]["unit"])


def validate_records(records: list[dict], root: Path | None = None) -> None:
    """Check records against ``claims/claims.schema.json``; the error names the claim and field."""
    import jsonschema

    schema = json.loads(((root or paths.root()) / "claims" / "claims.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(records), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = list(e.path)
        cid = records[where[0]].get("id", "?") if where and isinstance(where[0], int) else "?"
        field_path = ".".join(str(p) for p in where[1:]) or "(record)"
        raise ClaimError(f"claims.json: claim {cid!r}, field {field_path}: {e.message} (claims/claims.schema.json)")


def _check_as_of(claim_id: str, as_of: dict | None, made: str) -> dict:
    if as_of is None:
        return {"date": made, "figure": "as published", "why": DOCUMENT_BASIS}
    missing = [k for k in ("date", "figure", "why") if not as_of.get(k)]
    if missing:
        raise ClaimError(f"claim {claim_id!r}: as_of needs {', '.join(missing)}")
    return {"date": str(as_of["date"]), "figure": str(as_of["figure"]), "why": str(as_of["why"])}


def _check_now(claim_id: str, now: dict | None, verdict: Verdict, as_of: dict) -> dict:
    if now is None:
        return {"verdict": verdict.label, "date": as_of["date"],
                "note": "no later figure bears on it: the verdict stands on the documents as published"}
    if not isinstance(now.get("verdict"), Verdict):
        raise ClaimError(f"claim {claim_id!r}: now['verdict'] must come from a rubric rule")
    if not now.get("date") or not now.get("note"):
        raise ClaimError(f"claim {claim_id!r}: now needs a date and a note")
    return {"verdict": now["verdict"].label, "date": str(now["date"]), "note": str(now["note"])}


def record(claim_id: str, reproduced: dict, verdict: Verdict, caveat: str,
           as_of: dict | None = None, now: dict | None = None) -> dict:
    """Build the full record for ``claim_id`` (registry fields + computed fields).

    ``as_of``: the figure the verdict rests on, as it stood when the claim was made ({date, figure,
    why}); omitted for a claim judged on the documents themselves. ``now``: the same rule on the
    latest figure ({verdict, date, note}); omitted when no later figure bears on the claim.
    """
    reg = registry()
    if claim_id not in reg:
        raise ClaimError(f"claim {claim_id!r} is not in claims/*.yml")
    if not isinstance(verdict, Verdict):
        raise ClaimError(f"claim {claim_id!r}: verdict must come from vertint.verdicts, not a typed string")
    if verdict.label != NOT_REPRODUCIBLE and verdict.rule == "not_reproducible":
        raise ClaimError(f"claim {claim_id!r}: inconsistent verdict")
    if not {"value", "unit"} <= set(reproduced):
        raise ClaimError(f"claim {claim_id!r}: reproduced needs 'value' and 'unit'")
    rec = {k: v for k, v in reg[claim_id].items() if k != "reason_if_unreproducible"}
    rec["made"] = str(rec["made"])
    rec["reproduced"] = {"value": reproduced["value"], "unit": reproduced["unit"]}
    rec["verdict"] = verdict.label
    rec["rule"] = verdict.rule
    rec["reason"] = verdict.reason
    rec["caveat"] = caveat
    rec["as_of"] = _check_as_of(claim_id, as_of, rec["made"])
    rec["now"] = _check_now(claim_id, now, verdict, rec["as_of"])
    rec["certainty"] = certainty.assess(claim_id)
    rec["rubric_hash"] = rubric.rubric_hash()
    return rec


def _fmt_value(value) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def certainty_text(cert: dict) -> str:
    """One line on the certainty axis: the level, and each step with its reason."""
    if cert["level"] == certainty.NOT_APPLICABLE:
        return f"not applicable ({cert['reason']})"
    steps = "; ".join(f"{'down' if st['steps'] < 0 else 'up'} {abs(st['steps'])} for {st['domain'].replace('_', ' ')}: "
                      f"{st['reason'].rstrip('.')}" for st in cert["steps"])
    start = f"starts {cert['start']} ({cert['evidence_type'].replace('_', ' ')})"
    return f"**{cert['level']}**. Question: {cert['question']} Judgement: {start}{'; ' + steps if steps else ''}."


def anchor(claim_id: str) -> str:
    """The HTML id of a claim's box in its chapter (the claim id, as docutils spells ids)."""
    from docutils.nodes import make_id

    return make_id(claim_id)


def ledger_anchor(claim_id: str) -> str:
    """The HTML id of a claim's row in the claims ledger."""
    return "ledger-" + anchor(claim_id)


def _robustness_line(rec: dict) -> str | None:
    rob = rec.get("robustness")
    if not rob or rob.get("label") == "not applicable":
        return None
    if rob.get("n_decided"):
        share = f"the default verdict holds in {rob['default_share']:.0%} of {rob['n_decided']:,} decided specifications"
    else:
        share = "no specification decided the claim"
    return f"**Robustness:** {rob['label']} ({share})  "


def is_collapsed(box: str) -> bool:
    """Whether a verdict box made by :func:`markdown` is folded (its class line names ``dropdown``)."""
    for line in str(box).splitlines()[1:4]:
        if line.startswith(":class:"):
            return "dropdown" in line.split()
    return False


def markdown(rec: dict, collapsed: bool = False) -> str:
    """The claim's verdict box (a MyST admonition whose anchor is the claim id).

    The box's link to its ledger row and its "Cite this claim" snippet are drawn in the browser
    (assets/ledger.js) from the chapter page's ClaimReview JSON-LD (:func:`jsonld_html`), the
    snippet exactly as :func:`citation` writes it: the data are on the page once, which keeps the
    longest chapter under the page-size limit."""
    pub, rep = rec["published"], rec["reproduced"]
    css = "verdict-" + rec["verdict"].replace(" ", "-") + (" dropdown" if collapsed else "")
    cert = rec["certainty"]["level"]
    now = rec["now"]
    body = [
        f"> {rec['claim']}",
        f"> — {rec['source']}, {rec['made']}",
        "",
        f"**Published:** {_fmt_value(pub['value'])} {pub['unit']}  ",
        f"**Reproduced:** {_fmt_value(rep['value'])} {rep['unit']}  ",
        f"**Fidelity:** {rec['verdict']} (rule `{rec['rule']}`): {rec['reason']}  ",
        f"**Judged as of:** {rec['as_of']['date']}: {rec['as_of']['figure']} ({rec['as_of']['why']})  ",
        f"**Still true now?** {now['verdict']} as of {now['date']}: {now['note']}  ",
        f"**Certainty of the evidence:** {certainty_text(rec['certainty'])}  ",
    ]
    rob = _robustness_line(rec)
    if rob:
        body.append(rob)
    body.append(f"**Caveat:** {rec['caveat']}")
    return "\n".join(
        [
            f"```{{admonition}} Claim {rec['id']}: {rec['verdict']} · certainty: {cert}",
            f":class: verdict {css}",
            f":name: {anchor(rec['id'])}",
            "",
            *body,
            "```",
        ]
    )


def _bib_escape(text: str) -> str:
    out = str(text)
    for ch in "\\{}":
        out = out.replace(ch, "")
    for ch in "&%$#_":
        out = out.replace(ch, "\\" + ch)
    return out


def citation(rec: dict, book: dict) -> dict:
    """How to cite one claim: ``{"text", "bibtex"}``, from ``book`` (vertint.pages.book_meta: title,
    author, release version and date, base URL, chapter pages). No access date: deterministic.
    assets/ledger.js draws the same two snippets in each claim box from the page's JSON-LD (the
    browser test checks that they agree)."""
    url = book["base_url"] + claim_path(rec, book)
    text = (f"{book['author']}. Claim {rec['id']}: \u201c{rec['claim']}\u201d ({rec['source']}, {rec['made']}). "
            f"Verdict: {rec['verdict']}. In: {book['title']}, release {book['version']}, {book['date']}. {url}")
    bib = "\n".join([
        f"@misc{{vertint:{rec['id']},",
        f"  title = {{Claim {rec['id']}: {_bib_escape(rec['verdict'])}}},",
        f"  author = {{{{{_bib_escape(book['author'])}}}}},",
        f"  howpublished = {{{_bib_escape(book['title'])}, release {_bib_escape(book['version'])}}},",
        f"  year = {{{str(book['date'])[:4]}}},",
        f"  url = {{{url}}},",
        f"  note = {{Claim reviewed: {_bib_escape(rec['claim'])} ({_bib_escape(rec['source'])}, {rec['made']})}},",
        "}",
    ])
    return {"text": text, "bibtex": bib}


def claim_path(rec: dict, book: dict) -> str:
    """The claim's URL path in the site (its chapter's page and its anchor)."""
    return f"{book['pages'][rec['chapter']]}.html#{anchor(rec['id'])}"


AUTHOR_NODE = "#vertint-author"
BOOK_NODE = "#vertint-book"


def claim_review(rec: dict, book: dict) -> dict:
    """The schema.org ClaimReview node of one claim; its author and the book it is part of are the
    graph's shared nodes (:func:`claim_reviews`)."""
    item = {"@type": "Claim", "author": {"@type": "Organization", "name": rec["source"]}}
    if rec["made"] != "undated":
        item["datePublished"] = rec["made"]
    return {
        "@type": "ClaimReview",
        "identifier": rec["id"],
        "url": book["base_url"] + claim_path(rec, book),
        "claimReviewed": rec["claim"],
        "itemReviewed": item,
        "author": {"@id": AUTHOR_NODE},
        "isPartOf": {"@id": BOOK_NODE},
        "datePublished": book["date"],
        "reviewRating": {"@type": "Rating", "alternateName": rec["verdict"]},
    }


def claim_reviews(records: list[dict], book: dict) -> dict:
    """A chapter page's JSON-LD: one graph with the book's author, the book (title and release)
    and a ClaimReview per claim (checked against claims/claimreview.schema.json)."""
    return {"@context": "https://schema.org", "@graph": [
        {"@type": "Organization", "@id": AUTHOR_NODE, "name": book["author"]},
        {"@type": "Book", "@id": BOOK_NODE, "name": book["title"], "version": book["version"],
         "author": {"@id": AUTHOR_NODE}},
        *(claim_review(r, book) for r in records)]}


def validate_claim_reviews(doc: dict, root: Path | None = None) -> None:
    """Check a page's JSON-LD against ``claims/claimreview.schema.json`` and the rubric's verdict
    words; the error names the claim and the field."""
    import jsonschema

    base = (root or paths.root()) / "claims"
    schema = json.loads((base / "claimreview.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: [str(p) for p in e.path])
    graph = doc.get("@graph") if isinstance(doc, dict) else None
    if errors:
        e = errors[0]
        where = list(e.path)
        cid = "?"
        if len(where) >= 2 and where[0] == "@graph" and isinstance(where[1], int) and isinstance(graph, list):
            cid = graph[where[1]].get("identifier", graph[where[1]].get("@id", "?"))
            where = where[2:]
        field_path = ".".join(str(p) for p in where) or "(node)"
        raise ClaimError(f"ClaimReview JSON-LD: claim {cid!r}, field {field_path}: {e.message} (claims/claimreview.schema.json)")
    words = set(rubric.load()["verdicts"])
    for node in graph:
        if node.get("@type") == "ClaimReview" and node["reviewRating"]["alternateName"] not in words:
            raise ClaimError(f"ClaimReview JSON-LD: claim {node['identifier']!r}, field reviewRating.alternateName: "
                             f"{node['reviewRating']['alternateName']!r} is not a verdict of rubric/rubric.yml")


def jsonld_html(doc: dict, ledger_url: str | None = None) -> str:
    """A ``<script type="application/ld+json">`` element holding ``doc`` (safe inside HTML).
    ``ledger_url``: the claims ledger page, relative to this page (``data-ledger``; the boxes' links
    to their rows are made from it, to ``#ledger-<id>``)."""
    body = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    body = body.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    attr = f' data-ledger="{html.escape(ledger_url, quote=True)}"' if ledger_url else ""
    return f'<script type="application/ld+json"{attr}>{body}</script>'


class _ClaimDisplay:
    def __init__(self, rec: dict, collapsed: bool = False):
        self.rec = rec
        self.collapsed = collapsed

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {MIME: self.rec, "text/markdown": markdown(self.rec, self.collapsed)}


def emit(claim_id: str, reproduced: dict, verdict: Verdict, caveat: str, collapsed: bool = False,
         as_of: dict | None = None, now: dict | None = None):
    """Call as the last line of a notebook cell: shows the verdict box and carries the record.
    ``collapsed=True`` folds the box (title still shows id and verdict), for long runs of claims.
    ``as_of`` and ``now``: see :func:`record`."""
    return _ClaimDisplay(record(claim_id, reproduced, verdict, caveat, as_of, now), collapsed)


def collect(notebook: dict) -> list[dict]:
    """Claim records emitted in an executed notebook (nbformat dict), in order."""
    out = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data", {})
            if MIME in data:
                rec = data[MIME]
                out.append(json.loads(rec) if isinstance(rec, str) else rec)
    return out


def lock_entries(records: list[dict]) -> dict:
    """What ``claims/ledger.lock.json`` pins: the rubric's hash, and for each claim its verdict, the
    date it was judged as of, its certainty and its reproduced value."""
    hashes = sorted({r["rubric_hash"] for r in records})
    return {"rubric_hash": hashes[0] if len(hashes) == 1 else hashes,
            "claims": [{"id": r["id"], "verdict": r["verdict"], "as_of": r["as_of"]["date"],
                        "certainty": r["certainty"]["level"], "now": r["now"]["verdict"],
                        "robustness": r.get("robustness", {}).get("label"),
                        "reproduced": r["reproduced"]["value"]} for r in records]}


CSV_COLUMNS = ("id", "chapter", "claim", "source", "made", "published_value", "published_unit",
               "reproduced_value", "reproduced_unit", "verdict", "rule", "reason", "as_of_date", "as_of_figure",
               "now_verdict", "now_date", "certainty", "certainty_question", "robustness", "robustness_specs",
               "robustness_decided", "robustness_default_share", "caveat", "section", "rubric_hash")


def csv_rows(records: list[dict]) -> list[dict]:
    """The ledger as flat rows for ``claims.csv`` (one per claim, columns :data:`CSV_COLUMNS`)."""
    rows = []
    for r in records:
        rows.append({
            "id": r["id"], "chapter": r["chapter"], "claim": r["claim"], "source": r["source"], "made": r["made"],
            "published_value": r["published"]["value"], "published_unit": r["published"]["unit"],
            "reproduced_value": r["reproduced"]["value"], "reproduced_unit": r["reproduced"]["unit"],
            "verdict": r["verdict"], "rule": r["rule"], "reason": r["reason"],
            "as_of_date": r["as_of"]["date"], "as_of_figure": r["as_of"]["figure"],
            "now_verdict": r["now"]["verdict"], "now_date": r["now"]["date"],
            "certainty": r["certainty"]["level"], "certainty_question": r["certainty"].get("question", ""),
            "robustness": r.get("robustness", {}).get("label", ""),
            "robustness_specs": r.get("robustness", {}).get("n_specs", ""),
            "robustness_decided": r.get("robustness", {}).get("n_decided", ""),
            "robustness_default_share": r.get("robustness", {}).get("default_share", ""),
            "caveat": r["caveat"], "section": r["section"], "rubric_hash": r["rubric_hash"],
        })
    return rows

"""Pages generated at build time from data: the claims ledger and the data provenance.

The committed ``book/claims_ledger.md`` and ``book/data_provenance.md`` hold the prose and a marker
line; the runner replaces the marker in the staged copy with a table made here.
"""

from __future__ import annotations

import csv
from pathlib import Path

from . import data, paths

LEDGER_MARKER = "<!-- vertint:ledger -->"
PROVENANCE_MARKER = "<!-- vertint:provenance -->"
PARAMS_MARKER = "<!-- vertint:parameters -->"
RUBRIC_MARKER = "<!-- vertint:rubric -->"
ROBINS_MARKER = "<!-- vertint:robins -->"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(v) -> str:
    from .claims import _fmt_value

    return _fmt_value(v)


def ledger_markdown(records: list[dict], chapters: dict[str, str]) -> str:
    """Summary line, then one table per chapter (in book order) with a link to each section."""
    counts: dict[str, int] = {}
    certs: dict[str, int] = {}
    for r in records:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        certs[r["certainty"]["level"]] = certs.get(r["certainty"]["level"], 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    csum = ", ".join(f"{n} {v}" for v, n in sorted(certs.items()))
    hashes = sorted({r["rubric_hash"] for r in records})
    out = [f"{len(records)} claims. Fidelity: {summary}. Certainty of the evidence: {csum}. "
           f"Judged under rubric `{', '.join(hashes)}`; the ledger is also in `claims.json` and `claims.csv`."
           if records else "No claims yet.", ""]
    order = list(chapters) + sorted({r["chapter"] for r in records} - set(chapters))
    for chapter in order:
        rows = [r for r in records if r["chapter"] == chapter]
        if not rows:
            continue
        out += [f"## {chapters.get(chapter, chapter)}", "",
                "| Claim | Asserted (source, date) | Published | Reproduced (as of) | Verdict: fidelity; certainty; still true now? | Robustness |",
                "|---|---|---|---|---|---|"]
        for r in rows:
            pub, rep = r["published"], r["reproduced"]
            out.append(
                f"| {{ref}}`{r['id']} <{r['section']}>` | \u201c{_cell(r['claim'])}\u201d ({_cell(r['source'])}, {r['made']}) "
                f"| {_cell(_value(pub['value']))} {_cell(pub['unit'])} "
                f"| {_cell(_value(rep['value']))} {_cell(rep['unit'])} (as of {r['as_of']['date']}) "
                f"| [{r['verdict']}]{{.vbadge .v-{r['verdict'].replace(' ', '-')}}}; "
                f"certainty {r['certainty']['level']}; now {r['now']['verdict']} ({r['now']['date']}) "
                f"| {_robustness_cell(r)} |"
            )
        out.append("")
    return "\n".join(out)


def _robustness_cell(r: dict) -> str:
    rob = r.get("robustness")
    if not rob:
        return ""
    if "n_specs" not in rob:
        return _cell(rob["label"])
    share = f"{rob['default_share']:.0%} of {rob['n_decided']:,} decided specifications" if rob["n_decided"] else "none decided"
    return f"[{rob['label']}]{{.rbadge .r-{rob['label'].replace(' ', '-')}}} ({share})"


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
    replacements = {
        stage_dir / "book" / "claims_ledger.md": (LEDGER_MARKER, ledger_markdown(records, chapters)),
        stage_dir / "book" / "data_provenance.md": (PROVENANCE_MARKER, provenance_markdown()),
        stage_dir / "book" / "reproduce.md": (PARAMS_MARKER, parameters_markdown(runs)),
        stage_dir / "book" / "methods.md": (RUBRIC_MARKER, rubric_markdown() + "\n### Risk of bias of the effect studies (ROBINS-I)\n\n" + robins_markdown()),
    }
    for path, (marker, text) in replacements.items():
        if not path.exists():
            continue
        body = path.read_text(encoding="utf-8")
        if marker not in body:
            raise ValueError(f"{path.name}: marker {marker} not found")
        if variant:
            text = f"```{{note}}\nThis is the variant build `{variant}`, not the default book.\n```\n\n" + text
        path.write_text(body.replace(marker, text), encoding="utf-8")

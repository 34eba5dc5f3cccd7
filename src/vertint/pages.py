"""Pages generated at build time from data: the claims ledger and the data provenance.

The committed ``book/claims_ledger.md`` and ``book/data_provenance.md`` hold the prose and a marker
line; the runner replaces the marker in the staged copy with a table made here.
"""

from __future__ import annotations

from pathlib import Path

import csv

from . import data, paths

LEDGER_MARKER = "<!-- vertint:ledger -->"
PROVENANCE_MARKER = "<!-- vertint:provenance -->"
PARAMS_MARKER = "<!-- vertint:parameters -->"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(v) -> str:
    from .claims import _fmt_value

    return _fmt_value(v)


def ledger_markdown(records: list[dict], chapters: dict[str, str]) -> str:
    """Summary line, then one table per chapter (in book order) with a link to each section."""
    counts: dict[str, int] = {}
    for r in records:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    out = [f"{len(records)} claims: {summary}." if records else "No claims yet.", ""]
    order = list(chapters) + sorted({r["chapter"] for r in records} - set(chapters))
    for chapter in order:
        rows = [r for r in records if r["chapter"] == chapter]
        if not rows:
            continue
        out += [f"## {chapters.get(chapter, chapter)}", "",
                "| Claim | Asserted (source) | Published | Reproduced | Verdict |",
                "|---|---|---|---|---|"]
        for r in rows:
            pub, rep = r["published"], r["reproduced"]
            out.append(
                f"| {{ref}}`{r['id']} <{r['section']}>` | \u201c{_cell(r['claim'])}\u201d ({_cell(r['source'])}) "
                f"| {_cell(_value(pub['value']))} {_cell(pub['unit'])} "
                f"| {_cell(_value(rep['value']))} {_cell(rep['unit'])} "
                f"| [{r['verdict']}]{{.vbadge .v-{r['verdict'].replace(' ', '-')}}} |"
            )
        out.append("")
    return "\n".join(out)


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


def write_generated(stage_dir: Path, records: list[dict], runs, variant: str | None) -> None:
    chapters = {name: run.title for name, run in runs.items()}
    replacements = {
        stage_dir / "book" / "claims_ledger.md": (LEDGER_MARKER, ledger_markdown(records, chapters)),
        stage_dir / "book" / "data_provenance.md": (PROVENANCE_MARKER, provenance_markdown()),
        stage_dir / "book" / "reproduce.md": (PARAMS_MARKER, parameters_markdown(runs)),
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

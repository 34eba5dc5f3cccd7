"""Pages generated at build time from data: the claims ledger and the data provenance.

The committed ``book/claims_ledger.md`` and ``book/data_provenance.md`` hold the prose and a marker
line; the runner replaces the marker in the staged copy with a table made here.
"""

from __future__ import annotations

from pathlib import Path

from . import data

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
                f"| **{r['verdict']}** |"
            )
        out.append("")
    return "\n".join(out)


def provenance_markdown() -> str:
    man = data.manifest()
    lines = [
        "| File | What | Publisher | Release / vintage | Licence | sha256 |",
        "|---|---|---|---|---|---|",
    ]
    for res in man.get("resources", []):
        lines.append(
            f"| `data/{res['path']}` | {_cell(res.get('title', ''))} | {_cell(res.get('publisher', ''))} "
            f"| {_cell(res.get('vintage', ''))} | {_cell('; '.join(l.get('name', '') for l in res.get('licenses', [])))} "
            f"| `{str(res.get('hash', '')).split(':', 1)[-1][:16]}…` |"
        )
    lines.append("")
    lines.append("Sources, file by file:")
    lines.append("")
    for res in man.get("resources", []):
        srcs = "; ".join(f"[{_cell(s.get('title', s['path']))}]({s['path']})" for s in res.get("sources", []))
        lines.append(f"- `data/{res['path']}`: {srcs}")
    return "\n".join(lines) + "\n"


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

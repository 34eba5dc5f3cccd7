"""The claims registry.

What was asserted (quotation, source, published value) is kept as data in ``claims/*.yml``: one
file per chapter. What the data show (reproduced value, verdict, caveat) is computed in the
chapter notebook and emitted with :func:`emit`, which shows a verdict box in the page and carries a
machine-readable record that the runner collects into ``_build/claims.json`` and the ledger page.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from . import VertintError, paths
from .verdicts import NOT_REPRODUCIBLE, Verdict

MIME = "application/vnd.vertint.claim+json"
REGISTRY_FIELDS = ("id", "chapter", "claim", "source", "published", "section")


class ClaimError(VertintError):
    pass


def registry(root: Path | None = None) -> dict[str, dict]:
    """All registered claims, by id, in file order."""
    base = (root or paths.root()) / "claims"
    out: dict[str, dict] = {}
    for file in sorted(base.glob("*.yml")):
        records = yaml.safe_load(file.read_text(encoding="utf-8")) or []
        for rec in records:
            missing = [k for k in REGISTRY_FIELDS if k not in rec]
            if missing:
                raise ClaimError(f"{file.relative_to(base.parent)}: claim {rec.get('id', '?')!r} lacks {', '.join(missing)}")
            if rec["id"] in out:
                raise ClaimError(f"{file.relative_to(base.parent)}: duplicate claim id {rec['id']!r}")
            out[rec["id"]] = rec
    return out


def record(claim_id: str, reproduced: dict, verdict: Verdict, caveat: str) -> dict:
    """Build the full record for ``claim_id`` (registry fields + computed fields)."""
    reg = registry()
    if claim_id not in reg:
        raise ClaimError(f"claim {claim_id!r} is not in claims/*.yml")
    if not isinstance(verdict, Verdict):
        raise ClaimError(f"claim {claim_id!r}: verdict must come from vertint.verdicts, not a typed string")
    if verdict.label != NOT_REPRODUCIBLE and verdict.rule == "not_reproducible":
        raise ClaimError(f"claim {claim_id!r}: inconsistent verdict")
    if not {"value", "unit"} <= set(reproduced):
        raise ClaimError(f"claim {claim_id!r}: reproduced needs 'value' and 'unit'")
    rec = dict(reg[claim_id])
    rec["reproduced"] = {"value": reproduced["value"], "unit": reproduced["unit"]}
    rec["verdict"] = verdict.label
    rec["rule"] = verdict.rule
    rec["reason"] = verdict.reason
    rec["caveat"] = caveat
    return rec


def _fmt_value(value) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(rec: dict, collapsed: bool = False) -> str:
    pub, rep = rec["published"], rec["reproduced"]
    css = "verdict-" + rec["verdict"].replace(" ", "-") + (" dropdown" if collapsed else "")
    return "\n".join(
        [
            f"```{{admonition}} Claim {rec['id']}: {rec['verdict']}",
            f":class: verdict {css}",
            "",
            f"> {rec['claim']}",
            f"> — {rec['source']}",
            "",
            f"**Published:** {_fmt_value(pub['value'])} {pub['unit']}  ",
            f"**Reproduced:** {_fmt_value(rep['value'])} {rep['unit']}  ",
            f"**Why this verdict:** {rec['reason']}  ",
            f"**Caveat:** {rec['caveat']}",
            "```",
        ]
    )


class _ClaimDisplay:
    def __init__(self, rec: dict, collapsed: bool = False):
        self.rec = rec
        self.collapsed = collapsed

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {MIME: self.rec, "text/markdown": markdown(self.rec, self.collapsed)}


def emit(claim_id: str, reproduced: dict, verdict: Verdict, caveat: str, collapsed: bool = False):
    """Call as the last line of a notebook cell: shows the verdict box and carries the record.
    ``collapsed=True`` folds the box (title still shows id and verdict), for long runs of claims."""
    return _ClaimDisplay(record(claim_id, reproduced, verdict, caveat), collapsed)


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


def lock_entries(records: list[dict]) -> list[dict]:
    """What ``claims/ledger.lock.json`` pins for each claim: verdict and reproduced value."""
    return [{"id": r["id"], "verdict": r["verdict"], "reproduced": r["reproduced"]["value"]} for r in records]

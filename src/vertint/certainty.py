"""The second axis: GRADE-style certainty of the evidence, for claims about effects and trends.

Judgements are data: ``rubric/certainty.yml`` lists, for each claim about an effect or a trend, the
question the certainty is about, the type of evidence (which fixes the starting level, from the
rubric), the studies it rests on and each downgrade or upgrade with its reason; claims that are not
about an effect or a trend are listed as not applicable, with the reason. ``rubric/robins_i.yml``
holds a ROBINS-I judgement, domain by domain, for every non-randomised effect study; the
risk-of-bias downgrade of a claim that rests on such studies is computed from their overall
judgements (the rubric's ``robins_i_steps``), never typed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from . import VertintError, paths, rubric

NOT_APPLICABLE = "not applicable"
ROBINS_DOMAINS = ("confounding", "selection_of_participants", "classification_of_interventions",
                  "deviations_from_intended_interventions", "missing_data", "measurement_of_outcomes",
                  "selection_of_reported_result")
ROBINS_LEVELS = ("low", "moderate", "serious", "critical", "no_information")
_SEVERITY = {"low": 0, "moderate": 1, "serious": 2, "critical": 3}


class CertaintyError(VertintError):
    pass


def _read(name: str, root: Path | None) -> dict:
    p = (root or paths.root()) / "rubric" / name
    if not p.exists():
        raise CertaintyError(f"rubric/{name}: file missing")
    return _cached(str(p), p.stat().st_mtime)


@lru_cache(maxsize=8)
def _cached(file: str, mtime: float) -> dict:
    return yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}


def robins_i(root: Path | None = None) -> dict[str, dict]:
    """ROBINS-I judgements by study key, validated (seven domains, allowed levels, overall = worst)."""
    out = {}
    for st in _read("robins_i.yml", root).get("studies", []):
        key = st.get("key")
        doms = st.get("domains") or {}
        missing = [d for d in ROBINS_DOMAINS if d not in doms]
        if missing:
            raise CertaintyError(f"rubric/robins_i.yml: study {key!r} lacks domain(s) {', '.join(missing)}")
        for d, j in doms.items():
            if j.get("judgement") not in ROBINS_LEVELS or not str(j.get("reason", "")).strip():
                raise CertaintyError(f"rubric/robins_i.yml: study {key!r}, domain {d!r}: judgement must be one of "
                                     f"{', '.join(ROBINS_LEVELS)} with a reason")
        worst = max((_SEVERITY[j["judgement"]] for j in doms.values() if j["judgement"] in _SEVERITY), default=0)
        overall = st.get("overall", {}).get("judgement")
        if overall not in ROBINS_LEVELS:
            raise CertaintyError(f"rubric/robins_i.yml: study {key!r}: overall judgement missing or not allowed")
        if overall in _SEVERITY and _SEVERITY[overall] < worst:
            raise CertaintyError(f"rubric/robins_i.yml: study {key!r}: overall {overall!r} is milder than its worst domain")
        out[key] = st
    return out


def robins_table(root: Path | None = None):
    """One row per study, one column per ROBINS-I domain, plus the overall judgement."""
    import pandas as pd

    rows = []
    for key, st in robins_i(root).items():
        row = {"study": st.get("citation", key)}
        for d in ROBINS_DOMAINS:
            row[d.replace("_", " ")] = st["domains"][d]["judgement"].replace("_", " ")
        row["overall"] = st["overall"]["judgement"].replace("_", " ")
        rows.append(row)
    return pd.DataFrame(rows)


def _judgements(root: Path | None) -> tuple[dict, dict]:
    doc = _read("certainty.yml", root)
    judged = {c["id"]: c for c in doc.get("claims", [])}
    na = {c["id"]: c for c in doc.get("not_applicable", [])}
    both = set(judged) & set(na)
    if both:
        raise CertaintyError(f"rubric/certainty.yml: claim(s) both judged and not applicable: {', '.join(sorted(both))}")
    return judged, na


def assess(claim_id: str, root: Path | None = None) -> dict:
    """The certainty record of one claim (level, question, start, each step with its reason)."""
    judged, na = _judgements(root)
    if claim_id in na:
        return {"level": NOT_APPLICABLE, "reason": str(na[claim_id].get("reason", "")).strip()}
    if claim_id not in judged:
        raise CertaintyError(f"claim {claim_id!r} has no entry in rubric/certainty.yml (judge it, or list it under "
                             "not_applicable with a reason)")
    spec = judged[claim_id]
    cert = rubric.load(root)["certainty"]
    levels = list(cert["levels"])
    etype = spec.get("evidence_type")
    if etype not in cert["start"]:
        raise CertaintyError(f"rubric/certainty.yml: claim {claim_id!r}: evidence_type {etype!r} is not one of "
                             f"{', '.join(cert['start'])}")
    start = cert["start"][etype]
    steps = []
    studies = list(spec.get("studies") or [])
    downgrades = list(spec.get("downgrades") or [])
    if studies:
        if any(d.get("domain") == "risk_of_bias" for d in downgrades):
            raise CertaintyError(f"rubric/certainty.yml: claim {claim_id!r}: the risk-of-bias downgrade comes from "
                                 "rubric/robins_i.yml, not typed")
        rob = robins_i(root)
        unknown = [s for s in studies if s not in rob]
        if unknown:
            raise CertaintyError(f"rubric/certainty.yml: claim {claim_id!r}: no ROBINS-I judgement for {', '.join(unknown)}")
        worst = max(studies, key=lambda s: cert["robins_i_steps"][rob[s]["overall"]["judgement"]])
        n = int(cert["robins_i_steps"][rob[worst]["overall"]["judgement"]])
        if n:
            steps.append({"domain": "risk_of_bias", "steps": -n,
                          "reason": f"ROBINS-I overall {rob[worst]['overall']['judgement'].replace('_', ' ')} "
                                    f"(study {worst}): {rob[worst]['overall']['reason']}"})
    for d in downgrades:
        if d.get("domain") not in cert["domains"] or int(d.get("steps", 0)) not in (1, 2) or not d.get("reason"):
            raise CertaintyError(f"rubric/certainty.yml: claim {claim_id!r}: each downgrade needs a domain of "
                                 f"{', '.join(cert['domains'])}, steps 1 or 2 and a reason")
        steps.append({"domain": d["domain"], "steps": -int(d["steps"]), "reason": str(d["reason"]).strip()})
    for u in spec.get("upgrades") or []:
        if u.get("domain") not in cert["upgrades"] or int(u.get("steps", 0)) not in (1, 2) or not u.get("reason"):
            raise CertaintyError(f"rubric/certainty.yml: claim {claim_id!r}: each upgrade needs a domain of "
                                 f"{', '.join(cert['upgrades'])}, steps 1 or 2 and a reason")
        steps.append({"domain": u["domain"], "steps": int(u["steps"]), "reason": str(u["reason"]).strip()})
    idx = levels.index(start) - sum(s["steps"] for s in steps)
    level = levels[min(max(idx, 0), len(levels) - 1)]
    return {"level": level, "question": str(spec.get("question", "")).strip(), "evidence_type": etype,
            "start": start, "studies": studies, "steps": steps}


def check_covers(claim_ids, root: Path | None = None) -> None:
    """Every registered claim has a certainty entry, and no entry names an unknown claim."""
    judged, na = _judgements(root)
    known = set(judged) | set(na)
    missing = sorted(set(claim_ids) - known)
    extra = sorted(known - set(claim_ids))
    if missing:
        raise CertaintyError(f"rubric/certainty.yml: no entry for {', '.join(missing)}")
    if extra:
        raise CertaintyError(f"rubric/certainty.yml: entries for unknown claims {', '.join(extra)}")

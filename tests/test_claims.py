from __future__ import annotations

from pathlib import Path

import pytest

from vertint import claims, verdicts

ROOT = Path(__file__).resolve().parents[1]


def _released() -> set[str]:
    import json

    return {c["id"] for c in json.loads((ROOT / "claims" / "ledger.lock.json").read_text(encoding="utf-8"))["claims"]}


def test_registry_loads_and_ids_follow_the_house_style():
    reg = claims.registry(ROOT)
    assert claims.id_problems(reg, _released()) == []
    for cid, rec in reg.items():
        assert {"value", "unit"} <= set(rec["published"]), cid


def test_only_released_claims_keep_an_id_from_another_chapter():
    rec = {"chapter": "models", "claim": "c"}
    # a released claim that moved chapter keeps its id (ids are citable anchors)
    assert claims.id_problems({"context-scaled-21-models": rec}, {"context-scaled-21-models"}) == []
    # a new claim must carry its chapter's prefix
    problems = claims.id_problems({"context-new-thing": rec}, {"context-scaled-21-models"})
    assert len(problems) == 1 and "'context-new-thing'" in problems[0] and "'models-'" in problems[0]
    assert claims.id_problems({"models-new-thing": rec}, set()) == []
    # the real registry has moved claims, and each is released
    moved = {cid for cid, r in claims.registry(ROOT).items() if not cid.startswith(r["chapter"] + "-")}
    assert moved and moved <= _released()


def test_required_claim_ids_are_all_registered():
    """A claim cannot silently disappear: claims/required_ids.txt lists every id the book must keep."""
    required_file = ROOT / "claims" / "required_ids.txt"
    if not required_file.exists():
        pytest.skip("claims/required_ids.txt not written yet")
    required = [l.strip() for l in required_file.read_text().splitlines() if l.strip() and not l.startswith("#")]
    reg = claims.registry(ROOT)
    missing = [cid for cid in required if cid not in reg]
    assert not missing, f"claims removed from the registry: {missing}"


def _tmp_rubric(tmp_path):
    """A throwaway root: the real rubric, and a certainty entry for the test claim x-one."""
    import shutil

    shutil.copytree(ROOT / "rubric", tmp_path / "rubric")
    with open(tmp_path / "rubric" / "certainty.yml", "a", encoding="utf-8") as fh:
        fh.write("- id: x-one\n  reason: a test claim\n")


def test_record_refuses_typed_verdicts(tmp_path, monkeypatch):
    _tmp_rubric(tmp_path)
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "x.yml").write_text(
        "- id: x-one\n  chapter: x\n  claim: a claim\n  source: a source\n"
        "  published: {value: 1, unit: thing}\n  section: x-sec\n  made: '2023-01'\n"
    )
    monkeypatch.setenv("VERTINT_ROOT", str(tmp_path))
    with pytest.raises(claims.ClaimError, match="verdict must come from vertint.verdicts"):
        claims.record("x-one", {"value": 1, "unit": "thing"}, "supported", "none")
    with pytest.raises(claims.ClaimError, match="not in claims"):
        claims.record("x-two", {"value": 1, "unit": "thing"}, verdicts.equals(1, 1), "none")
    rec = claims.record("x-one", {"value": 1, "unit": "thing"}, verdicts.equals(1, 1), "none")
    assert rec["verdict"] == "supported" and rec["rule"] == "equals"
    bundle = claims.emit("x-one", {"value": 1, "unit": "thing"}, verdicts.equals(1, 1), "none")._repr_mimebundle_()
    assert claims.collect({"cells": [{"outputs": [{"data": {claims.MIME: bundle[claims.MIME]}}]}]})[0]["id"] == "x-one"
    assert bundle["text/markdown"].startswith("```{admonition} Claim x-one: supported · certainty: not applicable\n")
    assert rec["made"] == "2023-01" and rec["as_of"]["date"] == "2023-01" and rec["now"]["verdict"] == "supported"
    claims.validate_records([rec], ROOT)
    with pytest.raises(claims.ClaimError, match="claim 'x-one', field verdict"):
        claims.validate_records([dict(rec, verdict="true")], ROOT)


def test_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "claims").mkdir()
    rec = "- id: x-one\n  chapter: x\n  claim: c\n  source: s\n  published: {value: 1, unit: u}\n  section: s\n  made: '2023'\n"
    (tmp_path / "claims" / "a.yml").write_text(rec)
    (tmp_path / "claims" / "b.yml").write_text(rec)
    with pytest.raises(claims.ClaimError, match="duplicate claim id 'x-one'"):
        claims.registry(tmp_path)


def test_collapsed_claims_fold_but_keep_the_record(tmp_path, monkeypatch):
    _tmp_rubric(tmp_path)
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "x.yml").write_text(
        "- id: x-one\n  chapter: x\n  claim: c\n  source: s\n  published: {value: 1, unit: u}\n  section: s\n  made: '2023'\n")
    monkeypatch.setenv("VERTINT_ROOT", str(tmp_path))
    shown = claims.emit("x-one", {"value": 1, "unit": "u"}, verdicts.not_reproducible("why"), "c", collapsed=True)
    bundle = shown._repr_mimebundle_()
    assert ":class: verdict verdict-not-reproducible-from-public-data dropdown" in bundle["text/markdown"]
    assert "collapsed" not in bundle[claims.MIME]

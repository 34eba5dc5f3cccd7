"""The rubric is declared as data before results: a change needs a dated changelog entry."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vertint import certainty, claims, rubric

ROOT = Path(__file__).resolve().parents[1]


def test_changelog_names_the_current_hash():
    rubric.check_changelog(ROOT)


def test_a_rubric_change_without_a_changelog_entry_fails(tmp_path):
    shutil.copytree(ROOT / "rubric", tmp_path / "rubric")
    p = tmp_path / "rubric" / "rubric.yml"
    p.write_text(p.read_text(encoding="utf-8").replace("value: 0.05\n", "value: 0.06\n", 1), encoding="utf-8")
    assert rubric.rubric_hash(tmp_path) != rubric.rubric_hash(ROOT)
    with pytest.raises(rubric.RubricError, match="without a changelog entry"):
        rubric.check_changelog(tmp_path)


def test_every_parameter_has_value_unit_label_reason_reference():
    doc = rubric.load(ROOT)
    for name, spec in doc["rules"].items():
        for pname, p in (spec.get("parameters") or {}).items():
            assert set(rubric.PARAM_FIELDS) <= set(p), (name, pname)
            assert str(p["reason"]).strip(), (name, pname)


def test_every_claim_has_a_certainty_entry_and_robins_i_is_complete():
    reg = claims.registry(ROOT)
    certainty.check_covers(reg, ROOT)
    rob = certainty.robins_i(ROOT)
    assert {"yu2020", "saunders2024", "lopes2017", "comendeiro2019"} <= set(rob)
    # the Wolverhampton claim: a faithful report (fidelity) resting on very low certainty evidence
    a = certainty.assess("admissions-wolverhampton-reduction", ROOT)
    assert a["start"] == "low" and a["level"] == "very low"
    assert a["steps"][0]["domain"] == "risk_of_bias" and "ROBINS-I overall serious" in a["steps"][0]["reason"]


def test_no_tolerance_is_typed_in_code():
    """Thresholds live in rubric/rubric.yml: the verdict modules read them, they do not type them."""
    import re

    for path in sorted((ROOT / "src" / "vertint").rglob("*.py")):
        if path.name == "rubric.py":
            continue
        name, text = path.name, path.read_text(encoding="utf-8")
        for pattern in (r"rel_tol\s*=", r"tol_pp", r"PROP99_TOLERANCE", r"KAISER_WITHIN", r"partly_tol"):
            assert not re.search(pattern, text), (name, pattern)


def test_claims_schema_is_valid_json_schema():
    import jsonschema

    schema = json.loads((ROOT / "claims" / "claims.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)

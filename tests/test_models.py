"""Tests for the models chapter: the 2013 review's counts, the UK sites against its checklist, the
survey series and GPs per patient by deprivation, the claims it must emit, and its parameters.
Its claims keep the context- ids they had before the context chapter was split."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import notebook_claims
from test_context import MODELS_OTHER_IDS, hand_typed_numbers

from vertint import claims, context, models, verdicts
from vertint.runner import load_matrix, notebook_parameters

ROOT = Path(__file__).resolve().parents[1]

#: The ledger for this chapter: every id here must be registered and emitted, so a claim cannot
#: silently disappear. Add to this list when you add a claim to claims/models.yml.
EXPECTED_IDS = [
    "context-scaled-21-models", "context-scaled-four-types", "context-scaled-five-functions",
    "context-scaled-mirrored", "context-scaled-20-years",
    "context-hf-harder-to-book", "context-hf-satisfaction-falling",
    "context-mip-deprived-shortages",
    *MODELS_OTHER_IDS,
]
NOT_REPRODUCIBLE_IDS = {"context-scaled-20-years", *MODELS_OTHER_IDS}
DEFAULT_VERDICTS = {
    "context-mip-deprived-shortages": verdicts.SUPPORTED,
    "context-scaled-21-models": verdicts.SUPPORTED,
    "context-scaled-four-types": verdicts.SUPPORTED,
    "context-scaled-five-functions": verdicts.SUPPORTED,
    "context-scaled-mirrored": verdicts.SUPPORTED,
    # GP Patient Survey 2021 to 2022, both measures fell (published before the 2023 long read)
    "context-hf-harder-to-book": verdicts.SUPPORTED,
    # BSA 2019 to 2021: a fall of 30 points, but across the 2020 change of survey mode: at most partly
    "context-hf-satisfaction-falling": verdicts.PARTLY,
    **{i: verdicts.NOT_REPRODUCIBLE for i in NOT_REPRODUCIBLE_IDS},
}


# --------------------------------------------------------------------------- figures


def test_scaled_models_table_1():
    m = models.models()
    s = models.model_summary(m)
    assert (s["models"], s["types"], s["uk"], s["international"]) == (21, 12, 11, 10)
    assert s["promising_types"] == 4 and s["mirror_countries_present"] == 4
    by_type = models.models_by_type(m)
    assert by_type["models"].sum() == 21
    assert by_type.groupby("organisational_type")["models"].sum()["Networks or federations"] == 4
    promising = set(by_type.loc[by_type["greatest_promise"], "organisational_type"])
    assert promising == {"Networks or federations", "Super-partnerships",
                         "Regional and national multi-practice organisations", "Community health organisations"}


def test_checklist_grid():
    items, ev = models.checklist_items(), models.site_evidence()
    assert items.groupby("group").size().to_dict() == {"function": 5, "clinical principle": 7, "organisational principle": 5}
    grid = models.checklist(items, ev)
    counts = models.checklist_counts(grid)
    assert counts == {context.RWT: 5, context.SHS: 6, context.NORTHUMBRIA: 0, context.SWINDON: 2, context.WALES: 1}
    bad = pd.DataFrame([{"site": "Nowhere", "item_id": "F1", "evidence": "x", "source_url": "https://x"}])
    with pytest.raises(models.ModelsError):
        models.checklist(items, bad)


def test_gp_per_10k_by_deprivation_recomputed():
    import csv
    from collections import defaultdict

    fte, pats = defaultdict(float), defaultdict(float)
    for r in csv.DictReader((ROOT / "data" / "practice_workforce.csv").open()):
        if r["year"] == "2020-21" and r["gp_fte"] and r["imd_quintile"]:
            fte[r["imd_quintile"]] += float(r["gp_fte"])
            pats[r["imd_quintile"]] += float(r["total_patients"])
    from vertint import data

    q = models.gp_per_10k_by_quintile(data.load("practice_workforce"), "2020-21").set_index("quintile")["gp_fte_per_10k"]
    for k in fte:
        assert q[int(k)] == pytest.approx(fte[k] / pats[k] * 10_000)
    d = models.deprivation_claim(data.load("practice_workforce"), "context-mip-deprived-shortages")
    assert d["as_of"]["date"] == "2021-03" and d["verdict"].label == verdicts.SUPPORTED


def test_checklist_display_ticks():
    grid = models.checklist_display(models.checklist(models.checklist_items(), models.site_evidence()))
    assert (grid["RWT"] == "✓").sum() == 5 and (grid["NPC"] == "✓").sum() == 0


def test_survey_pair_is_checked():
    with pytest.raises(models.ModelsError, match="pair="):
        models.survey_claim(models.patient_experience(), "context-hf-harder-to-book", "gpps",
                            ["easy_to_get_through_by_phone"], "fall", pair="nonesuch")


# --------------------------------------------------------------------------- registry, parameters and prose


def test_registry_covers_expected_ids():
    reg = {k: v for k, v in claims.registry().items() if v["chapter"] == "models"}
    assert list(reg) == EXPECTED_IDS
    assert all(v["section"].startswith("models-") for v in reg.values())


def test_other_claims_of_this_chapter():
    reg = claims.registry()
    kwargs = context.other_claims(reg, chapter="models")
    assert [k["claim_id"] for k in kwargs] == MODELS_OTHER_IDS
    assert all(reg[k["claim_id"]]["section"] == context.other_section("models") == "models-other-claims" for k in kwargs)
    assert not set(MODELS_OTHER_IDS) & {k["claim_id"] for k in context.other_claims(reg)}  # not emitted twice


def test_parameters_cell_matches_runs_yml():
    run = load_matrix()["models"]
    assert notebook_parameters(run.source) == {k: p.default for k, p in run.params.items()}


def test_no_hand_typed_numbers_in_notebook_markdown():
    hand_typed_numbers("models")


# --------------------------------------------------------------------------- the executed notebook


#: The notebook executed with papermill (cwd notebooks/) with its defaults; conftest runs it in the
#: background from the start of the session.
NOTEBOOK_RUNS = {"models": ("models", {})}


@pytest.fixture(scope="module")
def executed():
    return notebook_claims("models")


def test_notebook_emits_every_expected_claim_once_with_computed_verdicts(executed):
    assert sorted(executed) == sorted(EXPECTED_IDS)
    for cid, rec in executed.items():
        assert rec["verdict"] == DEFAULT_VERDICTS[cid], cid
        assert rec["chapter"] == "models", cid
        if cid in NOT_REPRODUCIBLE_IDS:
            assert rec["rule"] == "not_reproducible"
        else:  # data decide it: a rule function made the verdict, never a typed string
            assert rec["rule"] in {"equals", "all_of", "direction"}, cid

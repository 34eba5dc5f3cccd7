"""The Royal Wolverhampton chapter's claim judgements: timing, the few-units cap, and the records."""

from __future__ import annotations

from vertint import rwt, rwt_claims, verdicts


def test_last_financial_year_before_each_claim():
    from vertint import claims

    # NIHR summary (2020): sees up to Dec 2019, so the last financial year ended March 2019
    assert claims.last_financial_year("rwt-nihr-recruitment-retention") == "2018-19"
    # Health Foundation long read (2023): sees up to Dec 2022, so 2021-22
    assert claims.last_financial_year("rwt-hf-further-loss") == "2021-22"


def test_few_units_caps_a_supported_direction():
    v = verdicts.direction(-0.14, "fall", -0.23, -0.04)
    assert v.label == verdicts.SUPPORTED
    assert verdicts.few_units(v, 0.45, 6).label == verdicts.PARTLY
    assert verdicts.few_units(v, 0.01, 6).label == verdicts.SUPPORTED
    assert verdicts.few_units(verdicts.direction(0.1, "fall", -1, 1), 0.01, 6).label == verdicts.NOT_SUPPORTED


def test_claim_record_is_judged_on_the_years_before_the_claim():
    now = {"gp_fte_per_10k": rwt_claims.effect("gp_fte_per_10k", n_reps=19)}
    rec = rwt_claims.claim("rwt-hf-further-loss", [("gp_fte_per_10k", "fall")], now, n_reps=19)
    assert rec["as_of"]["date"] == "2022-03"
    assert "years to 2021-22" in rec["reproduced"]["value"] and f"years to {rwt.LAST_YEAR}" in rec["now"]["note"]
    then = rwt_claims.effect("gp_fte_per_10k", last="2021-22", n_reps=19)
    assert f"{then['estimate']:+.2f}" in rec["reproduced"]["value"]
    assert rec["verdict"].label in verdicts.VERDICTS

"""The admission-effects chapter's robustness grid (rubric/choices/admissions.yml,
vertint.specs.admissions): every data-decided claim has declared choices and a spec function, the
default specification reproduces the locked ledger, and non-default specifications give the values
and verdicts worked out here by hand from the published figures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from specgrid import ChapterGrid

from vertint import verdicts

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "admissions"
# Yu et al. 2020 as published (abstract): rates per 100 patients per month, 95% intervals
PATIENTS = 67402
ADM, ADM_LO, ADM_HI, ADM_P, ADM_YEAR = -0.11, -0.18, -0.045, 0.0012, 888
REA, REA_LO, REA_HI, REA_P, REA_YEAR = -0.021, -0.037, -0.0049, 0.012, 168
Z975, Z995 = 1.959963984540054, 2.5758293035489004


G = ChapterGrid(CHAPTER)
run = G.run


def choices() -> dict:
    return G.declared


(test_grid_covers_every_data_decided_claim, test_default_specification_reproduces_the_lock,
 test_claims_without_choices_say_why) = G.standard_tests()


def per_year(rate: float) -> float:
    return rate * PATIENTS / 100 * 12


def test_avoided_admissions_at_the_low_end_of_the_rate():
    value = per_year(0.105)  # -0.11 published to the hundredth: -0.105 at the least
    rel = (ADM_YEAR - value) / ADM_YEAR  # 4.4%
    assert 0.0375 < rel < 0.05
    got = run("admissions-avoided-admissions", inputs="rate_low", supported_rel=0.025, partly_multiple=1.5)
    assert got["value"] == pytest.approx(round(value, 1)) and got["verdict"] == verdicts.NOT_SUPPORTED  # beyond 3.75%
    got = run("admissions-avoided-admissions", inputs="rate_low", supported_rel=0.025, partly_multiple=2.0)
    assert got["verdict"] == verdicts.PARTLY  # within 5%
    assert run("admissions-avoided-admissions", inputs="rate_low")["verdict"] == verdicts.SUPPORTED


def test_avoided_readmissions_from_the_rounding_and_from_the_press_release():
    value = per_year(0.0215)
    assert (value - REA_YEAR) / REA_YEAR == pytest.approx(0.0351, abs=0.0005)
    got = run("admissions-avoided-readmissions", inputs="rate_high", supported_rel=0.025)
    assert got["value"] == pytest.approx(round(value, 1)) and got["verdict"] == verdicts.PARTLY
    got = run("admissions-avoided-readmissions", inputs="monthly")  # 14 a month in the press release
    assert got["value"] == 14 * 12 and got["verdict"] == verdicts.SUPPORTED


def p_normal(est: float, lo: float, hi: float) -> float:
    se = (hi - lo) / (2 * Z975)
    return math.erfc(abs(est) / se / math.sqrt(2))


def test_pvalues_compared_as_p_values():
    pa, pr = p_normal(ADM, ADM_LO, ADM_HI), p_normal(REA, REA_LO, REA_HI)
    ra, rr = abs(pa - ADM_P) / ADM_P, abs(pr - REA_P) / REA_P  # 17% and 14%: beyond twice 5%, within twice 10%
    assert 0.1 < ra < 0.2 and 0.1 < rr < 0.2
    got = run("admissions-pvalues", scale="p")
    assert got["value"] == float(f"{pa:.2g}") and got["verdict"] == verdicts.NOT_SUPPORTED
    assert run("admissions-pvalues", scale="p", supported_rel=0.1)["verdict"] == verdicts.PARTLY


def test_reduction_read_as_either_outcome():
    # both published intervals lie below zero, so either reading reports the study faithfully
    assert ADM_HI < 0 and REA_HI < 0
    got = run("admissions-wolverhampton-reduction", reading="either")
    assert got == {"value": ADM, "verdict": verdicts.SUPPORTED, "rule": "reported_effect"}
    assert run("admissions-wolverhampton-reduction", outcomes="readmissions")["value"] == REA
    assert "interval_level" not in choices()["admissions-wolverhampton-reduction"].default  # certainty, not fidelity


def test_pvalues_with_a_t_reference_distribution():
    from scipy import stats

    df = 10 - 1  # Yu et al. pool ten practices
    q = stats.t.ppf(0.975, df)
    se_a, se_r = (ADM_HI - ADM_LO) / (2 * q), (REA_HI - REA_LO) / (2 * q)
    t_a, t_r = abs(ADM) / se_a, abs(REA) / se_r
    ra = abs(t_a - stats.t.isf(ADM_P / 2, df)) / stats.t.isf(ADM_P / 2, df)  # 21%
    rr = abs(t_r - stats.t.isf(REA_P / 2, df)) / stats.t.isf(REA_P / 2, df)  # 5.6%
    assert ra > 0.1 and 0.05 < rr < 0.1
    got = run("admissions-pvalues", reference="t")
    assert got["value"] == float(f"{2 * stats.t.sf(t_a, df):.2g}") and got["verdict"] == verdicts.PARTLY
    assert run("admissions-pvalues", reference="t", scale="p")["verdict"] == verdicts.NOT_SUPPORTED


def test_portugal_has_no_grid():
    # reported speech whose passage was not read: no verdict from data, so no declared choices
    assert "admissions-portugal-similar" not in choices()
    assert G.lock["admissions-portugal-similar"]["verdict"] == verdicts.NOT_REPRODUCIBLE


def test_sc_check_with_the_synthdid_transcription():
    # the synthdid package reports -19.62 for the synthetic control on this panel (its README)
    got = run("admissions-prop99-sc-check", implementation="synthdid", abs_tol=0.25)
    assert got["value"] == pytest.approx(-19.62, abs=0.005) and got["verdict"] == verdicts.SUPPORTED


def test_placebo_choices_are_specifications_not_statistics():
    # the grid varies how the synthetic controls are specified, never the statistic the claim states
    assert run("admissions-prop99-placebo")["value"] == round(1 / 39, 3)


def test_placebo_v_starts_is_the_only_other_choice_and_keeps_the_rank():
    from vertint import prop99

    assert set(choices()["admissions-prop99-placebo"].default) == {"v_starts", "california_in_pools"}
    table = prop99.placebo_in_space_covariates(v_starts=3)
    ca = table[table["state"] == "California"].iloc[0]
    rank = int((table["ratio"] >= ca["ratio"]).sum())
    one = prop99.placebo_in_space_covariates().set_index("state")["mspe_pre"]
    # more starts never fit worse: V's loss is over the same years as the pre-period MSPE
    assert (table.set_index("state")["mspe_pre"] <= one.reindex(table["state"]).to_numpy() + 1e-9).all()
    got = run("admissions-prop99-placebo", v_starts=3)
    assert got["value"] == round(rank / 39, 3)
    assert got["verdict"] == (verdicts.SUPPORTED if rank == 1 else verdicts.NOT_SUPPORTED)


def test_placebo_with_california_in_the_donor_pools():
    from vertint import prop99

    table = prop99.placebo_in_space_covariates(california_in_pools=True)
    assert (table["n_donors"] == 38).all()
    ca = table[table["state"] == "California"].iloc[0]
    rank = int((table["ratio"] >= ca["ratio"]).sum())
    got = run("admissions-prop99-placebo", california_in_pools=True)
    assert got["value"] == round(rank / 39, 3)
    assert got["verdict"] == (verdicts.SUPPORTED if rank == 1 else verdicts.NOT_SUPPORTED)


def test_sdid_without_sparsification():
    got = run("admissions-prop99-sdid", sparsify=False)
    assert got["value"] != -15.6  # the first pass alone gives other weights
    assert got["verdict"] == (verdicts.SUPPORTED if abs(got["value"] + 15.6) <= 0.5 else verdicts.NOT_SUPPORTED)
    assert run("admissions-prop99-sdid", sparsify=False, abs_tol=0.25)["verdict"] == (
        verdicts.SUPPORTED if abs(got["value"] + 15.6) <= 0.25 else verdicts.NOT_SUPPORTED)

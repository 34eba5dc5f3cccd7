"""The workforce chapter's robustness grid: spec functions against the locked ledger and hand checks.

Hand checks (data/workforce_*.csv, row by row; the claims' dates give Dec 2022, or Nov 2022 for
the GPonline headline, as the month each is judged on):
- FTE fully qualified GPs, current vintage: 29,364 (Sept 2015); latest by Dec 2022 is 27,375
  (Dec 2022), -1,989; September to September, 27,556 (Sept 2022) - 29,364 = -1,808, which is also
  the change two months earlier (latest by Oct 2022 is Sept 2022). Headcount including trainees:
  41,193 (Sept 2015) -> 45,295 (Jan 2022, latest by Dec 2022): +4,102, a rise.
- Salaried share: current, 9,764 / 27,507 FTE (July 2022) = 35.5%, nearest a third; aug-2021
  headcount 40% (July 2021): nearest two fifths in the rubric's list (partly), nearest a third
  among quarters, thirds and halves; pre-aug-2021, 9,560 / 28,096 FTE (Mar 2021) = 34.0%.
- Appointments excl. vaccinations: Oct 2022 31,990,119 > Nov 2021 30,397,063; Nov 2022
  31,233,884 is below Oct 2022 (not a record) but 0.77m from "32m" (partly); Dec 2022 26,754,371.
  Aug 2021 is the first month of full supplier coverage: nothing of that coverage before it.
- Twelve-month change, FTE fully qualified, current: 27,920 (Sept 2021) -> 27,556 (Sept 2022) =
  -364, rounds to -400; excluding locums, 26,950 (Aug 2021) -> 26,822 (Aug 2022) = -128, which
  rounds to -100, 2.7 hundreds from the claim. With a derived end allowed, by May 2022: 28,138
  (Mar 2021, derived) -> 27,769 (Mar 2022) = -369.
- Patients per FTE GP: 61.8m / 27,558 = 2,242.5 (June 2022) from 56.9m / 29,364 = 1,937.7 (Sept
  2015); excluding locums, 61,032,314 / 26,950 = 2,264.7 (Aug 2021) from 56.9m / 28,590 = 1,990.2.
  The nearest stated count to the derived Sept 2015 one is Oct 2015's 57.3m.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from specgrid import ChapterGrid

from vertint import verdicts
from vertint import workforce as wf
from vertint.specs import workforce as specs

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ["workforce-fte-fallen", "workforce-salaried-third", "workforce-appointments-record",
          "workforce-lost-400", "workforce-patients-per-gp"]


G = ChapterGrid("workforce")
run = G.run


def test_grid_covers_every_data_decided_claim():
    assert G.decided() == sorted(CLAIMS)
    G.check_covers()
    assert all(G.declared[cid].choices for cid in CLAIMS)


@pytest.mark.parametrize("cid", CLAIMS)
def test_default_specification_is_the_ledger(cid):
    G.check_default(cid)


def test_fte_fallen_non_default():
    assert run("workforce-fte-fallen", comparison_rule="same_month") == {
        "value": -1808, "verdict": verdicts.SUPPORTED, "rule": "direction"}
    assert run("workforce-fte-fallen", publication_lag=2)["value"] == -1808
    hc = run("workforce-fte-fallen", measure="headcount", include_trainees=True)
    assert (hc["value"], hc["verdict"]) == (4102, verdicts.NOT_SUPPORTED)
    # no figure in the baseline's month after Sept 2015 and by Dec 2022 for heads including trainees
    assert run("workforce-fte-fallen", measure="headcount", include_trainees=True,
               comparison_rule="same_month")["verdict"] == verdicts.NOT_REPRODUCIBLE
    # a vintage without figures is undecided, never an error (the notebook once crashed here)
    assert run("workforce-fte-fallen", vintage="practice-csv-sum") == {
        "value": None, "verdict": verdicts.NOT_REPRODUCIBLE, "rule": "not_reproducible"}


def test_salaried_third_non_default():
    hc = run("workforce-salaried-third", measure="headcount", vintage="aug-2021")
    assert (hc["value"], hc["verdict"]) == (40.0, verdicts.PARTLY)
    coarse = run("workforce-salaried-third", measure="headcount", vintage="aug-2021", fractions="coarse")
    assert (coarse["value"], coarse["verdict"]) == (40.0, verdicts.SUPPORTED)
    old = run("workforce-salaried-third", vintage="pre-aug-2021")
    assert (old["value"], old["verdict"]) == (34.0, verdicts.SUPPORTED)
    # the only current-vintage headcount share is Sept 2024: after the claim, so undecided
    assert run("workforce-salaried-third", measure="headcount")["verdict"] == verdicts.NOT_REPRODUCIBLE


def test_salaried_as_of_never_uses_a_later_share():
    gp = wf.load_gp()
    r = wf.claim_salaried_as_of(gp, 33.3, "headcount", False, True, "current", "2022-12")
    assert r.verdict.label == verdicts.NOT_REPRODUCIBLE and "Dec 2022" in r.verdict.reason
    assert wf.claim_salaried_as_of(gp, 33.3, "headcount", False, True, "current", "2024-09").value == 47.0


def test_appointments_record_non_default():
    nov = run("workforce-appointments-record", record_month="2022-11")
    assert (nov["value"], nov["verdict"]) == (31233884, verdicts.PARTLY)
    dec = run("workforce-appointments-record", record_month="2022-12")
    assert (dec["value"], dec["verdict"]) == (26754371, verdicts.NOT_SUPPORTED)
    assert run("workforce-appointments-record", include_vaccinations=True)["verdict"] == verdicts.NOT_REPRODUCIBLE
    full = run("workforce-appointments-record", earlier_months="full_coverage")
    assert (full["value"], full["verdict"]) == (31990119, verdicts.SUPPORTED)


def test_appointments_full_coverage_starts_in_aug_2021():
    first = specs.appointments_record({"include_vaccinations": False, "record_month": "2021-08",
                                       "earlier_months": "full_coverage", "partly_units": 1.0})
    assert first.verdict.label == verdicts.NOT_REPRODUCIBLE and "first month" in first.verdict.reason
    later = specs.appointments_record({"include_vaccinations": False, "record_month": "2021-09",
                                       "earlier_months": "full_coverage", "partly_units": 1.0})
    assert "23,845,426" in later.verdict.reason  # Aug 2021 is the maximum to beat, not the older months


def test_lost_400_non_default():
    perm = run("workforce-lost-400", include_locums=False)
    assert (perm["value"], perm["verdict"]) == (-128, verdicts.NOT_SUPPORTED)
    assert run("workforce-lost-400", publication_lag=2)["value"] == -364
    assert run("workforce-lost-400", measure="headcount")["verdict"] == verdicts.NOT_REPRODUCIBLE


def test_lost_400_derived_ends():
    gp = wf.load_gp()
    assert wf.claim_lost_400(gp, 400, "fte", False, True, "current", "2022-05").verdict.label == verdicts.NOT_REPRODUCIBLE
    r = wf.claim_lost_400(gp, 400, "fte", False, True, "current", "2022-05", stated_only=False)
    assert (r.value, r.verdict.label) == (-369, verdicts.SUPPORTED)


def test_patients_per_gp_non_default():
    perm = run("workforce-patients-per-gp", include_locums=False)
    assert (perm["value"], perm["verdict"]) == (2265, verdicts.SUPPORTED)
    near = run("workforce-patients-per-gp", baseline_patients="nearest_stated")
    assert (near["value"], near["verdict"]) == (2243, verdicts.SUPPORTED)
    p = specs._patients("nearest_stated")
    assert int(p.loc[p["date"] == "2015-09", "patients"].iloc[0]) == 57_300_000
    assert (p["how_obtained"] == "stated").all()
    assert run("workforce-patients-per-gp", measure="headcount")["verdict"] == verdicts.NOT_REPRODUCIBLE
    off = wf.claim_patients_per_gp_as_of(wf.load_gp(), wf.load_patients(), wf.load_published(), "fte", False, True,
                                         "current", "2015-09", "2022-12", cross_check=False)
    assert off.verdict.rule == "direction"


def test_month_before():
    assert wf.month_before("2022-12", 2) == "2022-10"
    assert wf.month_before("2022-01-15", 1) == "2021-12"
    with pytest.raises(ValueError, match="month"):
        wf.month_before("2022-13", 1)


def test_fte_as_of_names_a_bad_rule():
    with pytest.raises(ValueError, match="comparison_rule"):
        wf.fte_fallen_as_of(wf.load_gp(), "fte", False, True, "2015-09", "current", "2022-12", "nearest")

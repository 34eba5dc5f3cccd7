"""The context chapter's robustness grid (rubric/choices/context.yml, vertint/specs/context.py):
the default specification of every claim reproduces the locked ledger, the grid covers every
data-decided claim of the chapter, and one non-default specification per claim with choices gives
the value and verdict derived here by hand from the data."""

from __future__ import annotations

import pandas as pd
import pytest
from specgrid import ChapterGrid

from vertint import context, data, paths, rubric, verdicts

CHAPTER = "context"


G = ChapterGrid(CHAPTER)
run = G.run


(test_grid_covers_every_data_decided_claim, test_default_specification_reproduces_the_lock,
 test_claims_without_choices_say_why) = G.standard_tests()


def test_strong_kinds_default_is_the_rubrics_list():
    c = {x.name: x for x in G.declared["context-pulse-dhsc-visit"].choices}["strong_kinds"]
    assert [k.strip() for k in c.default.split(",")] == list(rubric.param("dated_event", "strong_kinds"))


# --------------------------------------------------------------------------- hand-checked non-default specifications


def _trust_pcn_practices(year: str) -> int:
    pay = pd.read_csv(paths.root() / "data" / "practice_payments.csv", dtype=str)
    return pay[(pay["pcn_code"] == "U20454") & (pay["year"] == year)]["practice_code"].nunique()


@pytest.mark.parametrize("cid", ["context-rwt-eight-practices", "context-rwt-nine-practices"])
def test_rwt_counts_against_the_official_count(cid):
    # the 2023 long read could see up to Dec 2022, the 2022 article up to Mar 2022: both see the
    # 2021-22 payments year (dated March 2022) as the latest official count on or before the claim
    got = run(cid, reference="nhs_payments")
    assert got["value"] == _trust_pcn_practices("2021-22") == 7
    assert got["verdict"] == verdicts.NOT_SUPPORTED
    assert run(cid, reference="yu2020") == {"value": 10, "verdict": verdicts.NOT_SUPPORTED, "rule": "equals"}


def test_official_counts_by_year():
    off = context.official_counts(data.load("practice_payments")).set_index("fy")
    for year in ("2019-20", "2020-21", "2021-22", "2022-23"):
        assert off.loc[year, "value"] == _trust_pcn_practices(year)
        assert off.loc[year, "period"] == f"{int(year[:4]) + 1}-03"
    assert "nhs_payments" in context.count_sources(context.sites())


def test_visit_dated_by_its_report_with_press_accepted():
    # first reported in 2022 (Pulse, March 2022), the year before the 2023 claim; press only
    got = run("context-pulse-dhsc-visit", dated_by="first_report", strong_kinds="peer-reviewed, official, press")
    assert got["verdict"] == verdicts.SUPPORTED and got["value"] == "2022"
    # dated by its report but press not enough: each part only partly
    assert run("context-pulse-dhsc-visit", dated_by="first_report")["verdict"] == verdicts.PARTLY


def test_symphony_contracts():
    got = run("context-symphony-practices", measure="contracts")
    assert got["value"] == "16; 117,000" and got["verdict"] == verdicts.SUPPORTED


def test_swindon_whole_months():
    # November 2019 to January 2023 is 38 calendar months; at least 37 whole months, still more than 36
    got = run("context-swindon-handback", months="whole")
    assert got["value"] == "2; 37" and got["verdict"] == verdicts.SUPPORTED


def test_named_places_with_strong_sources_only():
    # only Wolverhampton has a peer-reviewed (or official) source running practices (Yu et al. 2020)
    got = run("context-hf-uk-range-of-models", evidence="strong")
    assert got["value"] == 1 and got["verdict"] == verdicts.PARTLY


def test_wales_wider_band_and_share_basis():
    # 151,431 / 17,104 - 1 = 785.4%, 11.3% below 885: not within 10%, within 15%
    assert run("context-wales-885", partly_multiple=3.0)["verdict"] == verdicts.PARTLY
    got = run("context-wales-885", basis="share")
    assert got["value"] == round((4.9 / 0.6 - 1) * 100, 1) == 716.7
    assert got["verdict"] == verdicts.NOT_SUPPORTED


def test_trusts_read_as_practices():
    got = run("context-hf-trusts-greater-role", measure="practices")
    assert got["value"] == "0 → 85" and got["verdict"] == verdicts.SUPPORTED


def test_usually_separate_strictest():
    pay = pd.read_csv(paths.root() / "data" / "practice_payments.csv", dtype={"close_date": str})
    p = pay[pay["year"] == "2020-21"]
    open_ = ((p["registered_patients"] > 0) & ~(p["close_date"].notna() & (p["close_date"] <= "2021-03-31"))).sum()
    got = run("context-nihr-usually-separate", majority=0.9, trust_run="practice_sites")
    assert got["value"] == round((1 - 116 / open_) * 100, 1)
    assert got["value"] > 90 and got["verdict"] == verdicts.SUPPORTED


def test_workload_within_release_only():
    appts = pd.read_csv(paths.root() / "data" / "workforce_appointments_monthly.csv", dtype=str)
    a = appts.set_index("month")["appointments"].astype(float)
    # the only same-month pairs in one release before 2020: Nov and Dec 2017 against Nov and Dec 2018
    rise = (a["2018-11"] + a["2018-12"]) / (a["2017-11"] + a["2017-12"]) - 1
    got = run("context-nihr-growing-workload", comparison="within_release")
    assert got["verdict"] == verdicts.SUPPORTED and got["value"].startswith(f"{rise:+.1%}")

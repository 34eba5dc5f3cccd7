"""Admission-effects chapter: re-derivations, common scale, pooling and verdicts, on real values."""

import math

import pytest

import pandas as pd

from vertint import admissions as adm
from vertint import certainty, verdicts


@pytest.fixture(scope="module")
def est():
    return adm.estimates()


@pytest.fixture(scope="module")
def rep():
    return adm.reported()


@pytest.fixture(scope="module")
def yu(est, rep):
    return adm.yu_rederivation(est, rep)


def test_published_inputs_are_the_dossier_values(est, rep):
    a = adm.row(est, "yu2020", "emergency_admissions")
    assert (a["estimate"], a["ci_low"], a["ci_high"], a["p_reported"]) == (-0.11, -0.18, -0.045, 0.0012)
    r = adm.row(est, "yu2020", "readmissions")
    assert (r["estimate"], r["ci_low"], r["ci_high"], r["p_reported"]) == (-0.021, -0.037, -0.0049, 0.012)
    assert rep["yu_patients"] == 67402 and rep["yu_practices"] == 10
    assert rep["yu_avoided_admissions_year"] == 888 and rep["yu_avoided_readmissions_year"] == 168
    s = adm.row(est, "saunders2024", "emergency_admissions")
    assert (s["estimate"], s["ci_low"], s["ci_high"]) == (0.97, 0.95, 0.99)
    lo = adm.row(est, "lopes2017", "readmissions")
    assert (lo["estimate"], lo["ci_low"], lo["ci_high"]) == (0.9, 0.812, 0.997)


def test_avoided_admissions_per_year(yu):
    # 0.11 per 100 per month × 674.02 hundreds × 12 months
    assert yu["admissions"]["per_year"] == pytest.approx(0.11 * 674.02 * 12)
    assert yu["admissions"]["per_year"] == pytest.approx(889.7, abs=0.05)
    assert abs(yu["admissions"]["per_year"] - 888) / 888 < 0.005  # rounding of the rate only
    assert yu["readmissions"]["per_year"] == pytest.approx(169.85, abs=0.01)
    assert yu["admissions"]["per_month"] == pytest.approx(74.14, abs=0.01)
    assert yu["readmissions"]["per_month"] == pytest.approx(14.15, abs=0.01)


def test_standard_errors_and_p_values_from_intervals(yu):
    a, r = yu["admissions"], yu["readmissions"]
    assert a["se"] == pytest.approx((-0.045 + 0.18) / (2 * 1.959964), rel=1e-6)
    assert a["se"] == pytest.approx(0.135 / 3.92, rel=1e-3)
    assert a["p_implied"] == pytest.approx(0.0014, abs=0.00005)
    assert r["se"] == pytest.approx((-0.0049 + 0.037) / 3.92, rel=1e-3)
    assert r["p_implied"] == pytest.approx(0.0103, abs=0.0001)
    # reported p (0.0012) is not the implied one, but on the z scale they agree within 2%
    assert a["p_implied"] != pytest.approx(a["p_reported"], rel=0.1)
    assert abs(abs(a["z_implied"]) - a["z_reported"]) / a["z_reported"] < 0.02
    assert abs(abs(r["z_implied"]) - r["z_reported"]) / r["z_reported"] < 0.03


def test_implied_baseline_and_savings(yu):
    assert yu["baseline_implied"] == pytest.approx(0.11 / 0.13)
    assert yu["baseline_implied"] == pytest.approx(0.846, abs=0.001)
    s = yu["savings"]
    assert yu["events_per_year_reported"] == 888 + 168
    assert s["per_event_abstract"] == pytest.approx(1.7e6 / 1056)
    assert s["per_event_discussion"] == pytest.approx(1.5e6 / 1056)
    assert s["gap_pct"] == pytest.approx(13.33, abs=0.01)
    v = adm.savings_verdict(1.7, 1.5)
    assert v.label == verdicts.NOT_REPRODUCIBLE and v.rule == "consistency"  # consistent, but neither recomputable
    assert adm.savings_verdict(1.4, 1.5).label == verdicts.NOT_SUPPORTED


@pytest.fixture(scope="module")
def base(est, rep):
    return adm.baseline_range(est, rep)


@pytest.fixture(scope="module")
def table(est, base):
    return adm.common_scale(est, base)


def test_published_units_and_baseline_range(base):
    assert adm.published_unit(13) == 1 and adm.published_unit(-0.11) == 0.01 and adm.published_unit(-0.0049) == 0.0001
    # 13% may be 12.5% to 13.5%, -0.11 may be -0.105 to -0.115
    assert base["central"] == pytest.approx(0.11 / 0.13)
    assert base["low"] == pytest.approx(0.105 / 0.135) and base["high"] == pytest.approx(0.115 / 0.125)
    assert (base["relative_low"], base["relative_high"]) == pytest.approx((0.125, 0.135))


def test_common_scale_conversions(table, base):
    t = table.set_index(["study_id", "outcome"])
    y = t.loc[("yu2020", "emergency_admissions")]
    assert y["ratio"] == pytest.approx(0.87)  # 1 - 0.13 by construction of the implied baseline
    # the interval is the envelope over every baseline the rounding allows: wider than at the centre
    assert y["ci_low"] == pytest.approx(1 - 0.18 / (0.105 / 0.135))
    assert y["ci_high"] == pytest.approx(1 - 0.045 / (0.115 / 0.125))
    assert y["ci_low"] < 1 - 0.18 * 0.13 / 0.11 and y["ci_high"] > 1 - 0.045 * 0.13 / 0.11
    assert y["se"] == pytest.approx((math.log(y["ci_high"]) - math.log(y["ci_low"])) / 3.919928, rel=1e-5)
    assert math.isnan(t.loc[("yu2020", "readmissions"), "ratio"])  # bounded, not converted
    s = t.loc[("saunders2024", "emergency_admissions")]
    assert s["se"] == pytest.approx((math.log(0.99) - math.log(0.95)) / 3.919928, rel=1e-5)
    assert t.loc[("lopes2017", "readmissions"), "ratio"] == 0.9


def test_pooling_is_refused_below_the_rubric_minimum(table):
    m = adm.meta_analysis(table, "emergency_admissions", list(adm.STUDIES), "dl")
    assert m["k"] == 2 and m["refused"] and m["min_k"] == 3
    # what the refused pool would say: a t interval with one degree of freedom, far wider than normal theory
    assert m["t_hksj"] == pytest.approx(12.706, abs=0.001)
    assert (m["ci_hksj"][1] - m["ci_hksj"][0]) > 3 * (m["ci_wald"][1] - m["ci_wald"][0])
    assert math.isnan(m["pi"][0])
    rea = adm.meta_analysis(table, "readmissions", list(adm.STUDIES), "dl")
    assert rea["k"] == 2 and set(rea["studies"]) == {"saunders2024", "lopes2017"} and rea["refused"]
    # DerSimonian-Laird by hand for the readmission pair: Q < df, so tau² = 0 and the pool is the inverse-variance mean
    use = table[(table["outcome"] == "readmissions") & table["log_ratio"].notna()]
    w = 1 / use["se"] ** 2
    fixed = (w * use["log_ratio"]).sum() / w.sum()
    q = (w * (use["log_ratio"] - fixed) ** 2).sum()
    assert q < 1 and rea["tau2"] == 0.0
    assert rea["ratio"] == pytest.approx(math.exp(fixed), rel=1e-9)
    single = adm.meta_analysis(table, "emergency_admissions", ["saunders2024"], "dl")
    assert single["k"] == 1 and single["ratio"] == pytest.approx(0.97)
    assert adm.pool_summary(m, "percent")["decision"] == "no pooled figure is reported"
    assert adm.pool_summary(adm.meta_analysis(table, "emergency_admissions", [], "dl"), "percent")["decision"].startswith("there is nothing")
    assert "not defined" in adm.pool_table(m, "percent").set_index("quantity").loc["95% prediction interval", "value"]


def test_wolverhampton_against_the_national_study(table, rep):
    r = adm.wolverhampton_vs_national(table, rep)
    t = table.set_index(["study_id", "outcome"])
    y, s = t.loc[("yu2020", "emergency_admissions")], t.loc[("saunders2024", "emergency_admissions")]
    # by hand: log ratio of ratios, standard errors from the intervals, combined as independent
    d = math.log(0.87) - math.log(0.97)
    se = math.hypot(y["se"], s["se"])
    assert r["ratio"] == pytest.approx(math.exp(d)) and r["se"] == pytest.approx(se)
    assert r["p"] == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(abs(d / se))))
    assert r["ratio"] == pytest.approx(0.897, abs=0.001) and r["p"] == pytest.approx(0.049, abs=0.001)
    assert r["share"] == pytest.approx(10 / 85)
    assert 0.97 < r["rest_of_england"] < 1.0


def test_readmission_range_from_english_shares_and_portugal(est, rep, base):
    # the assumed range: the NHS Digital English 30-day emergency readmission shares (12.5% in 2013/14,
    # 13.8% in 2017/18) times the admission baseline's rounding range; no "every admission a readmission" end
    assert (rep["england_readmission_share_2013_14"], rep["england_readmission_share_2017_18"]) == (12.5, 13.8)
    b = adm.readmission_bound(est, rep, base).set_index("end")
    small, large = b.loc["higher national share"], b.loc["lower national share"]
    assert small["baseline_readmissions"] == pytest.approx(0.138 * 0.115 / 0.125)
    assert large["baseline_readmissions"] == pytest.approx(0.125 * 0.105 / 0.135)
    assert small["ratio"] == pytest.approx(1 - 0.021 / (0.138 * 0.92))  # 0.835
    assert large["ratio"] == pytest.approx(1 - 0.021 / (0.125 * 0.105 / 0.135))  # 0.784
    assert (b["readmission_share"] < 1).all() and (b["baseline_readmissions"] < b["baseline_admissions"]).all()
    central = 1 - 0.021 / ((0.125 + 0.138) / 2 * 0.11 / 0.13)
    assert b.attrs["central_ratio"] == pytest.approx(central) and large["ratio"] < central < small["ratio"]
    assert (b["ci_high"] < 1).all()  # per registered patient the interval excludes no effect at both ends
    # per admission (Lopes's denominator) the ratio is the readmission ratio over the admission ratio
    assert small["per_admission"] == pytest.approx(small["ratio"] / small["admissions_ratio"])
    assert ((b["per_admission_low"] < 1) & (1 < b["per_admission_high"])).all()
    lopes = adm.row(est, "lopes2017", "readmissions")
    v, table = adm.portugal_similarity(adm.readmission_bound(est, rep, base), lopes)
    assert v.label == verdicts.PARTLY and v.rule == "all_of" and len(table) == 4
    by = table.groupby("denominator")["similarity rule"].agg(set)
    assert by["per registered patient"] == {verdicts.SUPPORTED} and by["per admission"] == {verdicts.NOT_SUPPORTED}
    assert "both ends" in adm.similarity_phrase(table)
    assert adm.portugal_verdict(adm.readmission_bound(est, rep, base), lopes, "per_patient").label == verdicts.SUPPORTED
    # the claim is reported speech: Yu et al.'s Portugal passage was not read, so the verdict is given without data
    value, claim = adm.portugal_claim(est, rep, base)
    assert claim.label == verdicts.NOT_REPRODUCIBLE and claim.rule == "not_reproducible" and "not read" in claim.reason
    assert value == "not available"  # nothing reproduced: the substance is context, not the claim's value


def test_design_analysis_anchored_on_the_national_estimate(yu, base, est):
    da = adm.design_analysis(yu["admissions"]["se"], base["central"], adm.row(est, "saunders2024", "emergency_admissions"), 0.13)
    nat = da[da["marker"] == "national estimate"].iloc[0]
    assert nat["true_relative"] == pytest.approx(0.03)
    assert nat["true_effect"] == pytest.approx(0.03 * 0.11 / 0.13)
    assert nat["power"] == pytest.approx(0.11, abs=0.01)
    assert nat["exaggeration"] == pytest.approx(3.3, abs=0.1)
    assert len(da[da["marker"] == "national interval"]) == 2
    assert da["p_as_extreme"].isna().all()  # only with the published estimate
    # P(estimate <= -0.11 | true = national effect, se) by hand: Phi((-0.11 + 0.03 * 0.11 / 0.13) / (0.135 / 3.92))
    da = adm.design_analysis(yu["admissions"]["se"], base["central"], adm.row(est, "saunders2024", "emergency_admissions"), 0.13,
                             published=-0.11)
    nat = da[da["marker"] == "national estimate"].iloc[0]
    z = (-0.11 + 0.03 * 0.11 / 0.13) / (0.135 / (2 * 1.959964))
    assert z == pytest.approx(-2.457, abs=0.001)
    assert nat["p_as_extreme"] == pytest.approx(0.5 * math.erfc(-z / math.sqrt(2)), rel=1e-6)
    assert nat["p_as_extreme"] == pytest.approx(0.0070, abs=0.0001)  # about one study in 143
    assert da[da["marker"] == "press release (Yu)"].iloc[0]["p_as_extreme"] == pytest.approx(0.5)
    assert da["power"].is_monotonic_increasing and da["exaggeration"].is_monotonic_decreasing
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(adm.design_chart(da).to_dict())
    assert svg.startswith("<svg") and "NaN" not in svg


def test_forest_chart(table):
    import vl_convert as vlc

    m = adm.meta_analysis(table, "emergency_admissions", list(adm.STUDIES), "dl")
    for scale in ("ratio", "percent"):
        chart, data = adm.forest_chart(table[table["outcome"] == "emergency_admissions"], m, scale, "emergency admissions")
        assert list(data["kind"]) == ["study", "study"]  # refused: no pooled row
        spec = chart.to_dict()
        assert vlc.vegalite_to_svg(spec).startswith("<svg")
        enc = [layer["encoding"] for layer in spec["layer"][:2]]
        # colour encodes the design (an informative legend); the all-"study" shape has no legend
        assert all(e["color"]["field"] == "design" for e in enc)
        assert enc[1]["shape"]["legend"] is None
        assert set(data["design"]) == {"synthetic control", "difference-in-differences"}
    # three comparable estimates: the pool is drawn with its HKSJ interval and the prediction interval
    three = pd.concat([table, table[table["study_id"] == "saunders2024"].assign(study_id="copy", study="A copy")])
    m3 = adm.meta_analysis(three, "emergency_admissions", list(adm.STUDIES) + ["copy"], "dl")
    chart, data = adm.forest_chart(three[three["outcome"] == "emergency_admissions"], m3, "ratio", "emergency admissions")
    assert list(data["kind"]) == ["study", "study", "study", "pooled", "prediction"]
    assert data.iloc[3]["ci_low"] == pytest.approx(m3["ci_hksj"][0])


def test_format_common(table):
    f = adm.format_common(table, "percent")
    assert list(f["relative effect"]) == ["-13.0%", "NOT CONVERTIBLE", "-3.0%", "-5.0%", "-10.0%"]
    assert f["95% CI"].iloc[0] == "-23.1% to -4.9%"
    assert f["95% CI"].iloc[2] == "-5.0% to -1.0%"
    r = adm.format_common(table, "ratio")
    assert r["relative effect"].iloc[0] == "0.870" and r["95% CI"].iloc[4] == "0.812 to 0.997"


def test_claim_verdicts(est, yu):
    a, r = yu["admissions"], yu["readmissions"]
    v = verdicts.all_of(verdicts.reported_effect(0, a["ci_low"], a["ci_high"], "reduction"),
                        verdicts.reported_effect(0, r["ci_low"], r["ci_high"], "reduction"))
    assert v.label == verdicts.SUPPORTED
    assert verdicts.rederived(888, a["per_year"]).label == verdicts.SUPPORTED  # 889.7: 0.2%, within the rubric's 5%
    assert verdicts.rederived(888, 960).label == verdicts.PARTLY  # 8.1%: within twice the tolerance
    assert verdicts.rederived(888, 1000).label == verdicts.NOT_SUPPORTED  # 12.6%
    with pytest.raises(KeyError):
        adm.row(est, "lopes2017", "readmissions", scope="condition")  # two condition rows: ambiguous


def test_screening_log_and_prisma_flow():
    scr = adm.screening()
    flow = adm.prisma_flow(scr).set_index("stage")["records"]
    assert flow["identified"] == len(scr) == 29
    assert flow["excluded at screening"] + flow["assessed for eligibility"] == flow["identified"]
    assert flow["assessed for eligibility"] - flow["excluded at eligibility"] == flow["in the evidence table"] == 7
    assert flow["with an estimate on the common scale"] == 3
    inc = scr[scr["stage"] == "included"]
    assert set(inc["record_id"]) == {"yu2020", "saunders2024", "lopes2017", "wyatt2021",
                                     "fernandes2019", "machta2019", "shortho2019"}
    assert (scr["decision"] == "excluded").sum() == flow["excluded at screening"] + flow["excluded at eligibility"]
    # every included record has a ROBINS-I judgement or a stated reason why the tool does not apply
    rob, na = certainty.robins_i(), adm.robins_not_assessed()
    for _, r in inc.iterrows():
        assert (isinstance(r["robins_key"], str) and r["robins_key"] in rob) or r["record_id"] in na, r["record_id"]
    ev = adm.evidence_table(scr, rob, na)
    assert len(ev) == 7
    overall = dict(zip(inc["record_id"], ev["ROBINS-I overall"]))
    assert overall["wyatt2021"] == "serious" and overall["yu2020"] == "serious" and overall["lopes2017"] == "moderate"
    assert overall["machta2019"].startswith("not applicable")
    # the Wyatt estimate in the table is the dossier's, and it is not put on the common scale
    assert "0.999 (0.986 to 1.013)" in inc.set_index("record_id").loc["wyatt2021", "estimate"]
    assert inc.set_index("record_id").loc["wyatt2021", "comparable"].startswith("no")


def test_prisma_flow_tallies_reasons_not_kinds():
    scr = adm.screening()
    why = adm.prisma_flow(scr).set_index("stage")["why"]
    ex = scr[scr["decision"] == "excluded"]
    for stage, row in (("screening", "excluded at screening"), ("eligibility", "excluded at eligibility")):
        g = ex[ex["stage"] == stage]
        heads = g["reason"].str.split(": ").str[0]
        # the cell is the tally of the reasons' categories, and every record is counted once
        assert why[row] == "; ".join(f"{k} ({v})" for k, v in sorted(heads.value_counts().items(), key=lambda kv: (-kv[1], kv[0])))
        assert sum(int(x.rsplit("(", 1)[1].rstrip(")")) for x in why[row].split("; ")) == len(g)
        assert not any(kind in why[row] for kind in ("peer-reviewed study", "letter", "article (journal"))
    assert why["excluded at screening"].startswith("another intervention (7)")
    assert why["excluded at eligibility"] == "no retrievable result (3); uncontrolled claim (3); duplicate (1)"


def test_one_eligibility_rule_for_coordination_programmes():
    """The Improvement Analytics Unit's integrated care programmes and the Odense trial both coordinate
    organisations that stay separate: under the chapter's rule both are excluded, at the same stage and
    for the same reason; every record joined by ownership or management that is kept says so."""
    scr = adm.screening().set_index("record_id")
    assert "coordination between organisations that stay separate is another intervention" in adm.ELIGIBILITY_RULE
    for rid in ("hf_iau2021", "buch2018odense"):
        r = scr.loc[rid]
        assert (r["stage"], r["decision"]) == ("screening", "excluded"), rid
        assert r["reason"].startswith("another intervention: ") and "without a change of ownership or management" in r["reason"]
    coordination = scr[scr["reason"].str.contains("stay separate|without a change of ownership", regex=True)]
    assert (coordination["decision"] == "excluded").all()


def test_prisma_flow_refuses_an_unknown_reason():
    scr = adm.screening()
    bad = scr.copy()
    bad.loc[bad["record_id"] == "ers2015", "reason"] = "results NOT FOUND"
    with pytest.raises(ValueError, match=r"admissions_screening.csv, column reason: record 'ers2015'"):
        adm.prisma_flow(bad)
    bad = scr.copy()
    bad.loc[bad["record_id"] == "nunes2025", "reason"] = "duplicate: of something"  # an eligibility reason at screening
    with pytest.raises(ValueError, match="nunes2025"):
        adm.prisma_flow(bad)


def test_parameters_cell_matches_runs_yml():
    from vertint.runner import load_matrix, notebook_parameters

    run = load_matrix()["admissions"]
    assert notebook_parameters(run.source) == {k: p.default for k, p in run.params.items()}


def test_all_estimates_table(est):
    t = adm.all_estimates_table(est)
    assert len(t) == 12
    assert (t["scope"] == "hospital").sum() == 3 and (t["scope"] == "condition").sum() == 2
    assert "0.689 (0.525 to 0.904)" in list(t["estimate (95% CI)"])
    assert list(t.loc["Lopes et al. 2017", "p reported"]).count("NOT FOUND") == 6


#: The chapter executed with papermill (cwd notebooks/) in smoke mode, with its defaults and with a
#: variant; conftest runs both in the background from the start of the session.
NOTEBOOK_RUNS = {
    "admissions": ("admissions", {"smoke": True}),
    "admissions-variant": ("admissions", {"smoke": True, "outcome": "readmissions", "effect_scale": "ratio",
                                          "studies": ["saunders2024", "lopes2017"], "tau2_method": "pm", "true_effect": 0.13}),
}


EXPECTED = {
    "admissions-wolverhampton-reduction": verdicts.SUPPORTED,
    "admissions-portugal-similar": verdicts.NOT_REPRODUCIBLE,
    "admissions-nihr-costs": verdicts.NOT_REPRODUCIBLE,
    "admissions-avoided-admissions": verdicts.SUPPORTED,
    "admissions-avoided-readmissions": verdicts.SUPPORTED,
    "admissions-savings": verdicts.NOT_REPRODUCIBLE,
    "admissions-pvalues": verdicts.SUPPORTED,
    "admissions-prop99-sc-check": verdicts.SUPPORTED,
    "admissions-prop99-placebo": verdicts.SUPPORTED,
    "admissions-prop99-sdid": verdicts.SUPPORTED,
}


def test_chapter_emits_every_claim_once_with_computed_verdicts():
    from conftest import notebook_claims

    from vertint import claims

    recs = notebook_claims("admissions")
    registered = {k for k, v in claims.registry().items() if v["chapter"] == "admissions"}
    assert set(recs) == registered == set(EXPECTED)
    for cid, rec in recs.items():
        assert rec["verdict"] == EXPECTED[cid], (cid, rec["reason"])
    assert recs["admissions-prop99-placebo"]["rule"] == "equals"
    assert recs["admissions-prop99-sdid"]["reproduced"]["value"] == pytest.approx(-15.6, abs=0.01)
    assert recs["admissions-portugal-similar"]["rule"] == "not_reproducible"
    red = recs["admissions-wolverhampton-reduction"]
    assert "Saunders et al. 2024" in red["now"]["note"] and red["now"]["verdict"] == red["verdict"]


def test_chapter_runs_a_variant():
    from conftest import notebook_claims

    recs = notebook_claims("admissions-variant")
    assert recs["admissions-portugal-similar"]["verdict"] == verdicts.NOT_REPRODUCIBLE  # reported speech, not the pool


def test_p_check_table_shows_censored_p_values_and_flags_them(est):
    t = adm.p_check_table(est).set_index("outcome")
    ae = t.loc["A&E attendances"]
    assert ae["p reported"] == "<0.0001" and ae["|z| reported"].startswith(">")
    # the interval 0.96 to 0.99 around 0.98 implies p of about 0.010, far above the reported bound
    se = (math.log(0.99) - math.log(0.96)) / (2 * 1.959964)
    p = math.erfc(abs(math.log(0.98)) / se / math.sqrt(2))
    assert p == pytest.approx(0.0101, abs=0.0001) and ae["p implied by interval"] == f"{p:#.2g}"
    assert ae["agrees with the interval?"].startswith("no") and "only in part of the figures' rounding" in ae["agrees with the interval?"]
    # at the extreme of rounding (estimate 0.975, interval 0.965 to 0.985) p falls below the bound
    assert adm.best_case_p(adm.row(est, "saunders2024", "ed_attendances")) < 0.0001
    # |z| over the rounding box, by hand: nearest no effect 0.985 in 0.955-0.995; farthest 0.975 in 0.965-0.985
    z_lo = abs(math.log(0.985)) / ((math.log(0.995) - math.log(0.955)) / (2 * 1.959964))
    z_hi = abs(math.log(0.975)) / ((math.log(0.985) - math.log(0.965)) / (2 * 1.959964))
    assert adm.z_rounding_range(adm.row(est, "saunders2024", "ed_attendances")) == pytest.approx((z_lo, z_hi), rel=1e-5)
    # the national emergency-admission p (0.0062, |z| 2.74) lies inside what its rounded figures allow
    # (IRR 0.97, 0.95 to 0.99): consistent within rounding, not an inconsistency
    assert t.loc["emergency (unplanned) admissions"].set_index("study").loc["Saunders et al. 2024", "agrees with the interval?"].startswith("within rounding")
    yu_rows = t[t["study"] == "Yu et al. 2020"]
    assert list(yu_rows["agrees with the interval?"]) == ["yes", "yes"]
    assert t[t["study"] == "Lopes et al. 2017"].iloc[0]["agrees with the interval?"] == "no p reported"


def test_reduction_read_as_either_outcome(yu):
    both = adm.reduction_claim(yu, "both", "both")[1]
    either = adm.reduction_claim(yu, "both", "either")[1]
    assert both.label == either.label == verdicts.SUPPORTED and both.rule == "all_of" and either.rule == "reported_effect"
    # a made-up study where only admissions fell: "both" is partly supported, "either" supported
    half = dict(yu, readmissions=dict(yu["readmissions"], ci_high=0.001))
    assert adm.reduction_claim(half, "both", "both")[1].label == verdicts.PARTLY
    assert adm.reduction_claim(half, "both", "either")[1].label == verdicts.SUPPORTED
    with pytest.raises(ValueError, match="reading"):
        adm.reduction_claim(yu, "both", "any")


def test_pvalues_with_a_t_reference(yu):
    from scipy import stats

    df = 10 - 1  # ten practices pooled
    q = stats.t.ppf(0.975, df)
    assert q == pytest.approx(2.2622, abs=0.0001)
    se_a = (0.18 - 0.045) / (2 * q)
    p_a = 2 * stats.t.sf(0.11 / se_a, df)
    assert p_a == pytest.approx(0.0050, abs=0.0001)
    value, v = adm.pvalues_claim(yu, "z", "interval", "t")
    assert value == float(f"{p_a:.2g}")
    # admissions: |t| 3.69 against the reported p's 4.65 (21% apart: beyond twice 5%); readmissions 2.96 against 3.14 (5.6%)
    assert abs(0.11 / se_a - stats.t.isf(0.0006, df)) / stats.t.isf(0.0006, df) > 0.1
    assert v.label == verdicts.PARTLY and v.rule == "all_of"
    assert adm.pvalues_claim(yu, "z", "interval", "normal")[1].label == verdicts.SUPPORTED
    with pytest.raises(ValueError, match="reference"):
        adm.pvalues_claim(yu, "z", "interval", "cauchy")


def test_robustness_phrase():
    s = {"label": "fragile", "flips": [{"label": "Comparison scale", "text": "p-values", "verdict": "not supported"}]}
    assert adm.robustness_phrase(s) == "fragile to comparison scale: p-values"
    assert adm.robustness_phrase({"label": "robust", "flips": []}) == "robust"

"""Admission-effects chapter: re-derivations, common scale, pooling and verdicts, on real values."""

import math

import pytest

from vertint import admissions as adm
from vertint import verdicts


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


def test_common_scale_conversions(est, yu):
    t = adm.common_scale(est, yu["baseline_implied"]).set_index(["study_id", "outcome"])
    y = t.loc[("yu2020", "emergency_admissions")]
    assert y["ratio"] == pytest.approx(0.87)  # 1 - 0.13 by construction of the implied baseline
    assert y["ci_low"] == pytest.approx(1 - 0.18 * 0.13 / 0.11)
    assert math.isnan(t.loc[("yu2020", "readmissions"), "ratio"])  # no readmission baseline
    s = t.loc[("saunders2024", "emergency_admissions")]
    assert s["se"] == pytest.approx((math.log(0.99) - math.log(0.95)) / 3.919928, rel=1e-5)
    assert t.loc[("lopes2017", "readmissions"), "ratio"] == 0.9


def test_meta_analysis_by_hand(est, yu):
    t = adm.common_scale(est, yu["baseline_implied"])
    m = adm.meta_analysis(t, "readmissions", list(adm.STUDIES), "dl")
    assert m["k"] == 2 and set(m["studies"]) == {"saunders2024", "lopes2017"}
    # DerSimonian-Laird by hand: Q < df here, so tau² = 0 and the pool is the inverse-variance mean
    use = t[(t["outcome"] == "readmissions") & t["log_ratio"].notna()]
    w = 1 / use["se"] ** 2
    fixed = (w * use["log_ratio"]).sum() / w.sum()
    q = (w * (use["log_ratio"] - fixed) ** 2).sum()
    assert q < 1 and m["tau2"] == 0.0
    assert m["ratio"] == pytest.approx(math.exp(fixed), rel=1e-9)
    adm_m = adm.meta_analysis(t, "emergency_admissions", list(adm.STUDIES), "dl")
    assert adm_m["k"] == 2 and adm_m["tau2"] > 0 and adm_m["i2"] > 0.5  # Wolverhampton vs national
    assert 0.87 < adm_m["ratio"] < 0.97
    single = adm.meta_analysis(t, "emergency_admissions", ["saunders2024"], "dl")
    assert single["k"] == 1 and single["ratio"] == 0.97
    loo = adm.leave_one_out(t, "emergency_admissions", list(adm.STUDIES), "pm")
    assert list(loo["k"]) == [2, 1, 1]


def test_claim_verdicts(est, yu):
    a, r = yu["admissions"], yu["readmissions"]
    v = verdicts.all_of(verdicts.reported_effect(0, a["ci_low"], a["ci_high"], "reduction"),
                        verdicts.reported_effect(0, r["ci_low"], r["ci_high"], "reduction"))
    assert v.label == verdicts.SUPPORTED
    assert verdicts.rederived(888, a["per_year"]).label == verdicts.SUPPORTED  # 889.7: 0.2%, within the rubric's 5%
    assert verdicts.rederived(888, 960).label == verdicts.PARTLY  # 8.1%: within twice the tolerance
    assert verdicts.rederived(888, 1000).label == verdicts.NOT_SUPPORTED  # 12.6%
    lo = adm.row(est, "lopes2017", "readmissions")
    sim = verdicts.similarity({"label": "a", "estimate": -0.021, "ci_low": -0.037, "ci_high": -0.0049, "null": 0.0},
                         {"label": "b", "estimate": lo["estimate"], "ci_low": lo["ci_low"], "ci_high": lo["ci_high"], "null": 1.0},
                         same_scale=False)
    assert sim.label == verdicts.PARTLY
    with pytest.raises(KeyError):
        adm.row(est, "lopes2017", "readmissions", scope="condition")  # two condition rows: ambiguous


def test_forest_chart_and_loo_table(est, yu):
    import vl_convert as vlc

    t = adm.common_scale(est, yu["baseline_implied"])
    m = adm.meta_analysis(t, "emergency_admissions", list(adm.STUDIES), "dl")
    for scale in ("ratio", "percent"):
        chart, data = adm.forest_chart(t[t["outcome"] == "emergency_admissions"], m, scale, "emergency admissions")
        assert list(data["kind"]) == ["study", "study", "pooled"]
        assert vlc.vegalite_to_svg(chart.to_dict()).startswith("<svg")
    loo = adm.format_loo(adm.leave_one_out(t, "emergency_admissions", list(adm.STUDIES), "dl"), "percent")
    assert loo.loc["without saunders2024", "pooled"] == "-13.0%"
    assert loo.loc["without yu2020", "pooled"] == "-3.0%"


def test_format_common(est, yu):
    t = adm.common_scale(est, yu["baseline_implied"])
    f = adm.format_common(t, "percent")
    assert list(f["relative effect"]) == ["-13.0%", "NOT CONVERTIBLE", "-3.0%", "-5.0%", "-10.0%"]
    assert f["95% CI"].iloc[2] == "-5.0% to -1.0%"
    r = adm.format_common(t, "ratio")
    assert r["relative effect"].iloc[0] == "0.870" and r["95% CI"].iloc[4] == "0.812 to 0.997"


def test_all_estimates_table(est):
    t = adm.all_estimates_table(est)
    assert len(t) == 12
    assert (t["scope"] == "hospital").sum() == 3 and (t["scope"] == "condition").sum() == 2
    assert "0.689 (0.525 to 0.904)" in list(t["estimate (95% CI)"])
    assert list(t.loc["Lopes et al. 2017", "p reported"]).count("NOT FOUND") == 6

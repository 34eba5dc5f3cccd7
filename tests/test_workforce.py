"""The GP workforce chapter: analysis functions against figures checked by hand in the sources.

Hand checks (sources in data/workforce_*.csv, row by row):
- FTE fully qualified GPs, current vintage: 29,364 (Sept 2015, BJGP 2025) -> 27,966 (Sept 2024, BMA
  and BJGP): 27,966 - 29,364 = -1,398, i.e. -4.76%.
- Headcount including trainees: 41,193 -> 48,758 (BJGP 2025): +7,565.
- Appointments excl. vaccinations: Oct 2022 31,990,119 > Nov 2021 30,397,063 (the earlier maximum);
  first exceeded by Oct 2023 34,202,846.
- Patients per FTE GP: 63.79m / 28,250 = 2,258.05 (May 2025); 56.90m / 29,364 = 1,937.7 (Sept 2015).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import data_root, source_cells

from vertint import data, verdicts
from vertint import workforce as wf
from vertint.nb import Table

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ["workforce_gp_datapoints", "workforce_appointments_monthly", "workforce_registered_patients",
             "workforce_published_figures"]


@pytest.fixture(scope="module")
def gp():
    return wf.load_gp()


@pytest.fixture(scope="module")
def appts():
    return wf.load_appointments()


@pytest.fixture(scope="module")
def patients():
    return wf.load_patients()


@pytest.fixture(scope="module")
def published():
    return wf.load_published()


# --------------------------------------------------------------------------- data and schema


def test_resources_validate_and_carry_provenance():
    for name in RESOURCES:
        res = data.resource(name)
        data.check_provenance(res)
        assert data.validate(name).name == res["path"]
        enums = [f["name"] for f in res["schema"]["fields"] if "enum" in f.get("constraints", {})]
        assert enums, f"{name}: no enum constraint"


def test_every_datapoint_row_has_a_source_url(gp):
    assert gp["source_url"].str.match(r"^https?://").all()
    derived = gp[gp["how_obtained"] == "derived"]
    assert derived["derivation"].notna().all() and (derived["derivation"].str.len() > 0).all()


def _copy_root(tmp_path: Path) -> Path:
    """A minimal project root holding only this chapter's data and manifest entries."""
    return data_root(tmp_path / "root", RESOURCES)


def _tamper(root: Path, name: str, old: str, new: str) -> None:
    """Change a file and re-record its hash, so only the schema can catch the change."""
    man_path = root / "data" / "datapackage.yaml"
    man = yaml.safe_load(man_path.read_text(encoding="utf-8"))
    res = next(r for r in man["resources"] if r["name"] == name)
    path = root / "data" / res["path"]
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    res["hash"] = "sha256:" + data.sha256(path)
    man_path.write_text(yaml.safe_dump(man, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    "name, old, new, expect",
    [
        ("workforce_gp_datapoints", ",FTE,29364,current,", ",FTE,29364,latest,", ["column 'vintage'", "constraint"]),
        ("workforce_gp_datapoints", "fte_fully_qualified,FTE,29364", "fte_fully_qualified,WTE,29364", ["column 'unit'"]),
        ("workforce_gp_datapoints", "2015-09,fte_fully_qualified,", "2015-09,fte_qualified,", ["column 'measure'"]),
        ("workforce_gp_datapoints", "date,measure,unit", "month,measure,unit", ["missing column 'date'"]),
        ("workforce_appointments_monthly", "agp-2024-01,all-current-suppliers", "agp-2024-01,all-suppliers", ["column 'coverage'"]),
        ("workforce_registered_patients", ",exact,PDS,", ",exact,GP-SoC,", ["column 'source_system'"]),
    ],
)
def test_wrong_label_stops_the_run_with_a_clear_message(tmp_path, monkeypatch, name, old, new, expect):
    root = _copy_root(tmp_path)
    monkeypatch.setenv("VERTINT_ROOT", str(root))
    data.load(name)  # the untouched copy is valid
    _tamper(root, name, old, new)
    with pytest.raises(data.DataError) as err:
        data.load(name)
    msg = str(err.value)
    assert msg.startswith(f"data/{data.resource(name)['path']}")
    for part in expect:
        assert part in msg


def test_changed_file_without_manifest_update_is_refused(tmp_path, monkeypatch):
    root = _copy_root(tmp_path)
    monkeypatch.setenv("VERTINT_ROOT", str(root))
    path = root / "data" / "workforce_gp_datapoints.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",27966,", ",27967,", 1), encoding="utf-8")
    with pytest.raises(data.DataError, match="sha256 mismatch"):
        wf.load_gp()


# --------------------------------------------------------------------------- points, vintages


def test_stated_figure_preferred_and_cross_checks_agree(gp):
    p = wf.point(gp, "fte_fully_qualified", "2015-09")
    assert (p.value, p.how_obtained) == (29364, "stated")
    derived = gp[(gp["date"] == "2015-09") & (gp["measure"] == "fte_fully_qualified") & (gp["vintage"] == "current")]
    assert len(derived) == 5 and (derived["value"] - 29364).abs().max() == 1


def test_comparing_across_vintages_is_refused(gp):
    old = wf.point(gp, "fte_fully_qualified", "2015-09", "pre-aug-2021")
    new = wf.point(gp, "fte_fully_qualified", "2024-09", "current")
    assert old.value == 29403
    with pytest.raises(wf.VintageError) as err:
        wf.compare(old, new)
    assert "'pre-aug-2021'" in str(err.value) and "'current'" in str(err.value)
    with pytest.raises(wf.VintageError, match="'aug-2021' and 'current'"):
        wf.same_vintage(wf.point(gp, "fte_fully_qualified", "2021-07", "aug-2021"),
                        wf.point(gp, "fte_fully_qualified", "2021-07", "current"))


def test_a_missing_month_is_not_borrowed_from_another_vintage(gp):
    # Sept 2024 exists only in the current vintage: the superseded one must not fall back to it.
    with pytest.raises(wf.NoDatum, match="no pre-aug-2021-vintage figure .* Sept 2024"):
        wf.change_between(gp, "fte_fully_qualified", "2015-09", "2024-09", "pre-aug-2021")
    with pytest.raises(wf.NoDatum, match="Sept 2019 exists only in the pre-aug-2021 vintage"):
        wf.point(gp, "fte_fully_qualified", "2019-09", "current")


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="baseline must be a month written YYYY-MM"):
        wf.check_month("Sept 2015", "baseline")
    with pytest.raises(ValueError, match="vintage 'latest' is not one of"):
        wf.check_vintage("latest")
    with pytest.raises(ValueError, match="measure must be one of"):
        wf.measure_key("wte", False, True)


# --------------------------------------------------------------------------- claim 1


def test_claim1_default_fte_fell_by_1398(gp):
    res = wf.claim_fte_fallen(gp, "fte", False, True, "2015-09", "2024-09", "current")
    ch = res.extra["change"]
    assert (ch.baseline.value, ch.comparison.value) == (29364, 27966)
    assert res.value == -1398 == 27966 - 29364
    assert round(ch.pct, 2) == -4.76
    assert res.verdict.label == verdicts.SUPPORTED


def test_claim1_headcount_with_trainees_rose(gp):
    res = wf.claim_fte_fallen(gp, "headcount", True, True, "2015-09", "2024-09", "current")
    ch = res.extra["change"]
    assert (ch.baseline.value, ch.comparison.value) == (41193, 48758)
    assert res.value == 7565
    assert res.verdict.label == verdicts.NOT_SUPPORTED


@pytest.mark.parametrize(
    "args, reason",
    [
        (("headcount", False, True), "headcount of fully qualified GPs in Sept 2015"),
        (("fte", True, True), "FTE GPs including trainees in Sept 2015"),
        (("fte", False, False), "excluding locums in Sept 2024 (nearest current figures: Sept 2023, Oct 2024)"),
        (("fte", True, False), "no published England total counts GPs in training while leaving out regular locums"),
    ],
)
def test_claim1_missing_definitions_are_not_reproducible(gp, args, reason):
    res = wf.claim_fte_fallen(gp, *args, "2015-09", "2024-09", "current")
    assert res.verdict.label == verdicts.NOT_REPRODUCIBLE
    assert reason in res.verdict.reason
    assert res.value == "not available"


def test_definitions_table_has_both_reproducible_definitions(gp):
    t = wf.definitions_table(gp, "2015-09", "2024-09", "current")
    assert len(t) == 8
    got = dict(zip(t["definition"], t["verdict"]))
    assert got["FTE, fully qualified GPs"] == verdicts.SUPPORTED
    assert got["headcount, GPs including trainees"] == verdicts.NOT_SUPPORTED
    assert (t["verdict"] == verdicts.NOT_REPRODUCIBLE).sum() == 6


# --------------------------------------------------------------------------- trend


def test_segmented_trend_on_current_points(gp):
    tr = wf.segmented_trend(gp)
    assert tr.n == 23 and (tr.start, tr.end) == ("2021-03", "2025-05")
    assert tr.break_date == "2023-09"  # the trough: 27,302
    assert tr.before_ci[1] < 0 < tr.after_ci[0]
    assert -400 < tr.slope_before < -200 and 450 < tr.slope_after < 800
    assert tr.verdict_since_trough().label == verdicts.SUPPORTED


def test_segmented_trend_recovers_a_known_broken_line():
    months = [f"{2021 + i // 12}-{i % 12 + 1:02d}" for i in range(0, 48, 2)]
    t = np.array([i / 12 for i in range(0, 48, 2)])
    values = 28000 - 300 * t + 900 * np.maximum(0, t - t[12]) + np.tile([5.0, -5.0], len(t) // 2)
    fake = pd.DataFrame({"date": months, "measure": "fte_fully_qualified", "unit": "FTE", "value": values,
                         "vintage": "current", "how_obtained": "stated", "derivation": "", "source_title": "x",
                         "source_url": "https://example.org"})
    fake["month"] = pd.to_datetime(fake["date"] + "-01")
    tr = wf.segmented_trend(fake)
    assert tr.break_date == months[12]
    assert tr.slope_before == pytest.approx(-300, abs=15)
    assert tr.slope_after == pytest.approx(600, abs=15)


def test_trend_refuses_too_few_points(gp):
    with pytest.raises(wf.NoDatum, match="only 3 aug-2021-vintage figure"):
        wf.segmented_trend(gp, vintage="aug-2021")


def _fake_series(break_at: int = 14, step: float = 90.0, noise: float = 20.0, seed: int = 7) -> tuple[pd.DataFrame, list[str]]:
    """Monthly points Jan 2021 to Dec 2024 with a known broken line (-300 then +600 FTE a year, break
    at month ``break_at``), a September-October step of ``step`` FTE and seeded normal noise."""
    months = [f"{2021 + i // 12}-{i % 12 + 1:02d}" for i in range(48)]
    t = np.arange(48) / 12
    cal = np.array([i % 12 + 1 for i in range(48)])
    rng = np.random.default_rng(seed)
    values = (28000 - 300 * t + 900 * np.maximum(0, t - t[break_at]) + step * np.isin(cal, (9, 10))
              + rng.normal(0, noise, 48))
    fake = pd.DataFrame({"date": months, "measure": "fte_fully_qualified", "unit": "FTE", "value": np.round(values),
                         "vintage": "current", "how_obtained": "stated", "derivation": "", "source_title": "x",
                         "source_url": "https://example.org"})
    fake["month"] = pd.to_datetime(fake["date"] + "-01")
    return fake, months


def test_without_a_seasonal_term_the_trend_is_the_old_broken_stick(gp):
    tr = wf.segmented_trend(gp, seasonal="none")
    assert tr.break_date == "2023-09" and tr.season_effect is None
    assert tr.slope_before == pytest.approx(-320.544, abs=0.01) and tr.slope_after == pytest.approx(645.060, abs=0.01)
    assert tr.after_ci == (pytest.approx(495.749, abs=0.01), pytest.approx(794.371, abs=0.01))
    # the fitted line is the trend itself when there is no seasonal term
    assert np.allclose(tr.fitted["fitted"], tr.fitted["trend"])


def test_the_september_october_step_on_the_vendored_series(gp):
    tr = wf.segmented_trend(gp)  # default: the intake step
    assert tr.seasonal == "sept_oct" and tr.break_date == "2023-09"
    assert tr.season_effect == pytest.approx(88.5, abs=0.5) and tr.season_ci[0] > 0  # Sept-Oct figures run high
    assert tr.slope_before == pytest.approx(-336.6, abs=0.5) and tr.slope_after == pytest.approx(664.5, abs=0.5)
    # the intake months are in the data: Sept 2021-2024 and Oct 2023; one August (2022)
    intake = [d for d in tr.fitted["date"] if d[5:] in ("09", "10")]
    assert intake == ["2021-09", "2022-09", "2023-09", "2023-10", "2024-09"]
    diff = tr.fitted["fitted"] - tr.fitted["trend"]
    assert np.allclose(diff[tr.fitted["date"].isin(intake)], tr.season_effect) and np.allclose(diff[~tr.fitted["date"].isin(intake)], 0)
    h = wf.segmented_trend(gp, seasonal="harmonic")
    assert h.season_effect > 0 and h.season_ci is None
    with pytest.raises(ValueError, match="trend_seasonal"):
        wf.segmented_trend(gp, seasonal="monthly")


def test_derived_points_are_named_and_can_be_left_out(gp):
    tr = wf.segmented_trend(gp)
    assert tr.n_derived == 3 and tr.derived_dates == ("2021-03", "2023-03", "2024-02")
    assert set(tr.fitted.loc[tr.fitted["how_obtained"] != "stated", "date"]) == set(tr.derived_dates)
    st = wf.segmented_trend(gp, stated_only=True)
    assert st.n == 20 and st.n_derived == 0 and "2023-03" not in set(st.fitted["date"])
    v = wf.trend_variants(gp)
    assert len(v) == 6 and set(v["break"]) == {"2023-09"} and (v["slope_after"] > 0).all()
    shown = wf.trend_variants_display(v)
    assert shown.loc[0, "Slope after, FTE a year (HC3 95% interval)"] == "+665 (+545 to +784)"


def test_a_seasonal_step_needs_september_or_october_figures():
    fake, months = _fake_series()
    no_intake = fake[~fake["date"].str[5:].isin(["09", "10"])]
    with pytest.raises(wf.NoDatum, match="cannot identify"):
        wf.segmented_trend(no_intake)
    assert wf.segmented_trend(no_intake, seasonal="none").n == 40


def test_break_search_matches_a_plain_loop():
    fake, months = _fake_series()
    tr = wf.segmented_trend(fake)
    t, y, season = tr._arrays["t"], tr._arrays["y"], tr._arrays["season"]
    ssr = []
    for k in tr._arrays["candidates"]:
        x = np.column_stack([np.ones(len(t)), t, np.maximum(0, t - t[k]), season])
        ssr.append(float(np.sum((y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) ** 2)))
    assert tr.break_date == months[tr._arrays["candidates"][int(np.argmin(ssr))]]


def test_bootstrap_is_deterministic_with_a_seed(gp):
    tr = wf.segmented_trend(gp)
    a, b = wf.bootstrap_trend(tr, 200, 11), wf.bootstrap_trend(tr, 200, 11)
    assert a.after_ci == b.after_ci and a.before_ci == b.before_ci and a.breaks.equals(b.breaks)
    assert a.curve.equals(b.curve)
    c = wf.bootstrap_trend(tr, 200, 12)
    assert c.after_ci != a.after_ci
    assert a.breaks["count"].sum() == 200 and a.breaks["share"].sum() == pytest.approx(1.0)
    assert list(a.breaks["date"]) == list(tr.candidates)
    with pytest.raises(ValueError, match="trend_reps"):
        wf.bootstrap_trend(tr, 0, 1)


def test_bootstrap_recovers_a_known_break_on_synthetic_data():
    fake, months = _fake_series(break_at=26)
    tr = wf.segmented_trend(fake)
    boot = wf.bootstrap_trend(tr, 500, 2021)
    assert tr.break_date == months[26]
    top = boot.breaks.sort_values("count", ascending=False).iloc[0]
    assert top["date"] == months[26] and boot.share_at_estimate > 0.5
    lo, hi = boot.break_range
    assert months.index(lo) >= 23 and months.index(hi) <= 29  # within a quarter of the truth
    assert tr.slope_before == pytest.approx(-300, abs=25) and tr.slope_after == pytest.approx(600, abs=25)
    assert boot.before_ci[0] < tr.slope_before < boot.before_ci[1] and boot.after_ci[0] < tr.slope_after < boot.after_ci[1]
    assert boot.season_ci[0] < 90 < boot.season_ci[1]
    assert boot.verdict_since_trough().label == verdicts.SUPPORTED
    # the band holds the point trend, month by month
    assert (boot.curve["low"] <= boot.curve["trend"] + 1e-6).all() and (boot.curve["trend"] <= boot.curve["high"] + 1e-6).all()
    assert len(boot.curve) == 48


def test_bootstrap_intervals_cover_the_true_slopes():
    """Over 60 synthetic series with a known break, the 95% bootstrap intervals (break re-chosen in
    each replicate) hold the true slopes in most of them (a simulation over more series gave 95%)."""
    hits_before = hits_after = hits_break = 0
    for s in range(60):
        fake, months = _fake_series(break_at=26, seed=1000 + s)
        boot = wf.bootstrap_trend(wf.segmented_trend(fake), 200, s)
        hits_before += boot.before_ci[0] < -300 < boot.before_ci[1]
        hits_after += boot.after_ci[0] < 600 < boot.after_ci[1]
        lo, hi = boot.break_range
        hits_break += months.index(lo) <= 26 <= months.index(hi)
    assert hits_before >= 51 and hits_after >= 51 and hits_break >= 54


def test_bootstrap_on_the_vendored_series(gp):
    boot = wf.bootstrap_trend(wf.segmented_trend(gp), 2000, 2021)
    assert boot.break_range == ("2023-09", "2023-10")
    assert boot.share_at_estimate == pytest.approx(0.79, abs=0.03)
    assert 500 < boot.after_ci[0] < 664.5 < boot.after_ci[1] < 850
    assert boot.verdict_since_trough().label == verdicts.SUPPORTED


def test_year_on_year_changes_need_no_seasonal_model(gp):
    yoy = wf.year_on_year(gp)
    assert len(yoy) == 9
    last = yoy.iloc[-1]
    assert (last["from"], last["to"], last["change"]) == ("2023-09", "2024-09", 27966 - 27302)
    assert list(yoy["derived"]) == [True, False, False, False, False, True, False, True, False]
    assert wf.yoy_sentence(yoy) == ("of the 9 pairs of figures exactly twelve months apart, 7 show a fall and 2 show a rise; "
                                    "every window ending by Sept 2023 fell and every window ending from Mar 2024 rose")
    assert wf.yoy_sentence(yoy.iloc[0:0]).startswith("no two figures")


def test_trend_facts_with_and_without_a_trend(gp):
    trend, boot, stated, reason = wf.fit_trend(gp, "current", "sept_oct", 100, 1)
    f = wf.trend_facts(trend, reason, boot, stated, wf.year_on_year(gp))
    assert set(f) == set(wf.TREND_KEYS)
    assert f["trend_break"] == "Sept 2023" and f["trend_verdict"] == verdicts.SUPPORTED
    assert "Mar 2021, Mar 2023 and Feb 2024" in f["trend_derived_sentence"]
    assert f["trend_turn"].startswith("The fall is not the whole story")
    none = wf.fit_trend(gp, "aug-2021", "sept_oct", 100, 1)
    assert none[:3] == (None, None, None) and "only 3" in none[3]
    g = wf.trend_facts(None, none[3], yoy=wf.year_on_year(gp, vintage="aug-2021"), seasonal="harmonic")
    assert set(g) == set(wf.TREND_KEYS) and g["trend_seasonal_label"] == wf.SEASONAL["harmonic"]
    assert g["trend_sentence"].startswith("No trend could be fitted")


def test_trend_charts(gp):
    import json as _json

    tr = wf.segmented_trend(gp)
    boot = wf.bootstrap_trend(tr, 100, 3)
    spec = wf.chart_workforce(gp, "fte_fully_qualified", tr, boot)[0].to_dict()
    assert [l["mark"]["type"] for l in spec["layer"] if isinstance(l.get("mark"), dict)].count("area") == 1
    c1, d1 = wf.chart_break_distribution(boot)
    assert _json.dumps(c1.to_dict(), sort_keys=True) == _json.dumps(wf.chart_break_distribution(boot)[0].to_dict(), sort_keys=True)
    assert d1["count"].sum() == 100 and "title" not in c1.to_dict()
    c0, d0 = wf.chart_break_distribution(None)
    assert d0.empty


# --------------------------------------------------------------------------- claim 2


def test_salaried_shares(gp):
    fte = wf.salaried_share(gp, "fte", False, True, "2024-09")
    hc = wf.salaried_share(gp, "headcount", False, True, "2024-09")
    hct = wf.salaried_share(gp, "headcount", True, True, "2024-09")
    assert (fte.pct, hc.pct) == (40, 47)
    assert hct.pct == pytest.approx(0.47 * 38124 / 48758 * 100)  # 17,918 / 48,758 = 36.75%
    assert hct.low == pytest.approx(46.5 * 38124 / 48758) and hct.high == pytest.approx(47.5 * 38124 / 48758)
    jul22 = wf.salaried_share(gp, "fte", False, True, "2022-07")
    assert jul22.pct == pytest.approx(100 * 9764 / 27507)  # 35.50%
    with pytest.raises(wf.NoDatum, match="FTE GPs including trainees in Sept 2024"):
        wf.salaried_share(gp, "fte", True, True, "2024-09")


def test_claim2_verdicts_by_definition(gp):
    third = 100 / 3
    labels = {args: wf.claim_salaried(gp, third, *args, "2024-09", "current").verdict.label
              for args in [("fte", False, True), ("headcount", False, True), ("headcount", True, True), ("fte", False, False)]}
    # rubric simple_fraction: 40% and 36.75% are nearest two fifths (a neighbour of a third), 47% a half
    assert labels == {("fte", False, True): verdicts.PARTLY, ("headcount", False, True): verdicts.NOT_SUPPORTED,
                      ("headcount", True, True): verdicts.PARTLY, ("fte", False, False): verdicts.NOT_REPRODUCIBLE}
    # judged as of the claim (2023: the latest share before it is July 2022, 35.5% FTE): supported
    assert wf.share_months(gp, "fte", False, True, "current")[:2] == ["2022-07", "2024-09"]
    assert wf.claim_salaried(gp, third, "fte", False, True, "2022-07", "current").verdict.label == verdicts.SUPPORTED


def test_share_near_boundaries():
    # 'around a third' covers 29.2% to 36.7% (half-way to a quarter and to two fifths)
    assert wf.share_near(33.3, 36.6).label == verdicts.SUPPORTED
    assert wf.share_near(33.3, 36.7).label == verdicts.PARTLY
    assert wf.share_near(33.3, 29.1).label == verdicts.PARTLY
    assert wf.share_near(33.3, 46.0).label == verdicts.NOT_SUPPORTED
    assert wf.share_near(33.3, 25.0).rule == "simple_fraction"


# --------------------------------------------------------------------------- claim 3


def test_running_record(appts):
    rec = wf.running_record(appts)
    records = rec.loc[rec["is_record"], "month"].tolist()
    assert records == ["2017-11", "2018-01", "2018-10", "2019-10", "2021-10", "2021-11", "2022-10", "2023-10"]
    oct22 = rec[rec["month"] == "2022-10"].iloc[0]
    assert oct22["appointments"] == 31990119
    assert oct22["running_max_before"] == 30397063 and oct22["running_max_before_month"] == "2021-11"


def test_claim3_excluding_vaccinations_is_a_record(appts, published):
    res = wf.claim_appointments_record(appts, published, 32_000_000, "2022-10", False)
    assert res.value == 31990119
    assert res.verdict.label == verdicts.SUPPORTED
    assert res.extra["robust_to_flags"] is True
    assert (res.extra["first_exceeded"], res.extra["first_exceeded_value"]) == ("2023-10", 34202846)


def test_claim3_not_a_record_in_a_normal_month(appts, published):
    res = wf.claim_appointments_record(appts, published, 32_000_000, "2022-11", False)
    assert res.verdict.label == verdicts.PARTLY  # 31.2m is close to 32m but below Oct 2022
    assert "31,233,884 against the earlier maximum 31,990,119" in res.verdict.reason


def test_claim3_including_vaccinations_cannot_be_checked(appts, published):
    res = wf.claim_appointments_record(appts, published, 32_000_000, "2022-10", True)
    assert res.value == 36_100_000
    assert res.verdict.label == verdicts.NOT_REPRODUCIBLE
    assert "+12.8% from the claimed 32,000,000" in res.verdict.reason
    out = wf.claim_appointments_record(appts, published, 32_000_000, "2024-06", False)
    assert out.verdict.label == verdicts.NOT_REPRODUCIBLE and "outside the vendored monthly series" in out.verdict.reason


# --------------------------------------------------------------------------- claim 4


def test_twelve_month_windows(gp):
    w = wf.twelve_month_windows(gp, 400, 100)
    got = {(r.measure, r.vintage, r.start): r.change for r in w.itertuples()}
    assert got[("fte_fully_qualified", "current", "2021-03")] == -369
    assert got[("fte_fully_qualified", "current", "2021-06")] == -442
    assert got[("fte_fully_qualified", "current", "2022-09")] == 27302 - 27556 == -254
    assert got[("fte_partners", "current", "2022-09")] == -408
    assert got[("fte_partners_salaried", "pre-aug-2021", "2017-09")] == -401
    assert got[("fte_fully_qualified", "pre-aug-2021", "2018-09")] == 28315 - 28654
    # Sept 2015 has figures in two vintages; no window may pair them with anything of another vintage.
    assert not ((w["start"] == "2015-09") | (w["end"] == "2015-09")).any()
    assert got[("fte_fully_qualified", "current", "2021-09")] == 27556 - 27920 == -364
    assert got[("fte_fully_qualified", "current", "2021-12")] == 27375 - 27848 == -473
    # "400" to the nearest hundred: falls of 350 to 450 round to it
    assert set(w.loc[w["near_target"], "change"]) == {-364, -369, -442, -358, -408, -401}


def test_claim4_verdicts(gp):
    # as of the article (Nov 2022): the latest window with two stated ends is Sept 2021 to Sept 2022
    default = wf.claim_lost_400(gp, 400, "fte", False, True, "current", "2022-11")
    assert default.verdict.label == verdicts.SUPPORTED and default.value == -364
    # Mar 2021 to Mar 2022 (-369) is never used: its start was derived by adding the reported fall
    assert wf.claim_lost_400(gp, 400, "fte", False, True, "current", "2022-05").verdict.label == verdicts.NOT_REPRODUCIBLE
    later = wf.claim_lost_400(gp, 400, "fte", False, True, "current", "2024-09")
    assert later.value == 27966 - 27302 and later.verdict.label == verdicts.NOT_SUPPORTED  # Sept 2023 to Sept 2024: a rise
    hc = wf.claim_lost_400(gp, 400, "headcount", True, True, "current", "2022-11")
    assert hc.verdict.label == verdicts.NOT_REPRODUCIBLE


# --------------------------------------------------------------------------- claim 5


def test_patients_per_gp(gp, patients, published):
    r = wf.patients_per_gp(gp, patients)
    by = dict(zip(r["date"], r["patients_per_gp"]))
    assert by["2025-05"] == pytest.approx(63_790_000 / 28_250) and round(by["2025-05"]) == 2258
    assert round(by["2015-09"]) == 1938
    bma = published[published["figure"] == "patients_per_fte_fully_qualified_gp"]
    bma = bma[bma["vintage"] == "current"].set_index("date")["value"]
    both = [d for d in bma.index if d in by]
    assert len(both) == 6
    for d in both:
        assert by[d] == pytest.approx(bma[d], rel=0.001), d


def test_claim5(gp, patients, published):
    r = wf.patients_per_gp(gp, patients)
    may25 = wf.claim_patients_per_gp(r, published, "2015-09", "2025-05", "FTE, fully qualified GPs")
    assert may25.value == 2258 and may25.verdict.label == verdicts.SUPPORTED
    assert may25.extra["crosses_source_break"]
    default = wf.claim_patients_per_gp(r, published, "2015-09", "2024-09", "FTE, fully qualified GPs")
    assert default.unit.endswith("Jun 2024") and default.value == 2291
    hc = wf.patients_per_gp(gp, patients, "headcount_incl_trainees")
    res = wf.claim_patients_per_gp(hc, published, "2015-09", "2024-09", "headcount, GPs including trainees")
    assert res.verdict.label == verdicts.NOT_REPRODUCIBLE and "no paired month after Sept 2015" in res.verdict.reason


# --------------------------------------------------------------------------- notebook


def test_notebook_parameters_match_runs_yml():
    from vertint.runner import load_matrix, notebook_parameters

    run = load_matrix()["workforce"]
    declared = notebook_parameters(ROOT / run.path)
    assert declared == {k: p.default for k, p in run.params.items()}
    assert set(run.data) == set(RESOURCES)
    assert all(not c.get("outputs") for c in source_cells("workforce") if c["cell_type"] == "code"), "commit without outputs"


def test_claims_registry_entries():
    from vertint.claims import registry

    reg = {k: v for k, v in registry().items() if v["chapter"] == "workforce"}
    assert list(reg) == ["workforce-fte-fallen", "workforce-salaried-third", "workforce-appointments-record",
                         "workforce-lost-400", "workforce-patients-per-gp"]
    assert reg["workforce-appointments-record"]["published"]["value"] == 32_000_000


#: papermill (cwd notebooks/) with measure=headcount, include_trainees=true; conftest runs it in the
#: background from the start of the session.
NOTEBOOK_RUNS = {"workforce-variant": ("workforce", {"measure": "headcount", "include_trainees": True, "smoke": True})}


def test_variant_notebook_run_changes_claim1():
    """papermill with measure=headcount, include_trainees=true: claim 1 becomes 'not supported'."""
    from conftest import notebook_claims

    recs = notebook_claims("workforce-variant")
    assert len(recs) == 5
    c1 = recs["workforce-fte-fallen"]
    # as of the claim (the latest headcount before the 2023 long read, Jan 2022): headcount including trainees rose
    assert (c1["verdict"], c1["as_of"]["date"]) == (verdicts.NOT_SUPPORTED, "2022-01")
    assert c1["reproduced"]["value"] == 4102
    # still true now? Sept 2015 to Sept 2024: +7,565 (41,193 to 48,758): still not supported
    assert c1["now"] == {"verdict": verdicts.NOT_SUPPORTED, "date": "2024-09", "note": c1["now"]["note"]}
    assert "+7,565" in c1["now"]["note"]
    assert recs["workforce-lost-400"]["verdict"] == verdicts.NOT_REPRODUCIBLE


# --------------------------------------------------------------------------- charts


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [])


def test_charts_mark_breaks_and_are_deterministic(gp, appts, patients, published):
    import json as _json

    tr = wf.segmented_trend(gp)
    c1, d1 = wf.chart_workforce(gp, "fte_fully_qualified", tr)
    spec = c1.to_dict()
    assert _json.dumps(spec, sort_keys=True) == _json.dumps(wf.chart_workforce(gp, "fte_fully_qualified", tr)[0].to_dict(), sort_keys=True)
    rules = [l for l in _layers(spec) if (l.get("mark") or {}).get("type") == "rule"]
    assert len(rules) == 1
    assert set(d1["vintage"]) == {"current", "aug-2021", "pre-aug-2021"}
    c2, d2 = wf.chart_appointments(wf.running_record(appts), "2022-10")
    assert set(d2["flag"]) == {"EMIS and TPP practices only", "first-published month", "full coverage of its release"}
    assert d2.loc[d2["month"] == "2021-07", "flag"].item() == "first-published month"
    assert sum(1 for l in _layers(c2.to_dict()) if (l.get("mark") or {}).get("type") == "rule") == 1
    c3, d3 = wf.chart_patients_per_gp(wf.patients_per_gp(gp, patients), published)
    assert sorted(set(d3["series"])) == ["computed here", "published (BMA)"]
    for c in (c1, c2, c3):
        assert "title" not in c.to_dict()


def test_table_formats_numbers():
    t = Table(pd.DataFrame({"a": [1398.0, float("nan")], "change": [-1398.0, 7565.0], "ok": [True, False]}))
    f = t.formatted()
    assert f["a"].tolist() == ["1,398", "not available"] and f["change"].tolist() == ["-1,398", "+7,565"] and f["ok"].tolist() == ["yes", "no"]


def test_edge_parameters(gp, appts, published):
    with pytest.raises(ValueError, match=r"baseline \(2024-09\) must be before comparison \(2015-09\)"):
        wf.claim_fte_fallen(gp, "fte", False, True, "2024-09", "2015-09", "current")
    first = wf.claim_appointments_record(appts, published, 32_000_000, "2017-11", False)
    assert first.verdict.label == verdicts.NOT_REPRODUCIBLE and "first month of the series" in first.verdict.reason


def test_page_sentences_follow_the_numbers(gp, appts, patients, published):
    nov = wf.claim_appointments_record(appts, published, 32_000_000, "2022-11", False)
    s = wf.appointment_sentences(wf.appointment_facts(appts, published, nov, 32_000_000, "2022-11"))
    assert s["appt_sentence"] == "Nov 2022 had 31,233,884 appointments, below the earlier maximum of 31,990,119 (Oct 2022), so it was not a record."
    oct_ = wf.claim_appointments_record(appts, published, 32_000_000, "2022-10", False)
    s = wf.appointment_sentences(wf.appointment_facts(appts, published, oct_, 32_000_000, "2022-10"))
    assert "above the earlier maximum of 30,397,063 (Nov 2021); it remains a record" in s["appt_sentence"]
    assert s["appt_vacc_sentence"].endswith("36.1 million, of which 4.0 million were vaccinations, leaving 32.1 million.")
    r = wf.patients_per_gp(gp, patients)
    p = wf.patients_sentence(r, published, wf.claim_patients_per_gp(r, published, "2015-09", "2024-09", "FTE, fully qualified GPs"))
    assert p["ppg_move"] == "It rose from 1,938 (Sept 2015) to 2,291 (Jun 2024), a change of +354."
    assert p["ppg_check"].startswith("At the 6 months") and "within 0.1%" in p["ppg_check"]
    hc = wf.patients_per_gp(gp, patients, "headcount_incl_trainees")
    p = wf.patients_sentence(hc, published, wf.claim_patients_per_gp(hc, published, "2015-09", "2024-09", "headcount, GPs including trainees"))
    assert p["ppg_check"].startswith("No published ratio")
    facts = wf.fte_facts(gp, wf.claim_fte_fallen(gp, "fte", False, True, "2015-09", "2024-09", "current"), "2015-09", "2024-09", "current")
    assert wf.fte_contrast(facts) == "So the claim holds for the definition it names and is reversed under the broadest one."
    facts = wf.fte_facts(gp, wf.claim_fte_fallen(gp, "fte", False, True, "2015-09", "2024-09", "pre-aug-2021"), "2015-09", "2024-09", "pre-aug-2021")
    assert facts["fq_fte_change"] == wf.NA and wf.fte_contrast(facts).startswith("One of the two definitions has no figure")

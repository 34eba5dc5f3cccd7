"""Royal Wolverhampton's practices (vertint.rwt).

- The estimator on SYNTHETIC panels with a known staggered effect: it recovers the effect, gives
  pre-period estimates of about 0, equals an independent computation (statsmodels OLS with dummies
  on the untreated observations, then means of the imputed effects), is exact when effects differ
  by cohort and event time, and agrees with pyfixest's did2s (estimates and standard errors).
- Inference: randomisation p-values (range, determinism, power, size), both placebos and the
  pre-trend test.
- The take-over table against the payments files, the panel, the comparator sets (matching is
  deterministic) and the England cross-check, on the vendored data.
"""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest

from vertint import data, deflator, paths, rwt

EFFECT = 2.0
YEARS = list(range(2015, 2023))  # 8 financial years, 2015-16 to 2022-23


# --------------------------------------------------------------------------- synthetic panels


def synthetic(n: int = 30, effect=EFFECT, noise: float = 0.1, seed: int = 7, cohorts=(2017, 2018, 2020),
              per_cohort: int = 6, anticipation: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A balanced panel of ``n`` practices x 8 years with unit and year effects; ``per_cohort``
    practices adopt in each of ``cohorts``, the rest never. ``effect`` is a number or a function
    (cohort, event time) -> effect. Returns (panel, treatment table) shaped like vertint.rwt's."""
    rng = np.random.default_rng(seed)
    codes = [f"S{i:05d}" for i in range(n)]
    g = np.zeros(n, dtype=int)
    for j, c in enumerate(cohorts):
        g[j * per_cohort:(j + 1) * per_cohort] = c
    alpha = rng.normal(10, 2, n)
    lam = np.cumsum(rng.normal(0.3, 0.5, len(YEARS)))
    rows = []
    for i, code in enumerate(codes):
        for k, t in enumerate(YEARS):
            treated = g[i] > 0 and t >= g[i]
            eff = (effect(g[i], t - g[i]) if callable(effect) else effect) if treated else 0.0
            if g[i] > 0 and t == g[i] - 1:
                eff += anticipation
            rows.append({"practice_code": code, "t": t, "year": rwt.fy_label(t),
                         "y": alpha[i] + lam[k] + eff + rng.normal(0, noise), "wolverhampton": True})
    pan = pd.DataFrame(rows)
    treat = pd.DataFrame({"practice_code": codes, "g": g, "exit": 0, "include": g > 0})
    return pan, treat[treat["include"]].reset_index(drop=True)


def study(pan: pd.DataFrame, treat: pd.DataFrame) -> pd.DataFrame:
    return rwt.study_panel("gp_fte_per_10k", comparator="wolverhampton", pan=pan, treat=treat)


@pytest.fixture(scope="module")
def syn() -> pd.DataFrame:
    return study(*synthetic())


def independent_imputation(df: pd.DataFrame) -> pd.Series:
    """Hand-coded imputation with statsmodels: OLS of y on practice and year dummies over the
    untreated observations, imputed untreated outcomes for the treated ones, mean effect by event time."""
    import statsmodels.formula.api as smf

    d = df.copy()
    d["unit"], d["year_"] = d["practice_code"].astype(str), d["t"].astype(str)
    fit = smf.ols("y ~ C(unit) + C(year_)", data=d[~d["D"]]).fit()
    tr = d[d["D"]].copy()
    tr["tau"] = tr["y"] - fit.predict(tr)
    return tr.groupby(tr["rel"].astype(int))["tau"].mean()


# --------------------------------------------------------------------------- the estimator


def test_recovers_a_known_staggered_effect(syn):
    es = rwt.event_study(syn)
    post, pre = es[es["period"] == "post"], es[es["period"] == "pre"]
    assert set(post["rel"]) == set(range(6)) and set(pre["rel"]) == set(range(-5, 0))
    assert np.allclose(post["estimate"], EFFECT, atol=0.15), post
    assert np.all(np.abs(pre["estimate"]) < 0.15), pre
    assert ((post["ci_low"] < EFFECT) & (post["ci_high"] > EFFECT)).mean() >= 0.8
    avg = rwt.average_effect(syn)
    assert avg["estimate"] == pytest.approx(EFFECT, abs=0.05)
    assert avg["ci_low"] < EFFECT < avg["ci_high"]
    assert avg["n_treated_units"] == 18 and avg["n_treated_obs"] == 6 * 6 + 6 * 5 + 6 * 3


def test_equals_an_independent_hand_computation(syn):
    ours = rwt.event_study(syn).set_index("rel")["estimate"]
    hand = independent_imputation(syn)
    assert np.allclose(ours.loc[hand.index], hand, atol=1e-8)
    lean = rwt.imputation(syn)
    assert lean["att"] == pytest.approx(rwt.average_effect(syn)["estimate"], abs=1e-10)
    assert np.allclose(lean["by_rel"].set_index("rel")["estimate"].loc[hand.index], hand, atol=1e-8)


def test_exact_when_effects_differ_by_cohort_and_event_time():
    """Heterogeneous dynamic effects, no noise: each event-time estimate is the mean of the true
    effects at that event time (a two-way fixed-effects regression would not give this)."""
    eff = lambda g, k: 1.0 + 0.5 * k + (g - 2017) * 0.7
    pan, treat = synthetic(effect=eff, noise=0.0)
    df = study(pan, treat)
    truth = df[df["D"]].assign(tau=[eff(g, t - g) for g, t in zip(df.loc[df["D"], "g"], df.loc[df["D"], "t"])])
    truth = truth.groupby(truth["rel"].astype(int))["tau"].mean()
    es = rwt.event_study(df).set_index("rel")["estimate"]
    assert np.allclose(es.loc[truth.index], truth, atol=1e-9)
    assert rwt.average_effect(df)["estimate"] == pytest.approx(df.loc[df["D"]].pipe(lambda d: np.mean(
        [eff(g, t - g) for g, t in zip(d["g"], d["t"])])), abs=1e-9)


def test_agrees_with_pyfixest_did2s(syn):
    ours = rwt.two_stage(syn, "rel").set_index("term")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf = rwt.did2s_pyfixest(syn, "rel").set_index("term")
        pf_att = rwt.did2s_pyfixest(syn, "att").iloc[0]
    assert np.allclose(ours.loc[pf.index, "estimate"], pf["estimate"], atol=1e-5)
    assert np.allclose(ours.loc[pf.index, "se"], pf["se"], rtol=1e-4)
    att = rwt.two_stage(syn, "att").iloc[0]
    assert att["estimate"] == pytest.approx(pf_att["estimate"], abs=1e-5)
    assert att["se"] == pytest.approx(pf_att["se"], rel=1e-4)


def test_pyfixest_is_refused_where_it_would_drop_a_practice():
    pan, treat = synthetic()
    pan = pan[~((pan["practice_code"] == treat["practice_code"].iloc[0]) & (pan["t"] < 2016))]
    df = study(pan, treat)
    with pytest.raises(rwt.RWTError, match="single untreated year"):
        rwt.did2s_pyfixest(df)
    assert rwt.event_study(df)["estimate"].notna().all()  # the default estimator keeps it


def test_a_practice_without_an_untreated_year_is_left_out():
    pan, treat = synthetic()
    first = treat["practice_code"].iloc[0]
    pan = pan[~((pan["practice_code"] == first) & (pan["t"] < 2017))]
    df = study(pan, treat)
    avg = rwt.average_effect(df)
    assert avg["n_treated_units"] == 17
    assert avg["estimate"] == pytest.approx(EFFECT, abs=0.05)
    assert rwt.imputation(df)["dropped_treated_obs"] == 6


def test_estimator_choices_are_checked(syn):
    with pytest.raises(rwt.RWTError, match="estimator"):
        rwt.event_study(syn, estimator="twfe")
    with pytest.raises(rwt.RWTError, match="second"):
        rwt.two_stage(syn, "cohort")


# --------------------------------------------------------------------------- inference


def test_randomisation_inference_p_values(syn):
    ri = rwt.randomisation_inference(syn, n_reps=99, seed=1)
    assert ri["p_value"] == pytest.approx(1 / 100)  # a large effect: no permutation comes close
    assert ri["att"] == pytest.approx(EFFECT, abs=0.05)
    assert ri["p_rel"]["p_ri"].between(1 / 100, 1).all()
    again = rwt.randomisation_inference(syn, n_reps=99, seed=1)
    assert again["p_value"] == ri["p_value"] and np.array_equal(again["reps"], ri["reps"])
    assert not np.array_equal(rwt.randomisation_inference(syn, n_reps=99, seed=2)["reps"], ri["reps"])


def test_randomisation_inference_under_the_null_is_not_small():
    pvals = [rwt.randomisation_inference(study(*synthetic(effect=0.0, noise=1.0, seed=s)), n_reps=49, seed=s)["p_value"]
             for s in range(8)]
    assert all(1 / 50 <= p <= 1 for p in pvals)
    assert np.mean(np.array(pvals) < 0.05) <= 0.25 and np.median(pvals) > 0.2


def test_placebos_and_pretrend_on_synthetic_data(syn):
    pt = rwt.placebo_time(syn, shift=1, n_reps=49)
    assert abs(pt["estimate"]) < 0.15 and pt["n_treated_units"] == 18
    sp = rwt.placebo_space(study(*synthetic(n=60)), n_reps=99)
    assert sp["share_as_large"] == 0 and abs(sp["mean"]) < 0.3 and sp["observed"] == pytest.approx(EFFECT, abs=0.05)
    clean = rwt.pretrend_test(syn, leads=1)
    assert clean["p_value"] > 0.05 and abs(clean["coefficients"]["estimate"].iloc[0]) < 0.15
    lead = rwt.pretrend_test(study(*synthetic(anticipation=1.0)), leads=1)
    assert lead["coefficients"]["estimate"].iloc[0] == pytest.approx(1.0, abs=0.15) and lead["p_value"] < 0.01


# --------------------------------------------------------------------------- the take-over table


@pytest.fixture(scope="module")
def takeovers() -> pd.DataFrame:
    return rwt.takeovers()


@pytest.fixture(scope="module")
def payments() -> pd.DataFrame:
    return data.load("practice_payments")


def test_takeover_table_is_valid_and_consistent(takeovers):
    assert takeovers["practice_code"].is_unique
    assert {"M92002", "M92007", "M92011", "M92028", "M92042", "M92044", "M92006"} <= set(takeovers["practice_code"])
    dated = takeovers[takeovers["dated"]]
    for _, r in dated.iterrows():
        if pd.notna(r["takeover_month"]):  # the month falls in the financial year given
            y, m = int(r["takeover_month"][:4]), int(r["takeover_month"][5:])
            assert (y if m >= 4 else y - 1) == r["adopt"], r["practice_code"]
    undated = takeovers[~takeovers["dated"]]
    assert undated["takeover_month"].isna().all()
    assert (takeovers["agreement"].str.match(r"^(agree|disagree: .+)$")).all()
    assert takeovers.set_index("practice_code").loc["M92002", "takeover_month"] == "2016-06"
    left = takeovers.dropna(subset=["left"])
    assert ((left["left"] >= left["adopt"].fillna(left["bound"])) | left["adopt"].isna()).all()


def test_pcn_bounds_agree_with_the_payments_files(takeovers, payments):
    """A practice dated only by PCN membership is in the RWT PCN in its bound year, not before."""
    for _, r in takeovers[~takeovers["dated"]].iterrows():
        rows = payments[payments["practice_code"] == r["practice_code"]].set_index("year")
        bound = rwt.fy_label(int(r["bound"]))
        assert rows.loc[bound, "pcn_code"] == rwt.RWT_PCN, r["practice_code"]
        earlier = rows[(rows.index < bound) & rows["pcn_code"].notna()]
        assert (earlier["pcn_code"] != rwt.RWT_PCN).all(), r["practice_code"]


def test_disagreements_are_recorded_where_the_files_contradict_the_sources(takeovers, payments):
    pcn = payments[payments["year"] == "2019-20"].set_index("practice_code")["pcn_code"]
    for code in ("M92654", "Y02735"):  # dated trust practices outside the RWT PCN in 2019-20
        row = takeovers.set_index("practice_code").loc[code]
        assert pcn.get(code) != rwt.RWT_PCN and row["agreement"].startswith("disagree")
        assert pd.notna(row["left"])


def test_treatment_choices(takeovers):
    drop = rwt.treatment("drop").set_index("practice_code")
    assert set(drop.index[drop["include"]]) == set(takeovers.loc[takeovers["dated"], "practice_code"])
    assert drop.loc["M92002", "g"] == 2016 and drop.loc["M92011", "g"] == rwt.NEVER
    bound = rwt.treatment("bound").set_index("practice_code")
    assert bound["include"].all() and bound.loc["M92011", "g"] == 2019 and bound.loc["M92014", "g"] == 2022
    earliest = rwt.treatment("earliest").set_index("practice_code")
    assert earliest.loc["M92011", "g"] == rwt.PROGRAMME_START and earliest.loc["M92028", "g"] == 2017
    assert (drop["exit"] == 0).all()
    left = rwt.treatment("drop", left_stays_treated=False).set_index("practice_code")
    assert left.loc["M92654", "exit"] == 2018 and left.loc["M92002", "exit"] == 0
    with pytest.raises(rwt.RWTError, match="unknown="):
        rwt.treatment("guess")


# --------------------------------------------------------------------------- panel and comparators


@pytest.fixture(scope="module")
def gp_panel() -> pd.DataFrame:
    return rwt.panel("gp_fte_per_10k")


def test_panel_outcomes_and_shape(gp_panel):
    assert not gp_panel.duplicated(["practice_code", "t"]).any()
    assert gp_panel["year"].min() == "2015-16" and gp_panel["year"].max() == "2022-23"
    wf = data.load("practice_workforce").set_index(["practice_code", "year"])
    row = gp_panel.set_index(["practice_code", "year"]).loc[("M92002", "2015-16")]
    src = wf.loc[("M92002", "2015-16")]
    assert row["y"] == pytest.approx(src["gp_fte"] / src["total_patients"] * 10_000)
    assert set(rwt.OUTCOMES) == {"gp_fte_per_10k", "gp_hc", "admin_fte_per_10k", "list_size", "payments_per_patient",
                                 "qof_share", "closed"}
    with pytest.raises(rwt.RWTError, match="unknown outcome"):
        rwt.panel("happiness")


def test_other_outcomes():
    q = rwt.panel("qof_share")
    assert q["y"].between(0, 1.01).all() and "2020-21" not in set(q["year"])
    assert (q["y"] > 1).sum() <= 1  # as published: D82088 in 2021-22 has 594.44 points of 591 available
    nominal = rwt.panel("payments_per_patient", prices="nominal").set_index(["practice_code", "year"])
    assert nominal.loc[("M92002", "2014-15"), "y"] == pytest.approx(1119164 / 8415)
    # real terms: 2022-23 prices, by the mean of each financial year's quarters of the ONS deflator,
    # read here straight from the vendored CSV (not through vertint.deflator)
    rows = dict(csv.reader((paths.data_dir() / "gdp_deflator.csv").read_text(encoding="utf-8").splitlines()[1:]))
    fy = {y: sum(float(rows[q]) for q in (f"{y} Q2", f"{y} Q3", f"{y} Q4", f"{y + 1} Q1")) / 4 for y in (2014, 2022)}
    real = rwt.panel("payments_per_patient").set_index(["practice_code", "year"])
    assert real.loc[("M92002", "2014-15"), "y"] == pytest.approx(1119164 / 8415 * fy[2022] / fy[2014])
    assert real.loc[("M92002", "2022-23"), "y"] == pytest.approx(nominal.loc[("M92002", "2022-23"), "y"])
    assert rwt.panel("payments_per_patient").attrs["prices"].startswith("2022-23 prices (ONS GDP deflator")
    with pytest.raises(rwt.RWTError, match="prices='cpi'"):
        rwt.panel("payments_per_patient", prices="cpi")
    closed = rwt.panel("closed")
    assert set(closed["y"].unique()) <= {0.0, 1.0}
    assert (closed.sort_values("t").groupby("practice_code")["y"].diff().fillna(0) >= 0).all()  # absorbing
    ett = closed[closed["practice_code"] == "Y02735"].set_index("year")["y"]
    assert ett["2018-19"] == 0 and ett["2019-20"] == 1 and ett["2022-23"] == 1  # closed 9 Oct 2019


def test_study_panel_and_wolverhampton_comparators(gp_panel, takeovers):
    df = rwt.study_panel("gp_fte_per_10k", pan=gp_panel)
    treated = set(df.loc[df["treated_unit"], "practice_code"])
    assert treated == {"M92002", "M92006", "M92007", "M92028", "M92654", "Y02735"}
    comps = set(df.loc[~df["treated_unit"], "practice_code"])
    assert comps.isdisjoint(set(takeovers["practice_code"]) | set(rwt.NOT_COMPARATORS))
    assert all(c.startswith(("M92", "Y02")) for c in comps) and len(comps) >= 30
    assert (df["D"] == (df["treated_unit"] & (df["t"] >= df["g"]))).all()
    assert (df.loc[df["treated_unit"], "rel"] == df.loc[df["treated_unit"], "t"] - df.loc[df["treated_unit"], "g"]).all()
    gone = rwt.study_panel("gp_fte_per_10k", pan=gp_panel, left_stays_treated=False)
    assert gone.loc[gone["practice_code"] == "M92654", "t"].max() == 2017


def test_matching_is_deterministic_and_outside_wolverhampton(gp_panel):
    treat = rwt.treatment()
    m1 = rwt.match(gp_panel, treat, k=3)
    shuffled = gp_panel.sample(frac=1.0, random_state=3)
    shuffled.attrs.update(gp_panel.attrs)
    m2 = rwt.match(shuffled, treat.iloc[::-1], k=3)
    pd.testing.assert_frame_equal(m1.reset_index(drop=True), m2.reset_index(drop=True))
    assert (m1.groupby("treated").size() == 3).all() and set(m1["treated"]) == set(treat.loc[treat["include"], "practice_code"])
    wolves = set(gp_panel.loc[gp_panel["wolverhampton"], "practice_code"])
    assert set(m1["control"]).isdisjoint(wolves)
    assert (m1.sort_values(["treated", "rank"]).groupby("treated")["distance"].diff().fillna(0) >= 0).all()


def test_the_chapter_defaults_run_on_the_real_data(gp_panel):
    df = rwt.study_panel("gp_fte_per_10k", pan=gp_panel)
    es = rwt.event_study(df)
    assert es["n_units"].max() == 6 and (es.loc[es["period"] == "post", "se"] > 0).all()
    ri = rwt.randomisation_inference(df, n_reps=49)
    assert 1 / 50 <= ri["p_value"] <= 1 and ri["att"] == pytest.approx(rwt.average_effect(df)["estimate"], abs=1e-9)


# --------------------------------------------------------------------------- England cross-check


def test_england_gp_fte_is_a_separate_lower_basis():
    eng = rwt.england_gp_fte()
    assert list(eng["year"]) == [rwt.fy_label(t) for t in range(2015, 2024)]
    assert (eng["practices"] > 6000).all() and (eng["gp_fte"] > 15_000).all()
    cross = rwt.england_crosscheck()
    first = cross[(cross["year"] == "2015-16") & (cross["national_vintage"] == "current")].iloc[0]
    assert first["national_fte"] == 29364 and first["practice_share_of_national"] < 1


# --------------------------------------------------------------------------- the deflator


def test_deflator_reduction_and_financial_years(tmp_path):
    raw = tmp_path / "ybgb.csv"
    raw.write_text('"Title","GDP deflator"\n"CDID","YBGB"\n"Release date","30-06-2025"\n"2015","83.5"\n'
                   + "".join(f'"{y} Q{q}","{80 + 4 * (y - 2015) + q}.5"\n' for y in (2015, 2016) for q in (1, 2, 3, 4))
                   + '"2017 Q1","90.0"\n"2017 JAN","1.0"\n', encoding="utf-8")
    q = deflator.reduce_ons_csv(raw, first_year=2015)
    assert list(q["quarter"]) == [f"{y} Q{n}" for y in (2015, 2016) for n in (1, 2, 3, 4)] + ["2017 Q1"]
    fy = deflator.financial_years(q).set_index("year")["deflator"]
    assert list(fy.index) == ["2015-16", "2016-17"]  # 2014-15 lacks three quarters, 2017-18 three
    assert fy["2015-16"] == pytest.approx((82.5 + 83.5 + 84.5 + 85.5) / 4)
    assert fy["2016-17"] == pytest.approx((86.5 + 87.5 + 88.5 + 90.0) / 4)
    f = deflator.factors([2015, 2016], base="2016-17", q=q)
    assert f[2016] == 1 and f[2015] == pytest.approx(fy["2016-17"] / fy["2015-16"])
    with pytest.raises(deflator.DeflatorError, match=r"column 'quarter' lacks a quarter of financial year 2014-15"):
        deflator.factors([2014], base="2016-17", q=q)
    raw.write_text(raw.read_text(encoding="utf-8").replace('"YBGB"', '"L8GG"'), encoding="utf-8")
    with pytest.raises(deflator.DeflatorError, match=r"ybgb.csv: column 'CDID' is 'L8GG', expected 'YBGB'"):
        deflator.reduce_ons_csv(raw)


def test_vendored_deflator_matches_its_raw_file_and_covers_the_panel():
    res = data.resource(deflator.RESOURCE)
    assert res["raw_files"][0]["sha256"] == "8f88b110d6a21cd46a81befaf231ed040fdec3edc6e2b477a74a5866e278f442"
    fy = deflator.financial_years().set_index("year")["deflator"]
    assert {rwt.fy_label(t) for t in range(2014, 2023)} <= set(fy.index)
    assert fy.is_monotonic_increasing is False  # 2021-22 is below 2020-21 (the pandemic's deflator spike)
    q = deflator.quarterly().set_index("quarter")["deflator"]
    assert q["2022 Q1"] == 97.0 and q["2023 Q1"] == 105.0  # as the ONS release of 30 June 2025 gives them


def test_bad_deflator_file_names_file_and_column(tmp_path, monkeypatch):
    import shutil

    for name in ("datapackage.yaml", "gdp_deflator.csv"):
        shutil.copy(paths.data_dir() / name, tmp_path / name)
    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(paths, "manifest_path", lambda: tmp_path / "datapackage.yaml")
    bad = (tmp_path / "gdp_deflator.csv").read_text(encoding="utf-8").replace("2016 Q3,85.5", "2016 Q3,n/a")
    (tmp_path / "gdp_deflator.csv").write_text(bad, encoding="utf-8")
    manifest = (tmp_path / "datapackage.yaml").read_text(encoding="utf-8")
    old = "sha256:0e6bf09c04d6c6b1a92e52897222b9adaf5ab9382dd7ee87453f3357426f2c86"
    assert old in manifest
    (tmp_path / "datapackage.yaml").write_text(manifest.replace(old, "sha256:" + data.sha256(tmp_path / "gdp_deflator.csv")),
                                               encoding="utf-8")
    with pytest.raises(data.DataError, match=r"gdp_deflator.csv: row \d+, column 'deflator': type-error"):
        deflator.quarterly()
    short = "quarter,deflator\n2014 Q2,82.5\n2014 Q3,83.5\n"
    (tmp_path / "gdp_deflator.csv").write_text(short, encoding="utf-8")
    (tmp_path / "datapackage.yaml").write_text(manifest.replace(old, "sha256:" + data.sha256(tmp_path / "gdp_deflator.csv")),
                                               encoding="utf-8")
    with pytest.raises(deflator.DeflatorError, match=r"data/gdp_deflator.csv: column 'quarter' lacks a quarter of financial year 2014-15"):
        deflator.factors([2014])


# --------------------------------------------------------------------------- published counts at their dates


def _csv_rows(name: str) -> list[dict]:
    with open(paths.data_dir() / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_as_of_dates():
    assert rwt.as_of_month("2023") == "2022-12" and rwt.as_of_month("2022-03-04") == "2022-03"
    assert rwt.as_of_year("2022-12") == 2021 and rwt.as_of_year("2022-03") == 2021 and rwt.as_of_year("2022-02") == 2020
    with pytest.raises(rwt.RWTError, match="expected YYYY"):
        rwt.as_of_month("spring 2022")


def test_official_counts_at_a_date_against_the_raw_tables():
    pay = [r for r in _csv_rows("practice_payments.csv") if r["year"] == "2021-22"]
    pcn = {r["practice_code"]: float(r["registered_patients"]) for r in pay if r["pcn_code"] == rwt.RWT_PCN}
    got = rwt.official_count_at(2021)
    assert got["year"] == "2021-22" and got["pcn"] == len(pcn) and got["pcn_patients"] == pytest.approx(sum(pcn.values()))
    # run at the end of 2021-22: taken over (or in the network, for undated ones) by then and not left by then
    run = set()
    for r in _csv_rows("rwt_takeovers.csv"):
        start = int(r["takeover_year"].replace("by ", "")[:4])
        if start <= 2021 and (not r["left_year"] or int(r["left_year"][:4]) > 2021):
            run.add(r["practice_code"])
    assert got["run"] == len(run) and got["run_codes"] == ", ".join(sorted(run))
    patients = {r["practice_code"]: float(r["registered_patients"]) for r in pay}
    assert got["run_patients"] == pytest.approx(sum(patients[c] for c in run))
    before = rwt.official_count_at(2018)  # no PCN codes before 2019-20
    assert pd.isna(before["pcn"]) and before["run"] == before["run_dated"] > 0


def test_published_counts_beside_official_ones():
    out = rwt.published_counts_at_their_dates([
        {"source": "a", "made": "2022-03-04", "as_of": "2022-03", "practices": 9.0},
        {"source": "b", "made": "2020", "as_of": rwt.as_of_month("2020"), "practices": 10.0, "patients": 67402.0}])
    assert list(out["year"]) == ["2021-22", "2018-19"]
    assert out.loc[0, "run"] == rwt.official_count_at(2021)["run"] and pd.isna(out.loc[0, "published_patients"])
    assert out.loc[1, "published_patients"] == 67402.0

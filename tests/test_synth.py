"""Synthetic control: validation on Proposition 99, solver cross-check, simulation behaviour."""

import numpy as np
import pytest

from vertint import synth


@pytest.fixture(scope="module")
def p99():
    return synth.prop99()


def test_prop99_panel_shape():
    panel = synth.prop99_panel()
    assert panel.shape == (31, 39)  # 1970-2000, California + 38 donor states
    assert panel.index.min() == 1970 and panel.index.max() == 2000
    assert panel.loc[1970, "California"] == pytest.approx(123.0)


def test_prop99_matches_published_sc_estimate(p99):
    # Arkhangelsky et al. (2021) AER, Table 1, SC column: -19.6 (s.e. 9.9), packs per capita.
    # Ours (pysyncon, equal-weighted pre-period outcomes): -19.51. Tolerance: 0.5 packs.
    pub = synth.prop99_published()
    assert pub.loc["sc", "estimate"] == -19.6 and pub.loc["sc", "se"] == 9.9
    assert p99["published"] == -19.6 and p99["tolerance"] == 0.5  # from rubric/rubric.yml (method_check)
    assert p99["estimate"] == pytest.approx(-19.6, abs=p99["tolerance"])
    assert p99["estimate"] == pytest.approx(-19.51, abs=0.02)
    assert p99["n_donors"] == 38 and p99["years_pre"] == (1970, 1988)
    assert synth.prop99_verdict(p99).label == "supported"


def test_prop99_panel_reproduces_published_did(p99):
    # Arkhangelsky et al. (2021) Table 1, DID column: -27.3. No optimiser involved: a check that the
    # vendored panel is the paper's panel.
    assert p99["did_published"] == -27.3
    assert p99["did"] == pytest.approx(-27.3, abs=0.06)


def test_prop99_weights(p99):
    w = p99["weights"]
    assert w.sum() == pytest.approx(1.0, abs=1e-6) and (w >= -1e-9).all()
    # sparse: a handful of donors; the largest is Utah, as in Abadie et al. (2010)
    assert (w > 0.01).sum() <= 8
    assert w.index[0] == "Utah"
    assert set(w.index[:4]) >= {"Utah", "Montana", "Nevada"}
    assert p99["rmspe_pre"] < 2.5  # packs per capita: a close pre-period fit


def test_verdict_fails_outside_tolerance(p99):
    bad = dict(p99, estimate=-21.0, difference=-1.4)
    assert synth.prop99_verdict(bad).label == "not supported"
    assert synth.prop99_verdict(dict(p99, estimate=-20.05)).label == "supported"  # 0.45 from -19.6


def test_simplex_projection():
    v = np.array([[0.5, 0.5, 0.5], [2.0, -1.0, 0.0], [0.2, 0.3, 0.5]])
    w = synth.project_simplex(v)
    np.testing.assert_allclose(w.sum(1), 1.0)
    np.testing.assert_allclose(w[0], [1 / 3] * 3)
    np.testing.assert_allclose(w[1], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(w[2], [0.2, 0.3, 0.5])
    wm = synth.project_simplex(v, mask=np.array([True, False, True]))
    assert wm[0, 1] == 0 and wm[0].sum() == pytest.approx(1.0)


def test_batch_solver_matches_pysyncon():
    rng = np.random.default_rng(7)
    T0, J = 24, 20
    base = 0.85 * np.exp(0.25 * rng.standard_normal(J))
    X = base[None, :] * (1 + 0.1 * np.cos(2 * np.pi * np.arange(T0) / 12))[:, None] + 0.05 * rng.standard_normal((T0, J))
    y = X[:, :3] @ np.array([0.5, 0.3, 0.2]) + 0.02 * rng.standard_normal(T0)
    w_ref = synth.sc_weights_pysyncon(y, X)
    loss = lambda v: float(np.sum((y - X @ v) ** 2))
    # uncentred problem, many iterations
    w = synth.sc_weights_batch((X.T @ X)[None], (y @ X)[None, None], iters=3000)[0, 0]
    assert loss(w) <= loss(w_ref) * 1.001 + 1e-9
    np.testing.assert_allclose(w, w_ref, atol=0.02)
    # centred problem (as the simulation uses it), the simulation's iteration count
    G, B = synth.sc_problem(X[None], y[None, None])
    wc = synth.sc_weights_batch(G, B, iters=synth.Assumptions().solver_iters)[0, 0]
    assert loss(wc) <= loss(w_ref) * 1.001 + 1e-9
    np.testing.assert_allclose(wc, w_ref, atol=0.02)
    est_ref = synth.sc_estimate(y, X, 12, w_ref)["att_demeaned"]
    assert synth.sc_estimate(y, X, 12, wc)["att_demeaned"] == pytest.approx(est_ref, abs=0.005)


CAL = synth.Calibration(patients=67402, effect_per_100=-0.11, relative_reduction=0.13)


def test_calibration_baseline_is_implied():
    assert CAL.baseline_per_100 == pytest.approx(0.8462, abs=1e-4)


def test_simulation_seeded_and_sensible():
    r1 = synth.simulate(CAL, n_sims=40, seed=11, scenarios=False)
    r2 = synth.simulate(CAL, n_sims=40, seed=11, scenarios=False)
    assert r1.power.equals(r2.power)
    pw = r1.power.set_index("effect")
    assert list(pw.index) == pytest.approx(list(np.linspace(0, 0.2, 9)))
    # unbiased: mean pooled estimate ≈ the true effect on the integrated practices (per 100 per month)
    for e in (0.0, 0.1, 0.2):
        assert pw.loc[e, "mean_estimate"] == pytest.approx(pw.loc[e, "estimand"], abs=0.01)
        assert pw.loc[e, "estimand"] == pytest.approx(-e * CAL.baseline_per_100, rel=0.1, abs=1e-9)
    # Poisson noise only (no published SE given): a 20% reduction is always detected
    assert pw.loc[0.2, "power"] >= 0.95 and pw.loc[0.0, "power"] <= 0.2
    assert pw["power"].is_monotonic_increasing or pw["power"].diff().min() > -0.1
    assert len(r1.permutation) == synth.Assumptions().n_perm
    assert r1.noise_sd == 0.0
    r3 = synth.simulate(CAL, n_sims=40, seed=12, scenarios=False)
    assert not r1.power.equals(r3.power)


def test_true_effect_joins_grid():
    r = synth.simulate(CAL, n_sims=10, true_effect=0.13, seed=1, scenarios=False)
    assert 0.13 in list(r.power["effect"])
    assert r.illustrative_estimate < 0  # a 13% reduction shows up as a negative pooled gap
    lo, hi = r.illustrative_ci
    assert lo < hi


CAL_SE = synth.Calibration(patients=67402, effect_per_100=-0.11, relative_reduction=0.13,
                           se_per_100=(-0.045 + 0.18) / (2 * 1.959964))


@pytest.fixture(scope="module")
def noise():
    return synth.calibrate_noise(CAL_SE)


def test_noise_calibrated_to_the_published_standard_error(noise):
    # Yu et al.'s interval implies a standard error of 0.0344 per 100 patients per month; Poisson noise
    # alone gives far less; the calibrated noise reproduces it within 10% on simulated studies the
    # calibration never saw
    assert CAL_SE.se_per_100 == pytest.approx(0.0344, abs=0.0001)
    assert noise["poisson_sd"] < 0.5 * CAL_SE.se_per_100
    assert noise["null_sd"] == pytest.approx(CAL_SE.se_per_100, rel=0.02)
    fresh = synth.null_sd(CAL_SE, noise["noise_sd"], n_sims=1000, seed=424242)
    assert abs(fresh / CAL_SE.se_per_100 - 1) <= 0.10


def test_permutation_test_holds_its_size(noise):
    """Size of the permutation test over 2,000 simulated no-effect studies: within 5 ± 1.5%; the
    earlier donors-only placebo test over-rejects."""
    r = synth.size_check(CAL_SE, n_sims=2000, seed=2020, noise_sd=noise["noise_sd"])
    assert r["n_sims"] == 2000
    assert r["size_mc_se"] == pytest.approx(np.sqrt(r["size"] * (1 - r["size"]) / 2000))
    assert 0.035 <= r["size"] <= 0.065, r
    assert r["size_placebo_donors"] > 0.08, r
    assert abs(r["null_sd"] / CAL_SE.se_per_100 - 1) <= 0.10


def test_size_check_is_seeded_and_independent_of_workers(noise):
    a = synth.size_check(CAL_SE, n_sims=300, seed=5, noise_sd=noise["noise_sd"], chunk=100, workers=1)
    b = synth.size_check(CAL_SE, n_sims=300, seed=5, noise_sd=noise["noise_sd"], chunk=100, workers=2)
    assert a == b


def test_scenarios_bias_and_coverage(noise):
    r = synth.simulate(CAL_SE, n_sims=300, seed=9, noise_sd=noise["noise_sd"], effects=[0.0, 0.13],
                       scenario_effects=(0.0, 0.13))
    sc = r.scenarios.set_index(["scenario", "effect"])
    assert set(sc.index.get_level_values(0)) == set(synth.SCENARIOS)
    designed = sc.loc["as designed"]
    for e in (0.0, 0.13):  # as designed: unbiased, and the permutation interval covers about 95%
        assert abs(designed.loc[e, "bias"]) < 3 * designed.loc[e, "bias_mc_se"] + 0.003
        assert abs(designed.loc[e, "coverage"] - 0.95) < 3 * designed.loc[e, "coverage_mc_se"] + 0.01
    # selection after a bad spell (a pre-period peak): a spurious reduction with no effect at all
    assert synth.SELECTION == "selection after a bad spell (pre-period peak)"
    assert sc.loc[(synth.SELECTION, 0.0), "bias"] < -0.01
    # staggered starts and spill-over shrink a real reduction towards zero
    for name in ("staggered starts", "spill-over to donors"):
        assert sc.loc[(name, 0.13), "bias"] > 0.01
        assert abs(sc.loc[(name, 0.0), "bias"]) < 0.01
    assert sc.loc[("spill-over to donors", 0.13), "coverage"] < designed.loc[0.13, "coverage"]


def test_simulation_refuses_too_few_donors():
    with pytest.raises(ValueError, match="n_donors"):
        synth.simulate(CAL, n_practices=12, n_donors=12, n_sims=5)


def test_charts_compile_offline(p99):
    import vl_convert as vlc

    r = synth.simulate(CAL, n_sims=10, seed=3, scenarios=False)
    chart, data = synth.prop99_chart(p99)
    assert len(data) == 31
    for c in (synth.power_chart(r.power, 0.13), synth.permutation_chart(r), chart):
        svg = vlc.vegalite_to_svg(c.to_dict())
        assert svg.startswith("<svg") and "NaN" not in svg


def test_power_summary():
    import pandas as pd

    pw = pd.DataFrame({"effect": [0.0, 0.025, 0.05], "power": [0.05, 0.5, 0.85]})
    s = synth.power_summary(pw)
    assert s["mde_perm"] == "5.0%" and s["size"] == 0.05
    assert synth.power_summary(pw.assign(power=[0.05, 0.5, 0.6]))["mde_perm"] == "no reduction up to 5%"


@pytest.mark.parametrize("true_effect", [0.0, 0.13])
def test_the_marked_statistic_is_the_tested_one(true_effect):
    """Figure 14: the p-value on the page is the rank of the marked statistic in the plotted
    distribution, recomputed here from the chart's own data (also with a true effect, where the
    relabelled statistics move with it)."""
    import json

    import vl_convert as vlc

    from vertint.charts import embed_html

    r = synth.simulate(CAL_SE, n_sims=12, seed=4, noise_sd=0.1, true_effect=true_effect, scenarios=False)
    spec = synth.permutation_chart(r).to_dict()
    marks = {row["what"]: row["x"] for ds in spec["datasets"].values() for row in ds if "what" in row}
    assert marks == {synth.TESTED_LABEL: r.illustrative_statistic, synth.YU_LABEL: r.illustrative_estimate}
    assert synth.TESTED_LABEL.startswith("tested statistic")
    assert synth.YU_LABEL == "Yu-design estimate, not the tested statistic"
    assert not any("published" in k for k in marks)  # Yu et al.'s -0.11 is not drawn on a simulated study
    null = [row["statistic"] for ds in spec["datasets"].values() for row in ds if "statistic" in row]
    assert len(null) == synth.Assumptions().n_perm
    assert synth.permutation_p(null, marks[synth.TESTED_LABEL]) == r.illustrative_p
    # the same from the CSV the page offers for download
    html = embed_html(spec, "k", "alt", r.permutation)
    import base64, io, re
    import pandas as pd
    csv = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)).decode()
    assert synth.permutation_p(pd.read_csv(io.StringIO(csv))["statistic"], r.illustrative_statistic) == r.illustrative_p
    assert f"{r.illustrative_p:.3f}" == f"{synth.permutation_p(null, r.illustrative_statistic):.3f}"
    # the Yu-design estimate is a different number, whose rank would give a different p in general
    assert r.illustrative_statistic != r.illustrative_estimate
    # legend: no truncated labels, solid and dashed rules
    svg = vlc.vegalite_to_svg(spec)
    assert synth.TESTED_LABEL in svg and synth.YU_LABEL in svg and "…" not in svg
    enc = spec["layer"][1]["encoding"]
    assert enc["color"]["legend"]["labelLimit"] == 0 and enc["strokeDash"]["scale"]["range"][1] != [1, 0]
    json.dumps(spec)


def test_permutation_p_counts_ties_and_both_tails():
    null = np.array([-0.3, -0.1, 0.0, 0.1, 0.2])
    assert synth.permutation_p(null, 0.1) == pytest.approx(5 / 6)  # 1 + four: |-0.3|, |-0.1|, 0.1, 0.2
    assert synth.permutation_p(null, -0.25) == pytest.approx(2 / 6)
    assert synth.permutation_p(null, 1.0) == pytest.approx(1 / 6)


def test_upper_bound_and_size_phrase():
    # zero of 2,000: the exact one-sided 95% bound is 1 - 0.05**(1/2000), about 3/2000 (rule of three)
    assert synth.upper_bound(0, 2000) == pytest.approx(1 - 0.05 ** (1 / 2000), rel=1e-9)
    assert synth.upper_bound(0, 2000) == pytest.approx(3 / 2000, rel=0.01)
    assert synth.upper_bound(5, 100) > 0.05 and synth.upper_bound(100, 100) == 1.0
    with pytest.raises(ValueError, match="k <= n"):
        synth.upper_bound(3, 2)
    near = {"size": 0.056, "alpha": 0.05, "size_mc_se": 0.00514}
    assert synth.size_phrase(near) == "1.2 Monte Carlo standard errors above the nominal 5%, within what simulation noise explains"
    far = {"size": 0.13, "alpha": 0.05, "size_mc_se": 0.0075}
    assert synth.size_phrase(far).endswith("more than simulation noise explains")


SMALL = synth.Assumptions(calibration_sims=60)  # small and fast: these tests check plumbing, not values


@pytest.fixture(scope="module")
def chapter():
    return synth.chapter_simulation(CAL_SE, 0.03, 0.13, n_sims=8, n_size_sims=60, seed=8, assume=SMALL, workers=2)


def test_chapter_simulation_equals_the_separate_runs(chapter):
    """One pool for everything gives what the separate functions give, and does not depend on workers."""
    calib = synth.calibrate_noise(CAL_SE, assume=SMALL)
    assert chapter["calib"] == calib
    sim = synth.simulate(CAL_SE, n_sims=8, seed=8, assume=SMALL, noise_sd=calib["noise_sd"], scenario_effects=(0.0, 0.03, 0.13))
    pd_ = pytest.importorskip("pandas")
    pd_.testing.assert_frame_equal(chapter["sim"].power, sim.power)
    pd_.testing.assert_frame_equal(chapter["sim"].scenarios, sim.scenarios)
    assert chapter["sim"].illustrative_p == sim.illustrative_p
    size = synth.size_check(CAL_SE, n_sims=60, seed=8, noise_sd=calib["noise_sd"], assume=SMALL, workers=1)
    assert chapter["size"] == size
    # the null tail: no-effect studies whose estimate reaches the published one, with an exact upper bound
    tail = size["null_tail"]
    assert size["null_tail_share"] == tail / 60
    assert size["null_tail_upper"] == pytest.approx(synth.upper_bound(tail, 60, 0.95))
    sens = synth.sensitivity(CAL_SE, (sim, calib), n_sims=8, seed=8, assume=SMALL, national=0.03, press=0.13, workers=1)
    pd_.testing.assert_frame_equal(chapter["sensitivity"], sens)


def test_sensitivity_table(chapter):
    sens = chapter["sensitivity"]
    assert list(zip(sens["rho"], sens["se_factor"])) == [(0.8, 1.0), (0.5, 1.0), (0.95, 1.0), (0.8, 1.5)]
    # every row is re-calibrated to its own target: 1.5 times the published standard error in the last
    assert sens["target_se"].iloc[-1] == pytest.approx(1.5 * CAL_SE.se_per_100)
    assert (sens["target_se"].iloc[:3] == CAL_SE.se_per_100).all()
    assert sens["noise_sd"].iloc[-1] > sens["noise_sd"].iloc[0]  # more noise for a larger standard error
    assert sens["noise_sd"].iloc[1] > sens["noise_sd"].iloc[0]  # less persistent noise averages out: more of it
    assert sens["null_sd"].iloc[-1] > sens["null_sd"].iloc[0]
    # the first row is the default run itself, not a re-run
    sc = chapter["sim"].scenarios.set_index(["scenario", "effect"])
    assert sens["selection_bias"].iloc[0] == sc.loc[(synth.SELECTION, 0.0), "bias"]
    assert sens["power_press"].iloc[0] == sc.loc[("as designed", 0.13), "rejection"]
    shown = synth.sensitivity_display(sens)
    assert list(shown.columns) == ["result", "persistence 0.8 (assumed)", "persistence 0.5", "persistence 0.95", "1.5× the standard error"]
    p, n = sens["power_press"].iloc[-1], sens["n_sims"].iloc[-1]
    mc = 100 * (p * (1 - p) / n) ** 0.5  # binomial Monte Carlo standard error, in points
    assert shown.set_index("result").loc["power, press release's reduction (± MC SE)"].iloc[-1] == f"{100 * p:.0f}% (± {mc:.1f})"
    words = synth.sensitivity_summary(sens)
    assert set(words) == {"power_press", "power_press_se", "selection_bias"}
    assert words["power_press_se"] == f"{100 * sens['power_press'].iloc[-1]:.0f}%"


def test_sensitivity_refuses_bad_settings(chapter):
    base = (chapter["sim"], chapter["calib"])
    with pytest.raises(ValueError, match="persistences"):
        synth.sensitivity(CAL_SE, base, rhos=[1.2], n_sims=4, workers=1)
    with pytest.raises(ValueError, match="factor"):
        synth.sensitivity(CAL_SE, base, se_factor=0, n_sims=4, workers=1)
    with pytest.raises(ValueError, match="published standard error"):
        synth.sensitivity(CAL, base, n_sims=4, workers=1)

"""Evidence-synthesis statistics checked against hand computations and published values."""

import math

import numpy as np
import pytest
from scipy import stats

from vertint import meta, rubric

# three log ratios and standard errors, chosen so that tau² > 0 and the HKSJ q is near one
Y = np.log([0.87, 0.97, 0.92])
SE = np.array([0.054, 0.0105, 0.03])


def _hand_dl(y, se):
    """DerSimonian-Laird, random-effects mean, HKSJ and prediction interval, written out by hand."""
    v = se**2
    w = 1 / v
    mu_fe = (w * y).sum() / w.sum()
    q = (w * (y - mu_fe) ** 2).sum()
    c = w.sum() - (w**2).sum() / w.sum()
    k = len(y)
    tau2 = max(0.0, (q - (k - 1)) / c)
    ws = 1 / (v + tau2)
    mu = (ws * y).sum() / ws.sum()
    q_hk = (ws * (y - mu) ** 2).sum() / (k - 1)
    se_hk = math.sqrt(q_hk / ws.sum())
    t = stats.t.ppf(0.975, k - 1)
    half_pi = stats.t.ppf(0.975, k - 2) * math.sqrt(tau2 + 1 / ws.sum())
    return {"tau2": tau2, "mu": mu, "q": q, "q_hk": q_hk, "hksj": (mu - t * se_hk, mu + t * se_hk),
            "hksj_floor": (mu - t * math.sqrt(max(1, q_hk) / ws.sum()), mu + t * math.sqrt(max(1, q_hk) / ws.sum())),
            "pi": (mu - half_pi, mu + half_pi)}


def test_hksj_and_prediction_interval_by_hand():
    hand = _hand_dl(Y, SE)
    p = meta.pool(Y, SE, "dl", floor=False, k_min=3)
    assert p["tau2"] == pytest.approx(hand["tau2"], rel=1e-9)
    assert p["mu"] == pytest.approx(hand["mu"], rel=1e-9)
    assert p["q"] == pytest.approx(hand["q"], rel=1e-9)
    assert np.log(p["ci_hksj"]) == pytest.approx(hand["hksj"], rel=1e-9)
    assert np.log(p["pi"]) == pytest.approx(hand["pi"], rel=1e-9)
    floored = meta.pool(Y, SE, "dl", floor=True, k_min=3)
    assert np.log(floored["ci_hksj"]) == pytest.approx(hand["hksj_floor"], rel=1e-9)
    # the t quantile with k-1 = 2 degrees of freedom, as tabulated
    assert p["t_hksj"] == pytest.approx(4.302653, abs=1e-6)


def test_hksj_matches_statsmodels_random_effect_wls():
    """statsmodels' 'random effect wls' row with use_t=True is the untruncated HKSJ interval."""
    import warnings

    from statsmodels.stats.meta_analysis import combine_effects

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf = combine_effects(Y, SE**2, method_re="dl", use_t=True).summary_frame()
    p = meta.pool(Y, SE, "dl", floor=False, k_min=3)
    assert math.log(p["ci_hksj"][0]) == pytest.approx(sf.loc["random effect wls", "ci_low"], rel=1e-9)
    assert math.log(p["ci_hksj"][1]) == pytest.approx(sf.loc["random effect wls", "ci_upp"], rel=1e-9)
    assert p["mu"] == pytest.approx(sf.loc["random effect", "eff"], rel=1e-9)


def test_floor_never_narrower_than_normal_theory_with_t():
    # two near-identical estimates: q < 1, so the untruncated HKSJ can be narrower; the floor prevents it
    y, se = np.log([0.95, 0.951]), np.array([0.02, 0.02])
    raw, fl = meta.pool(y, se, floor=False, k_min=2), meta.pool(y, se, floor=True, k_min=2)
    assert raw["q_hksj"] < 1
    assert (fl["ci_hksj"][1] - fl["ci_hksj"][0]) > (raw["ci_hksj"][1] - raw["ci_hksj"][0])
    t1 = stats.t.ppf(0.975, 1)
    assert math.log(fl["ci_hksj"][1]) - fl["mu"] == pytest.approx(t1 * fl["se"], rel=1e-9)


def test_refusal_follows_the_rubric_minimum():
    assert meta.min_k() == rubric.param("pooled_effect", "min_k") == 3
    two = meta.pool(Y[:2], SE[:2])
    assert two["refused"] and two["k"] == 2
    assert all(math.isnan(x) for x in two["pi"])  # no prediction interval from two estimates
    assert not meta.pool(Y, SE)["refused"]


def test_ratio_of_ratios_by_hand():
    # Wolverhampton (converted, rounding carried) over the national study
    r = meta.ratio_of_ratios(0.87, 0.7686, 0.9511, 0.97, 0.95, 0.99)
    s1 = (math.log(0.9511) - math.log(0.7686)) / (2 * 1.959964)
    s2 = (math.log(0.99) - math.log(0.95)) / (2 * 1.959964)
    d = math.log(0.87) - math.log(0.97)
    se = math.sqrt(s1**2 + s2**2)
    assert r["se_1"] == pytest.approx(s1, rel=1e-6) and r["se_2"] == pytest.approx(s2, rel=1e-6)
    assert r["ratio"] == pytest.approx(0.87 / 0.97, rel=1e-12)
    assert r["ci_low"] == pytest.approx(math.exp(d - 1.959964 * se), rel=1e-6)
    assert r["p"] == pytest.approx(2 * stats.norm.sf(abs(d / se)), rel=1e-6)
    assert r["p"] == pytest.approx(0.049, abs=0.001)


def test_leave_in_share():
    # a pooled log ratio of w·a + (1-w)·b recovers b
    a, b, w = math.log(0.87), math.log(0.99), 0.2
    assert meta.leave_in_share(w * a + (1 - w) * b, a, w) == pytest.approx(0.99, rel=1e-12)
    with pytest.raises(ValueError):
        meta.leave_in_share(0.0, 0.0, 1.0)


@pytest.mark.parametrize("A, s, power, hi, lo, type_s, exaggeration, exag_tol", [
    # Gelman and Carlin (2014), beauty and sex ratios: 2.7% right sign, 2.3% wrong sign, type S 46%,
    # exaggeration 77; true effect 0.3: type S about 40%, exaggeration 25; true effect 1.0: 4.9% and
    # 1.1% significant either way, type S 19%, exaggeration 8 (their exaggerations are simulated)
    (0.1, 3.28, 0.05, 0.027, 0.023, 0.46, 77, 0.02),
    (0.3, 3.28, 0.05, None, None, 0.40, 25, 0.05),
    (1.0, 3.28, None, 0.049, 0.011, 0.19, 8, 0.05),
    # menstrual cycle and voting: power 0.06, type S 24%, exaggeration 9.7
    (2.0, 8.1, 0.06, None, None, 0.24, 9.7, 0.03),
])
def test_retrodesign_against_gelman_and_carlin(A, s, power, hi, lo, type_s, exaggeration, exag_tol):
    r = meta.retrodesign(A, s)
    z = stats.norm.isf(0.025)
    if power is not None:
        assert round(r["power"], 2) == power
    if hi is not None:
        assert stats.norm.sf(z - A / s) == pytest.approx(hi, abs=0.0006)
        assert stats.norm.cdf(-z - A / s) == pytest.approx(lo, abs=0.001)
    assert r["type_s"] == pytest.approx(type_s, abs=0.006)
    assert r["exaggeration"] == pytest.approx(exaggeration, rel=exag_tol)


def test_retrodesign_closed_form_matches_simulation():
    rng = np.random.default_rng(1)
    A, s = 0.025, 0.0344
    est = A + s * rng.standard_normal(2_000_000)
    sig = np.abs(est) > 1.959964 * s
    r = meta.retrodesign(A, s)
    assert r["power"] == pytest.approx(sig.mean(), abs=0.001)
    assert r["type_s"] == pytest.approx((est[sig] < 0).mean(), abs=0.003)
    assert r["exaggeration"] == pytest.approx(np.abs(est[sig]).mean() / A, rel=0.01)


def test_rounded_baseline_and_conversion():
    lo, hi = meta.implied_baseline_range(-0.11, 0.01, 0.13, 0.01)
    assert lo == pytest.approx(0.105 / 0.135) and hi == pytest.approx(0.115 / 0.125)
    c = meta.rate_difference_as_ratio(-0.11, -0.18, -0.045, lo, hi)
    assert c["ci_low"] == pytest.approx(1 - 0.18 / lo) and c["ci_high"] == pytest.approx(1 - 0.045 / hi)
    assert c["point_low"] == pytest.approx(1 - 0.11 / lo) and c["point_high"] == pytest.approx(1 - 0.11 / hi)
    with pytest.raises(ValueError):
        meta.rate_difference_as_ratio(-0.11, -0.18, -0.045, 0.0, 1.0)

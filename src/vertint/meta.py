"""Evidence synthesis for a handful of published estimates: pooling with small-sample intervals, the
contrast of two estimates, design analysis and conversions that carry rounding.

Everything works on log ratios with standard errors taken from published 95% intervals.

- :func:`pool`: random-effects pooling with the Hartung-Knapp-Sidik-Jonkman (HKSJ) interval and a
  prediction interval; it refuses a pooled headline below the rubric's minimum number of estimates.
  statsmodels' ``combine_effects`` estimates tau² (DerSimonian-Laird or Paule-Mandel) and its
  "random effect wls" row with ``use_t=True`` is the untruncated HKSJ interval; it has neither a
  prediction interval nor the variance floor recommended for very few studies, so those few lines
  are written here and the test suite checks the rest against statsmodels and against a hand
  computation.
- :func:`ratio_of_ratios`: the contrast of two ratios (log scale; standard errors from the intervals).
- :func:`retrodesign`: power, type S error and exaggeration ratio (Gelman and Carlin 2014), in closed
  form for a normal estimate.
- :func:`rate_difference_as_ratio`: a rate difference put on the ratio scale through a baseline
  implied by rounded figures, carrying the rounding into the interval.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from . import rubric

Z975 = float(stats.norm.ppf(0.975))


def se_from_ci(low: float, high: float, log: bool = True) -> float:
    """Standard error implied by a 95% interval (of the log for ratios)."""
    if log:
        low, high = math.log(low), math.log(high)
    return (high - low) / (2 * Z975)


def min_k() -> int:
    """The fewest comparable estimates a pooled headline needs (rubric, rule ``pooled_effect``)."""
    return int(rubric.param("pooled_effect", "min_k"))


# --------------------------------------------------------------------------- pooling


def tau2_estimate(y: np.ndarray, v: np.ndarray, method: str = "dl") -> float:
    """Between-study variance by statsmodels (``dl``: DerSimonian-Laird; ``pm``/``iterated``:
    Paule-Mandel), truncated at zero."""
    from statsmodels.stats.meta_analysis import combine_effects

    res = combine_effects(np.asarray(y, float), np.asarray(v, float), method_re=method)
    return max(0.0, float(res.tau2))


def pool(y, se, method: str = "dl", level: float = 0.95, floor: bool = True, k_min: int | None = None) -> dict:
    """Random-effects pool of log ratios ``y`` with standard errors ``se``.

    Returns the pooled log ratio ``mu`` and, on the ratio scale, three intervals:

    - ``ci_wald``: the usual normal interval, mu ± z·sqrt(1/Σw*) (for comparison only);
    - ``ci_hksj``: Hartung-Knapp-Sidik-Jonkman, mu ± t(k-1)·sqrt(q/Σw*) with
      q = Σw*(y-mu)²/(k-1); with ``floor`` (default) q is at least one (Röver et al. 2015), so the
      interval is never narrower than the normal-theory one, which with few studies it can be;
    - ``pi``: the prediction interval for the effect in a new setting (Higgins, Thompson and
      Spiegelhalter 2009), mu ± t(k-2)·sqrt(tau² + 1/Σw*), defined from three estimates.

    ``refused`` is True when k is below the rubric's minimum: the numbers are still computed (to show
    why they cannot be a headline) but the chapter must not report them as the pooled effect.
    """
    y, se = np.asarray(y, float), np.asarray(se, float)
    k = int(y.size)
    if k == 0:
        raise ValueError("nothing to pool")
    k_min = min_k() if k_min is None else k_min
    v = se**2
    w = 1.0 / v
    mu_fe = float((w * y).sum() / w.sum())
    q_stat = float((w * (y - mu_fe) ** 2).sum())
    i2 = max(0.0, (q_stat - (k - 1)) / q_stat) if k > 1 and q_stat > 0 else 0.0
    tau2 = tau2_estimate(y, v, method) if k > 1 else 0.0
    ws = 1.0 / (v + tau2)
    mu = float((ws * y).sum() / ws.sum())
    se_re = math.sqrt(1.0 / ws.sum())
    out = {"k": k, "mu": mu, "ratio": math.exp(mu), "mu_fixed": mu_fe, "tau2": tau2, "i2": i2, "q": q_stat,
           "se": se_re, "method": method, "refused": k < k_min, "min_k": k_min}
    z = float(stats.norm.ppf(0.5 + level / 2))
    out["ci_wald"] = (math.exp(mu - z * se_re), math.exp(mu + z * se_re))
    if k >= 2:
        q_hk = float((ws * (y - mu) ** 2).sum() / (k - 1))
        q_used = max(1.0, q_hk) if floor else q_hk
        se_hk = math.sqrt(q_used / ws.sum())
        t = float(stats.t.ppf(0.5 + level / 2, k - 1))
        out.update(q_hksj=q_hk, se_hksj=se_hk, t_hksj=t, ci_hksj=(math.exp(mu - t * se_hk), math.exp(mu + t * se_hk)))
    else:
        out.update(q_hksj=float("nan"), se_hksj=float("nan"), t_hksj=float("nan"), ci_hksj=(float("nan"),) * 2)
    if k >= 3:
        t2 = float(stats.t.ppf(0.5 + level / 2, k - 2))
        half = t2 * math.sqrt(tau2 + se_re**2)
        out["pi"] = (math.exp(mu - half), math.exp(mu + half))
    else:
        out["pi"] = (float("nan"), float("nan"))
    return out


# --------------------------------------------------------------------------- contrasts


def ratio_of_ratios(r1: float, lo1: float, hi1: float, r2: float, lo2: float, hi2: float) -> dict:
    """First ratio divided by the second: estimate, 95% interval and two-sided p (normal, log scale),
    standard errors from each interval, the two estimates treated as independent."""
    s1, s2 = se_from_ci(lo1, hi1), se_from_ci(lo2, hi2)
    d = math.log(r1) - math.log(r2)
    se = math.hypot(s1, s2)
    z = d / se
    return {"ratio": math.exp(d), "ci_low": math.exp(d - Z975 * se), "ci_high": math.exp(d + Z975 * se),
            "log": d, "se": se, "se_1": s1, "se_2": s2, "z": z, "p": float(2 * stats.norm.sf(abs(z)))}


def leave_in_share(total_log: float, part_log: float, share: float) -> float:
    """The ratio for the rest of a pooled sample when a part with weight ``share`` is taken out:
    exp((log total - share·log part) / (1 - share))."""
    if not 0 <= share < 1:
        raise ValueError("share must be in [0, 1)")
    return math.exp((total_log - share * part_log) / (1 - share))


# --------------------------------------------------------------------------- design analysis


def retrodesign(true_effect: float, se: float, alpha: float = 0.05) -> dict:
    """Gelman and Carlin (2014): for a true effect ``A`` and an estimate ~ N(A, se²) tested two-sided
    at ``alpha``, the power, the type S error (share of significant estimates with the wrong sign)
    and the exaggeration ratio E(|estimate| given significance)/|A|. Closed form (their R function
    estimates the last by simulation)."""
    if se <= 0 or true_effect == 0:
        raise ValueError("need se > 0 and a non-zero true effect")
    a = abs(true_effect)
    z = float(stats.norm.isf(alpha / 2))
    lam = a / se
    p_hi = float(stats.norm.sf(z - lam))
    p_lo = float(stats.norm.cdf(-z - lam))
    power = p_hi + p_lo
    # E[|Y| 1(|Y| > c)] for Y ~ N(a, se²), c = z·se
    c = z * se
    upper = a * stats.norm.sf((c - a) / se) + se * stats.norm.pdf((c - a) / se)
    lower = -a * stats.norm.cdf((-c - a) / se) + se * stats.norm.pdf((-c - a) / se)
    return {"true_effect": true_effect, "se": se, "power": power, "type_s": p_lo / power,
            "exaggeration": float((upper + lower) / power / a)}


# --------------------------------------------------------------------------- rounded baselines


def rounding_range(value: float, unit: float) -> tuple[float, float]:
    """The values a figure published to the nearest ``unit`` could have had."""
    return value - unit / 2, value + unit / 2


def implied_baseline_range(effect: float, effect_unit: float, relative: float, relative_unit: float) -> tuple[float, float]:
    """Baseline implied by |effect| / relative reduction, each published rounded: (lowest, highest)."""
    e_lo, e_hi = sorted(abs(x) for x in rounding_range(effect, effect_unit))
    r_lo, r_hi = rounding_range(relative, relative_unit)
    return e_lo / r_hi, e_hi / r_lo


def rate_difference_as_ratio(d: float, lo: float, hi: float, base_lo: float, base_hi: float) -> dict:
    """A rate difference (interval lo to hi) as a rate ratio 1 + d/b for every baseline b in
    [base_lo, base_hi]: the range of the point ratio and the envelope of the intervals."""
    if not 0 < base_lo <= base_hi:
        raise ValueError("need 0 < base_lo <= base_hi")
    ends = [1 + x / b for x in (d, lo, hi) for b in (base_lo, base_hi)]
    pts, los, his = ends[0:2], ends[2:4], ends[4:6]
    return {"point_low": min(pts), "point_high": max(pts), "ci_low": min(los), "ci_high": max(his),
            "base_low": base_lo, "base_high": base_hi}

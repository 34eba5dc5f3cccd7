"""Synthetic control: validation on California's Proposition 99, and a simulation of the
Wolverhampton design (power and placebo-in-space inference).

Two estimators of the same thing, the synthetic-control weights

    w = argmin ||y_pre - X_pre w||²  subject to  w >= 0, sum(w) = 1

(outcome-only synthetic control: the predictors are the pre-period outcomes, equally weighted):

- :func:`sc_weights_pysyncon` calls the maintained library pysyncon (``Synth`` with a fixed V);
  it validates against the published Proposition 99 result (:func:`prop99`).
- :func:`sc_weights_batch` is a vectorised accelerated projected-gradient solver (FISTA) that fits
  thousands of such problems at once; the simulation uses it, and a test checks it against pysyncon.

The simulation (:func:`simulate`) is calibrated to Yu et al. (2020): ``n_practices`` integrated
practices sharing 67,402 patients, the baseline rate *implied* by the reported −0.11 per 100
patients per month and the press release's "13%", a donor pool of non-integrated practices with
list sizes around the same mean, and Poisson noise. Everything random comes from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import rubric
from .charts import GREY, ORANGE

#: Treatment year of Proposition 99 (first post-period year in the panel).
PROP99_FIRST_POST = 1989


# --------------------------------------------------------------------------- estimators


def sc_weights_pysyncon(y_pre: np.ndarray, X_pre: np.ndarray) -> np.ndarray:
    """Outcome-only synthetic-control weights with pysyncon (SLSQP on the simplex).

    ``y_pre``: (T0,) treated unit; ``X_pre``: (T0, J) donors. pysyncon divides each predictor row
    by its standard deviation across units; passing those variances as the (fixed) V undoes that,
    so the problem solved is exactly the unweighted least squares above.
    """
    from pysyncon import Synth

    T0, J = X_pre.shape
    Z0 = pd.DataFrame(X_pre, columns=[f"d{j}" for j in range(J)])
    Z1 = pd.Series(y_pre, name="treated")
    V = pd.concat([Z0, Z1], axis=1).std(axis=1).to_numpy() ** 2
    model = Synth()
    model.fit(X0=Z0, X1=Z1, Z0=Z0, Z1=Z1, custom_V=V)
    w = np.clip(np.asarray(model.W, dtype=float), 0.0, None)
    return w / w.sum()


def project_simplex(V: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Euclidean projection of each row (last axis) of ``V`` onto the probability simplex.

    Entries where ``mask`` is False are forced to zero (the unit is not an allowed donor).
    """
    V = np.asarray(V, dtype=float)
    if mask is not None:
        V = np.where(mask, V, -1e12)
    J = V.shape[-1]
    U = -np.sort(-V, axis=-1)
    css = np.cumsum(U, axis=-1) - 1.0
    k = np.arange(1, J + 1)
    cond = U - css / k > 0
    rho = J - 1 - np.argmax(cond[..., ::-1], axis=-1)  # last index where cond holds
    theta = np.take_along_axis(css, rho[..., None], axis=-1) / (rho[..., None] + 1)
    return np.maximum(V - theta, 0.0)


def sc_weights_batch(G: np.ndarray, B: np.ndarray, mask: np.ndarray | None = None, iters: int = 400) -> np.ndarray:
    """Many synthetic-control problems at once, by FISTA (accelerated projected gradient).

    Each problem ``p`` in group ``s`` minimises ``w'G_s w - 2 B_sp'w`` on the simplex, where
    ``G_s = X_s'X_s`` is shared by the problems of one group (same donors) and ``B_sp = X_s'y_sp``.

    ``G``: (S, J, J); ``B``: (S, P, J); ``mask``: (S, P, J) or (P, J) booleans (allowed donors).
    Returns weights (S, P, J).
    """
    S, P, J = B.shape
    if mask is not None:
        mask = np.broadcast_to(mask, (S, P, J))
    L = np.linalg.eigvalsh(G)[:, -1][:, None, None]  # Lipschitz constant of the half-gradient
    step = 1.0 / np.maximum(L, 1e-12)
    W = project_simplex(np.full((S, P, J), 1.0 / J), mask)
    Z, t = W.copy(), np.ones((S, P, 1))
    for _ in range(iters):
        grad = Z @ G - B
        W_new = project_simplex(Z - step * grad, mask)
        # adaptive restart (O'Donoghue and Candes 2015): drop the momentum where it points uphill
        restart = (((Z - W_new) * (W_new - W)).sum(-1, keepdims=True) > 0)
        t = np.where(restart, 1.0, t)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        Z = W_new + ((t - 1.0) / t_new) * (W_new - W)
        W, t = W_new, t_new
    return W


def sc_problem(X_pre: np.ndarray, Y_pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``G`` and ``B`` for :func:`sc_weights_batch`, centred for speed.

    ``X_pre``: (S, T0, J) donors; ``Y_pre``: (S, P, T0) series to fit. Because the weights sum to
    one, subtracting any common series ``m_t`` from the donors and the target leaves the objective
    unchanged: ``||(y - m) - (X - m1')w||² = ||y - Xw||²``. Subtracting the donors' mean removes
    the dominant common level, which cuts the problem's condition number by an order of magnitude
    and lets the solver converge in about a hundred iterations.
    """
    m = X_pre.mean(axis=-1, keepdims=True)  # (S, T0, 1)
    Xc = X_pre - m
    Yc = Y_pre - np.swapaxes(m, 1, 2)  # (S, P, T0)
    return np.swapaxes(Xc, 1, 2) @ Xc, Yc @ Xc


def sc_estimate(y: np.ndarray, X: np.ndarray, T0: int, w: np.ndarray) -> dict:
    """Gaps and the two usual summaries for one treated series ``y`` (T,) and donors ``X`` (T, J)."""
    gap = y - X @ w
    return {
        "gap": gap,
        "att": float(gap[T0:].mean()),  # synthetic control (Abadie; Arkhangelsky et al. Table 1)
        "att_demeaned": float(gap[T0:].mean() - gap[:T0].mean()),  # SC then difference in differences
        "rmspe_pre": float(np.sqrt(np.mean(gap[:T0] ** 2))),
    }


# --------------------------------------------------------------------------- Proposition 99


def prop99_panel() -> pd.DataFrame:
    """The vendored panel (years × states, packs per capita), validated against the manifest."""
    from . import data

    return data.load("prop99_california_panel").set_index("Year")


def prop99_published() -> pd.DataFrame:
    """Arkhangelsky et al. (2021), Table 1, as vendored: estimate and s.e. by estimator (sc, did, sdid)."""
    from . import data

    return data.load("prop99_published_estimates").set_index("estimator")


def did_2x2(y: np.ndarray, X: np.ndarray, T0: int) -> float:
    """Plain difference in differences: treated change minus the donors' average change."""
    return float((y[T0:].mean() - y[:T0].mean()) - (X[T0:].mean() - X[:T0].mean()))


def prop99(panel: pd.DataFrame | None = None, published: pd.DataFrame | None = None) -> dict:
    """Outcome-only synthetic control for California with pysyncon, as in Arkhangelsky et al. (2021)."""
    panel = prop99_panel() if panel is None else panel
    published = prop99_published() if published is None else published
    pub_sc = float(published.loc["sc", "estimate"])
    panel = panel.astype(float)
    T0 = int((panel.index < PROP99_FIRST_POST).sum())
    donors = panel.drop(columns="California")
    y, X = panel["California"].to_numpy(), donors.to_numpy()
    w = sc_weights_pysyncon(y[:T0], X[:T0])
    est = sc_estimate(y, X, T0, w)
    weights = pd.Series(w, index=donors.columns, name="weight").sort_values(ascending=False)
    return {
        "estimate": est["att"],
        "published": pub_sc,
        "published_se": float(published.loc["sc", "se"]),
        "tolerance": float(rubric.param("method_check", "abs_tol")),
        "difference": est["att"] - pub_sc,
        # a check on the panel itself: the plain DiD uses no optimiser, so it should match closely
        "did": did_2x2(y, X, T0),
        "did_published": float(published.loc["did", "estimate"]),
        "weights": weights,
        "rmspe_pre": est["rmspe_pre"],
        "gap": pd.Series(est["gap"], index=panel.index, name="gap"),
        "n_donors": X.shape[1],
        "years_pre": (int(panel.index[0]), int(panel.index[T0 - 1])),
        "years_post": (int(panel.index[T0]), int(panel.index[-1])),
    }


def prop99_verdict(result: dict):
    """Methods check: our estimate against the published one (the rubric's ``method_check``)."""
    from .verdicts import method_check

    return method_check(result["published"], result["estimate"], "packs per capita")


# --------------------------------------------------------------------------- Wolverhampton simulation


@dataclass(frozen=True)
class Calibration:
    """What the simulation takes from the published record, and what it has to assume."""

    patients: int  # integrated practices' registered patients (reported)
    effect_per_100: float  # reported change, per 100 patients per month (negative = reduction)
    relative_reduction: float  # press release's "13%", as a fraction

    @property
    def baseline_per_100(self) -> float:
        """Baseline rate per 100 patients per month *implied* by effect / relative reduction."""
        return abs(self.effect_per_100) / self.relative_reduction


@dataclass(frozen=True)
class Assumptions:
    """Design features that are NOT FOUND in the published record: assumed, stated on the page."""

    list_size_sigma: float = 0.5  # log-sd of practice list sizes (lognormal)
    rate_sigma: float = 0.25  # log-sd of practice baseline rates (between-practice heterogeneity)
    seasonal_amplitude: float = 0.10  # winter peak, common to all practices
    n_placebo_sets: int = 200  # random sets of donors used as pseudo-treated groups
    alpha: float = 0.05  # test level for power
    solver_iters: int = 120


@dataclass
class SimResult:
    power: pd.DataFrame  # effect, power, mean_estimate, sd_estimate
    placebo: pd.DataFrame  # pooled placebo estimates of the illustrative dataset
    illustrative_estimate: float
    illustrative_p: float
    null_p_of_published: float  # share of pooled placebo estimates at least as negative as published
    null_sd: float  # sd of the pooled estimate across simulated studies when there is no effect
    placebo_sd: float  # sd of the pooled placebo estimates
    null_p_sampling: float  # share of simulated no-effect studies at least as negative as published
    mean_rmspe_pre: float
    params: dict = field(default_factory=dict)


def _list_sizes(rng, n: int, mean: float, sigma: float) -> np.ndarray:
    return mean * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)


def simulate(cal: Calibration, n_practices: int = 10, n_donors: int = 40, pre_months: int = 24,
             post_months: int = 24, n_sims: int = 200, effects=None, true_effect: float = 0.0,
             seed: int = 2020, assume: Assumptions | None = None) -> SimResult:
    """Power of the pooled synthetic-control design, with placebo-in-space inference.

    Per simulated study: practices' monthly counts are Poisson with mean
    ``list/100 × baseline × practice factor × season × (1 − effect if integrated and post)``.
    Each integrated practice gets a synthetic control fitted on its pre-period rates; its effect is
    the post-period mean gap minus the pre-period mean gap (per 100 patients per month); the study
    estimate pools the practices weighted by list size, as Yu et al. describe. Each donor in turn is
    fitted from the other donors (placebo in space); random sets of ``n_practices`` donors give the
    null distribution of the pooled estimate, and the two-sided placebo p-value decides rejection.

    Synthetic-control weights use only pre-period data, so each study's weights are fitted once
    and reused across the effect grid (common random numbers for the donors).
    """
    assume = assume or Assumptions()
    if n_donors <= n_practices:
        raise ValueError(f"n_donors ({n_donors}) must exceed n_practices ({n_practices}): placebo groups of "
                         f"{n_practices} practices are drawn from the donors")
    if pre_months < 2 or post_months < 1 or n_sims < 2:
        raise ValueError("need pre_months >= 2, post_months >= 1 and n_sims >= 2")
    effects = np.round(np.linspace(0.0, 0.20, 9), 4) if effects is None else np.asarray(effects, float)
    for extra in (0.0, true_effect):
        if not np.isclose(effects, extra).any():
            effects = np.sort(np.append(effects, extra))
    rng = np.random.default_rng(seed)
    S, P, J, T0, T1 = n_sims, n_practices, n_donors, pre_months, post_months
    T = T0 + T1
    base = cal.baseline_per_100 / 100.0  # per patient per month
    mean_list = cal.patients / n_practices

    # list sizes: integrated practices share exactly the reported patients; donors around the same mean
    treated_n = _list_sizes(rng, S * P, mean_list, assume.list_size_sigma).reshape(S, P)
    treated_n = np.maximum(1.0, np.round(treated_n / treated_n.sum(1, keepdims=True) * cal.patients))
    donor_n = np.maximum(300.0, np.round(_list_sizes(rng, S * J, mean_list, assume.list_size_sigma).reshape(S, J)))
    sizes = np.concatenate([treated_n, donor_n], axis=1)  # (S, P+J)
    level = np.exp(assume.rate_sigma * rng.standard_normal((S, P + J)) - assume.rate_sigma**2 / 2)
    months = np.arange(T)
    season = 1.0 + assume.seasonal_amplitude * np.cos(2 * np.pi * months / 12)
    lam = sizes[:, :, None] * base * level[:, :, None] * season[None, None, :]  # (S, P+J, T)

    counts = rng.poisson(lam)
    rates = 100.0 * counts / sizes[:, :, None]  # per 100 patients per month
    donors = rates[:, P:, :]  # (S, J, T)
    Xpre = np.swapaxes(donors[:, :, :T0], 1, 2)  # (S, T0, J)
    G, Bm = sc_problem(Xpre, rates[:, :, :T0])  # (S, J, J), (S, P+J, J): treated then donors
    mask = np.ones((P + J, J), dtype=bool)
    mask[P + np.arange(J), np.arange(J)] = False  # a donor cannot be its own control
    W = sc_weights_batch(G, Bm, mask, iters=assume.solver_iters)  # (S, P+J, J)

    synth = W @ donors  # (S, P+J, T) synthetic series
    pre_gap = (rates[:, :, :T0] - synth[:, :, :T0]).mean(-1)  # (S, P+J)
    rmspe = np.sqrt(((rates[:, :, :T0] - synth[:, :, :T0]) ** 2).mean(-1))
    synth_post = synth[:, :P, T0:].mean(-1)  # (S, P)

    # placebo in space: each donor's own estimate, pooled over random sets of n_practices donors
    placebo_each = (donors[:, :, T0:].mean(-1) - synth[:, P:, T0:].mean(-1)) - pre_gap[:, P:]  # (S, J)
    K = assume.n_placebo_sets
    sets = np.argsort(rng.random((S, K, J)), axis=-1)[:, :, :P]  # (S, K, P)
    pw = np.take_along_axis(np.broadcast_to(donor_n[:, None, :], (S, K, J)), sets, axis=-1)
    pe = np.take_along_axis(np.broadcast_to(placebo_each[:, None, :], (S, K, J)), sets, axis=-1)
    placebo_pooled = (pw * pe).sum(-1) / pw.sum(-1)  # (S, K)

    # treated post-period counts for each effect: only these depend on the effect size
    post_lam = lam[:, :P, T0:]
    pooled_by_effect, p_by_effect = {}, {}
    for e in effects:
        post_counts = rng.poisson(post_lam * (1.0 - e))
        post_rate = (100.0 * post_counts / treated_n[:, :, None]).mean(-1)
        est_each = (post_rate - synth_post) - pre_gap[:, :P]  # (S, P)
        pooled = (treated_n * est_each).sum(-1) / treated_n.sum(-1)  # (S,)
        extreme = (np.abs(placebo_pooled) >= np.abs(pooled)[:, None]).sum(-1)
        pooled_by_effect[float(e)] = pooled
        p_by_effect[float(e)] = (1.0 + extreme) / (K + 1.0)
    # size-adjusted: critical values from the simulated sampling distribution under no effect
    null = pooled_by_effect[0.0]
    lo, hi = np.quantile(null, [assume.alpha / 2, 1 - assume.alpha / 2])
    rows = []
    for e, pooled in pooled_by_effect.items():
        rows.append({"effect": e, "power": float((p_by_effect[e] <= assume.alpha).mean()),
                     "power_size_adjusted": float(((pooled < lo) | (pooled > hi)).mean()),
                     "mean_estimate": float(pooled.mean()),
                     "sd_estimate": float(pooled.std(ddof=1)) if S > 1 else 0.0})
    key = min(pooled_by_effect, key=lambda k: abs(k - true_effect))
    illustrative = (float(pooled_by_effect[key][0]), float(p_by_effect[key][0]))
    power = pd.DataFrame(rows)
    published = cal.effect_per_100
    null_p = float((placebo_pooled <= published).mean())
    null_p_sampling = float((null <= published).mean())
    return SimResult(
        power=power,
        placebo=pd.DataFrame({"placebo_estimate": placebo_pooled[0]}),
        illustrative_estimate=illustrative[0],
        illustrative_p=illustrative[1],
        null_p_of_published=null_p,
        null_sd=float(null.std(ddof=1)) if S > 1 else 0.0,
        placebo_sd=float(placebo_pooled.std(ddof=1)),
        null_p_sampling=null_p_sampling,
        mean_rmspe_pre=float(rmspe[:, :P].mean()),
        params={"n_practices": P, "n_donors": J, "pre_months": T0, "post_months": T1, "n_sims": S,
                "true_effect": true_effect, "seed": seed},
    )


def power_summary(power: pd.DataFrame, target: float = 0.8) -> dict:
    """What the page says about a power curve: detectable effects (as text) and the test's size."""
    def mde(col):
        hit = power.loc[power[col] >= target, "effect"]
        return "no reduction up to 20%" if hit.empty else f"{100 * float(hit.min()):.1f}%"

    size = float(power.loc[np.isclose(power["effect"], 0.0), "power"].iloc[0])
    return {"mde_placebo": mde("power"), "mde_size_adjusted": mde("power_size_adjusted"), "size": size,
            "size_vs_nominal": "above" if size > 0.075 else "below" if size < 0.025 else "close to"}


# --------------------------------------------------------------------------- charts


def power_chart(power: pd.DataFrame, published_relative: float | None = None):
    import altair as alt

    df = power.assign(effect_pct=100 * power["effect"], power_pct=100 * power["power"])
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("effect_pct:Q", title="True reduction in admissions (%)"),
        y=alt.Y("power_pct:Q", title="Power (% of simulated studies with placebo p ≤ 0.05)", scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("effect_pct:Q", title="reduction (%)", format=".1f"),
                 alt.Tooltip("power_pct:Q", title="power (%)", format=".0f"),
                 alt.Tooltip("mean_estimate:Q", title="mean estimate (per 100/month)", format=".3f")],
    )
    rule = alt.Chart(pd.DataFrame({"y": [80]})).mark_rule(strokeDash=[4, 4], color=GREY).encode(y="y:Q")
    layers = [line, rule]
    if published_relative is not None:
        mark = pd.DataFrame({"x": [100 * published_relative], "label": ["implied published effect"]})
        layers.append(alt.Chart(mark).mark_rule(color=ORANGE).encode(x="x:Q", tooltip=["label:N", alt.Tooltip("x:Q", format=".1f")]))
    return alt.layer(*layers)


def placebo_chart(placebo: pd.DataFrame, observed: float, published: float):
    import altair as alt

    hist = alt.Chart(placebo).mark_bar(opacity=0.8).encode(
        x=alt.X("placebo_estimate:Q", bin=alt.Bin(maxbins=30), title="Pooled placebo estimate (admissions per 100 patients per month)"),
        y=alt.Y("count():Q", title="Placebo groups (count)"),
        tooltip=[alt.Tooltip("count():Q", title="groups")],
    )
    marks = pd.DataFrame({"x": [observed, published], "what": ["simulated integrated practices", "published (Yu et al. 2020)"]})
    rules = alt.Chart(marks).mark_rule(strokeWidth=2).encode(
        x="x:Q", color=alt.Color("what:N", title=None), tooltip=["what:N", alt.Tooltip("x:Q", format=".3f")])
    return alt.layer(hist, rules)


def prop99_chart(result: dict):
    import altair as alt

    gap = result["gap"].rename("gap").reset_index().rename(columns={"index": "Year"})
    gap.columns = ["Year", "gap"]
    line = alt.Chart(gap).mark_line(point=True).encode(
        x=alt.X("Year:O", title="Year"), y=alt.Y("gap:Q", title="California minus synthetic California (packs per capita)"),
        tooltip=["Year:O", alt.Tooltip("gap:Q", format=".1f")])
    rule = alt.Chart(pd.DataFrame({"Year": [PROP99_FIRST_POST]})).mark_rule(strokeDash=[4, 4]).encode(x="Year:O")
    return alt.layer(line, rule), gap

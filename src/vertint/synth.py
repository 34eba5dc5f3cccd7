"""Synthetic control: validation on California's Proposition 99, and a simulation of the
Wolverhampton design (power, size, bias and coverage).

Two estimators of the same thing, the synthetic-control weights

    w = argmin ||y_pre - X_pre w||²  subject to  w >= 0, sum(w) = 1

(outcome-only synthetic control: the predictors are the pre-period outcomes, equally weighted):

- :func:`sc_weights_pysyncon` calls the maintained library pysyncon (``Synth`` with a fixed V);
  it validates against the published Proposition 99 result (:func:`prop99`).
- :func:`sc_weights_batch` is a vectorised accelerated projected-gradient solver (FISTA) that fits
  thousands of such problems at once; the simulation uses it, and a test checks it against pysyncon.

The simulation (:func:`simulate`) is calibrated to Yu et al. (2020): ``n_practices`` integrated
practices of about 67,402 patients in all, the baseline rate *implied* by the reported −0.11 per 100
patients per month and the press release's "13%", donor practices drawn from the same distributions,
Poisson counts, and practice-level AR(1) deviations whose size :func:`calibrate_noise` sets so that
the no-effect spread of the pooled estimate equals the standard error implied by the published
interval. Inference is a permutation test over all practices (exact under no effect when integrated
and donor practices are exchangeable, as in the "as designed" scenario; its size is checked by
:func:`size_check`), with the interval obtained by inverting it; :data:`SCENARIOS` lists the threats
whose bias and coverage the simulation reports, and :func:`sensitivity` re-runs power and scenarios
at other persistences of the noise and a larger standard error. Everything random comes from
``numpy.random.default_rng(seed)`` (or ``SeedSequence(seed).spawn`` for the chunks of the size check).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from . import rubric
from .charts import BLUE, GREY, ORANGE

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

    Entries where ``mask`` is False are forced to zero (the unit is not an allowed donor). Works in
    the precision of ``V`` (float32 or float64).
    """
    V = np.asarray(V)
    if V.dtype not in (np.float32, np.float64):
        V = V.astype(float)
    if mask is not None:
        V = np.where(mask, V, V.dtype.type(-1e12))
    J = V.shape[-1]
    U = -np.sort(-V, axis=-1)
    css = np.cumsum(U, axis=-1) - 1
    k = np.arange(1, J + 1, dtype=V.dtype)
    # for sorted U the condition holds on a prefix (Duchi et al. 2008), so its count locates rho
    rho = np.count_nonzero(U - css / k > 0, axis=-1) - 1
    theta = np.take_along_axis(css, rho[..., None], axis=-1) / (rho[..., None] + 1).astype(V.dtype)
    return np.maximum(V - theta, 0)


def sc_weights_batch(G: np.ndarray, B: np.ndarray, mask: np.ndarray | None = None, iters: int = 400,
                     dtype=np.float64) -> np.ndarray:
    """Many synthetic-control problems at once, by FISTA (accelerated projected gradient).

    Each problem ``p`` in group ``s`` minimises ``w'G_s w - 2 B_sp'w`` on the simplex, where
    ``G_s = X_s'X_s`` is shared by the problems of one group (same donors) and ``B_sp = X_s'y_sp``.

    ``G``: (S, J, J); ``B``: (S, P, J); ``mask``: (S, P, J) or (P, J) booleans (allowed donors).
    ``dtype``: float64, or float32 for the simulation's many thousand fits (half the memory traffic;
    the weights agree to about 1e-6). Returns weights (S, P, J).
    """
    S, P, J = B.shape
    if mask is not None:
        mask = np.broadcast_to(mask, (S, P, J))
    L = np.linalg.eigvalsh(G)[:, -1][:, None, None]  # Lipschitz constant of the half-gradient
    step = (1.0 / np.maximum(L, 1e-12)).astype(dtype)
    G, B = G.astype(dtype), B.astype(dtype)
    W = project_simplex(np.full((S, P, J), 1.0 / J, dtype=dtype), mask)
    Z, t = W.copy(), np.ones((S, P, 1), dtype=dtype)
    for _ in range(iters):
        grad = Z @ G - B
        W_new = project_simplex(Z - step * grad, mask)
        # adaptive restart (O'Donoghue and Candes 2015): drop the momentum where it points uphill
        restart = (((Z - W_new) * (W_new - W)).sum(-1, keepdims=True) > 0)
        t = np.where(restart, dtype(1.0), t)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        Z = W_new + ((t - 1.0) / t_new) * (W_new - W)
        W, t = W_new, t_new
    return W.astype(np.float64)


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
    se_per_100: float | None = None  # standard error implied by the published interval (calibration target)

    @property
    def baseline_per_100(self) -> float:
        """Baseline rate per 100 patients per month *implied* by effect / relative reduction."""
        return abs(self.effect_per_100) / self.relative_reduction


@dataclass(frozen=True)
class Assumptions:
    """Design features that are NOT FOUND in the published record: assumed, stated on the page."""

    list_size_sigma: float = 0.5  # log-sd of practice list sizes (lognormal, the same for every practice)
    rate_sigma: float = 0.25  # log-sd of practice baseline rates (between-practice heterogeneity)
    seasonal_amplitude: float = 0.10  # winter peak, common to all practices
    noise_rho: float = 0.8  # month-to-month persistence of a practice's own deviations (AR(1) on the log rate)
    n_perm: int = 199  # random relabellings of all practices in the permutation test
    alpha: float = 0.05  # test level
    solver_iters: int = 120  # FISTA iterations (float32: the simulation fits many thousand problems)
    calibration_sims: int = 800  # simulated no-effect studies per step of the noise calibration
    calibration_seed: int = 1  # its own seed, so the calibration does not move with the study seed
    spell_candidates: int = 3  # selection after a bad spell: candidate practices per integrated practice
    spell_window: int = 6  # selection after a bad spell: last pre-period months the selection looks at
    stagger_months: int = 12  # staggered scenario: integrations spread over the first months after the start
    spill_share: float = 0.3  # spill-over scenario: share of the effect that reaches every donor practice


#: the selection scenario's name (practices taken over after a bad spell of high admissions)
SELECTION = "selection after a bad spell (pre-period peak)"

SCENARIOS = {
    "as designed": "every practice integrated at the start; practices and donors alike drawn at random",
    SELECTION: "integrated practices are those of the candidates whose admissions ran furthest above their own "
               "usual level in the last months before integration (a bad spell: a pre-period peak, not a dip)",
    "staggered starts": "practices integrated at different months after the programme start; "
                        "the analysis uses the programme start for all",
    "spill-over to donors": "the donor practices receive part of the effect (shared hospital, shared services)",
}


@dataclass
class _Study:
    """S simulated studies: P integrated practices (units 0..P-1) then J donors."""

    sizes: np.ndarray  # (S, N) registered patients
    lam: np.ndarray  # (S, N, T) expected monthly admissions without any effect
    rates_pre: np.ndarray  # (S, N, T0) observed rates per 100 patients per month
    P: int
    T0: int


@dataclass
class _Fits:
    W_d: np.ndarray  # (S, P or N, J) Yu's design: integrated practices (and donors) from the donors
    W_a: np.ndarray  # (S, N, N) permutation design: every practice fitted from all the others
    pre_gap_d: np.ndarray  # (S, N)
    pre_gap_a: np.ndarray  # (S, N)
    c_obs: np.ndarray  # (S, N) how each unit statistic moves per unit of effect removed from the treated


@dataclass
class SimResult:
    power: pd.DataFrame  # effect, power, mean_estimate, estimand, sd_estimate, coverage
    scenarios: pd.DataFrame  # scenario, effect, estimand, mean_estimate, bias, rejection, coverage, mc_se
    permutation: pd.DataFrame  # the permutation distribution of the first simulated study (column "statistic")
    illustrative_statistic: float  # the first study's tested statistic: ranked against ``permutation``
    illustrative_estimate: float  # the first study's Yu-design estimate (integrated practices from the donors only)
    illustrative_p: float  # permutation p of ``illustrative_statistic`` (:func:`permutation_p`)
    illustrative_ci: tuple[float, float]
    null_sd: float  # sd of the pooled estimate across no-effect studies
    noise_sd: float  # calibrated sd of a practice's own log-rate deviations
    target_se: float | None  # the published standard error the noise was calibrated to
    size: float  # rejection rate of the permutation test with no effect
    n_sims: int
    params: dict = field(default_factory=dict)


def _list_sizes(rng, n: int, mean: float, sigma: float) -> np.ndarray:
    return mean * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)


def _ar1(rng, shape: tuple, sd: float, rho: float) -> np.ndarray:
    """Stationary AR(1) paths along the last axis, marginal sd ``sd``."""
    e = rng.standard_normal(shape)
    u = np.empty(shape)
    u[..., 0] = sd * e[..., 0]
    k = sd * np.sqrt(1 - rho**2)
    for t in range(1, shape[-1]):
        u[..., t] = rho * u[..., t - 1] + k * e[..., t]
    return u


def _draw(rng, cal: Calibration, S: int, P: int, J: int, T0: int, T1: int, noise_sd: float,
          assume: Assumptions, select: bool = False) -> _Study:
    """Draw S studies. Every practice (integrated or donor) has a list size, a rate level, the common
    season and its own AR(1) deviations, all from the same distributions, so that with no effect the
    labels are exchangeable. With ``select``, the integrated practices are the P of P×spell_candidates
    candidates whose rate over the last spell_window pre-period months ran furthest above their own
    usual rate (a bad spell; the exchangeability that the permutation test needs is then broken)."""
    T = T0 + T1
    C = P * assume.spell_candidates if select else P
    N0 = C + J
    mean_list = cal.patients / P
    sizes = np.maximum(300.0, np.round(_list_sizes(rng, S * N0, mean_list, assume.list_size_sigma).reshape(S, N0)))
    level = np.exp(assume.rate_sigma * rng.standard_normal((S, N0)) - assume.rate_sigma**2 / 2)
    season = 1.0 + assume.seasonal_amplitude * np.cos(2 * np.pi * np.arange(T) / 12)
    dev = np.exp(_ar1(rng, (S, N0, T), noise_sd, assume.noise_rho) - noise_sd**2 / 2) if noise_sd > 0 else 1.0
    usual = cal.baseline_per_100 * level[:, :, None] * season  # a practice's usual rate, per 100 per month
    lam = sizes[:, :, None] / 100.0 * usual * dev
    counts_pre = rng.poisson(lam[:, :, :T0])
    rates_pre = 100.0 * counts_pre / sizes[:, :, None]
    if select:  # a bad spell: admissions furthest above the practice's own usual rate, lately
        w = assume.spell_window
        score = rates_pre[:, :C, T0 - w:].mean(-1) / usual[:, :C, T0 - w:T0].mean(-1)
        chosen = np.argsort(-score, axis=1)[:, :P]  # (S, P)
        keep = np.concatenate([chosen, np.broadcast_to(np.arange(C, N0), (S, J))], axis=1)
        sizes = np.take_along_axis(sizes, keep, 1)
        lam = np.take_along_axis(lam, keep[:, :, None], 1)
        rates_pre = np.take_along_axis(rates_pre, keep[:, :, None], 1)
    return _Study(sizes=sizes, lam=lam, rates_pre=rates_pre, P=P, T0=T0)


def _fit(st: _Study, assume: Assumptions, all_units: bool = True, placebo_donors: bool = False) -> _Fits:
    """Synthetic-control weights on the pre-period only, so they serve every effect and scenario.

    Always: the integrated practices from the donors (Yu's design). With ``all_units``: every
    practice from all the others (the permutation test). With ``placebo_donors``: each donor from
    the other donors too (the earlier placebo test, kept to show its size)."""
    S, N, T0 = st.rates_pre.shape
    P, J = st.P, N - st.P
    rows = N if placebo_donors else P
    donors = np.swapaxes(st.rates_pre[:, P:, :], 1, 2)  # (S, T0, J)
    G, B = sc_problem(donors, st.rates_pre[:, :rows, :])
    mask = np.ones((rows, J), dtype=bool)
    if placebo_donors:
        mask[P + np.arange(J), np.arange(J)] = False  # a donor cannot be its own control
    W_d = sc_weights_batch(G, B, mask, iters=assume.solver_iters, dtype=np.float32)
    pre_gap_d = (st.rates_pre[:, :rows, :] - W_d @ st.rates_pre[:, P:, :]).mean(-1)
    if not all_units:
        return _Fits(W_d, np.empty(0), pre_gap_d, np.empty(0), np.empty(0))
    allx = np.swapaxes(st.rates_pre, 1, 2)  # (S, T0, N)
    Ga, Ba = sc_problem(allx, st.rates_pre)
    W_a = sc_weights_batch(Ga, Ba, ~np.eye(N, dtype=bool), iters=assume.solver_iters, dtype=np.float32)
    pre_gap_a = (st.rates_pre - W_a @ st.rates_pre).mean(-1)
    # removing an effect d from the integrated practices' post-period lowers unit i's statistic by
    # d·c_i, c_i = [i integrated] - Σ_{j integrated} w_ij (the statistic is linear in d)
    c_obs = (np.arange(N) < P).astype(float)[None, :] - W_a[:, :, :P].sum(-1)
    return _Fits(W_d, W_a, pre_gap_d, pre_gap_a, c_obs)


def _post_rates(rng, st: _Study, T1: int, effect: float, scenario: str, assume: Assumptions) -> tuple[np.ndarray, np.ndarray]:
    """Post-period rates (S, N, T1) under a scenario, and the estimand: the list-weighted effect on
    the integrated practices' rate had each been integrated for the whole post-period (per 100/month)."""
    S, N, _ = st.lam.shape
    P, T0 = st.P, st.T0
    lam_post = st.lam[:, :, T0:].copy()
    mult = np.ones((S, N, T1))
    if scenario == "staggered starts":
        start = rng.integers(0, min(assume.stagger_months, T1), size=(S, P))
        active = np.arange(T1)[None, None, :] >= start[:, :, None]
        mult[:, :P, :] = 1.0 - effect * active
    else:
        mult[:, :P, :] = 1.0 - effect
    if scenario == "spill-over to donors":
        mult[:, P:, :] = 1.0 - assume.spill_share * effect
    rates = 100.0 * rng.poisson(lam_post * mult) / st.sizes[:, :, None]
    n = st.sizes[:, :P]
    full = 100.0 * (lam_post[:, :P, :] * effect).mean(-1) / n  # per-practice effect, per 100 per month
    estimand = -(n * full).sum(-1) / n.sum(-1)
    return rates, estimand


def _perm_sets(rng, S: int, K: int, N: int, P: int) -> np.ndarray:
    """K random sets of P of the N practices for each study (uniform, drawn independently)."""
    return np.argsort(rng.random((S, K, N)), axis=-1)[:, :, :P]


def _evaluate(st: _Study, fits: _Fits, post: np.ndarray, estimand: np.ndarray, sets: np.ndarray,
              assume: Assumptions, placebo_sets: np.ndarray | None = None) -> dict:
    """Estimates, permutation p-values (at no effect and at the estimand) and the donors-only placebo p."""
    S, N, _ = st.rates_pre.shape
    P = st.P
    n = st.sizes
    # Yu's design: each integrated practice against its synthetic control from the donors
    rows = fits.W_d.shape[1]  # the integrated practices, then (for the placebo test) the donors
    synth_post_d = (fits.W_d @ post[:, P:, :]).mean(-1)  # (S, rows)
    each_d = (post[:, :rows, :].mean(-1) - synth_post_d) - fits.pre_gap_d
    est = (n[:, :P] * each_d[:, :P]).sum(-1) / n[:, :P].sum(-1)
    out = {"estimate": est}
    if placebo_sets is not None:  # the earlier test: random sets of donors, each fitted from the other donors
        shape = (S, placebo_sets.shape[1], N - P)
        pw = np.take_along_axis(np.broadcast_to(n[:, None, P:], shape), placebo_sets, -1)
        pe = np.take_along_axis(np.broadcast_to(each_d[:, None, P:], shape), placebo_sets, -1)
        plc = (pw * pe).sum(-1) / pw.sum(-1)
        out["p_placebo_donors"] = (1.0 + (np.abs(plc) >= np.abs(est)[:, None]).sum(-1)) / (plc.shape[1] + 1.0)
    if fits.W_a.size:
        each_a = (post.mean(-1) - (fits.W_a @ post).mean(-1)) - fits.pre_gap_a  # (S, N) unit statistics
        a_obs = (n[:, :P] * each_a[:, :P]).sum(-1) / n[:, :P].sum(-1)
        b_obs = (n[:, :P] * fits.c_obs[:, :P]).sum(-1) / n[:, :P].sum(-1)
        K = sets.shape[1]
        shape = (S, K, N)
        ws = np.take_along_axis(np.broadcast_to(n[:, None, :], shape), sets, -1)
        a_k = (ws * np.take_along_axis(np.broadcast_to(each_a[:, None, :], shape), sets, -1)).sum(-1) / ws.sum(-1)
        b_k = (ws * np.take_along_axis(np.broadcast_to(fits.c_obs[:, None, :], shape), sets, -1)).sum(-1) / ws.sum(-1)

        def p_at(d):  # the test of "the effect is d": d removed from the integrated practices' post-period
            d = np.asarray(d, float)[:, None]
            obs = np.abs(a_obs[:, None] - d * b_obs[:, None])
            return (1.0 + (np.abs(a_k - d * b_k) >= obs).sum(-1)) / (K + 1.0)

        out["p_perm"] = p_at(np.zeros(S))
        out["p_at_estimand"] = p_at(estimand)
        out["perm_null"] = a_k
        out["perm_obs"] = a_obs
        out["_linear"] = (a_obs, b_obs, a_k, b_k)
    return out


def _ci_by_inversion(linear: tuple, alpha: float, center: float, scale: float, i: int = 0) -> tuple[float, float]:
    """The 95% interval of study ``i``: the effects d not rejected by the permutation test (grid)."""
    a_obs, b_obs, a_k, b_k = (x[i] for x in linear)
    grid = center + scale * np.linspace(-8, 8, 1601)
    obs = np.abs(a_obs - grid * b_obs)
    p = (1.0 + (np.abs(a_k[None, :] - grid[:, None] * b_k[None, :]) >= obs[:, None]).sum(-1)) / (a_k.size + 1.0)
    keep = grid[p > alpha]
    return (float(keep.min()), float(keep.max())) if keep.size else (float("nan"), float("nan"))


def null_sd(cal: Calibration, noise_sd: float, n_practices: int = 10, n_donors: int = 40, pre_months: int = 24,
            post_months: int = 24, n_sims: int = 400, seed: int = 1, assume: Assumptions | None = None) -> float:
    """Standard deviation of Yu's pooled estimate across simulated studies with no effect.

    Cached per process on everything it reads (the calibrations of the sensitivity table share
    their no-noise spread, and the larger standard error its first trial, with the default's)."""
    assume = assume or Assumptions()
    # what the draw does not read: the target standard error, and the persistence without noise
    cal = replace(cal, se_per_100=None)
    if noise_sd == 0:
        assume = replace(assume, noise_rho=Assumptions.noise_rho)
    return _null_sd(cal, float(noise_sd), n_practices, n_donors, pre_months, post_months, n_sims, seed, assume)


@lru_cache(maxsize=64)
def _null_sd(cal: Calibration, noise_sd: float, n_practices: int, n_donors: int, pre_months: int,
             post_months: int, n_sims: int, seed: int, assume: Assumptions) -> float:
    rng = np.random.default_rng(seed)
    st = _draw(rng, cal, n_sims, n_practices, n_donors, pre_months, post_months, noise_sd, assume)
    fits = _fit(st, assume, all_units=False)
    post, est_and = _post_rates(rng, st, post_months, 0.0, "as designed", assume)
    return float(_evaluate(st, fits, post, est_and, np.empty((n_sims, 0, n_practices), int), assume)["estimate"].std(ddof=1))


def calibrate_noise(cal: Calibration, n_practices: int = 10, n_donors: int = 40, pre_months: int = 24,
                    post_months: int = 24, assume: Assumptions | None = None, steps: int = 5, tol: float = 0.01,
                    start: float = 0.01) -> dict:
    """The sd of practices' own log-rate deviations that makes the simulated no-effect spread of the
    pooled estimate equal the standard error implied by the published interval.

    The same simulated studies (common random numbers, ``assume.calibration_seed``) are used at every
    trial noise level, so the spread changes smoothly with it; its square is close to linear in the
    noise variance, and each step is a secant step on that line, until within ``tol`` (relative).
    ``start`` is the first trial noise variance (a good guess saves steps).
    """
    assume = assume or Assumptions()
    if cal.se_per_100 is None:
        raise ValueError("calibration needs the published standard error (Calibration.se_per_100)")
    kw = dict(n_practices=n_practices, n_donors=n_donors, pre_months=pre_months, post_months=post_months,
              n_sims=assume.calibration_sims, seed=assume.calibration_seed, assume=assume)
    target = cal.se_per_100
    base = null_sd(cal, 0.0, **kw)
    if base >= target:
        return {"noise_sd": 0.0, "null_sd": base, "poisson_sd": base, "target": target, "steps": 0}
    pts = [(0.0, base**2)]  # (noise variance, spread²)
    v = float(start)
    for i in range(1, steps + 1):
        got = null_sd(cal, float(np.sqrt(v)), **kw)
        pts.append((v, got**2))
        if abs(got / target - 1) < tol:
            break
        (v0, y0), (v1, y1) = pts[-2], pts[-1]
        slope = (y1 - y0) / (v1 - v0)
        v = max(1e-6, v1 + (target**2 - y1) / slope) if slope > 0 else 2 * v1
    return {"noise_sd": float(np.sqrt(pts[-1][0])), "null_sd": float(np.sqrt(pts[-1][1])), "poisson_sd": base,
            "target": target, "steps": i}


def simulate(cal: Calibration, n_practices: int = 10, n_donors: int = 40, pre_months: int = 24,
             post_months: int = 24, n_sims: int = 200, effects=None, true_effect: float = 0.0,
             seed: int = 2020, assume: Assumptions | None = None, noise_sd: float | None = None,
             scenario_effects=None, scenarios: bool = True, selection_test: bool = True) -> SimResult:
    """Power, size, bias and coverage of a study like Yu et al.'s, with noise calibrated to it.

    Per simulated study: practices' monthly counts are Poisson with mean
    ``list/100 × baseline × level × season × exp(AR(1) deviation) × (1 − effect if integrated and post)``;
    the deviation's sd is calibrated (:func:`calibrate_noise`) so that, with no effect, the pooled
    estimate varies as much as the published interval says it does. The estimate is Yu et al.'s:
    each integrated practice against a synthetic control from the donors, post-period minus
    pre-period gap, pooled by list size.

    Inference is a permutation test over all practices: every practice, integrated or not, gets a
    synthetic control from all the others (pre-period only), and the statistic of any set of
    ``n_practices`` is their list-weighted mean gap change. With no effect, and practices drawn alike
    (the "as designed" scenario), the practices are exchangeable, so the rank of the observed set
    among random relabellings gives an exact p-value; selection after a bad spell breaks this.
    Inverting the test (an effect d removed from the integrated practices moves every statistic
    linearly) gives the interval whose coverage the scenarios report.
    """
    assume = assume or Assumptions()
    if n_donors <= n_practices:
        raise ValueError(f"n_donors ({n_donors}) must exceed n_practices ({n_practices}): relabelled sets of "
                         f"{n_practices} practices are drawn from all practices and placebo sets from the donors")
    if pre_months <= assume.spell_window or post_months < 1 or n_sims < 2:
        raise ValueError(f"need pre_months > {assume.spell_window}, post_months >= 1 and n_sims >= 2")
    kw = dict(n_practices=n_practices, n_donors=n_donors, pre_months=pre_months, post_months=post_months, assume=assume)
    calib = None
    if noise_sd is None:
        if cal.se_per_100 is not None:
            calib = calibrate_noise(cal, **kw)
            noise_sd = calib["noise_sd"]
        else:
            noise_sd = 0.0
    effects = np.round(np.linspace(0.0, 0.20, 9), 4) if effects is None else np.asarray(effects, float)
    for extra in (0.0, true_effect):
        if not np.isclose(effects, extra).any():
            effects = np.sort(np.append(effects, extra))
    rng = np.random.default_rng(seed)
    S, P, J, T0, T1 = n_sims, n_practices, n_donors, pre_months, post_months
    N = P + J
    st = _draw(rng, cal, S, P, J, T0, T1, noise_sd, assume)
    fits = _fit(st, assume)
    sets = _perm_sets(rng, S, assume.n_perm, N, P)
    rows, by_effect = [], {}
    for e in effects:
        post, estimand = _post_rates(rng, st, T1, float(e), "as designed", assume)
        r = _evaluate(st, fits, post, estimand, sets, assume)
        by_effect[float(e)] = (r, estimand)
        rows.append({"effect": float(e), "power": float((r["p_perm"] <= assume.alpha).mean()),
                     "mean_estimate": float(r["estimate"].mean()), "estimand": float(estimand.mean()),
                     "sd_estimate": float(r["estimate"].std(ddof=1)),
                     "coverage": float((r["p_at_estimand"] > assume.alpha).mean())})
    power = pd.DataFrame(rows)
    null, _ = by_effect[0.0]
    key = min(by_effect, key=lambda k: abs(k - true_effect))
    ill, _ = by_effect[key]
    sd0 = float(null["estimate"].std(ddof=1))
    ci = _ci_by_inversion(ill["_linear"], assume.alpha, float(ill["estimate"][0]), max(sd0, 1e-6))
    scen = scenario_table(cal, st, fits, sets, rng, T1, scenario_effects if scenario_effects is not None else (0.0, true_effect),
                          assume, noise_sd, kw, selection_test) if scenarios else pd.DataFrame()
    return SimResult(
        power=power,
        scenarios=scen,
        permutation=pd.DataFrame({"statistic": ill["perm_null"][0]}),
        illustrative_statistic=float(ill["perm_obs"][0]),
        illustrative_estimate=float(ill["estimate"][0]),
        illustrative_p=float(ill["p_perm"][0]),
        illustrative_ci=ci,
        null_sd=sd0,
        noise_sd=float(noise_sd),
        target_se=cal.se_per_100,
        size=float((null["p_perm"] <= assume.alpha).mean()),
        n_sims=S,
        params={"n_practices": P, "n_donors": J, "pre_months": T0, "post_months": T1, "n_sims": S,
                "true_effect": true_effect, "seed": seed, "calibration": calib},
    )


def scenario_table(cal: Calibration, st: _Study, fits: _Fits, sets: np.ndarray, rng, T1: int, effects,
                   assume: Assumptions, noise_sd: float, kw: dict, selection_test: bool = True) -> pd.DataFrame:
    """Bias of the estimate and coverage of the permutation interval, per scenario and true effect.

    Staggered starts and spill-over change only the post-period, so they reuse the studies and the
    fits; selection after a bad spell changes which practices are integrated and is drawn anew.
    Without ``selection_test`` that scenario gets its estimate's bias only (no all-practice fits, a
    sixth of the cost; rejection and coverage NaN), with the same random draws."""
    S = st.sizes.shape[0]
    sel = _draw(rng, cal, S, st.P, st.sizes.shape[1] - st.P, st.T0, T1, noise_sd, assume, select=True)
    sel_fits = _fit(sel, assume, all_units=selection_test)
    rows = []
    for name in SCENARIOS:
        study, f = (sel, sel_fits) if name == SELECTION else (st, fits)
        for e in sorted({float(x) for x in effects}):
            post, estimand = _post_rates(rng, study, T1, e, name, assume)
            r = _evaluate(study, f, post, estimand, sets, assume)
            bias = r["estimate"] - estimand
            row = {"scenario": name, "effect": e, "estimand": float(estimand.mean()),
                   "mean_estimate": float(r["estimate"].mean()), "bias": float(bias.mean()),
                   "bias_mc_se": float(bias.std(ddof=1) / np.sqrt(S)),
                   "rejection": np.nan, "coverage": np.nan, "coverage_mc_se": np.nan}
            if "p_perm" in r:
                cover = (r["p_at_estimand"] > assume.alpha)
                row.update(rejection=float((r["p_perm"] <= assume.alpha).mean()), coverage=float(cover.mean()),
                           coverage_mc_se=float(np.sqrt(cover.mean() * (1 - cover.mean()) / S)))
            rows.append(row)
    return pd.DataFrame(rows)


def _size_chunk(cal: Calibration, S: int, seed, P: int, J: int, T0: int, T1: int, noise_sd: float,
                assume: Assumptions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One chunk of the size check: rejections of both tests and the estimates, with no effect."""
    rng = np.random.default_rng(seed)
    st = _draw(rng, cal, S, P, J, T0, T1, noise_sd, assume)
    fits = _fit(st, assume, placebo_donors=True)
    post, estimand = _post_rates(rng, st, T1, 0.0, "as designed", assume)
    r = _evaluate(st, fits, post, estimand, _perm_sets(rng, S, assume.n_perm, P + J, P), assume,
                  _perm_sets(rng, S, assume.n_perm, J, P))
    return r["p_perm"] <= assume.alpha, r["p_placebo_donors"] <= assume.alpha, r["estimate"]


def size_check(cal: Calibration, n_sims: int = 2000, seed: int = 7, n_practices: int = 10, n_donors: int = 40,
               pre_months: int = 24, post_months: int = 24, noise_sd: float | None = None,
               assume: Assumptions | None = None, chunk: int = 250, workers: int = 2) -> dict:
    """Rejection rates, with no effect, of the permutation test and of the earlier donors-only placebo
    test over ``n_sims`` simulated studies, with Monte Carlo standard errors sqrt(p(1-p)/n).

    The studies run in chunks of ``chunk`` (bounded memory), each with its own stream spawned from
    one ``SeedSequence(seed)``, so the result does not depend on ``workers`` (processes)."""
    assume = assume or Assumptions()
    kw = dict(n_practices=n_practices, n_donors=n_donors, pre_months=pre_months, post_months=post_months, assume=assume)
    if noise_sd is None:
        noise_sd = calibrate_noise(cal, **kw)["noise_sd"] if cal.se_per_100 is not None else 0.0
    jobs = _size_jobs(cal, n_sims, seed, n_practices, n_donors, pre_months, post_months, noise_sd, assume, chunk)
    return _size_result(cal, _map(jobs, workers), noise_sd, assume)


def _size_jobs(cal, n_sims, seed, n_practices, n_donors, pre_months, post_months, noise_sd, assume, chunk) -> list:
    sizes = [chunk] * (n_sims // chunk) + ([n_sims % chunk] if n_sims % chunk else [])
    return [(_size_chunk, (cal, S, child, n_practices, n_donors, pre_months, post_months, noise_sd, assume))
            for child, S in zip(np.random.SeedSequence(seed).spawn(len(sizes)), sizes)]


def _size_result(cal: Calibration, parts: list, noise_sd: float, assume: Assumptions) -> dict:
    rej, rej_old, ests = (np.concatenate(x) for x in zip(*parts))
    mc = lambda x: float(np.sqrt(x.mean() * (1 - x.mean()) / x.size))
    tail = int((ests <= cal.effect_per_100).sum())
    return {"n_sims": int(rej.size), "alpha": assume.alpha, "size": float(rej.mean()), "size_mc_se": mc(rej),
            "size_placebo_donors": float(rej_old.mean()), "size_placebo_donors_mc_se": mc(rej_old),
            "null_sd": float(ests.std(ddof=1)), "noise_sd": float(noise_sd), "target_se": cal.se_per_100,
            # no-effect studies whose Yu-design estimate is at least as negative as the published one
            "null_tail": tail, "null_tail_share": tail / ests.size,
            "null_tail_upper": upper_bound(tail, int(ests.size), 1 - assume.alpha)}


def upper_bound(k: int, n: int, level: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound for a proportion, ``k`` of ``n``."""
    from scipy.stats import beta

    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    return 1.0 if k == n else float(beta.ppf(level, k + 1, n - k))


def size_phrase(size: dict) -> str:
    """How far the observed size is from the nominal level, in Monte Carlo standard errors (words for the page)."""
    z = (size["size"] - size["alpha"]) / size["size_mc_se"] if size["size_mc_se"] > 0 else 0.0
    side = "above" if z > 0 else "below"
    verdict = ("within what simulation noise explains" if abs(z) <= 2
               else "more than simulation noise explains")
    return f"{abs(z):.1f} Monte Carlo standard errors {side} the nominal {100 * size['alpha']:g}%, {verdict}"


# --------------------------------------------------------------------------- sensitivity


def _sensitivity_run(cal: Calibration, rho: float, se_factor: float, start: float, kw: dict, sim_kw: dict,
                     assume: Assumptions) -> tuple[SimResult, dict]:
    """One row of the sensitivity table: the noise re-calibrated at persistence ``rho`` to ``se_factor``
    times the published standard error, then the power curve and the scenarios on the same seed."""
    a = replace(assume, noise_rho=float(rho))
    c = replace(cal, se_per_100=cal.se_per_100 * float(se_factor))
    calib = calibrate_noise(c, **kw, assume=a, start=start)
    return simulate(c, **kw, **sim_kw, assume=a, noise_sd=calib["noise_sd"]), calib


def sensitivity_row(sim: SimResult, calib: dict, rho: float, se_factor: float, national: float, press: float,
                    assume: Assumptions | None = None) -> dict:
    """What the sensitivity table shows of one run: power at the national and the press-release
    reductions (the "as designed" scenario rows), the smallest reduction detected with 80% power, and
    the scenarios' bias and coverage where the assumption matters."""
    assume = assume or Assumptions()
    sc = sim.scenarios.set_index(["scenario", "effect"])

    def at(name, e, col):
        rows = sc.loc[name]
        return float(rows.iloc[int(np.argmin(np.abs(rows.index.to_numpy() - e)))][col])

    return {"rho": float(rho), "se_factor": float(se_factor), "target_se": float(calib["target"]),
            "noise_sd": float(calib["noise_sd"]), "null_sd": float(sim.null_sd),
            "power_national": at("as designed", national, "rejection"), "power_press": at("as designed", press, "rejection"),
            "mde": power_summary(sim.power)["mde_perm"],
            "selection_bias": at(SELECTION, 0.0, "bias"),
            "staggered_bias": at("staggered starts", press, "bias"),
            "spill_bias": at("spill-over to donors", press, "bias"), "spill_coverage": at("spill-over to donors", press, "coverage"),
            "n_sims": sim.n_sims}


def sensitivity(cal: Calibration, base: tuple[SimResult, dict], rhos=(0.5, 0.95), se_factor: float = 1.5,
                national: float = 0.03, press: float = 0.13, n_practices: int = 10, n_donors: int = 40,
                pre_months: int = 24, post_months: int = 24, n_sims: int = 200, seed: int = 2020,
                assume: Assumptions | None = None, workers: int = 2) -> pd.DataFrame:
    """Power and scenarios re-run at other persistences ``rhos`` of practices' deviations and at
    ``se_factor`` times the published standard error (at the default persistence), each with the
    noise re-calibrated, ``n_sims`` studies and the same seed as the default run ``base`` (a
    :class:`SimResult` and its calibration), which is the table's first row and is not re-run.

    The runs are independent, each seeded, so the table does not depend on ``workers`` (processes)."""
    assume = assume or Assumptions()
    if cal.se_per_100 is None:
        raise ValueError("the sensitivity table needs the published standard error (Calibration.se_per_100)")
    rhos = [float(r) for r in rhos]
    if any(not 0 <= r < 1 for r in rhos):
        raise ValueError(f"sensitivity persistences must lie in [0, 1), got {rhos}")
    if not se_factor > 0:
        raise ValueError(f"sensitivity standard-error factor must be positive, got {se_factor}")
    settings, jobs = _sensitivity_jobs(cal, base, rhos, se_factor, national, press, n_practices, n_donors,
                                       pre_months, post_months, n_sims, seed, assume)
    return _sensitivity_result(base, settings, _map(jobs, workers), national, press, assume)


def _sensitivity_jobs(cal, base, rhos, se_factor, national, press, n_practices, n_donors, pre_months, post_months,
                      n_sims, seed, assume) -> tuple[list, list]:
    kw = dict(n_practices=n_practices, n_donors=n_donors, pre_months=pre_months, post_months=post_months)
    # the selection scenario's bias needs no permutation test: its all-practice fits are skipped
    sim_kw = dict(n_sims=n_sims, seed=seed, scenario_effects=(0.0, national, press), selection_test=False)
    settings = [(r, 1.0) for r in rhos if not np.isclose(r, assume.noise_rho)]
    if not np.isclose(se_factor, 1.0):
        settings.append((assume.noise_rho, float(se_factor)))
    # a first guess for each calibration, from the default's: the no-effect spread squared is nearly
    # linear in the noise variance, so the variance for a target spread t is v0 (t² - b²) / (t0² - b²)
    v0, t0, b = base[1]["noise_sd"] ** 2, base[1]["target"], base[1]["poisson_sd"]
    start = lambda f: v0 * ((f * t0) ** 2 - b**2) / (t0**2 - b**2) if t0 > b and v0 > 0 else 0.01
    return settings, [(_sensitivity_run, (cal, r, f, start(f), kw, sim_kw, assume)) for r, f in settings]


def _sensitivity_result(base, settings, runs, national, press, assume) -> pd.DataFrame:
    rows = [sensitivity_row(*base, assume.noise_rho, 1.0, national, press, assume)]
    rows += [sensitivity_row(sim, calib, r, f, national, press, assume) for (sim, calib), (r, f) in zip(runs, settings)]
    return pd.DataFrame(rows)


def sensitivity_display(sens: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table as the page shows it: one column per setting (narrow enough for a phone),
    one row per result (per 100 patients per month; power in %, with its Monte Carlo standard error
    in points, so that differences smaller than about two of them read as noise)."""
    def power(p: float, n: int) -> str:
        return f"{100 * p:.0f}% (± {100 * np.sqrt(p * (1 - p) / n):.1f})"

    cols = {}
    for i, (r, f) in enumerate(zip(sens["rho"], sens["se_factor"])):
        x = sens.iloc[i]
        first = " (assumed)" if i == 0 else ""  # the first row is the default run
        label = f"persistence {r:g}{first}" if np.isclose(f, 1.0) else f"{f:g}× the standard error"
        n = int(x["n_sims"])
        cols[label] = [f"{x['noise_sd']:.3f}", power(x["power_national"], n), power(x["power_press"], n),
                               x["mde"], f"{x['selection_bias']:+.3f}", f"{x['staggered_bias']:+.3f}",
                               f"{x['spill_bias']:+.3f}", f"{100 * x['spill_coverage']:.0f}%"]
    rows = ["noise sd (log scale)", "power, national reduction (± MC SE)", "power, press release's reduction (± MC SE)",
            "80% power from", "bias, bad spell, no effect", "bias, staggered starts", "bias, spill-over",
            "coverage, spill-over"]
    return pd.DataFrame({"result": rows, **cols})


def sensitivity_summary(sens: pd.DataFrame) -> dict[str, str]:
    """The sensitivity table in words: ranges across its rows ("between a and b", or one value)."""
    def span(values, fmt):
        lo, hi = fmt(min(values)), fmt(max(values))
        return lo if lo == hi else f"between {lo} and {hi}"

    pct = lambda v: f"{100 * v:.0f}%"
    same_se = sens[np.isclose(sens["se_factor"], 1.0)]
    other_se = sens[~np.isclose(sens["se_factor"], 1.0)]
    return {"power_press": span(same_se["power_press"], pct),
            "power_press_se": span(other_se["power_press"], pct) if len(other_se) else "not run",
            "selection_bias": span(sens["selection_bias"], lambda v: f"{v:+.3f}")}


def _call(fn, args):
    return fn(*args)


def _map(jobs: list[tuple], workers: int) -> list:
    """``fn(*args)`` for every job ``(fn, args)``, in order; in ``workers`` forked processes when more
    than one (every job carries its own seed, so results do not depend on ``workers``)."""
    if workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("fork")) as ex:
            return list(ex.map(_call, *zip(*jobs)))
    return [_call(*j) for j in jobs]


def chapter_simulation(cal: Calibration, national: float, press: float, n_practices: int = 10, n_donors: int = 40,
                       pre_months: int = 24, post_months: int = 24, n_sims: int = 200, n_size_sims: int = 2000,
                       true_effect: float = 0.0, seed: int = 2020, sensitivity_rho=(0.5, 0.95),
                       sensitivity_se_factor: float = 1.5, assume: Assumptions | None = None, workers: int = 2) -> dict:
    """Everything the admissions chapter simulates, in one pool of ``workers`` processes: the noise
    calibration (first, in this process, so that forked workers share its cache), then the power
    curve and scenarios (:func:`simulate`), the sensitivity runs (:func:`sensitivity`) and the chunks
    of the size check (:func:`size_check`), longest first. Each piece is seeded as when run alone,
    so the results equal those of the separate functions and do not depend on ``workers``.

    Returns ``calib``, ``sim`` (:class:`SimResult`), ``size`` (dict) and ``sensitivity`` (DataFrame)."""
    assume = assume or Assumptions()
    kw = dict(n_practices=n_practices, n_donors=n_donors, pre_months=pre_months, post_months=post_months)
    calib = calibrate_noise(cal, **kw, assume=assume)
    noise = calib["noise_sd"]
    main = (simulate, (cal, n_practices, n_donors, pre_months, post_months, n_sims, None, true_effect, seed, assume,
                       noise, (0.0, national, press)))
    # the sensitivity jobs need the default's calibration only (for their first guess), not its simulation
    settings, sens = _sensitivity_jobs(cal, (None, calib), sensitivity_rho, sensitivity_se_factor, national, press,
                                       n_practices, n_donors, pre_months, post_months, n_sims, seed, assume)
    size = _size_jobs(cal, n_size_sims, seed, n_practices, n_donors, pre_months, post_months, noise, assume, 250)
    out = _map(sens + [main] + size, workers)
    runs, sim, parts = out[:len(sens)], out[len(sens)], out[len(sens) + 1:]
    return {"calib": calib, "sim": sim, "size": _size_result(cal, parts, noise, assume),
            "sensitivity": _sensitivity_result((sim, calib), settings, runs, national, press, assume)}


def power_summary(power: pd.DataFrame, target: float = 0.8) -> dict:
    """What the page says about a power curve: the smallest detectable reduction (as text) and the size."""
    def mde(col):
        hit = power.loc[power[col] >= target, "effect"]
        return f"no reduction up to {100 * float(power['effect'].max()):.0f}%" if hit.empty else f"{100 * float(hit.min()):.1f}%"

    size = float(power.loc[np.isclose(power["effect"], 0.0), "power"].iloc[0])
    return {"mde_perm": mde("power"), "size": size}


# --------------------------------------------------------------------------- charts


def power_chart(power: pd.DataFrame, published_relative: float | None = None, alpha: float | None = None):
    import altair as alt

    df = power.assign(effect_pct=100 * power["effect"], power_pct=100 * power["power"])
    line = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("effect_pct:Q", title="True reduction in admissions (%)"),
        y=alt.Y("power_pct:Q", title=f"Power (% of simulated studies with permutation p ≤ {Assumptions().alpha if alpha is None else alpha:g})",
                scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("effect_pct:Q", title="reduction (%)", format=".1f"),
                 alt.Tooltip("power_pct:Q", title="power (%)", format=".0f"),
                 alt.Tooltip("mean_estimate:Q", title="mean estimate (per 100/month)", format=".3f"),
                 alt.Tooltip("coverage:Q", title="interval coverage", format=".2f")],
    )
    rule = alt.Chart(pd.DataFrame({"y": [80]})).mark_rule(strokeDash=[4, 4], color=GREY).encode(y="y:Q")
    layers = [line, rule]
    if published_relative is not None:
        mark = pd.DataFrame({"x": [100 * published_relative], "label": ["implied published effect"]})
        layers.append(alt.Chart(mark).mark_rule(color=ORANGE).encode(x="x:Q", tooltip=["label:N", alt.Tooltip("x:Q", format=".1f")]))
    return alt.layer(*layers)


def permutation_p(null: np.ndarray, statistic: float) -> float:
    """Two-sided permutation p of ``statistic`` against the relabelled statistics ``null``:
    (1 + #{|null| >= |statistic|}) / (len(null) + 1), the rule :func:`simulate` uses."""
    null = np.asarray(null, dtype=float)
    return float((1.0 + (np.abs(null) >= abs(float(statistic))).sum()) / (null.size + 1.0))


#: the permutation chart's labels for its two marks
TESTED_LABEL = "tested statistic"
YU_LABEL = "Yu-design estimate, not the tested statistic"


def permutation_chart(sim: SimResult, show_estimate: bool = True):
    """The permutation distribution of one simulated study with its tested statistic marked (the p
    on the page is this statistic's rank in this histogram), and, dashed and labelled as such, the
    study's Yu-design estimate, which is not what the test ranks."""
    import altair as alt

    perm = sim.permutation
    hist = alt.Chart(perm).mark_bar(opacity=0.8, color=GREY).encode(
        x=alt.X("statistic:Q", bin=alt.Bin(maxbins=30), title="Pooled change in admissions per 100 patients per month, relabelled sets"),
        y=alt.Y("count():Q", title="Relabelled sets of practices (count)"),
        tooltip=[alt.Tooltip("count():Q", title="sets")],
    )
    what = [TESTED_LABEL] + ([YU_LABEL] if show_estimate else [])
    marks = pd.DataFrame({"x": [sim.illustrative_statistic, sim.illustrative_estimate][:len(what)], "what": what})
    legend = alt.Legend(title=None, orient="bottom", direction="vertical", labelLimit=0, symbolStrokeWidth=3)
    rules = alt.Chart(marks).mark_rule(strokeWidth=2.5).encode(
        x="x:Q",
        color=alt.Color("what:N", scale=alt.Scale(domain=what, range=[BLUE, ORANGE][:len(what)]), legend=legend),
        strokeDash=alt.StrokeDash("what:N", scale=alt.Scale(domain=what, range=[[1, 0], [6, 4]][:len(what)]), legend=legend),
        tooltip=[alt.Tooltip("what:N", title="mark"), alt.Tooltip("x:Q", title="per 100 patients per month", format="+.3f")])
    return alt.layer(hist, rules)


def scenario_display(scen: pd.DataFrame) -> pd.DataFrame:
    """The scenario table as the page shows it (per 100 patients per month; Monte Carlo SEs)."""
    return pd.DataFrame({
        "scenario": scen["scenario"],
        "true reduction": [f"{100 * e:g}%" for e in scen["effect"]],
        "true effect": [f"{v:+.3f}" for v in scen["estimand"]],
        "mean estimate": [f"{v:+.3f}" for v in scen["mean_estimate"]],
        "bias (MC SE)": [f"{b:+.3f} ({s:.3f})" for b, s in zip(scen["bias"], scen["bias_mc_se"])],
        "rejects no effect": [f"{100 * r:.0f}%" for r in scen["rejection"]],
        "95% interval covers the truth (MC SE)": [f"{100 * c:.1f}% ({100 * s:.1f})" for c, s in zip(scen["coverage"], scen["coverage_mc_se"])],
    })


def prop99_chart(result: dict):
    import altair as alt

    gap = result["gap"].rename("gap").reset_index().rename(columns={"index": "Year"})
    gap.columns = ["Year", "gap"]
    line = alt.Chart(gap).mark_line(point=True).encode(
        x=alt.X("Year:O", title="Year"), y=alt.Y("gap:Q", title="California minus synthetic California (packs per capita)"),
        tooltip=["Year:O", alt.Tooltip("gap:Q", format=".1f")])
    rule = alt.Chart(pd.DataFrame({"Year": [PROP99_FIRST_POST]})).mark_rule(strokeDash=[4, 4]).encode(x="Year:O")
    return alt.layer(line, rule), gap

"""Admission effects of vertical integration: re-derivations, a common scale, a meta-analysis.

Published estimates live in ``data/admissions_estimates.csv`` (effects with intervals) and
``data/admissions_reported.csv`` (scalar figures: patients, avoided admissions, savings). Every
function here takes those tables (or values from them) and returns numbers the chapter glues.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from . import data
from .charts import GREY
from .verdicts import Verdict, consistency

Z975 = stats.norm.ppf(0.975)  # 1.959964...
STUDIES = ("yu2020", "saunders2024", "lopes2017")
OUTCOMES = ("emergency_admissions", "readmissions")
OUTCOME_LABELS = {
    "emergency_admissions": "emergency (unplanned) admissions",
    "readmissions": "emergency (unplanned) readmissions",
    "ed_attendances": "A&E attendances",
    "outpatient_attendances": "outpatient attendances",
}


# --------------------------------------------------------------------------- loading


def estimates() -> pd.DataFrame:
    return data.load("admissions_estimates")


def reported() -> dict[str, float]:
    """Scalar figures by quantity name (``yu_patients`` → 67402, ...)."""
    df = data.load("admissions_reported")
    return {q: float(v) for q, v in zip(df["quantity"], df["value"])}


def row(est: pd.DataFrame, study: str, outcome: str, scope: str = "overall") -> pd.Series:
    hit = est[(est["study_id"] == study) & (est["outcome"] == outcome) & (est["scope"] == scope)]
    if len(hit) != 1:
        raise KeyError(f"expected one {study}/{outcome}/{scope} estimate, found {len(hit)}")
    return hit.iloc[0]


# --------------------------------------------------------------------------- arithmetic


def se_from_ci(low: float, high: float, log: bool = False) -> float:
    """Standard error implied by a 95% interval (on the log scale for ratios)."""
    if log:
        low, high = math.log(low), math.log(high)
    return (high - low) / (2 * Z975)


def p_from_estimate(estimate: float, se: float, log: bool = False) -> float:
    """Two-sided normal p-value for ``estimate`` / ``se`` (estimate on the log scale if ``log``)."""
    z = (math.log(estimate) if log else estimate) / se
    return float(2 * stats.norm.sf(abs(z)))


def z_from_p(p: float) -> float:
    return float(stats.norm.isf(p / 2))


def annualise(rate_per_100_month: float, patients: float) -> float:
    """Events per year for ``patients`` at a rate per 100 patients per month."""
    return rate_per_100_month * patients / 100 * 12


def yu_rederivation(est: pd.DataFrame, rep: dict) -> dict:
    """Everything in Yu et al. (2020) that can be recomputed from the published figures."""
    adm, rea = row(est, "yu2020", "emergency_admissions"), row(est, "yu2020", "readmissions")
    patients = rep["yu_patients"]
    out: dict = {"patients": patients}
    for key, r in (("admissions", adm), ("readmissions", rea)):
        se = se_from_ci(r["ci_low"], r["ci_high"])
        p_implied = p_from_estimate(r["estimate"], se)
        out[key] = {
            "estimate": float(r["estimate"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
            "per_year": -annualise(r["estimate"], patients),
            "per_month": -r["estimate"] * patients / 100,
            "se": se, "z_implied": float(r["estimate"] / se), "p_implied": p_implied,
            "p_reported": float(r["p_reported"]), "z_reported": z_from_p(float(r["p_reported"])),
            # asymmetry of the interval around the estimate (a symmetric normal interval has 0)
            "asymmetry": float((r["ci_high"] - r["estimate"]) - (r["estimate"] - r["ci_low"])),
        }
    out["admissions"]["per_year_reported"] = rep["yu_avoided_admissions_year"]
    out["readmissions"]["per_year_reported"] = rep["yu_avoided_readmissions_year"]
    out["admissions"]["per_month_reported"] = rep["yu_avoided_admissions_month"]
    out["readmissions"]["per_month_reported"] = rep["yu_avoided_readmissions_month"]
    rel = rep["yu_relative_reduction_admissions"] / 100
    out["relative_reduction_press"] = rel
    # implied, not reported: baseline = |effect| / relative reduction
    out["baseline_implied"] = abs(adm["estimate"]) / rel
    out["baseline_admissions_per_year_implied"] = annualise(out["baseline_implied"], patients)
    events = rep["yu_avoided_admissions_year"] + rep["yu_avoided_readmissions_year"]
    out["events_per_year_reported"] = events
    out["savings"] = {
        "abstract_m": rep["yu_savings_abstract"], "discussion_m": rep["yu_savings_discussion"],
        "press_m": rep["yu_savings_press"],
        "per_event_abstract": rep["yu_savings_abstract"] * 1e6 / events,
        "per_event_discussion": rep["yu_savings_discussion"] * 1e6 / events,
        "per_admission_abstract": rep["yu_savings_abstract"] * 1e6 / rep["yu_avoided_admissions_year"],
        "per_admission_discussion": rep["yu_savings_discussion"] * 1e6 / rep["yu_avoided_admissions_year"],
        "gap_pct": 100 * (rep["yu_savings_abstract"] - rep["yu_savings_discussion"]) / rep["yu_savings_discussion"],
    }
    return out


MEASURE_LABELS = {"rate_difference": "rate difference", "irr": "incidence rate ratio", "odds_ratio": "odds ratio"}


def all_estimates_table(est: pd.DataFrame) -> pd.DataFrame:
    """Every published estimate (overall, per hospital, per condition), as the page shows it."""
    return pd.DataFrame({
        "study": est["study"],
        "outcome": [OUTCOME_LABELS.get(o, o) for o in est["outcome"]],
        "scope": est["scope"],
        "estimate for": est["label"],
        "measure": [MEASURE_LABELS[m] for m in est["measure"]],
        "estimate (95% CI)": [f"{e:g} ({lo:g} to {hi:g})" for e, lo, hi in zip(est["estimate"], est["ci_low"], est["ci_high"])],
        "p reported": ["NOT FOUND" if pd.isna(p) else f"{p:g}" for p in est["p_reported"]],
        "where": est["source_location"],
    }).set_index("study")


def p_check_table(est: pd.DataFrame) -> pd.DataFrame:
    """Reported p-values against those implied by the reported intervals (normal approximation)."""
    rows = []
    for _, r in est[est["scope"] == "overall"].iterrows():
        log = r["measure"] != "rate_difference"
        se = se_from_ci(r["ci_low"], r["ci_high"], log=log)
        p_imp = p_from_estimate(r["estimate"], se, log=log)
        p_rep = r["p_reported"]
        rows.append({
            "study": r["study"], "outcome": OUTCOME_LABELS.get(r["outcome"], r["outcome"]),
            "estimate": r["estimate"], "interval": f"{r['ci_low']:g} to {r['ci_high']:g}",
            "p reported": "NOT FOUND" if pd.isna(p_rep) else f"{p_rep:g}",
            "p implied by interval": f"{p_imp:#.2g}",
            "|z| reported": "" if pd.isna(p_rep) else f"{z_from_p(float(p_rep)):.2f}",
            "|z| implied": round(abs(math.log(r["estimate"]) if log else r["estimate"]) / se, 2),
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- common scale


def common_scale(est: pd.DataFrame, baseline_per_100: float) -> pd.DataFrame:
    """Overall estimates on one relative scale (log ratio), with how each was converted.

    - incidence rate ratios: used as they are;
    - odds ratios (Lopes): treated as risk ratios; defensible only because a 30-day readmission is
      a rare-ish event (crude rates about 5%, press report) — the odds ratio then slightly
      overstates the risk ratio's distance from 1;
    - rate differences (Yu): divided by a baseline rate to give a ratio ``1 + d / baseline``. Only
      the admissions baseline can be *implied* (from the press release's 13%); the readmission
      baseline is NOT FOUND, so Yu's readmission estimate cannot be put on the common scale.
    """
    rows = []
    for _, r in est[est["scope"] == "overall"].iterrows():
        if r["outcome"] not in OUTCOMES:
            continue
        rec = {"study_id": r["study_id"], "study": r["study"], "setting": r["setting"], "design": r["design"],
               "outcome": r["outcome"], "measure": r["measure"], "published": f"{r['estimate']:g} ({r['ci_low']:g} to {r['ci_high']:g})"}
        if r["measure"] == "irr":
            ratio, lo, hi, how = r["estimate"], r["ci_low"], r["ci_high"], "incidence rate ratio, as published"
        elif r["measure"] == "odds_ratio":
            ratio, lo, hi, how = r["estimate"], r["ci_low"], r["ci_high"], "odds ratio taken as a rate ratio (rare outcome)"
        elif r["outcome"] == "emergency_admissions":
            b = baseline_per_100
            ratio, lo, hi = 1 + r["estimate"] / b, 1 + r["ci_low"] / b, 1 + r["ci_high"] / b
            how = "rate difference ÷ baseline implied by the press release's 13%"
        else:
            rec.update(ratio=np.nan, ci_low=np.nan, ci_high=np.nan, log_ratio=np.nan, se=np.nan,
                       conversion="not convertible: baseline readmission rate NOT FOUND")
            rows.append(rec)
            continue
        rec.update(ratio=float(ratio), ci_low=float(lo), ci_high=float(hi), log_ratio=math.log(ratio),
                   se=se_from_ci(lo, hi, log=True), conversion=how)
        rows.append(rec)
    return pd.DataFrame(rows)


def meta_analysis(table: pd.DataFrame, outcome: str, studies: list[str], tau2_method: str = "dl") -> dict:
    """Random-effects pooling (statsmodels ``combine_effects``) of the convertible estimates."""
    from statsmodels.stats.meta_analysis import combine_effects

    use = table[(table["outcome"] == outcome) & table["study_id"].isin(studies) & table["log_ratio"].notna()]
    k = len(use)
    if k == 0:
        return {"k": 0, "studies": []}
    if k == 1:
        r = use.iloc[0]
        return {"k": 1, "studies": [r["study_id"]], "ratio": r["ratio"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                "tau2": float("nan"), "i2": float("nan"), "q": float("nan"), "method": "single study (no pooling)"}
    res = combine_effects(use["log_ratio"].to_numpy(), use["se"].to_numpy() ** 2, method_re=tau2_method,
                          row_names=list(use["study"]))
    sf = res.summary_frame()
    # a negative moment estimate of tau² means no detectable heterogeneity: truncate at zero, and
    # the random-effects estimate is then the fixed-effect one
    tau2 = max(0.0, float(res.tau2))
    re_row = sf.loc["random effect"] if res.tau2 > 0 else sf.loc["fixed effect"]
    return {
        "k": k, "studies": list(use["study_id"]),
        "ratio": math.exp(re_row["eff"]), "ci_low": math.exp(re_row["ci_low"]), "ci_high": math.exp(re_row["ci_upp"]),
        "ratio_fixed": math.exp(sf.loc["fixed effect", "eff"]),
        "tau2": tau2, "i2": max(0.0, float(res.i2)), "q": float(res.q), "method": tau2_method,
    }


def leave_one_out(table: pd.DataFrame, outcome: str, studies: list[str], tau2_method: str = "dl") -> pd.DataFrame:
    """The pooled result with all chosen studies, and without each one in turn."""
    avail = [s for s in studies if ((table["study_id"] == s) & (table["outcome"] == outcome) & table["log_ratio"].notna()).any()]
    rows = []
    for drop in [None, *avail]:
        keep = [s for s in avail if s != drop]
        m = meta_analysis(table, outcome, keep, tau2_method)
        rows.append({"analysis": "all chosen studies" if drop is None else f"without {drop}", "k": m["k"],
                     "ratio": m.get("ratio", np.nan), "ci_low": m.get("ci_low", np.nan), "ci_high": m.get("ci_high", np.nan),
                     "tau2": m.get("tau2", np.nan), "i2": m.get("i2", np.nan)})
    return pd.DataFrame(rows)


def fmt_relative(v: float, scale: str) -> str:
    """One ratio as the page shows it: '0.970' (ratio) or '-3.0%' (percent change)."""
    if v != v:
        return ""
    return f"{v:.3f}" if scale == "ratio" else f"{100 * (v - 1):+.1f}%"


def format_common(table: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The common-scale table as the page shows it."""
    out = table.set_index("study")[["setting", "design", "outcome", "published"]].copy()
    out["outcome"] = [OUTCOME_LABELS.get(o, o) for o in out["outcome"]]
    out["relative effect"] = ["NOT CONVERTIBLE" if r != r else fmt_relative(r, scale) for r in table["ratio"]]
    out["95% CI"] = ["" if lo != lo else f"{fmt_relative(lo, scale)} to {fmt_relative(hi, scale)}"
                     for lo, hi in zip(table["ci_low"], table["ci_high"])]
    out["conversion"] = list(table["conversion"])
    return out


def format_loo(loo: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The leave-one-out table as the page shows it."""
    def f(v):
        return fmt_relative(v, scale)
    return pd.DataFrame({
        "analysis": loo["analysis"], "studies": loo["k"],
        "pooled": [f(v) for v in loo["ratio"]],
        "95% CI": [f"{f(lo)} to {f(hi)}" if lo == lo else "" for lo, hi in zip(loo["ci_low"], loo["ci_high"])],
        "tau²": [f"{v:.4f}" if v == v else "n/a (one study)" for v in loo["tau2"]],
        "I²": [f"{100 * v:.0f}%" if v == v else "n/a (one study)" for v in loo["i2"]],
    }).set_index("analysis")


def display(ratio: float, scale: str) -> float:
    """A ratio shown as a ratio or as a percentage change."""
    return ratio if scale == "ratio" else 100 * (ratio - 1)


def mde(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable effect (two-sided test) for an estimator with standard error ``se``."""
    return float((stats.norm.isf(alpha / 2) + stats.norm.ppf(power)) * se)


# --------------------------------------------------------------------------- verdicts


def savings_verdict(abstract_m: float, discussion_floor_m: float) -> Verdict:
    """The two savings figures: contradictory (not supported), or consistent but, since the unit costs
    behind them are not published, not reproducible (the rubric's ``consistency`` rule)."""
    if abstract_m < discussion_floor_m:
        return consistency(True, f"abstract £{abstract_m:g}m is below the discussion's floor of £{discussion_floor_m:g}m")
    return consistency(False, f"£{abstract_m:g}m is consistent with 'in excess of £{discussion_floor_m:g}m', but the unit "
                              "costs behind either figure are not published")


def forest_chart(table: pd.DataFrame, pooled: dict | None, scale: str, outcome_label: str):
    import altair as alt

    df = table.dropna(subset=["log_ratio"]).copy()
    df["kind"] = "study"
    if pooled and pooled.get("k", 0) >= 2:
        df = pd.concat([df, pd.DataFrame([{"study": f"Pooled (random effects, {pooled['method']})", "ratio": pooled["ratio"],
                                           "ci_low": pooled["ci_low"], "ci_high": pooled["ci_high"], "kind": "pooled",
                                           "design": "meta-analysis", "conversion": f"k = {pooled['k']}"}])], ignore_index=True)
    for c in ("ratio", "ci_low", "ci_high"):
        df[c + "_shown"] = [display(v, scale) for v in df[c]]
    title = "Rate ratio (log scale)" if scale == "ratio" else "Change in rate (%)"
    xscale = alt.Scale(type="log") if scale == "ratio" else alt.Scale(zero=False)
    order = list(df["study"])
    base = alt.Chart(df).encode(y=alt.Y("study:N", sort=order, title=None))
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low_shown:Q", title=f"{title}, {outcome_label}", scale=xscale), x2="ci_high_shown:Q",
                                               color=alt.Color("kind:N", title=None))
    pts = base.mark_point(filled=True, size=80).encode(
        x="ratio_shown:Q", color="kind:N", shape=alt.Shape("kind:N", title=None),
        tooltip=["study:N", "design:N", "conversion:N", alt.Tooltip("ratio_shown:Q", title="estimate", format=".3f"),
                 alt.Tooltip("ci_low_shown:Q", title="95% CI low", format=".3f"), alt.Tooltip("ci_high_shown:Q", title="95% CI high", format=".3f")])
    null = alt.Chart(pd.DataFrame({"x": [display(1.0, scale)]})).mark_rule(strokeDash=[4, 4], color=GREY).encode(x="x:Q")
    data_out = df[["study", "kind", "ratio", "ci_low", "ci_high"] + [c for c in ("design", "conversion") if c in df]]
    return alt.layer(bars, pts, null).properties(height=40 * len(df) + 20), data_out


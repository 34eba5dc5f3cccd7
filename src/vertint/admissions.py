"""Admission effects of vertical integration: re-derivations, a common scale, a meta-analysis.

Published estimates live in ``data/admissions_estimates.csv`` (effects with intervals) and
``data/admissions_reported.csv`` (scalar figures: patients, avoided admissions, savings). Every
function here takes those tables (or values from them) and returns numbers the chapter glues. The
``*_claim`` functions return a claim's reproduced value and verdict as the chapter emits them; the
robustness grid (:mod:`vertint.specs.admissions`) calls the same functions with other declared choices.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from . import data, meta
from .charts import GREY
from .verdicts import Verdict, consistency

Z975 = stats.norm.ppf(0.975)  # 1.959964...
#: the coverage of the intervals the studies publish
PUBLISHED_LEVEL = 0.95
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
    out: dict = {"patients": patients, "practices": int(rep["yu_practices"])}
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


def _censored_bound(text) -> float | None:
    """The bound of a p-value reported as an inequality ("<0.0001" → 0.0001), else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    return float(text.strip().lstrip("<>"))


def z_rounding_range(r: pd.Series) -> tuple[float, float]:
    """The range of |z| the published estimate and interval allow once their rounding is carried:
    each of the three figures moved by up to half its last published digit (normal, log scale for
    ratios). The low end has the estimate nearest no effect and the interval widest; the high end the
    estimate farthest from no effect and the interval narrowest (infinite if the rounding allows a
    zero-width interval)."""
    log = r["measure"] != "rate_difference"
    figs = [float(r["estimate"]), float(r["ci_low"]), float(r["ci_high"])]
    units = [published_unit(x) for x in figs]
    # each figure moves by half its own last digit; a figure whose trailing zeros a number drops
    # (1.00 stored as 1.0) takes the coarsest digit of the other two instead
    h_e, h_lo, h_hi = (min(u, max(units[:i] + units[i + 1:])) / 2 for i, u in enumerate(units))
    null = 1.0 if log else 0.0
    sign = -1.0 if figs[0] < null else 1.0

    def z(e: float, lo: float, hi: float) -> float:
        if not lo < hi:
            return math.inf
        return abs(math.log(e) if log else e) / se_from_ci(lo, hi, log=log)

    near = figs[0] - sign * h_e
    if (near - null) * (figs[0] - null) <= 0:  # rounding reaches no effect
        near = null
    return (z(near, figs[1] - h_lo, figs[2] + h_hi),
            z(figs[0] + sign * h_e, figs[1] + h_lo, figs[2] - h_hi))


def best_case_p(r: pd.Series) -> float:
    """The smallest p-value the published estimate and interval allow once their rounding is
    carried (the high end of :func:`z_rounding_range`): what a reported p-value would have to be at
    least, for it to agree with the interval."""
    z_hi = z_rounding_range(r)[1]
    return 0.0 if math.isinf(z_hi) else float(2 * stats.norm.sf(z_hi))


def p_check_table(est: pd.DataFrame) -> pd.DataFrame:
    """Reported p-values against those implied by the reported intervals (normal approximation).
    A p-value reported only as an inequality ("<0.0001") is shown as published; the last column
    says whether the reported p agrees with the interval (by the rubric's ``rederived`` rule on the
    z scale for an exact p; for an inequality, whether the implied p meets it), and, when it does
    not, whether it could at the extreme of the figures' rounding (:func:`best_case_p`)."""
    from .verdicts import SUPPORTED, rederived

    rows = []
    for _, r in est[est["scope"] == "overall"].iterrows():
        log = r["measure"] != "rate_difference"
        se = se_from_ci(r["ci_low"], r["ci_high"], log=log)
        p_imp = p_from_estimate(r["estimate"], se, log=log)
        z_imp = abs(math.log(r["estimate"]) if log else r["estimate"]) / se
        p_rep, bound = r["p_reported"], _censored_bound(r.get("p_reported_as"))
        if not pd.isna(p_rep):
            shown, z_rep = f"{p_rep:g}", f"{z_from_p(float(p_rep)):.2f}"
            ok = rederived(z_from_p(float(p_rep)), z_imp).label == SUPPORTED
            target = float(p_rep)
        elif bound is not None:
            shown, z_rep = str(r["p_reported_as"]).strip(), f">{z_from_p(bound):.2f}"
            ok, target = p_imp < bound, bound
        else:
            rows.append({"study": r["study"], "outcome": OUTCOME_LABELS.get(r["outcome"], r["outcome"]),
                         "estimate": r["estimate"], "interval": f"{r['ci_low']:g} to {r['ci_high']:g}",
                         "p reported": "NOT FOUND", "p implied by interval": f"{p_imp:#.2g}", "|z| reported": "",
                         "|z| implied": round(z_imp, 2), "agrees with the interval?": "no p reported"})
            continue
        z_lo, z_hi = z_rounding_range(r)
        z_need = z_from_p(target)
        span = f"|z| {z_lo:.2f} to {z_hi:.2f} within the figures' rounding"
        if ok:
            agrees = "yes"
        elif bound is None and z_lo <= z_need <= z_hi:
            agrees = f"within rounding: the published figures are rounded ({span})"
        elif bound is not None and z_hi > z_need:
            agrees = (f"no at the published figures (the interval implies p = {p_imp:#.2g}); only in part of the "
                      f"figures' rounding ({span}; the report needs more than {z_need:.2f})")
        else:
            agrees = (f"no, not even within the figures' rounding ({span}; the report implies {z_need:.2f}; "
                      f"p at least {best_case_p(r):#.2g})")
        rows.append({
            "study": r["study"], "outcome": OUTCOME_LABELS.get(r["outcome"], r["outcome"]),
            "estimate": r["estimate"], "interval": f"{r['ci_low']:g} to {r['ci_high']:g}",
            "p reported": shown, "p implied by interval": f"{p_imp:#.2g}",
            "|z| reported": z_rep, "|z| implied": round(z_imp, 2), "agrees with the interval?": agrees,
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- common scale


def published_unit(x: float) -> float:
    """The rounding unit of a figure as published (its last decimal place): 13 → 1, -0.11 → 0.01."""
    from decimal import Decimal

    return float(Decimal(1).scaleb(Decimal(repr(float(x))).normalize().as_tuple().exponent))


def baseline_range(est: pd.DataFrame, rep: dict) -> dict:
    """Wolverhampton's admission baseline implied by |effect| / the press release's relative
    reduction, with the range the rounding of both figures allows (13% may be 12.5% to 13.5%;
    -0.11 may be -0.105 to -0.115)."""
    d = float(row(est, "yu2020", "emergency_admissions")["estimate"])
    rel = rep["yu_relative_reduction_admissions"]
    lo, hi = meta.implied_baseline_range(d, published_unit(d), rel / 100, published_unit(rel) / 100)
    return {"central": abs(d) / (rel / 100), "low": lo, "high": hi, "effect": d, "relative": rel / 100,
            "relative_low": (rel - published_unit(rel) / 2) / 100, "relative_high": (rel + published_unit(rel) / 2) / 100,
            "effect_unit": published_unit(d)}


#: the published English shares of admissions followed by an emergency readmission within 30 days
#: (``data/admissions_reported.csv``) that give the assumed range of Wolverhampton's readmission baseline
READMISSION_SHARES = ("england_readmission_share_2013_14", "england_readmission_share_2017_18")


def readmission_shares(rep: dict) -> dict:
    """The assumed range of readmissions per unplanned admission: the smaller and larger of the
    published English 30-day emergency readmission shares (NHS Digital), as fractions."""
    vals = [rep[k] / 100 for k in READMISSION_SHARES]
    return {"low": min(vals), "high": max(vals),
            "low_key": READMISSION_SHARES[vals.index(min(vals))], "high_key": READMISSION_SHARES[vals.index(max(vals))]}


def readmission_bound(est: pd.DataFrame, rep: dict, base: dict) -> pd.DataFrame:
    """Wolverhampton's readmission rate difference as a ratio over an *assumed range* of readmission
    baselines. No readmission baseline is published; the range assumes Wolverhampton's unplanned
    admissions were followed by a readmission as often as admissions in England as a whole, taking
    the smaller and larger of the published English 30-day emergency readmission shares
    (:func:`readmission_shares`) times the bottom and top of the admission baseline's rounding range:

    - the higher national year's share at the top of the admission range (the smaller relative effect);
    - the lower national year's share at the bottom of the admission range (the larger relative effect).

    Each end gives the ratio per registered patient (Yu's denominator) and, dividing by the
    admissions ratio at the same baseline, per admission (Lopes's denominator; standard errors
    combined as if independent, which overstates them if the two estimates are positively
    correlated, as a subset's estimate is with its whole's). The frame's ``attrs`` carry the central
    ratio per registered patient (central admission baseline, the shares' midpoint) for the text."""
    a, r = row(est, "yu2020", "emergency_admissions"), row(est, "yu2020", "readmissions")
    sh = readmission_shares(rep)
    rows = []
    for end, b_adm, share, key in (("higher national share", base["high"], sh["high"], sh["high_key"]),
                                   ("lower national share", base["low"], sh["low"], sh["low_key"])):
        b_rea = share * b_adm
        conv_r = meta.rate_difference_as_ratio(r["estimate"], r["ci_low"], r["ci_high"], b_rea, b_rea)
        conv_a = meta.rate_difference_as_ratio(a["estimate"], a["ci_low"], a["ci_high"], b_adm, b_adm)
        rr, rr_lo, rr_hi = conv_r["point_low"], conv_r["ci_low"], conv_r["ci_high"]
        ra, ra_lo, ra_hi = conv_a["point_low"], conv_a["ci_low"], conv_a["ci_high"]
        per_adm = meta.ratio_of_ratios(rr, max(rr_lo, 1e-9), rr_hi, ra, ra_lo, ra_hi)
        year = key.rsplit("_", 2)
        why = (f"share of admissions followed by an emergency readmission as in England in {year[1]}/{year[2]} ({100 * share:g}%), "
               f"admission baseline at the {'top' if end == 'higher national share' else 'bottom'} of its range")
        rows.append({"end": end, "assumption": why, "readmission_share": share, "baseline_admissions": b_adm,
                     "baseline_readmissions": b_rea, "ratio": rr, "ci_low": rr_lo, "ci_high": rr_hi,
                     "admissions_ratio": ra, "per_admission": per_adm["ratio"], "per_admission_low": per_adm["ci_low"],
                     "per_admission_high": per_adm["ci_high"]})
    out = pd.DataFrame(rows)
    out.attrs["central_ratio"] = 1 + float(r["estimate"]) / ((sh["low"] + sh["high"]) / 2 * base["central"])
    return out


def common_scale(est: pd.DataFrame, base: dict) -> pd.DataFrame:
    """Overall estimates on one relative scale (log ratio), with how each was converted.

    - incidence rate ratios: used as they are;
    - odds ratios (Lopes): treated as risk ratios; defensible only because a 30-day readmission is
      a rare-ish event (crude rates about 5%, press report) — the odds ratio then slightly
      overstates the risk ratio's distance from 1;
    - Yu's admissions rate difference: ``1 + d / baseline`` for every baseline the rounded figures
      allow (:func:`baseline_range`): the point is the press release's ratio, the interval the
      envelope of the converted intervals, so the rounding is carried into the standard error;
    - Yu's readmissions: no baseline is published, so no single ratio; :func:`readmission_bound`
      bounds it, and it is not pooled.
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
            conv = meta.rate_difference_as_ratio(r["estimate"], r["ci_low"], r["ci_high"], base["low"], base["high"])
            ratio, lo, hi = 1 + r["estimate"] / base["central"], conv["ci_low"], conv["ci_high"]
            how = (f"rate difference ÷ baseline implied by the press release's {100 * base['relative']:g}%; interval widened "
                   f"for the rounding of both figures (baseline {base['low']:.3f} to {base['high']:.3f} per 100 per month)")
        else:
            rec.update(ratio=np.nan, ci_low=np.nan, ci_high=np.nan, log_ratio=np.nan, se=np.nan,
                       conversion="no single ratio (readmission baseline NOT FOUND): over an assumed range, not pooled")
            rows.append(rec)
            continue
        rec.update(ratio=float(ratio), ci_low=float(lo), ci_high=float(hi), log_ratio=math.log(ratio),
                   se=se_from_ci(lo, hi, log=True), conversion=how)
        rows.append(rec)
    return pd.DataFrame(rows)


def meta_analysis(table: pd.DataFrame, outcome: str, studies: list[str], tau2_method: str = "dl") -> dict:
    """Random-effects pool of the convertible estimates (:func:`vertint.meta.pool`): HKSJ interval,
    prediction interval, and ``refused`` when fewer than the rubric's minimum are comparable."""
    use = table[(table["outcome"] == outcome) & table["study_id"].isin(studies) & table["log_ratio"].notna()]
    k = len(use)
    out = {"k": k, "studies": list(use["study_id"]), "min_k": meta.min_k(), "refused": k < meta.min_k(), "method": tau2_method}
    if k == 0:
        return out
    out.update(meta.pool(use["log_ratio"].to_numpy(), use["se"].to_numpy(), tau2_method))
    out["studies"] = list(use["study_id"])
    return out


def pool_table(m: dict, scale: str) -> pd.DataFrame:
    """What a pool of the chosen estimates would say, interval by interval, and whether it may be a headline."""
    f = lambda v: fmt_relative(v, scale)
    if m["k"] < 2:
        return pd.DataFrame({"quantity": ["estimates"], "value": [str(m["k"])]})
    rows = [("comparable estimates", f"{m['k']} (rubric minimum for a pooled headline: {m['min_k']})"),
            ("pooled point estimate (random effects)", f(m["ratio"])),
            ("normal-theory 95% interval", f"{f(m['ci_wald'][0])} to {f(m['ci_wald'][1])}"),
            (f"Hartung-Knapp-Sidik-Jonkman 95% interval (t, {m['k'] - 1} df)", f"{f(m['ci_hksj'][0])} to {f(m['ci_hksj'][1])}"),
            ("95% prediction interval", "not defined with fewer than three estimates" if m["k"] < 3 else f"{f(m['pi'][0])} to {f(m['pi'][1])}"),
            ("between-study variance τ²", f"{m['tau2']:.4f}"),
            ("I²", f"{100 * m['i2']:.0f}%"),
            ("reported as the pooled effect", "no: too few comparable estimates" if m["refused"] else "yes")]
    return pd.DataFrame(rows, columns=["quantity", "value"])


def pool_summary(m: dict, scale: str) -> dict[str, str]:
    """Phrases for the page: what is reported, and the intervals a pool of these estimates gives."""
    f = lambda v: fmt_relative(v, scale)
    if m["k"] == 0:
        return {"decision": "there is nothing to pool", "wald": "not estimable", "hksj": "not estimable", "pi": "not defined"}
    if m["k"] == 1:
        return {"decision": "there is nothing to pool (one estimate)", "wald": "not estimable", "hksj": "not estimable",
                "pi": "not defined"}
    wald = f"{f(m['ci_wald'][0])} to {f(m['ci_wald'][1])}"
    hksj = f"{f(m['ci_hksj'][0])} to {f(m['ci_hksj'][1])}"
    pi = "not defined" if m["k"] < 3 else f"{f(m['pi'][0])} to {f(m['pi'][1])}"
    if m["refused"]:
        decision = "no pooled figure is reported"
    else:
        decision = f"the pooled effect is {f(m['ratio'])} (HKSJ 95% CI {hksj}; 95% prediction interval {pi})"
    return {"decision": decision, "wald": wald, "hksj": hksj, "pi": pi, "point": f(m["ratio"])}


def bound_display(bound: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The bounded readmission conversion as the page shows it."""
    f = lambda v: fmt_relative(v, scale)
    return pd.DataFrame({
        "end of the range": bound["end"], "assumption": bound["assumption"],
        "readmissions per 100 patients per month, before": [f"{v:.3f}" for v in bound["baseline_readmissions"]],
        "per registered patient (95% CI)": [f"{f(r)} ({f(lo)} to {f(hi)})" for r, lo, hi in zip(bound["ratio"], bound["ci_low"], bound["ci_high"])],
        "per admission (95% CI)": [f"{f(r)} ({f(lo)} to {f(hi)})" for r, lo, hi in
                                   zip(bound["per_admission"], bound["per_admission_low"], bound["per_admission_high"])],
    })


def wolverhampton_vs_national(table: pd.DataFrame, rep: dict) -> dict:
    """Ratio of rate ratios, Wolverhampton over the national study (emergency admissions), and what
    the national ratio would be for the rest of England if Wolverhampton's practices were in it with
    the weight of their number among the practices run by trusts."""
    t = table.set_index(["study_id", "outcome"])
    y, s = t.loc[("yu2020", "emergency_admissions")], t.loc[("saunders2024", "emergency_admissions")]
    out = meta.ratio_of_ratios(y["ratio"], y["ci_low"], y["ci_high"], s["ratio"], s["ci_low"], s["ci_high"])
    share = rep["yu_practices"] / rep["trust_run_practices_2021"]
    out.update(yu=float(y["ratio"]), national=float(s["ratio"]), share=share,
               rest_of_england=meta.leave_in_share(math.log(s["ratio"]), math.log(y["ratio"]), share))
    return out


def design_analysis(se: float, baseline: float, national: pd.Series, yu_relative: float, n: int = 40,
                    published: float | None = None) -> pd.DataFrame:
    """Gelman and Carlin's design analysis for a study with Wolverhampton's standard error, over true
    relative reductions from a tenth of the national study's lower bound up to the press release's
    figure; the national estimate and its interval, and Yu's implied figure, are flagged. With
    ``published`` (Yu's rate difference, negative for a fall), ``p_as_extreme`` is the chance, before
    any selection on significance, that a normal estimate with this standard error centred on the
    true effect falls at or below the published one: P(estimate <= published | true effect, se)."""
    nat = 1 - float(national["estimate"])
    nat_lo, nat_hi = 1 - float(national["ci_high"]), 1 - float(national["ci_low"])
    grid = np.unique(np.concatenate([np.linspace(nat_lo / 2, yu_relative, n), [nat, nat_lo, nat_hi, yu_relative]]))
    rows = []
    for rel in grid:
        r = meta.retrodesign(rel * baseline, se)
        mark = ("national estimate" if np.isclose(rel, nat) else "national interval" if np.isclose(rel, nat_lo) or np.isclose(rel, nat_hi)
                else "press release (Yu)" if np.isclose(rel, yu_relative) else "")
        rows.append({"true_relative": rel, "true_effect": rel * baseline, "power": r["power"], "type_s": r["type_s"],
                     "exaggeration": r["exaggeration"], "marker": mark,
                     "p_as_extreme": np.nan if published is None else float(stats.norm.cdf((published + rel * baseline) / se))})
    return pd.DataFrame(rows)


def design_chart(da: pd.DataFrame):
    """Power, type S error and exaggeration against the true reduction, one panel each."""
    import altair as alt

    from .charts import BLUE, ORANGE

    long = da.melt(id_vars=["true_relative", "marker"], value_vars=["power", "type_s", "exaggeration"],
                   var_name="measure", value_name="value")
    names = {"power": "Power (share significant)", "type_s": "Type S error (share of significant with the wrong sign)",
             "exaggeration": "Exaggeration ratio (significant estimate ÷ true effect)"}
    long["measure"] = long["measure"].map(names)
    long["true_pct"] = 100 * long["true_relative"]
    base = alt.Chart(long)
    line = base.mark_line(color=BLUE).encode(
        x=alt.X("true_pct:Q", title="True reduction in emergency admissions (%)"),
        y=alt.Y("value:Q", title=None),
        tooltip=[alt.Tooltip("true_pct:Q", title="true reduction (%)", format=".1f"), "measure:N", alt.Tooltip("value:Q", format=".3f")])
    marks = base.transform_filter(alt.datum.marker != "").mark_point(filled=True, size=60, color=ORANGE).encode(
        x="true_pct:Q", y="value:Q", shape=alt.Shape("marker:N", title=None),
        tooltip=["marker:N", alt.Tooltip("true_pct:Q", title="true reduction (%)", format=".1f"), alt.Tooltip("value:Q", format=".3f")])
    return alt.layer(line, marks).properties(width=560, height=150).facet(
        row=alt.Row("measure:N", title=None, sort=list(names.values()),
                    header=alt.Header(labelAngle=0, labelOrient="top", labelAnchor="start", labelFontSize=12))
    ).resolve_scale(y="independent")


# --------------------------------------------------------------------------- the evidence found


def screening() -> pd.DataFrame:
    return data.load("admissions_screening")


#: the eligibility rule applied to every record of the screening log (data/admissions_screening.csv)
ELIGIBILITY_RULE = ("hospital and primary or community care joined in one organisation, by shared ownership or "
                    "management, with an outcome on hospital use or quality; coordination between organisations "
                    "that stay separate is another intervention")
#: the reasons an excluded record may give, by the stage it left at (the part of ``reason`` before ": ")
EXCLUSION_REASONS = {
    "screening": ("another intervention", "another outcome", "no effect estimate", "not an evaluation of integration"),
    "eligibility": ("duplicate", "no retrievable result", "uncontrolled claim"),
}


def exclusion_reason(record_id: str, stage: str, reason: str) -> str:
    """The category of an excluded record's ``reason`` ("category: detail"), checked against
    :data:`EXCLUSION_REASONS` for its stage."""
    allowed = EXCLUSION_REASONS.get(stage)
    if allowed is None:
        raise ValueError(f"data/admissions_screening.csv, column stage: record {record_id!r} is excluded at "
                         f"{stage!r}; expected one of {sorted(EXCLUSION_REASONS)}")
    head = str(reason).split(": ", 1)[0].strip() if isinstance(reason, str) and ": " in reason else ""
    if head not in allowed:
        raise ValueError(f"data/admissions_screening.csv, column reason: record {record_id!r} (excluded at {stage}) "
                         f"gives {reason!r}; it must start with one of {list(allowed)} followed by ': '")
    return head


def _tally(values) -> str:
    """'a (3); b (1)': counts, largest first, then alphabetically."""
    counts = pd.Series(list(values), dtype=object).value_counts()
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "; ".join(f"{k} ({v})" for k, v in order)


def prisma_flow(scr: pd.DataFrame) -> pd.DataFrame:
    """The PRISMA-style flow, counted from the screening log (never typed): one row per box. The
    exclusion rows tally the reasons given (:func:`exclusion_reason`), not the kinds of record."""
    n = len(scr)
    ex = scr[scr["decision"] == "excluded"]
    bad = ex[~ex["stage"].isin(list(EXCLUSION_REASONS))]
    if len(bad):
        raise ValueError(f"data/admissions_screening.csv, column stage: excluded record(s) {list(bad['record_id'])} "
                         f"must leave at {' or '.join(EXCLUSION_REASONS)}")
    kept = scr[scr["decision"] != "excluded"]
    if (kept["stage"] != "included").any():
        raise ValueError(f"data/admissions_screening.csv, column stage: kept record(s) "
                         f"{list(kept.loc[kept['stage'] != 'included', 'record_id'])} must be at stage 'included'")
    why = {st: _tally(exclusion_reason(r, st, x) for r, x in zip(g["record_id"], g["reason"]))
           for st, g in ex.groupby("stage")}
    sc = ex[ex["stage"] == "screening"]
    el = ex[ex["stage"] == "eligibility"]
    inc = scr[scr["stage"] == "included"]
    syn = inc[inc["decision"] == "evidence table and synthesis"]
    return pd.DataFrame([
        {"stage": "identified", "records": n, "why": "every record in the research dossier reporting, or possibly reporting, an effect of integrating hospital and primary or community care"},
        {"stage": "excluded at screening", "records": len(sc), "why": why.get("screening", "")},
        {"stage": "assessed for eligibility", "records": n - len(sc), "why": "eligible on their description: " + ELIGIBILITY_RULE},
        {"stage": "excluded at eligibility", "records": len(el), "why": why.get("eligibility", "")},
        {"stage": "in the evidence table", "records": len(inc), "why": _tally(inc["record_type"])},
        {"stage": "with an estimate on the common scale", "records": len(syn), "why": ", ".join(syn["record_id"])},
    ])


def robins_not_assessed() -> dict[str, str]:
    """Studies for which ROBINS-I does not apply, with the reason (``not_assessed`` in rubric/robins_i.yml)."""
    import yaml

    from . import paths

    doc = yaml.safe_load((paths.root() / "rubric" / "robins_i.yml").read_text(encoding="utf-8")) or {}
    return {str(x["key"]): " ".join(str(x["reason"]).split()) for x in doc.get("not_assessed", [])}


def evidence_table(scr: pd.DataFrame, rob: dict, not_assessed: dict[str, str]) -> pd.DataFrame:
    """One row per included record: design, population, outcome, estimate, ROBINS-I overall."""
    inc = scr[scr["stage"] == "included"]

    def robins(key, rid):
        if isinstance(key, str) and key in rob:
            return rob[key]["overall"]["judgement"].replace("_", " ")
        return "not applicable: " + not_assessed.get(rid, "no single non-randomised study")

    return pd.DataFrame({
        "study": [f"[{r}]({u})" if isinstance(u, str) and u else r for r, u in zip(inc["record"], inc["source_url"])],
        "design": inc["design"], "population": inc["population"], "outcome": inc["outcome"],
        "estimate (as published)": inc["estimate"],
        "ROBINS-I overall": [robins(k, rid) for k, rid in zip(inc["robins_key"], inc["record_id"])],
        "on the common scale": inc["comparable"],
    })


def excluded_table(scr: pd.DataFrame) -> pd.DataFrame:
    ex = scr[scr["decision"] == "excluded"]
    return pd.DataFrame({"record": ex["record"], "where found": "dossier " + ex["found_in"], "kind": ex["record_type"],
                         "left at": ex["stage"], "why": ex["reason"]})


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


def portugal_similarity(bound: pd.DataFrame, lopes: pd.Series, denominators: str = "both", common_scale: bool = True,
                        odds: str = "as_ratio", control_risk: float | None = None) -> tuple[Verdict, pd.DataFrame]:
    """The substantive question behind the Portugal claim (are the effects similar?), for the text
    and the certainty box, not the claim's fidelity verdict: the rubric's ``similarity`` rule at both
    ends of the assumed range of Wolverhampton's readmission ratio, per registered patient (Yu's
    denominator) and per admission (Lopes's), combined with ``all_of``; and one row per comparison.

    ``denominators`` ("both", "per_patient" or "per_admission"), whether the two ratios count as one
    scale (``common_scale``), and whether Lopes's odds ratio is taken as a risk ratio
    (``odds="as_ratio"``) or converted at the control group's readmission risk (``"zhang_yu"``:
    OR / (1 - p0 + p0 OR))."""
    from .verdicts import all_of, relabel, similarity

    if denominators not in PORTUGAL_DENOMINATORS:
        raise ValueError(f"denominators must be one of {PORTUGAL_DENOMINATORS}, got {denominators!r}")
    conv = lambda x: float(x)
    if odds == "zhang_yu":
        if control_risk is None or not 0 < control_risk < 1:
            raise ValueError("odds='zhang_yu' needs the control group's risk between 0 and 1")
        conv = lambda x: float(x) / (1 - control_risk + control_risk * float(x))
    elif odds != "as_ratio":
        raise ValueError(f"odds must be 'as_ratio' or 'zhang_yu', got {odds!r}")
    pt = {"label": "Portugal (odds ratio per admission)" if odds == "as_ratio" else "Portugal (risk ratio per admission)",
          "estimate": conv(lopes["estimate"]), "ci_low": conv(lopes["ci_low"]), "ci_high": conv(lopes["ci_high"]), "null": 1.0}
    parts, rows = [], []
    for _, b in bound.iterrows():
        for denom, est, lo, hi in (("per registered patient", b["ratio"], b["ci_low"], b["ci_high"]),
                                   ("per admission", b["per_admission"], b["per_admission_low"], b["per_admission_high"])):
            if denominators != "both" and denom != PORTUGAL_DENOMINATORS[denominators]:
                continue
            w = {"label": "Wolverhampton (ratio)", "estimate": round(float(est), 3), "ci_low": round(float(lo), 3),
                 "ci_high": round(float(hi), 3), "null": 1.0}
            v = relabel(similarity(w, pt, same_scale=common_scale), f"{b['end']}, {denom}")
            parts.append(v)
            rows.append({"end of the assumed range": b["end"], "denominator": denom,
                         "Wolverhampton ratio (95% CI)": f"{w['estimate']:.3f} ({w['ci_low']:.3f} to {w['ci_high']:.3f})",
                         "Portugal (95% CI)": f"{pt['estimate']:.3f} ({pt['ci_low']:.3f} to {pt['ci_high']:.3f})",
                         "similarity rule": v.label, "why": v.reason.split("; ")[-1]})
    return all_of(*parts), pd.DataFrame(rows)


def portugal_verdict(bound: pd.DataFrame, lopes: pd.Series, denominators: str = "both", common_scale: bool = True,
                     odds: str = "as_ratio", control_risk: float | None = None) -> Verdict:
    """The combined ``similarity`` judgement of :func:`portugal_similarity` (the substance, not the
    claim's fidelity)."""
    return portugal_similarity(bound, lopes, denominators, common_scale, odds, control_risk)[0]


#: which denominators the Portugal comparison is judged on
PORTUGAL_DENOMINATORS = {"both": None, "per_patient": "per registered patient", "per_admission": "per admission"}

#: why the Portugal claim's fidelity cannot be judged (see the chapter)
PORTUGAL_UNREAD = ("the claim reports what Yu et al. say in their discussion; the public pages this book could read hold "
                   "their abstract and the summary and strengths-and-limitations parts of the discussion, which do not "
                   "mention Portugal, so whether the authors note the similarity (and so whether the long read reports "
                   "them faithfully) cannot be checked; the paper's full discussion (open access in the British Journal "
                   "of General Practice) was not read, so the verdict is provisional and is redone once it is")


def portugal_claim(est: pd.DataFrame, rep: dict, base: dict) -> tuple[str, Verdict]:
    """The claim 'the authors note the similarity with Portugal' as the chapter emits it: a claim
    about what Yu et al. wrote, whose passage could not be read, so the rubric's verdict without data
    (``not_reproducible``, with the reason). Nothing is reproduced, so the value is "not available";
    the substance (Wolverhampton's readmission ratio over the assumed range of its baseline, from
    :func:`readmission_bound`) is context for the text and the record's caveat, not the claim's value."""
    from .nb import NA
    from .verdicts import not_reproducible

    return NA, not_reproducible(PORTUGAL_UNREAD)


#: the figures the avoided events can be re-derived from
AVOIDED_INPUTS = ("published", "rate_low", "rate_high", "monthly")


def avoided_claim(yu: dict, outcome: str, inputs: str = "published") -> tuple[float, Verdict]:
    """The avoided admissions (``outcome="admissions"``) or readmissions per year re-derived and
    judged by the rubric's ``rederived`` rule against the paper's figure: from the published rate
    (``"published"``, the chapter's), from either end of the rate's rounding range (``"rate_low"``:
    the smaller reduction, ``"rate_high"``: the larger), or from the press release's monthly figure
    times twelve (``"monthly"``)."""
    from .verdicts import rederived

    d = yu[outcome]
    unit = published_unit(d["estimate"])
    if inputs == "published":
        value = d["per_year"]
    elif inputs in ("rate_low", "rate_high"):
        rate = abs(d["estimate"]) + (unit / 2 if inputs == "rate_high" else -unit / 2)
        value = annualise(rate, yu["patients"])
    elif inputs == "monthly":
        value = 12 * d["per_month_reported"]
    else:
        raise ValueError(f"inputs must be one of {AVOIDED_INPUTS}, got {inputs!r}")
    return round(float(value), 1), rederived(d["per_year_reported"], float(value))


#: the reference distributions the p-value check may assume
P_REFERENCES = ("normal", "t")


def pvalues_claim(yu: dict, scale: str = "z", se_from: str = "interval", reference: str = "normal") -> tuple[float, Verdict]:
    """The published p-values against those implied by the published intervals, both outcomes
    judged by the rubric's ``rederived`` rule and combined with ``all_of``. ``scale``: compare the
    test statistics (the chapter's: rounding distorts them less) or the p-values themselves;
    ``se_from``: the standard error from the whole interval (the chapter's) or from its lower or upper
    half alone (the intervals are not exactly symmetric); ``reference``: the normal distribution (the
    chapter's) or a t distribution with one degree of freedom fewer than the number of practices
    pooled (the usual small-sample reference for a mean over few clusters), used both to read the
    standard error off the interval and to turn a statistic into a p-value. Returns the admissions p
    implied (two significant figures) and the verdict."""
    from .verdicts import all_of, rederived

    if reference == "normal":
        q, sf, isf = Z975, stats.norm.sf, stats.norm.isf
    elif reference == "t":
        df = yu["practices"] - 1
        q = float(stats.t.ppf(0.975, df))
        sf, isf = (lambda x: stats.t.sf(x, df)), (lambda x: stats.t.isf(x, df))
    else:
        raise ValueError(f"reference must be one of {P_REFERENCES}, got {reference!r}")
    parts, p_adm = [], None
    for key in ("admissions", "readmissions"):
        d = yu[key]
        if se_from == "interval":
            se = (d["ci_high"] - d["ci_low"]) / (2 * q)
        elif se_from == "lower":
            se = (d["estimate"] - d["ci_low"]) / q
        elif se_from == "upper":
            se = (d["ci_high"] - d["estimate"]) / q
        else:
            raise ValueError(f"se_from must be 'interval', 'lower' or 'upper', got {se_from!r}")
        stat = abs(d["estimate"]) / se
        p = float(2 * sf(stat))
        if scale == "z":
            parts.append(rederived(float(isf(d["p_reported"] / 2)), stat))
        elif scale == "p":
            parts.append(rederived(d["p_reported"], p))
        else:
            raise ValueError(f"scale must be 'z' or 'p', got {scale!r}")
        if p_adm is None:
            p_adm = p
    return float(f"{p_adm:.2g}"), all_of(*parts)


#: how "a reduction in admissions or readmissions" may be read
REDUCTION_READINGS = ("both", "either")


def reduction_claim(yu: dict, outcomes: str = "both", reading: str = "both") -> tuple[float, Verdict]:
    """'A modest reduction in admissions or readmissions', judged by the rubric's ``reported_effect``
    rule on each outcome's interval at the rubric's ``interval_level`` (the published interval at its
    own level; at another level, the normal interval with the standard error the published one implies).
    ``outcomes``: "both" (the chapter's), "admissions" or "readmissions". ``reading``: "both" (the
    chapter's: the claim reports a reduction in each outcome, combined with ``all_of``) or "either"
    (the claim holds if it reports one outcome faithfully: the best of the outcomes' verdicts)."""
    from . import rubric
    from .verdicts import NOT_SUPPORTED, PARTLY, SUPPORTED, all_of, relabel, reported_effect

    level = float(rubric.param("reported_effect", "interval_level"))
    keys = {"both": ("admissions", "readmissions"), "admissions": ("admissions",), "readmissions": ("readmissions",)}
    if outcomes not in keys:
        raise ValueError(f"outcomes must be one of {tuple(keys)}, got {outcomes!r}")
    if reading not in REDUCTION_READINGS:
        raise ValueError(f"reading must be one of {REDUCTION_READINGS}, got {reading!r}")
    parts = []
    for key in keys[outcomes]:
        d = yu[key]
        if math.isclose(level, PUBLISHED_LEVEL):
            lo, hi = d["ci_low"], d["ci_high"]
        else:
            half = float(stats.norm.ppf(0.5 + level / 2)) * d["se"]
            lo, hi = d["estimate"] - half, d["estimate"] + half
        parts.append(relabel(reported_effect(0, lo, hi, "reduction"), key))
    if reading == "either" and len(parts) > 1:
        order = {SUPPORTED: 0, PARTLY: 1, NOT_SUPPORTED: 2}
        best = min(parts, key=lambda v: order[v.label])
        return yu[keys[outcomes][0]]["estimate"], relabel(best, "either outcome, the best reported")
    return yu[keys[outcomes][0]]["estimate"], all_of(*parts)


def forest_chart(table: pd.DataFrame, pooled: dict | None, scale: str, outcome_label: str):
    import altair as alt

    df = table.dropna(subset=["log_ratio"]).copy()
    df["kind"] = "study"
    if pooled and pooled.get("k", 0) >= 2 and not pooled.get("refused", True):
        df = pd.concat([df, pd.DataFrame([{"study": f"Pooled (random effects, {pooled['method']}; HKSJ interval)", "ratio": pooled["ratio"],
                                           "ci_low": pooled["ci_hksj"][0], "ci_high": pooled["ci_hksj"][1], "kind": "pooled",
                                           "design": "meta-analysis", "conversion": f"k = {pooled['k']}"}]),
                        pd.DataFrame([{"study": "Prediction interval (a new setting)", "ratio": pooled["ratio"],
                                       "ci_low": pooled["pi"][0], "ci_high": pooled["pi"][1], "kind": "prediction",
                                       "design": "meta-analysis", "conversion": f"k = {pooled['k']}"}])], ignore_index=True)
    for c in ("ratio", "ci_low", "ci_high"):
        df[c + "_shown"] = [display(v, scale) for v in df[c]]
    title = "Rate ratio (log scale)" if scale == "ratio" else "Change in rate (%)"
    xscale = alt.Scale(type="log") if scale == "ratio" else alt.Scale(zero=False)
    order = list(df["study"])
    # colour says the design (the legend is then informative); the marker's shape says what a row is
    # (study, pooled, prediction) and needs no legend while every row is a study
    colour = alt.Color("design:N", title="Design", legend=alt.Legend(orient="bottom"))
    shape = alt.Shape("kind:N", title=None, legend=None if df["kind"].nunique() == 1 else alt.Legend(orient="bottom"))
    base = alt.Chart(df).encode(y=alt.Y("study:N", sort=order, title=None))
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low_shown:Q", title=f"{title}, {outcome_label}", scale=xscale), x2="ci_high_shown:Q",
                                               color=colour)
    pts = base.mark_point(filled=True, size=80).encode(
        x="ratio_shown:Q", color=colour, shape=shape,
        tooltip=["study:N", "design:N", "conversion:N", alt.Tooltip("ratio_shown:Q", title="estimate", format=".3f"),
                 alt.Tooltip("ci_low_shown:Q", title="95% CI low", format=".3f"), alt.Tooltip("ci_high_shown:Q", title="95% CI high", format=".3f")])
    null = alt.Chart(pd.DataFrame({"x": [display(1.0, scale)]})).mark_rule(strokeDash=[4, 4], color=GREY).encode(x="x:Q")
    data_out = df[["study", "kind", "ratio", "ci_low", "ci_high"] + [c for c in ("design", "conversion") if c in df]]
    return alt.layer(bars, pts, null).properties(height=40 * len(df) + 20), data_out



def robustness_phrase(summary: dict) -> str:
    """How robust a verdict is, in words for the text, from its robustness summary
    (:func:`vertint.robustness.summarise`): the label and, when fragile, the single choices that
    change the verdict ("fragile to …")."""
    lab = summary["label"]
    if not summary["flips"]:
        return lab
    alts = "; ".join(f"{f['label'].lower()}: {f['text']}" for f in summary["flips"])
    return f"{lab} to {alts}"


#: the vendored reference cost used to check the scale of the savings per avoided event
REFCOST_KEY = "nhs_reference_cost_nonelective_2016_17"


def reduction_now(est: pd.DataFrame, yu: dict, verdict: Verdict) -> dict:
    """The reduction claim's *still true now?* line: the claim reports Yu et al.'s study, whose
    figures have not changed, so the verdict stands; but the later national study (Saunders et al.)
    bears on whether the reduction is "modest" and general, and the note says what it found."""
    adm_, rea = row(est, "saunders2024", "emergency_admissions"), row(est, "saunders2024", "readmissions")
    study = str(adm_["study"])
    year = study.rsplit(" ", 1)[-1]
    f = lambda r: f"IRR {r['estimate']:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f}), a {100 * (1 - r['estimate']):.0f}% reduction"
    note = (f"the claim reports Yu et al.'s study, whose figures are unchanged, so the verdict stands; but {study}, "
            f"the later national study of practices run by trusts, bears on whether the reduction is modest and general: "
            f"emergency admissions {f(adm_)}, and 30-day emergency readmissions {f(rea)}, "
            f"against the {100 * yu['relative_reduction_press']:.0f}% in Wolverhampton's press release")
    return {"verdict": verdict, "date": year, "note": note}


def similarity_phrase(table: pd.DataFrame) -> str:
    """The answer of :func:`portugal_similarity`'s table in words, one clause per denominator."""
    from .verdicts import NOT_SUPPORTED, SUPPORTED

    words = {SUPPORTED: ("the two effects point the same way and their intervals overlap", ""),
             NOT_SUPPORTED: ("Wolverhampton's interval includes no effect", ", so the two are not shown to be alike")}
    clauses = []
    for denom, g in table.groupby("denominator", sort=False):
        labels = list(g["similarity rule"])
        if len(set(labels)) == 1:
            main, tail = words.get(labels[0], ("the two point the same way, but not on a common scale", ""))
            clauses.append(f"{denom}, {main} at {'both ends' if len(labels) == 2 else 'every end'} of the range{tail}")
        else:
            clauses.append(f"{denom}, the answer depends on the end of the range (" +
                           "; ".join(f"{e}: {w}" for e, w in zip(g["end of the assumed range"], g["why"])) + ")")
    return "; ".join(clauses)

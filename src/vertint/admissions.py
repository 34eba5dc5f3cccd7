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


def readmission_bound(est: pd.DataFrame, rep: dict, base: dict) -> pd.DataFrame:
    """Wolverhampton's readmission rate difference as a ratio, at the two ends of the baselines it
    could have had. No readmission baseline is published; two assumptions bound it:

    - at most the admission baseline (every unplanned readmission is also an unplanned admission),
      taken at the top of its rounding range: the smallest relative effect;
    - at least the share of admissions readmitted in the Portuguese integrated hospitals (press
      report on Lopes et al.) times the bottom of the admission range: the largest relative effect.

    Each end gives the ratio per registered patient (Yu's denominator) and, dividing by the
    admissions ratio at the same baseline, per admission (Lopes's denominator; standard errors
    combined as if independent, which overstates them if the two estimates are positively
    correlated, as a subset's estimate is with its whole's)."""
    a, r = row(est, "yu2020", "emergency_admissions"), row(est, "yu2020", "readmissions")
    share_lo = rep["lopes_crude_readmission_integrated"] / 100
    rows = []
    for end, b_adm, share, why in (
            ("smallest effect", base["high"], 1.0, "readmission baseline = admission baseline (every unplanned admission a readmission)"),
            ("largest effect", base["low"], share_lo, "readmissions as common per admission as in the Portuguese integrated hospitals")):
        b_rea = share * b_adm
        conv_r = meta.rate_difference_as_ratio(r["estimate"], r["ci_low"], r["ci_high"], b_rea, b_rea)
        conv_a = meta.rate_difference_as_ratio(a["estimate"], a["ci_low"], a["ci_high"], b_adm, b_adm)
        rr, rr_lo, rr_hi = conv_r["point_low"], conv_r["ci_low"], conv_r["ci_high"]
        ra, ra_lo, ra_hi = conv_a["point_low"], conv_a["ci_low"], conv_a["ci_high"]
        per_adm = meta.ratio_of_ratios(rr, max(rr_lo, 1e-9), rr_hi, ra, ra_lo, ra_hi)
        rows.append({"end": end, "assumption": why, "readmission_share": share, "baseline_admissions": b_adm,
                     "baseline_readmissions": b_rea, "ratio": rr, "ci_low": rr_lo, "ci_high": rr_hi,
                     "admissions_ratio": ra, "per_admission": per_adm["ratio"], "per_admission_low": per_adm["ci_low"],
                     "per_admission_high": per_adm["ci_high"]})
    return pd.DataFrame(rows)


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
                       conversion="no single ratio (readmission baseline NOT FOUND): bounded, not pooled")
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


def design_analysis(se: float, baseline: float, national: pd.Series, yu_relative: float, n: int = 40) -> pd.DataFrame:
    """Gelman and Carlin's design analysis for a study with Wolverhampton's standard error, over true
    relative reductions from a tenth of the national study's lower bound up to the press release's
    figure; the national estimate and its interval, and Yu's implied figure, are flagged."""
    nat = 1 - float(national["estimate"])
    nat_lo, nat_hi = 1 - float(national["ci_high"]), 1 - float(national["ci_low"])
    grid = np.unique(np.concatenate([np.linspace(nat_lo / 2, yu_relative, n), [nat, nat_lo, nat_hi, yu_relative]]))
    rows = []
    for rel in grid:
        r = meta.retrodesign(rel * baseline, se)
        mark = ("national estimate" if np.isclose(rel, nat) else "national interval" if np.isclose(rel, nat_lo) or np.isclose(rel, nat_hi)
                else "press release (Yu)" if np.isclose(rel, yu_relative) else "")
        rows.append({"true_relative": rel, "true_effect": rel * baseline, "power": r["power"], "type_s": r["type_s"],
                     "exaggeration": r["exaggeration"], "marker": mark})
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


def portugal_verdict(bound: pd.DataFrame, lopes: pd.Series, denominators: str = "both", common_scale: bool = True,
                     odds: str = "as_ratio", control_risk: float | None = None) -> Verdict:
    """'Similar to Portugal', judged by the rubric's ``similarity`` rule at both ends of the bounded
    conversion of Wolverhampton's readmission effect, per registered patient (Yu's denominator) and
    per admission (Lopes's), and combined with ``all_of``: supported only if similar at every end on
    both denominators.

    The defaults are the chapter's; the robustness grid varies them: ``denominators`` ("both",
    "per_patient" or "per_admission"), whether the two ratios count as one scale (``common_scale``),
    and whether Lopes's odds ratio is taken as a risk ratio (``odds="as_ratio"``) or converted to one
    at the control group's readmission risk (``"zhang_yu"``: OR / (1 - p0 + p0 OR))."""
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
    parts = []
    for _, b in bound.iterrows():
        for denom, est, lo, hi in (("per registered patient", b["ratio"], b["ci_low"], b["ci_high"]),
                                   ("per admission", b["per_admission"], b["per_admission_low"], b["per_admission_high"])):
            if denominators != "both" and denom != PORTUGAL_DENOMINATORS[denominators]:
                continue
            w = {"label": "Wolverhampton (ratio)", "estimate": round(float(est), 3), "ci_low": round(float(lo), 3),
                 "ci_high": round(float(hi), 3), "null": 1.0}
            parts.append(relabel(similarity(w, pt, same_scale=common_scale), f"{b['end']}, {denom}"))
    return all_of(*parts)


#: which denominators the Portugal comparison is judged on
PORTUGAL_DENOMINATORS = {"both": None, "per_patient": "per registered patient", "per_admission": "per admission"}


def portugal_claim(est: pd.DataFrame, rep: dict, base: dict, denominators: str = "both", baseline: str = "envelope",
                   common_scale: bool = True, odds: str = "as_ratio") -> tuple[float, Verdict]:
    """The claim 'similar to Portugal' as the chapter emits it: the reproduced value (Wolverhampton's
    readmission ratio at the largest-effect end, per registered patient, or per admission when only
    that denominator is judged) and the verdict of :func:`portugal_verdict`. ``baseline="central"``
    ignores the rounding of the figures that imply the admission baseline."""
    if baseline == "central":
        base = dict(base, low=base["central"], high=base["central"])
    elif baseline != "envelope":
        raise ValueError(f"baseline must be 'envelope' or 'central', got {baseline!r}")
    bound = readmission_bound(est, rep, base)
    lopes = row(est, "lopes2017", "readmissions")
    end = bound.iloc[1]
    value = float(end["per_admission"] if denominators == "per_admission" else end["ratio"])
    verdict = portugal_verdict(bound, lopes, denominators, common_scale, odds, rep["lopes_crude_readmission_control"] / 100)
    return round(value, 3), verdict


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


def pvalues_claim(yu: dict, scale: str = "z", se_from: str = "interval") -> tuple[float, Verdict]:
    """The published p-values against those implied by the published intervals (normal theory),
    both outcomes judged by the rubric's ``rederived`` rule and combined with ``all_of``. ``scale``:
    compare |z| (the chapter's: rounding distorts it less) or the p-values themselves; ``se_from``:
    the standard error from the whole interval (the chapter's) or from its lower or upper half
    alone (the intervals are not exactly symmetric). Returns the admissions p implied (two
    significant figures) and the verdict."""
    from .verdicts import all_of, rederived

    parts, p_adm = [], None
    for key in ("admissions", "readmissions"):
        d = yu[key]
        if se_from == "interval":
            se = d["se"]
        elif se_from == "lower":
            se = (d["estimate"] - d["ci_low"]) / Z975
        elif se_from == "upper":
            se = (d["ci_high"] - d["estimate"]) / Z975
        else:
            raise ValueError(f"se_from must be 'interval', 'lower' or 'upper', got {se_from!r}")
        z = abs(d["estimate"]) / se
        p = p_from_estimate(d["estimate"], se)
        if scale == "z":
            parts.append(rederived(d["z_reported"], z))
        elif scale == "p":
            parts.append(rederived(d["p_reported"], p))
        else:
            raise ValueError(f"scale must be 'z' or 'p', got {scale!r}")
        if p_adm is None:
            p_adm = p
    return float(f"{p_adm:.2g}"), all_of(*parts)


def reduction_claim(yu: dict, outcomes: str = "both") -> tuple[float, Verdict]:
    """'A modest reduction in admissions or readmissions', judged by the rubric's ``reported_effect``
    rule on each outcome's interval at the rubric's ``interval_level`` (the published interval at its
    own level; at another level, the normal interval with the standard error the published one implies),
    combined with ``all_of``. ``outcomes``: "both" (the chapter's), "admissions" or "readmissions"."""
    from . import rubric
    from .verdicts import all_of, reported_effect

    level = float(rubric.param("reported_effect", "interval_level"))
    keys = {"both": ("admissions", "readmissions"), "admissions": ("admissions",), "readmissions": ("readmissions",)}
    if outcomes not in keys:
        raise ValueError(f"outcomes must be one of {tuple(keys)}, got {outcomes!r}")
    parts = []
    for key in keys[outcomes]:
        d = yu[key]
        if math.isclose(level, PUBLISHED_LEVEL):
            lo, hi = d["ci_low"], d["ci_high"]
        else:
            half = float(stats.norm.ppf(0.5 + level / 2)) * d["se"]
            lo, hi = d["estimate"] - half, d["estimate"] + half
        parts.append(reported_effect(0, lo, hi, "reduction"))
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


"""Figures for the workforce page, formatted from the analyses (glued by the notebook), and the few
sentences whose wording depends on the data (which way a change went, whether a month was a record)."""

from __future__ import annotations

import pandas as pd

from ..nb import NA
from ..nb import fmt as _fmt
from .analyses import ClaimResult, claim_fte_fallen, running_record
from .series import INTAKE_MONTHS, SEASONAL, SEASONAL_SHORT, Trend, TrendBootstrap, month_label, series

# --------------------------------------------------------------------------- text for the page

#: Definitions and dates quoted in the methods and caveats, kept here so the prose glues them.
FACTS = {
    "fte_hours": "37.5",  # NHS Digital: 1.0 FTE = 37.5 hours a week (contracted hours)
    "revision_aug": "August 2021",
    "revision_feb": "February 2022",
    "series_start": "September 2015",
    "monthly_from": "July 2021",
    "patients_break": "April/May 2024",
    "arrs_from": "October 2024",
}


def fte_facts(gp: pd.DataFrame, res: ClaimResult, baseline: str, comparison: str, vintage: str) -> dict[str, str]:
    """Strings for the claim-1 section (selected definition plus the two definitions the text contrasts)."""
    fq = claim_fte_fallen(gp, "fte", False, True, baseline, comparison, vintage)
    hc = claim_fte_fallen(gp, "headcount", True, True, baseline, comparison, vintage)
    fqc, hcc = fq.extra.get("change"), hc.extra.get("change")
    return {
        "baseline_label": month_label(baseline),
        "comparison_label": month_label(comparison),
        "vintage": vintage,
        "fte_sentence": res.detail,
        "fte_verdict": res.verdict.label,
        "fq_fte_baseline": _fmt(fqc.baseline.value) if fqc else NA,
        "fq_fte_comparison": _fmt(fqc.comparison.value) if fqc else NA,
        "fq_fte_change": _fmt(fqc.change, "{:+,.0f}") if fqc else NA,
        "fq_fte_change_pct": _fmt(fqc.pct, "{:+.1f}%") if fqc else NA,
        "hc_trainees_baseline": _fmt(hcc.baseline.value) if hcc else NA,
        "hc_trainees_comparison": _fmt(hcc.comparison.value) if hcc else NA,
        "hc_trainees_change": _fmt(hcc.change, "{:+,.0f}") if hcc else NA,
        "hc_trainees_change_pct": _fmt(hcc.pct, "{:+.1f}%") if hcc else NA,
    }


TREND_KEYS = ("trend_sentence", "trend_turn", "trend_n", "trend_start", "trend_break", "trend_after", "trend_verdict",
              "trend_verdict_lead", "trend_seasonal_label", "trend_season_sentence", "trend_intake_sentence",
              "trend_hc3_sentence", "trend_reps", "trend_seed", "trend_boot_sentence", "trend_break_share",
              "trend_break_range", "trend_before_boot", "trend_after_boot", "trend_derived_sentence",
              "trend_stated_sentence", "trend_yoy_sentence")


def _ci(ci) -> str:
    return f"{ci[0]:+,.0f} to {ci[1]:+,.0f}"


def _months_list(dates) -> str:
    labels = [month_label(d) for d in dates]
    if not labels:
        return "none"
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def trend_facts(trend: Trend | None, reason: str = "", boot: TrendBootstrap | None = None,
                stated: Trend | None = None, yoy: pd.DataFrame | None = None,
                seasonal: str = "sept_oct") -> dict[str, str]:
    """Strings for the trend section: the fit and its seasonal term, the HC3 intervals, the bootstrap
    of break and slopes (``boot``), the derived points, the fit on stated points only (``stated``)
    and the year-on-year changes (``yoy``). Without a trend, sentences that say so."""
    out = {k: NA for k in TREND_KEYS}
    out["trend_seasonal_label"] = SEASONAL[trend.seasonal if trend is not None else seasonal]
    out["trend_yoy_sentence"] = yoy_sentence(yoy) if yoy is not None else NA
    if trend is None:
        out.update({
            "trend_sentence": f"No trend could be fitted: {reason}.",
            "trend_turn": "No trend could be fitted to this vintage",
            "trend_intake_sentence": "",
            "trend_verdict_lead": "Without a trend, a rise since a trough is",
            "trend_derived_sentence": "no figure enters a fit in this vintage",
        })
        for k in ("trend_season_sentence", "trend_hc3_sentence", "trend_boot_sentence", "trend_stated_sentence"):
            out[k] = ""
        return out
    dates = list(trend.fitted["date"])
    intake = [d for d in dates if int(d[5:7]) in INTAKE_MONTHS]
    august = sum(int(d[5:7]) == 8 for d in dates)
    brk = month_label(trend.break_date)
    if trend.seasonal == "sept_oct":
        season = (f"September and October figures sit {trend.season_effect:+,.0f} FTE off the trend "
                  f"(95% interval {_ci(trend.season_ci)}).")
    elif trend.seasonal == "harmonic":
        season = f"The annual cycle swings {trend.season_effect:,.0f} FTE either side of the trend."
    else:
        season = "With no seasonal term, a September or October figure pulls the trend towards it."
    if trend.slope_before < 0 < trend.slope_after:
        turn = f"The fall is not the whole story: the trend turned in {brk} and has risen since"
    else:
        turn = f"The trend changed slope in {brk}"
    verdict_source = boot if boot is not None else trend
    out.update({
        "trend_sentence": (
            f"Fitted to the {trend.n} {trend.vintage}-vintage figures from {month_label(trend.start)} to "
            f"{month_label(trend.end)}, with {SEASONAL_SHORT[trend.seasonal]}, the segmented trend changes by "
            f"{trend.slope_before:+,.0f} FTE a year until {brk} and by {trend.slope_after:+,.0f} FTE a year after it."),
        "trend_turn": turn, "trend_n": f"{trend.n}", "trend_start": month_label(trend.start),
        "trend_break": brk, "trend_after": f"{trend.slope_after:+,.0f}",
        "trend_verdict": verdict_source.verdict_since_trough().label,
        "trend_verdict_lead": ("Judged by the bootstrap interval, a rise since the trough is" if boot is not None
                               else "Judged by the HC3 interval, which takes the break as known, a rise since the trough is"),
        "trend_season_sentence": season,
        "trend_intake_sentence": (
            f"Of the {trend.n} {trend.vintage}-vintage figures from {month_label(trend.start)} on, "
            f"{_count(len(intake), 'is', 'are')} for September or October ({_months_list(intake)}) "
            f"and {_count(august, 'is', 'are')} for August."),
        "trend_hc3_sentence": (f"HC3 95% intervals, which take the break as known, put the slope at {_ci(trend.before_ci)} "
                               f"FTE a year before it and {_ci(trend.after_ci)} after it."),
        "trend_derived_sentence": (
            f"{trend.n_derived:,} of the figures in the fit ({_months_list(trend.derived_dates)}) "
            f"{'is' if trend.n_derived == 1 else 'are'} derived from a reported difference rather than published"
            if trend.n_derived else "every figure in the fit is published as stated"),
        "trend_stated_sentence": (
            f"Fitted to the {stated.n} stated figures alone, the trend breaks in {month_label(stated.break_date)} and changes by "
            f"{stated.slope_after:+,.0f} FTE a year after it (HC3 95% interval {_ci(stated.after_ci)})."
            if stated is not None else "Without the derived figures too few remain to fit the trend."),
    })
    if boot is not None:
        lo, hi = boot.break_range
        out.update({
            "trend_reps": f"{boot.reps:,}", "trend_seed": f"{boot.seed}",
            "trend_break_share": f"{boot.share_at_estimate:.0%}", "trend_break_range": out_range(lo, hi),
            "trend_before_boot": _ci(boot.before_ci), "trend_after_boot": _ci(boot.after_ci),
            "trend_boot_sentence": (
                f"Across {boot.reps:,} replicates (seed {boot.seed}), {boot.share_at_estimate:.0%} put the break in {brk} "
                f"and 95% put it {'in' if lo == hi else 'between'} {out_range(lo, hi)}; with the break chosen again each time, "
                f"the slope is {_ci(boot.before_ci)} FTE a year before it and {_ci(boot.after_ci)} after it (95% intervals)."),
        })
    else:
        out["trend_boot_sentence"] = "The break was not bootstrapped in this run."
    return out


def trend_variants_display(variants: pd.DataFrame) -> pd.DataFrame:
    """The table of :func:`trend_variants` for the page."""
    def cell(v, ci):
        return NA if v is None or pd.isna(v) else f"{v:+,.0f} ({_ci(ci)})"

    return pd.DataFrame({
        "Seasonal term": variants["seasonal"].map(SEASONAL_SHORT),
        "Figures": variants["points"],
        "n": variants["n"],
        "Break": [NA if b is None or pd.isna(b) else month_label(b) for b in variants["break"]],
        "Slope before, FTE a year (HC3 95% interval)": [cell(v, c) for v, c in zip(variants["slope_before"], variants["before_ci"])],
        "Slope after, FTE a year (HC3 95% interval)": [cell(v, c) for v, c in zip(variants["slope_after"], variants["after_ci"])],
    })


def yoy_display(yoy: pd.DataFrame) -> pd.DataFrame:
    """The twelve-month changes for the page."""
    return pd.DataFrame({
        "From": yoy["from"].map(month_label), "To": yoy["to"].map(month_label),
        "FTE at start": yoy["start_value"], "FTE at end": yoy["end_value"], "change": yoy["change"],
        "An end derived": yoy["derived"],
    })


def out_range(lo: str, hi: str) -> str:
    return month_label(lo) if lo == hi else f"{month_label(lo)} and {month_label(hi)}"


def yoy_sentence(yoy: pd.DataFrame) -> str:
    """The twelve-month changes in words: how many falls and rises, and when the sign turned."""
    if yoy.empty:
        return "no two figures of this vintage are exactly twelve months apart"
    falls, rises = yoy[yoy["change"] < 0], yoy[yoy["change"] > 0]
    text = (f"of the {len(yoy):,} pairs of figures exactly twelve months apart, {_count(len(falls), 'shows', 'show')} a fall "
            f"and {_count(len(rises), 'shows', 'show')} a rise")
    if len(falls) and len(rises) and falls["to"].max() < rises["to"].min():
        text += (f"; every window ending by {month_label(falls['to'].max())} fell and every window ending from "
                 f"{month_label(rises['to'].min())} rose")
    return text


def appointment_facts(appts: pd.DataFrame, published: pd.DataFrame, res: ClaimResult, claimed: float, month: str) -> dict[str, str]:
    rec = running_record(appts)
    row = rec[rec["month"] == month]
    pub = published[published["date"] == month]

    def pubv(fig):
        v = pub.loc[pub["figure"] == fig, "value"]
        return float(v.iloc[0]) if not v.empty else None

    incl, vacc = pubv("appointments_incl_covid_vaccinations"), pubv("covid_vaccinations")
    out = {
        "appt_month": month_label(month),
        "appt_claimed": f"{claimed / 1e6:,.0f} million",
        "appt_incl_vacc": _fmt(incl / 1e6 if incl else None, "{:,.1f} million"),
        "appt_vacc": _fmt(vacc / 1e6 if vacc else None, "{:,.1f} million"),
        "appt_excl_published": _fmt((incl - vacc) / 1e6 if incl and vacc else None, "{:,.1f} million"),
        "appt_verdict": res.verdict.label,
        "appt_first": month_label(rec["month"].iloc[0]),
        "appt_last": month_label(rec["month"].iloc[-1]),
        "appt_n_records": f"{int(rec['is_record'].sum()) - 1}",
    }
    if row.empty:
        out.update({"appt_value": NA, "appt_prev_max": NA, "appt_prev_month": NA, "appt_exceeded": NA,
                    "appt_robust": "cannot be checked", "appt_is_record": NA})
        return out
    r = row.iloc[0]
    later = rec[(rec["month"] > month) & (rec["appointments"] > r["appointments"])]
    unflagged = rec[(~rec["flagged"]) & (rec["month"] < month)]
    robust = bool(r["appointments"] > unflagged["appointments"].max()) if not unflagged.empty else True
    out.update({
        "appt_value": f"{int(r['appointments']):,}",
        "appt_prev_max": _fmt(r["running_max_before"]),
        "appt_prev_month": month_label(r["running_max_before_month"]) if isinstance(r["running_max_before_month"], str) else NA,
        "appt_exceeded": (f"{month_label(later['month'].iloc[0])} ({int(later['appointments'].iloc[0]):,})"
                          if not later.empty else "no later month in the series"),
        "appt_robust": "remains" if robust else "does not remain",
        "appt_is_record": "yes" if bool(r["is_record"]) else "no",
    })
    return out


def loss_facts(windows: pd.DataFrame, res: ClaimResult, target: float, year: int) -> dict[str, str]:
    near = windows[windows["near_target"]]
    return {
        "loss_n_windows": f"{len(windows)}",
        "loss_n_near": f"{len(near)}",
        "loss_min": _fmt(windows["change"].min(), "{:+,.0f}"),
        "loss_max": _fmt(windows["change"].max(), "{:+,.0f}"),
        "loss_near_list": "; ".join(f"{r.what}, {r.window} ({r.vintage}): {r.change:+,.0f}" for r in near.itertuples()) or "none",
        "loss_year": f"{year}",
        "loss_target": f"{target:,.0f}",
        "loss_verdict": res.verdict.label,
        "loss_sentence": res.verdict.reason,
    }


def salaried_facts(res: ClaimResult, table: pd.DataFrame) -> dict[str, str]:
    return {
        "salaried_sentence": res.detail,
        "salaried_verdict": res.verdict.label,
        "salaried_value": _fmt(res.value if not isinstance(res.value, str) else None, "{:.1f}%"),
        "salaried_min": _fmt(table["salaried %"].min(), "{:.0f}%") if not table.empty else NA,
        "salaried_max": _fmt(table["salaried %"].max(), "{:.0f}%") if not table.empty else NA,
    }


def patients_facts(ratio: pd.DataFrame, res: ClaimResult) -> dict[str, str]:
    b, c = res.extra.get("baseline"), res.extra.get("comparison")
    return {
        "ppg_sentence": res.detail,
        "ppg_verdict": res.verdict.label,
        "ppg_n": f"{len(ratio)}",
        "ppg_baseline": _fmt(b["patients_per_gp"]) if b is not None else NA,
        "ppg_comparison": _fmt(c["patients_per_gp"]) if c is not None else NA,
        "ppg_comparison_label": month_label(c["date"]) if c is not None else NA,
        "ppg_change": _fmt(res.extra.get("change"), "{:+,.0f}"),
        "ppg_crosses_break": ("crosses" if res.extra.get("crosses_source_break") else "does not cross") if b is not None else "cannot be placed against",
    }


def fte_contrast(facts: dict[str, str]) -> str:
    """One sentence contrasting the named definition (FTE, fully qualified) with headcount including
    trainees, from the strings of :func:`fte_facts`."""
    fq, hc = facts["fq_fte_change"], facts["hc_trainees_change"]
    if NA in (fq, hc):
        return "One of the two definitions has no figure for both months in this vintage, so they cannot be set side by side."
    fell_fq, fell_hc = fq.startswith("-"), hc.startswith("-")
    if fell_fq and not fell_hc:
        return "So the claim holds for the definition it names and is reversed under the broadest one."
    if fell_fq and fell_hc:
        return "Both definitions show a fall over these months."
    if not fell_fq and fell_hc:
        return "The definition the claim names shows no fall over these months, though the broadest one does."
    return "Neither definition shows a fall over these months."


def fte_caveat(facts: dict[str, str], trend_sentence: str) -> str:
    return (f"FTE fully qualified GPs changed by {facts['fq_fte_change']} and headcount including trainees by "
            f"{facts['hc_trainees_change']} over the same months ({facts['vintage']} vintage). {trend_sentence} "
            "Figures are quotations of the official statistics, compared within one vintage only.")


def missing_septembers(gp: pd.DataFrame, measure: str, vintage: str, first: str, last: str) -> str:
    """The Septembers between ``first`` and ``last`` with no figure for ``measure`` in ``vintage``,
    written as ranges ('Sept 2016 to Sept 2021'), or 'none'."""
    have = set(series(gp, measure, vintage)["date"])
    years = [y for y in range(int(first[:4]), int(last[:4]) + 1) if f"{y}-09" not in have]
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"Sept {r[0]}" if len(r) == 1 else f"Sept {r[0]} to Sept {r[-1]}" for r in runs) or "none"


def appointment_sentences(facts: dict[str, str]) -> dict[str, str]:
    """The two sentences of the appointments section, worded from the computed facts."""
    m = facts["appt_month"]
    if facts["appt_value"] != NA and facts["appt_prev_max"] == NA:
        first = f"{m} had {facts['appt_value']} appointments but is the first month of the series, so it cannot be ranked."
    elif facts["appt_value"] == NA:
        first = f"{m} is not in the vendored monthly series ({facts['appt_first']} to {facts['appt_last']}), so its rank cannot be checked."
    else:
        if facts["appt_is_record"] == "yes":
            first = (f"{m} had {facts['appt_value']} appointments, above the earlier maximum of {facts['appt_prev_max']} "
                     f"({facts['appt_prev_month']}); it {facts['appt_robust']} a record when the months with partial "
                     f"coverage or first-published figures are set aside. A higher month first came in {facts['appt_exceeded']}.")
        else:
            first = (f"{m} had {facts['appt_value']} appointments, below the earlier maximum of {facts['appt_prev_max']} "
                     f"({facts['appt_prev_month']}), so it was not a record.")
    if facts["appt_incl_vacc"] == NA:
        second = f"No published total including COVID-19 vaccinations was found for {m}."
    else:
        second = (f"Including vaccinations, NHS Digital's estimate for the month was {facts['appt_incl_vacc']}, of which "
                  f"{facts['appt_vacc']} were vaccinations, leaving {facts['appt_excl_published']}.")
    return {"appt_sentence": first, "appt_vacc_sentence": second}


def patients_sentence(ratio: pd.DataFrame, published: pd.DataFrame, res: ClaimResult) -> dict[str, str]:
    """How the ratio moved, and how closely the computed ratios match the BMA's published ones."""
    pub = published[(published["figure"] == "patients_per_fte_fully_qualified_gp")]
    both = ratio[ratio["measure"] == "fte_fully_qualified"].merge(pub[["date", "vintage", "value"]], on=["date", "vintage"], how="inner")
    if res.extra.get("baseline") is None:
        move = f"Under this run's definition it cannot be compared: {res.verdict.reason}."
    else:
        b, c = res.extra["baseline"], res.extra["comparison"]
        word = "rose" if res.extra["change"] > 0 else "fell" if res.extra["change"] < 0 else "did not change"
        move = (f"It {word} from {b['patients_per_gp']:,.0f} ({month_label(b['date'])}) to {c['patients_per_gp']:,.0f} "
                f"({month_label(c['date'])}), a change of {res.extra['change']:+,.0f}.")
    if both.empty:
        check = "No published ratio exists for this definition and these months to check against."
    else:
        worst = float(((both["patients_per_gp"] - both["value"]).abs() / both["value"]).max())
        check = (f"At the {len(both)} months where the BMA published the ratio, the computed values are within "
                 f"{worst:.1%} of the published ones.")
    return {"ppg_move": move, "ppg_check": check}


def summary_markdown(results: dict[str, ClaimResult]) -> str:
    """One line per claim for the chapter summary: the verdict and its reason, for this run."""
    from ..claims import registry

    reg = registry()
    return "\n".join(f"- \u201c{reg[cid]['claim']}\u201d: **{r.verdict.label}**. {r.detail[0].upper() + r.detail[1:]}."
                     for cid, r in results.items())

"""The models chapter: the 2013 review of scaled primary care by the Nuffield Trust and The King's
Fund, the UK sites against its checklist, and the pressures behind the debate (the survey series on
booking appointments and satisfaction, and GPs per patient by deprivation).

Every figure the chapter states is computed here from the vendored files (``data/context_scaled_models.csv``,
``data/context_design_checklist.csv``, ``data/context_site_checklist.csv``,
``data/context_patient_experience.csv``, ``data/practice_workforce.csv``) or read from the published values
in ``claims/models.yml``, and tested in ``tests/test_models.py``. The site names, the published values
and the claims no data can test are shared with :mod:`vertint.context`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from . import claims, data, verdicts
from .context import NORTHUMBRIA, RWT, SHS, SWINDON, WALES, ContextError
from .verdicts import Verdict, not_reproducible

#: the sites described against the 2013 checklist (the national mapping is not a site)
CHECKLIST_SITES = [RWT, SHS, NORTHUMBRIA, SWINDON, WALES]
#: the countries the 2013 report says mirror the move to larger-scale primary care
MIRROR_COUNTRIES = ["New Zealand", "Netherlands", "Canada", "United States"]


class ModelsError(ContextError):
    pass


# --------------------------------------------------------------------------- loading


def models() -> pd.DataFrame:
    return data.load("context_scaled_models")


def checklist_items() -> pd.DataFrame:
    return data.load("context_design_checklist")


def site_evidence() -> pd.DataFrame:
    return data.load("context_site_checklist")


def patient_experience() -> pd.DataFrame:
    return data.load("context_patient_experience")


# --------------------------------------------------------------------------- models of scaled primary care


def model_summary(m: pd.DataFrame) -> dict:
    uk = m["country"] == "United Kingdom"
    present = [c for c in MIRROR_COUNTRIES if c in set(m["country"])]
    return {
        "models": int(len(m)), "types": int(m["organisational_type"].nunique()),
        "uk": int(uk.sum()), "international": int((~uk).sum()),
        "countries": int(m["country"].nunique()),
        "promising_types": int(m.loc[m["greatest_promise"].astype(bool), "organisational_type"].nunique()),
        "mirror_countries_present": len(present),
    }


def models_by_type(m: pd.DataFrame) -> pd.DataFrame:
    out = (m.assign(uk=m["country"] == "United Kingdom")
           .groupby(["organisational_type", "uk"], as_index=False).size()
           .rename(columns={"size": "models"}))
    out["where"] = out["uk"].map({True: "UK", False: "Outside the UK"})
    prom = m.groupby("organisational_type")["greatest_promise"].first().astype(bool)
    out["greatest_promise"] = out["organisational_type"].map(prom)
    return out[["organisational_type", "where", "models", "greatest_promise"]]


def models_chart(by_type: pd.DataFrame) -> alt.Chart:
    order = (by_type.groupby("organisational_type")["models"].sum().sort_values(ascending=False, kind="stable").index.tolist())
    return (
        alt.Chart(by_type)
        .mark_bar()
        .encode(
            y=alt.Y("organisational_type:N", title=None, sort=order, axis=alt.Axis(labelLimit=360)),
            x=alt.X("sum(models):Q", title="Models reviewed (count)", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("where:N", title="Where the model is"),
            opacity=alt.condition("datum.greatest_promise", alt.value(1.0), alt.value(0.55)),
            tooltip=["organisational_type", "where", "models", "greatest_promise"],
        )
        .properties(width=300, height=320)
    )


# --------------------------------------------------------------------------- the UK sites against the 2013 checklist


def checklist(items: pd.DataFrame, evidence: pd.DataFrame, sites_: list[str] = CHECKLIST_SITES) -> pd.DataFrame:
    """Items × sites: 'described' where a public source describes the site doing it, else blank."""
    unknown = set(evidence["site"]) - set(sites_)
    if unknown:
        raise ModelsError(f"evidence for sites outside the checklist: {sorted(unknown)}")
    grid = items[["item_id", "group", "item"]].copy()
    for site in sites_:
        got = set(evidence.loc[evidence["site"] == site, "item_id"])
        grid[site] = ["described" if i in got else "" for i in grid["item_id"]]
    return grid


def checklist_counts(grid: pd.DataFrame, sites_: list[str] = CHECKLIST_SITES) -> dict[str, int]:
    return {s: int((grid[s] == "described").sum()) for s in sites_}


#: column headings for the checklist table (explained in the chapter text)
ABBREV = {RWT: "RWT", SHS: "SHS", NORTHUMBRIA: "NPC", SWINDON: "GWH", WALES: "Wales"}


def checklist_display(grid: pd.DataFrame, sites_: list[str] = CHECKLIST_SITES) -> pd.DataFrame:
    """The checklist grid with short site names and a tick where a public source describes the item."""
    out = grid[["item_id", "item"]].rename(columns={"item_id": "", "item": "Function or principle"})
    for s in sites_:
        out[ABBREV[s]] = grid[s].map({"described": "✓", "": ""})
    return out


# --------------------------------------------------------------------------- the survey series


def survey_direction(df: pd.DataFrame, survey: str, measure: str, claimed: str, last_year: int | None,
                     same_series: bool = False) -> tuple[Verdict, dict]:
    """The rubric's ``direction`` rule on the latest two published figures of one survey measure up to
    ``last_year`` (publication year; None = all). A change that crosses a series break can at most
    partly support a direction (the rubric's rule on methodology breaks). With ``same_series`` only
    figures of the series of the latest one are compared (no change is read across a break)."""
    rows = df[(df["survey"] == survey) & (df["measure"] == measure)].sort_values("year")
    if last_year is not None:
        rows = rows[rows["published_year"] <= last_year]
    if same_series and len(rows):
        rows = rows[rows["series"] == rows["series"].iloc[-1]]
    if len(rows) < 2:
        return not_reproducible(f"{survey} {measure}: fewer than two published figures"
                                + (" in the latest series" if same_series else "")), {}
    a, b = rows.iloc[-2], rows.iloc[-1]
    v = verdicts.direction(float(b["value"]) - float(a["value"]), claimed)
    what = f"{measure.replace('_', ' ')}: {a['value']:g}% ({int(a['year'])}) to {b['value']:g}% ({int(b['year'])})"
    if a["series"] != b["series"]:
        v = verdicts.across_break(v, f"{what}, across a change of survey method ({a['series']} to {b['series']})")
    else:
        v = verdicts.relabel(v, what)
    return v, {"year": int(b["year"]), "what": what}


SURVEY_PAIRS = ("latest_two", "same_series")


def survey_claim(df: pd.DataFrame, claim_id: str, survey: str, measures: list[str], claimed: str,
                 pair: str = "latest_two") -> dict:
    """Keyword arguments for :func:`vertint.claims.emit`: a survey trend claim judged as of its date,
    and again on the latest figures. ``pair``: the latest two figures (default; across a break at most
    partly supported) or the latest two of the latest figure's series (never across a break)."""
    if pair not in SURVEY_PAIRS:
        raise ModelsError(f"pair={pair!r}: choose one of {', '.join(SURVEY_PAIRS)}")
    upto = int(claims.seen_up_to(claim_id)[:4])
    latest = df[df["survey"] == survey].sort_values("year").iloc[-1]
    now_measures = sorted(set(df[(df["survey"] == survey) & (df["series"] == latest["series"])]["measure"]))

    def judge(ms: list[str], last_year: int | None) -> tuple[Verdict, str, list[int]]:
        parts = [survey_direction(df, survey, m, claimed, last_year, same_series=pair == "same_series" and last_year is not None)
                 for m in ms]
        v = verdicts.all_of(*[p for p, _ in parts]) if len(parts) > 1 else parts[0][0]
        return v, "; ".join(x["what"] for _, x in parts if x), [x["year"] for _, x in parts if x]

    v_then, then_text, then_years = judge(measures, upto)
    v_now, now_text, _ = judge(now_measures, None)
    return {"reproduced": {"value": then_text, "unit": f"{survey.upper()} national figures"},
            "verdict": v_then,
            "as_of": {"date": str(max(then_years)) if then_years else str(upto), "figure": then_text,
                      "why": f"the latest two figures published up to {upto}, the last year the claim could have seen"},
            "now": {"verdict": v_now, "date": str(int(latest["year"])),
                    "note": f"{now_text} (the current series, {latest['series']})"}}


SURVEY_LABELS = {"gpps": "GP Patient Survey (England)", "bsa": "British Social Attitudes (Great Britain)"}
SERIES_LABELS = {"gpps-to-2023": "to 2023", "gpps-2024-new-series": "new questionnaire from 2024",
                 "bsa-face-to-face-to-2019": "face to face, to 2019", "bsa-push-to-web-from-2021": "online and phone, from 2021"}


def surveys_chart(df: pd.DataFrame) -> alt.FacetChart:
    """One panel per survey, one above the other; one line per measure and comparable series (never joined across a break)."""
    frame = df.copy()
    frame["survey_label"] = frame["survey"].map(SURVEY_LABELS)
    frame["line"] = (frame["measure"].str.replace("_", " ").str.replace("gp ", "GP ") + " ("
                     + frame["series"].map(SERIES_LABELS) + ")")
    base = alt.Chart(frame).encode(
        x=alt.X("year:Q", title="Year", axis=alt.Axis(format="d", tickMinStep=1, labelOverlap=True), scale=alt.Scale(zero=False)),
        y=alt.Y("value:Q", title="Per cent of respondents", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("line:N", title="Measure (series)", legend=alt.Legend(orient="bottom", columns=1, labelLimit=520)),
        detail="line:N",
        tooltip=["survey_label:N", "measure:N", "series:N", "year:O", alt.Tooltip("value:Q", format=".1f"), "publisher:N"],
    )
    return (base.mark_line(point=True)).properties(width=520, height=200).facet(
        row=alt.Row("survey_label:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start",
                                                                    labelOrient="top", labelFontWeight="bold"))
    ).resolve_scale(x="independent", color="independent")


# --------------------------------------------------------------------------- GPs per patient by deprivation


#: GPs are counted per this many registered patients (the usual NHS scale)
PER_PATIENTS = 10_000


def panel_year(workforce: pd.DataFrame, end: str) -> str:
    """The practice panel's financial year that ends in month ``end``."""
    years = [y for y in workforce["year"].unique() if claims.fy_end(y) == end]
    if not years:
        raise ModelsError(f"no financial year of the practice panel ends in {end}")
    return years[0]


def gp_per_10k_by_quintile(workforce: pd.DataFrame, year: str) -> pd.DataFrame:
    """Fully qualified GP FTE per 10,000 registered patients by practice deprivation quintile
    (1 least, 5 most deprived) in the practice panel's financial ``year``: practices with an FTE figure."""
    w = workforce[(workforce["year"] == year) & workforce["gp_fte"].notna() & workforce["imd_quintile"].notna()]
    g = w.groupby("imd_quintile", sort=True)[["gp_fte", "total_patients"]].sum()
    out = pd.DataFrame({"quintile": g.index.astype(int), "practices": w.groupby("imd_quintile").size().values,
                        "gp_fte": g["gp_fte"].values, "patients": g["total_patients"].values})
    out["gp_fte_per_10k"] = out["gp_fte"] / out["patients"] * PER_PATIENTS
    return out


def gp_per_10k_by_group(workforce: pd.DataFrame, year: str, measure: str = "fte", groups: str = "quintiles",
                        patients: str = "registered", payments: pd.DataFrame | None = None) -> pd.Series:
    """Fully qualified GPs (``measure`` "fte" or "headcount") per 10,000 patients by deprivation group
    (``groups``: the panel's quintiles, or deciles of the practices' IMD score, equal numbers of
    practices; the last group is the most deprived) in the panel's financial ``year``. ``patients``:
    the workforce file's registered patients, or the payments file's need-weighted (Carr-Hill) list for
    the same practice and year (``payments``)."""
    col = {"fte": "gp_fte", "headcount": "gp_hc"}.get(measure)
    if col is None:
        raise ModelsError(f"measure={measure!r}: choose 'fte' or 'headcount'")
    w = workforce[(workforce["year"] == year) & workforce["gp_fte"].notna() & workforce["imd_quintile"].notna()].copy()
    if patients == "weighted":
        pay = payments[payments["year"] == year][["practice_code", "weighted_patients"]]
        w = w.merge(pay, on="practice_code", how="inner")
        w = w[w["weighted_patients"] > 0]
        w["denominator"] = w["weighted_patients"].astype(float)
    elif patients == "registered":
        w["denominator"] = w["total_patients"].astype(float)
    else:
        raise ModelsError(f"patients={patients!r}: choose 'registered' or 'weighted'")
    if groups == "quintiles":
        w["group"] = w["imd_quintile"].astype(int)
    elif groups == "deciles":
        w["group"] = pd.qcut(w["imd_score"].rank(method="first"), 10, labels=False) + 1
    else:
        raise ModelsError(f"groups={groups!r}: choose 'quintiles' or 'deciles'")
    g = w.groupby("group", sort=True)[[col, "denominator"]].sum()
    return g[col] / g["denominator"] * PER_PATIENTS


def deprivation_claim(workforce: pd.DataFrame, claim_id: str, measure: str = "fte", groups: str = "quintiles",
                      patients: str = "registered", payments: pd.DataFrame | None = None) -> dict:
    """Keyword arguments for :func:`vertint.claims.emit`: the premise of 'GP shortages in impoverished
    areas', as fewer GPs per patient in the most deprived quintile of practices than in the least,
    in the latest panel year complete before the claim (and in the latest year, for *still true now*).
    The other arguments are the analytic choices of :func:`gp_per_10k_by_group` (the defaults are the
    chapter's)."""
    then = claims.last_financial_year(claim_id)
    years = set(workforce["year"].unique())
    if patients == "weighted":
        years &= set(payments["year"].unique())
    latest = max(years)
    what = "GP FTE" if measure == "fte" else "GPs (headcount)"
    per = f"{'need-weighted ' if patients == 'weighted' else ''}patients"
    band = "" if groups == "quintiles" else "; deciles"

    def judge(year):
        q = gp_per_10k_by_group(workforce, year, measure, groups, patients, payments)
        gap = float(q.iloc[-1] - q.iloc[0])
        text = f"{q.iloc[-1]:.2f} against {q.iloc[0]:.2f} {what} per {PER_PATIENTS:,} {per}, most against least deprived ({year}{band})"
        return verdicts.direction(gap, "fall"), text

    v_then, t_then = judge(then)
    v_now, t_now = judge(latest)
    return {"reproduced": {"value": t_then, "unit": "fully qualified GPs (excluding locums and trainees), practice panel"},
            "verdict": v_then,
            "as_of": {"date": claims.fy_end(then), "figure": t_then, "why": "the latest financial year of the practice panel that ended before the claim"},
            "now": {"verdict": v_now, "date": claims.fy_end(latest), "note": t_now}}

"""The workforce chapter's charts (altair, through the project theme in :mod:`vertint.charts`)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ..charts import BLUE, GOLD, GREY, INK, ORANGE
from .series import MEASURES, VINTAGES, Trend, TrendBootstrap, month_label, series  # noqa: F401

WORKFORCE_BREAKS = pd.DataFrame({
    "month": pd.to_datetime(["2021-07-01"]),
    "label": ["monthly collection from Jul 2021; series revised Aug 2021 and Feb 2022"],
})
PATIENT_BREAKS = pd.DataFrame({"month": pd.to_datetime(["2024-04-01"]), "label": ["patient source NHAIS to PDS (Apr/May 2024)"]})


def _rules(breaks: pd.DataFrame):
    return alt.Chart(breaks).mark_rule(strokeDash=[4, 3], color=GREY).encode(
        x="month:T", tooltip=[alt.Tooltip("label:N", title="break"), alt.Tooltip("month:T", title="from", format="%b %Y")])


def chart_workforce(gp: pd.DataFrame, measure: str, trend: Trend | None, boot: TrendBootstrap | None = None):
    """Figures for one measure in every vintage (colour; shape: stated or derived), with the series
    break and the fitted trend without its seasonal term (and, with ``boot``, its bootstrap band)."""
    rows = [series(gp, measure, v).assign(vintage=v) for v in VINTAGES]
    pts = pd.concat([r for r in rows if not r.empty], ignore_index=True)
    pts = pts[["date", "month", "value", "vintage", "how_obtained", "source_title"]]
    unit = "FTE" if measure.startswith("fte") else "headcount"
    base = alt.Chart(pts).encode(
        x=alt.X("month:T", title="Month"),
        y=alt.Y("value:Q", title=f"{MEASURES[measure][0].upper() + MEASURES[measure][1:]} ({unit})", scale=alt.Scale(zero=False)),
        color=alt.Color("vintage:N", title="Methodology vintage", sort=list(VINTAGES)),
    )
    layers = [base.mark_line(opacity=0.6), base.mark_point(filled=True, size=45).encode(
        shape=alt.Shape("how_obtained:N", title="Figure"),
        tooltip=[alt.Tooltip("date:N", title="month"), alt.Tooltip("value:Q", format=",.0f"), "vintage:N",
                 "how_obtained:N", alt.Tooltip("source_title:N", title="source")]), _rules(WORKFORCE_BREAKS)]
    data_out = pts.drop(columns="month")
    if boot is not None:
        curve = boot.curve
        layers.insert(0, alt.Chart(curve).mark_area(opacity=0.15, color=GREY).encode(
            x="month:T", y="low:Q", y2="high:Q",
            tooltip=[alt.Tooltip("date:N", title="month"), alt.Tooltip("low:Q", format=",.0f", title="trend, 95% low"),
                     alt.Tooltip("high:Q", format=",.0f", title="trend, 95% high")]))
        layers.append(alt.Chart(curve).mark_line(strokeDash=[2, 2], color=INK).encode(
            x="month:T", y="trend:Q", tooltip=[alt.Tooltip("date:N", title="month"), alt.Tooltip("trend:Q", format=",.0f", title="trend")]))
    elif trend is not None:
        layers.append(alt.Chart(trend.fitted).mark_line(strokeDash=[2, 2], color=INK).encode(
            x="month:T", y="trend:Q", tooltip=[alt.Tooltip("date:N", title="month"), alt.Tooltip("trend:Q", format=",.0f", title="trend")]))
    return alt.layer(*layers).properties(width="container"), data_out


def chart_break_distribution(boot: TrendBootstrap | None):
    """Where the bootstrap replicates put the trend's break: share of replicates by candidate month,
    the data's own choice marked. Without a bootstrap (no trend fitted), a chart that says so."""
    if boot is None:
        empty = pd.DataFrame({"note": ["no trend could be fitted to this vintage"]})
        return (alt.Chart(empty).mark_text(fontSize=13, color=GREY).encode(text="note:N").properties(width="container", height=60),
                pd.DataFrame(columns=["date", "label", "count", "share", "estimate"]))
    d = boot.breaks.assign(which=boot.breaks["estimate"].map({True: "chosen by the data", False: "other candidate month"}))
    bars = alt.Chart(d).mark_bar().encode(
        x=alt.X("label:N", title="Month of the break (candidate months only)", sort=list(d["label"]), axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("share:Q", title="Share of bootstrap replicates", axis=alt.Axis(format="%")),
        color=alt.Color("which:N", title=None, scale=alt.Scale(domain=["chosen by the data", "other candidate month"], range=[ORANGE, BLUE])),
        tooltip=[alt.Tooltip("label:N", title="month"), alt.Tooltip("count:Q", title="replicates"),
                 alt.Tooltip("share:Q", format=".1%", title="share")])
    return bars.properties(width="container", height=200), boot.breaks[["date", "label", "count", "share", "estimate"]]


def chart_appointments(rec: pd.DataFrame, highlight: str):
    d = rec[["date", "month", "appointments", "running_max", "release", "coverage", "first_published", "is_record"]].copy()
    d["appointments_m"] = d["appointments"].astype(float) / 1e6
    d["running_max_m"] = d["running_max"] / 1e6
    d["flag"] = np.where(d["coverage"] == "emis-tpp-only", "EMIS and TPP practices only",
                         np.where(d["first_published"].astype(bool), "first-published month", "full coverage of its release"))
    x = alt.X("date:T", title="Month")
    line = alt.Chart(d).mark_line(color=BLUE).encode(x=x, y=alt.Y("appointments_m:Q", title="Appointments, excl. COVID-19 vaccinations (millions)"))
    rmax = alt.Chart(d).mark_line(interpolate="step-after", color=ORANGE, strokeDash=[5, 3]).encode(x=x, y="running_max_m:Q")
    pts = alt.Chart(d).mark_point(filled=True, size=40).encode(
        x=x, y="appointments_m:Q",
        color=alt.Color("flag:N", title="Coverage", scale=alt.Scale(
            domain=["full coverage of its release", "EMIS and TPP practices only", "first-published month"],
            range=[BLUE, GOLD, ORANGE])),
        shape=alt.Shape("is_record:N", title="New record"),
        tooltip=[alt.Tooltip("month:N"), alt.Tooltip("appointments:Q", format=","), "release:N", "coverage:N", "first_published:N", "is_record:N"])
    rel = d.groupby("release", as_index=False)["date"].min().iloc[1:].assign(label=lambda f: "new release from " + f["release"])
    rel = rel.rename(columns={"date": "month"})
    hl = alt.Chart(d[d["month"] == highlight]).mark_text(dy=-12, fontSize=11, text="claimed record").encode(x=x, y="appointments_m:Q")
    return alt.layer(line, rmax, pts, _rules(rel), hl).properties(width="container"), d.drop(columns=["date"])


def chart_patients_per_gp(ratio: pd.DataFrame, published: pd.DataFrame):
    d = ratio[["date", "month", "patients", "gps", "patients_per_gp", "precision", "source_system"]].assign(series="computed here")
    pub = published[published["figure"] == "patients_per_fte_fully_qualified_gp"].copy()
    pub = pub[pub["vintage"] == "current"]
    pub = pd.DataFrame({"date": pub["date"], "month": pd.to_datetime(pub["date"] + "-01"), "patients_per_gp": pub["value"],
                        "series": "published (BMA)"})
    both = pd.concat([d, pub], ignore_index=True)
    x = alt.X("month:T", title="Month")
    pts = alt.Chart(both).mark_point(filled=False, strokeWidth=2).encode(
        x=x, y=alt.Y("patients_per_gp:Q", title="Registered patients per FTE fully qualified GP", scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title="Figure"), shape=alt.Shape("series:N", title="Figure"),
        size=alt.Size("series:N", legend=None, scale=alt.Scale(domain=["computed here", "published (BMA)"], range=[160, 40])),
        tooltip=[alt.Tooltip("date:N", title="month"), alt.Tooltip("patients_per_gp:Q", format=",.0f"), "series:N",
                 alt.Tooltip("source_system:N", title="patient source")])
    line = alt.Chart(d).mark_line(color=BLUE, opacity=0.5).encode(x=x, y="patients_per_gp:Q")
    return alt.layer(line, pts, _rules(PATIENT_BREAKS)).properties(width="container"), both.drop(columns="month")



"""The workforce chapter's claim analyses: each ``claim_*`` function judges one registered claim on
the series (:mod:`vertint.workforce.series`) with a rule of the declared rubric; where a datum does
not exist for a choice of definition, the verdict is ``not reproducible from public data``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import claims, rubric, verdicts
from ..nb import NA
from ..verdicts import SUPPORTED, Verdict
from .series import (
    CURRENT,
    MEASURE_CHOICES,
    MEASURES,
    NoDatum,
    _month_index,
    _select,
    change_between,
    check_month,
    check_order,
    check_vintage,
    compare,
    measure_key,
    month_label,
    point,
    same_vintage,
    series,
)

# --------------------------------------------------------------------------- claim results


@dataclass
class ClaimResult:
    """What a notebook needs to emit one claim: the reproduced value and unit, the verdict, and a
    sentence of detail (why, or why not reproducible)."""

    value: object
    unit: str
    verdict: Verdict
    detail: str
    extra: dict = field(default_factory=dict)

    @property
    def reproducible(self) -> bool:
        return self.verdict.label != verdicts.NOT_REPRODUCIBLE

    def reproduced(self) -> dict:
        return {"value": self.value, "unit": self.unit}


def _not_reproducible(reason: str, unit: str) -> ClaimResult:
    return ClaimResult(NA, unit, verdicts.not_reproducible(reason), reason)


def latest_month(df: pd.DataFrame, measure: str, vintage: str, on_or_before: str) -> str | None:
    """The latest month with a figure for ``measure`` in ``vintage`` on or before ``on_or_before``
    (a date YYYY-MM or YYYY-MM-DD): the figure a reader had when a claim was made."""
    s = series(df, measure, vintage)
    s = s[s["date"] <= on_or_before[:7]]
    return None if s.empty else str(s["date"].iloc[-1])


def share_months(df: pd.DataFrame, measure: str, include_trainees: bool, include_locums: bool, vintage: str) -> list[str]:
    """Months at which a salaried share can be had under one definition and vintage."""
    keys = [m for m in MEASURES if m.startswith("share_salaried") or m == "fte_salaried"]
    out = []
    for d in sorted(df[df["measure"].isin(keys) & (df["vintage"] == vintage)]["date"].unique()):
        try:
            salaried_share(df, measure, include_trainees, include_locums, d, vintage)
        except NoDatum:
            continue
        out.append(str(d))
    return out


def definition_label(measure: str, include_trainees: bool, include_locums: bool) -> str:
    base = "FTE" if measure == "fte" else "headcount"
    who = "GPs including trainees" if include_trainees else "fully qualified GPs"
    loc = "" if include_locums else ", excluding locums"
    return f"{base}, {who}{loc}"


def claim_fte_fallen(df: pd.DataFrame, measure: str, include_trainees: bool, include_locums: bool,
                     baseline: str, comparison: str, vintage: str) -> ClaimResult:
    """Claim 1: the number of GPs (under one definition) fell between ``baseline`` and ``comparison``."""
    check_order(baseline, comparison)
    check_vintage(vintage)
    definition = definition_label(measure, include_trainees, include_locums)
    unit = f"{'FTE' if measure == 'fte' else 'headcount'} change, {month_label(baseline)} to {month_label(comparison)}"
    try:
        key = measure_key(measure, include_trainees, include_locums)
        ch = change_between(df, key, baseline, comparison, vintage)
    except NoDatum as exc:
        return _not_reproducible(f"{definition}: {exc}", unit)
    verdict = verdicts.direction(ch.change, "fall")
    detail = (f"{definition}, {vintage} vintage: {ch.baseline.value:,.0f} in {ch.baseline.label}, "
              f"{ch.comparison.value:,.0f} in {ch.comparison.label} ({ch.change:+,.0f}, {ch.pct:+.1f}%)")
    return ClaimResult(round(ch.change), unit, verdict, detail, {"change": ch})


COMPARISON_RULES = ("latest", "same_month")


def month_before(month: str, months: int) -> str:
    """``month`` (YYYY-MM, or a longer date whose month is used) moved back by ``months`` months."""
    i = _month_index(check_month(month[:7], "month")) - int(months)
    return f"{i // 12}-{i % 12 + 1:02d}"


def fte_fallen_as_of(df: pd.DataFrame, measure: str, include_trainees: bool, include_locums: bool,
                     baseline: str, vintage: str, on_or_before: str, comparison_rule: str = "latest") -> ClaimResult:
    """Claim 1 as a reader could judge it on ``on_or_before`` (the rubric's ``timing.as_of``): the
    change from ``baseline`` to the latest figure of the same definition and vintage after it and on
    or before that date (``comparison_rule="latest"``), or to the latest figure of the baseline's
    calendar month (``"same_month"``: September to September, clear of the intake of newly qualified
    GPs each autumn). Not reproducible when no such figure exists. The comparison month is
    ``extra["month"]``."""
    check_month(baseline, "baseline")
    check_vintage(vintage)
    if comparison_rule not in COMPARISON_RULES:
        raise ValueError(f"comparison_rule must be one of {', '.join(COMPARISON_RULES)}, got {comparison_rule!r}")
    definition = definition_label(measure, include_trainees, include_locums)
    unit = f"{'FTE' if measure == 'fte' else 'headcount'} change from {month_label(baseline)}"
    try:
        key = measure_key(measure, include_trainees, include_locums)
    except NoDatum as exc:
        return _not_reproducible(f"{definition}: {exc}", unit)
    s = series(df, key, vintage)
    s = s[(s["date"] > baseline) & (s["date"] <= on_or_before[:7])]
    if comparison_rule == "same_month":
        s = s[s["date"].str[5:7] == baseline[5:7]]
    if s.empty:
        which = f"{month_label(baseline)[:-5]} figure" if comparison_rule == "same_month" else "figure"
        return _not_reproducible(f"{definition}, {vintage} vintage: no {which} after {month_label(baseline)} "
                                 f"and on or before {month_label(on_or_before[:7])}", unit)
    month = str(s["date"].iloc[-1])
    res = claim_fte_fallen(df, measure, include_trainees, include_locums, baseline, month, vintage)
    res.extra["month"] = month
    return res


def definitions_table(df: pd.DataFrame, baseline: str, comparison: str, vintage: str) -> pd.DataFrame:
    """Claim 1 under every definition (FTE/headcount x trainees x locums): value, change, verdict."""
    rows = []
    for measure in MEASURE_CHOICES:
        for trainees in (False, True):
            for locums in (True, False):
                res = claim_fte_fallen(df, measure, trainees, locums, baseline, comparison, vintage)
                ch = res.extra.get("change")
                rows.append({
                    "definition": definition_label(measure, trainees, locums),
                    "measure": measure, "include_trainees": trainees, "include_locums": locums,
                    month_label(baseline): ch.baseline.value if ch else np.nan,
                    month_label(comparison): ch.comparison.value if ch else np.nan,
                    "change": ch.change if ch else np.nan,
                    "verdict": res.verdict.label,
                    "why": res.verdict.reason,
                })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- salaried share


@dataclass
class Share:
    date: str
    vintage: str
    pct: float
    low: float
    high: float
    how: str


def share_near(claimed_pct: float, observed_pct: float) -> Verdict:
    """'Around a third' (``claimed_pct`` = 33.3): the rubric's ``simple_fraction`` rule, in percent."""
    fractions = [float(f) for f in rubric.param("simple_fraction", "fractions")]
    named = min(fractions, key=lambda f: abs(f - claimed_pct / 100))
    return verdicts.simple_fraction(named, observed_pct / 100)


def salaried_share(df: pd.DataFrame, measure: str, include_trainees: bool, include_locums: bool,
                   date: str, vintage: str = CURRENT) -> Share:
    """Salaried GPs as a percentage of GPs under one definition, at one date, in one vintage.

    In order: a published share (rounded to a whole per cent, so +/-0.5 points); a published share of
    fully qualified GPs re-based on the total including trainees (same date and vintage); or salaried
    FTE / fully qualified FTE. Otherwise :class:`NoDatum`.
    """
    check_month(date, "date")
    if measure not in MEASURE_CHOICES:
        raise ValueError(f"measure must be one of {', '.join(MEASURE_CHOICES)}, got {measure!r}")
    if not include_locums:
        raise NoDatum("published salaried shares count regular locums in the denominator; "
                      "no share of fully qualified GPs excluding locums was found")
    direct = f"share_salaried_{measure}" + ("_incl_trainees" if include_trainees else "")
    try:
        p = point(df, direct, date, vintage)
        return Share(date, vintage, p.value, p.value - 0.5, p.value + 0.5, f"published share ({p.source_title})")
    except NoDatum:
        pass
    if include_trainees:
        try:
            sh = point(df, f"share_salaried_{measure}", date, vintage)
            fq = point(df, f"{measure}_fully_qualified", date, vintage)
            allg = point(df, f"{measure}_incl_trainees", date, vintage)
        except NoDatum as exc:
            raise NoDatum(f"salaried share of {measure} including trainees in {month_label(date)}: {exc}") from None
        same_vintage(sh, fq, allg)
        pct = sh.value * fq.value / allg.value
        return Share(date, vintage, pct, (sh.value - 0.5) * fq.value / allg.value, (sh.value + 0.5) * fq.value / allg.value,
                     f"derived: {sh.value:g}% of {fq.value:,.0f} fully qualified, over {allg.value:,.0f} including trainees")
    if measure == "fte":
        try:
            sal = point(df, "fte_salaried", date, vintage)
            fq = point(df, "fte_fully_qualified", date, vintage)
        except NoDatum as exc:
            raise NoDatum(f"salaried share of FTE fully qualified GPs in {month_label(date)}: {exc}") from None
        pct = 100.0 * sal.value / fq.value
        return Share(date, vintage, pct, pct, pct, f"derived: {sal.value:,.0f} salaried FTE / {fq.value:,.0f} fully qualified FTE")
    raise NoDatum(f"no {vintage}-vintage salaried share of {measure} for {month_label(date)}")


def claim_salaried(df: pd.DataFrame, claimed_pct: float, measure: str, include_trainees: bool,
                   include_locums: bool, date: str, vintage: str) -> ClaimResult:
    definition = definition_label(measure, include_trainees, include_locums)
    unit = f"% salaried, {definition}, {month_label(date)}"
    try:
        sh = salaried_share(df, measure, include_trainees, include_locums, date, vintage)
    except NoDatum as exc:
        return _not_reproducible(f"{definition}: {exc}", unit)
    v = share_near(claimed_pct, sh.pct)
    return ClaimResult(round(sh.pct, 1), unit, v, f"{definition}, {vintage} vintage: {sh.pct:.1f}% ({sh.how})", {"share": sh})


def claim_salaried_as_of(df: pd.DataFrame, claimed_pct: float, measure: str, include_trainees: bool,
                         include_locums: bool, vintage: str, on_or_before: str) -> ClaimResult:
    """Claim 2 as a reader could judge it on ``on_or_before``: the latest salaried share under one
    definition and vintage dated on or before it; not reproducible when there is none (a later share
    is never used for the claim's date). The share's month is ``extra["share"].date``."""
    months = [d for d in share_months(df, measure, include_trainees, include_locums, vintage) if d <= on_or_before[:7]]
    if not months:
        definition = definition_label(measure, include_trainees, include_locums)
        return _not_reproducible(f"{definition}, {vintage} vintage: no salaried share on or before "
                                 f"{month_label(on_or_before[:7])}", f"% salaried, {definition}")
    return claim_salaried(df, claimed_pct, measure, include_trainees, include_locums, months[-1], vintage)


def salaried_table(df: pd.DataFrame, claimed_pct: float) -> pd.DataFrame:
    """Every salaried share the data support: date x vintage x definition, with a verdict on 'a third'."""
    measures = [m for m in MEASURES if m.startswith("share_salaried") or m == "fte_salaried"]
    keys = df[df["measure"].isin(measures)][["date", "vintage"]].drop_duplicates().sort_values(["date", "vintage"])
    rows = []
    for date, vintage in keys.itertuples(index=False):
        for measure in MEASURE_CHOICES:
            for trainees in (False, True):
                try:
                    sh = salaried_share(df, measure, trainees, True, date, vintage)
                except NoDatum:
                    continue
                rows.append({"month": month_label(date), "vintage": vintage,
                             "definition": definition_label(measure, trainees, True),
                             "salaried %": round(sh.pct, 1), "how": sh.how,
                             "verdict on 'a third'": share_near(claimed_pct, sh.pct).label})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- appointments


def running_record(appts: pd.DataFrame) -> pd.DataFrame:
    """Each month with the maximum of all earlier months and whether it set a new record."""
    out = appts.sort_values("month").reset_index(drop=True).copy()
    vals = out["appointments"].astype("float64")
    prev = vals.cummax().shift(1)
    out["running_max_before"] = prev
    out["running_max"] = vals.cummax()
    out["is_record"] = prev.isna() | (vals > prev)
    idx = [None] * len(out)
    best_i = None
    for i, v in enumerate(vals):
        idx[i] = out["month"].iloc[best_i] if best_i is not None else None
        if best_i is None or v > vals.iloc[best_i]:
            best_i = i
    out["running_max_before_month"] = idx
    out["flagged"] = (out["coverage"] == "emis-tpp-only") | out["first_published"].astype(bool)
    return out


def record_verdict(value: float, previous_max: float, previous_month: str) -> Verdict:
    """A 'record' claim: the rubric's ``record`` rule against every earlier month of the series."""
    return verdicts.record(value, previous_max, month_label(previous_month))


def latest_record_verdict(appts: pd.DataFrame) -> tuple[str, Verdict]:
    """Is the latest month of the series a record? (the 'still true now?' check of claim 3)"""
    rec = running_record(appts)
    last = rec.iloc[-1]
    return str(last["month"]), record_verdict(float(last["appointments"]), float(last["running_max_before"]),
                                              last["running_max_before_month"])


def claim_appointments_record(appts: pd.DataFrame, published: pd.DataFrame, claimed: float, month: str,
                              include_vaccinations: bool) -> ClaimResult:
    """Claim 3: a record number of appointments (``claimed``) in ``month``."""
    check_month(month, "record_month")
    if include_vaccinations:
        unit = f"appointments incl. COVID-19 vaccinations, {month_label(month)}"
        pub = published[(published["figure"] == "appointments_incl_covid_vaccinations") & (published["date"] == month)]
        if pub.empty:
            return _not_reproducible(f"no published total including COVID-19 vaccinations for {month_label(month)}", unit)
        value = float(pub["value"].iloc[0])
        closeness = verdicts.rounds_to(claimed, value, claims.precision("workforce-appointments-record"))
        reason = (f"including vaccinations, {month_label(month)} was {value:,.0f} (published estimate), "
                  f"{(value - claimed) / claimed:+.1%} from the claimed {claimed:,.0f}, so the claimed figure "
                  f"is not on this basis ({closeness.label} by closeness); no monthly series including "
                  f"vaccinations is published in machine-readable form, so whether it was a record on this "
                  f"basis cannot be checked")
        return ClaimResult(value, unit, verdicts.not_reproducible(reason), reason)
    unit = f"appointments excl. COVID-19 vaccinations, {month_label(month)}"
    rec = running_record(appts)
    row = rec[rec["month"] == month]
    if row.empty:
        return _not_reproducible(f"{month_label(month)} is outside the vendored monthly series "
                                 f"({month_label(rec['month'].iloc[0])} to {month_label(rec['month'].iloc[-1])})", unit)
    r = row.iloc[0]
    value = float(r["appointments"])
    if pd.isna(r["running_max_before"]):
        return _not_reproducible(f"{month_label(month)} is the first month of the series: there is nothing earlier to beat", unit)
    rv = record_verdict(value, float(r["running_max_before"]), r["running_max_before_month"])
    cv = verdicts.rounds_to(claimed, value, claims.precision("workforce-appointments-record"), "appointments")
    unflagged = rec[(~rec["flagged"]) & (rec["month"] < month)]
    robust = bool(value > unflagged["appointments"].max())
    later = rec[(rec["month"] > month) & (rec["appointments"] > value)]
    detail = (f"{value:,.0f} in {month_label(month)} against an earlier maximum of "
              f"{float(r['running_max_before']):,.0f} ({month_label(r['running_max_before_month'])})")
    return ClaimResult(int(value), unit, verdicts.all_of(rv, cv), detail,
                       {"row": r, "robust_to_flags": robust,
                        "first_exceeded": later["month"].iloc[0] if not later.empty else None,
                        "first_exceeded_value": float(later["appointments"].iloc[0]) if not later.empty else None})


# --------------------------------------------------------------------------- 12-month falls


def twelve_month_windows(df: pd.DataFrame, target: float, unit: float) -> pd.DataFrame:
    """Every pair of figures exactly 12 months apart, same measure and same vintage (via
    :func:`compare`), for FTE and headcount measures; with whether the fall rounds to ``target`` at
    the claim's own precision (``unit``), and whether either end was derived rather than stated."""
    rows = []
    counts = df[df["unit"].isin(["FTE", "headcount"])]
    for (measure, vintage), _ in counts.groupby(["measure", "vintage"], sort=True):
        s = _select(df, measure, vintage)
        by_date = {d: i for i, d in enumerate(s["date"])}
        for d in s["date"]:
            y, m = d.split("-")
            end = f"{int(y) + 1}-{m}"
            if end in by_date:
                ch = compare(point(df, measure, d, vintage), point(df, measure, end, vintage))
                rows.append({
                    "measure": measure, "what": MEASURES[measure], "vintage": vintage,
                    "start": d, "end": end, "window": f"{month_label(d)} to {month_label(end)}",
                    "start_value": ch.baseline.value, "end_value": ch.comparison.value,
                    "change": ch.change,
                    "near_target": verdicts.rounds_to(-target, ch.change, unit).label == SUPPORTED,
                    "derived": "derived" in (ch.baseline.how_obtained, ch.comparison.how_obtained),
                })
    cols = ["measure", "what", "vintage", "start", "end", "window", "start_value", "end_value", "change", "near_target", "derived"]
    return pd.DataFrame(rows, columns=cols).sort_values(["vintage", "measure", "start"]).reset_index(drop=True)


def loss_window_at(windows: pd.DataFrame, on_or_before: str, stated_only: bool = True):
    """The latest 12-month window whose two ends are both stated (not derived) and which ends on or
    before ``on_or_before`` (YYYY-MM): what a reader could have checked on that date. A derived end
    is excluded because it may have been computed from the very change being checked (with
    ``stated_only=False`` it is allowed)."""
    w = windows[windows["end"] <= on_or_before[:7]]
    if stated_only:
        w = w[~w["derived"]]
    return None if w.empty else w.sort_values("end").iloc[-1]


def claim_lost_400(df: pd.DataFrame, target: float, measure: str, include_trainees: bool, include_locums: bool,
                   vintage: str, on_or_before: str, stated_only: bool = True,
                   windows: pd.DataFrame | None = None) -> ClaimResult:
    """Claim 4, 'loses ``target`` in a year', judged on the latest stated 12-month window ending on or
    before ``on_or_before``, with the rubric's ``rounds_to`` rule at the claim's precision.
    ``stated_only=False`` also admits windows with a derived end; ``windows`` may pass
    :func:`twelve_month_windows` of ``df`` already computed."""
    definition = definition_label(measure, include_trainees, include_locums)
    unit = f"change over the 12 months to the latest stated window up to {month_label(on_or_before[:7])}, {definition}"
    try:
        key = measure_key(measure, include_trainees, include_locums)
    except NoDatum as exc:
        return _not_reproducible(f"{definition}: {exc}", unit)
    allw = twelve_month_windows(df, target, claims.precision("workforce-lost-400")) if windows is None else windows
    w = allw[(allw["measure"] == key) & (allw["vintage"] == vintage)]
    row = loss_window_at(w, on_or_before, stated_only)
    if row is None:
        return _not_reproducible(f"{definition}, {vintage} vintage: no 12-month window with two {'stated ' if stated_only else ''}ends up to "
                                 f"{month_label(on_or_before[:7])}", unit)
    v = verdicts.rounds_to(-target, float(row["change"]), claims.precision("workforce-lost-400"), row["window"])
    return ClaimResult(round(float(row["change"])), unit + f" ({row['window']})", v,
                       f"{row['window']}: {row['change']:+,.0f}", {"windows": w, "window": row})


# --------------------------------------------------------------------------- patients per GP


def patients_per_gp(gp: pd.DataFrame, patients: pd.DataFrame, measure: str = "fte_fully_qualified",
                    vintage: str = CURRENT) -> pd.DataFrame:
    """Registered patients per GP at each month where both a patient count and a GP figure of
    ``vintage`` exist (never mixing vintages: the GP figures all come from one)."""
    s = series(gp, measure, vintage)[["date", "month", "value", "how_obtained"]].rename(
        columns={"value": "gps", "how_obtained": "gp_how"})
    p = patients[["date", "patients", "precision", "source_system", "how_obtained"]].rename(columns={"how_obtained": "patients_how"})
    out = s.merge(p, on="date", how="inner").sort_values("date").reset_index(drop=True)
    out["patients_per_gp"] = out["patients"].astype(float) / out["gps"]
    out["vintage"] = vintage
    out["measure"] = measure
    return out


def claim_patients_per_gp(ratio: pd.DataFrame, published: pd.DataFrame, baseline: str, comparison: str,
                          definition: str, cross_check: bool = True) -> ClaimResult:
    """Claim 5: registered patients per GP rose from ``baseline`` to the latest paired month on or
    before ``comparison``; cross-checked against the BMA's published ratio for that month (unless
    ``cross_check`` is false: the direction alone)."""
    unit = f"registered patients per GP ({definition})"
    if ratio.empty:
        return _not_reproducible(f"{definition}: no month has both a registered-patient count and a GP figure", unit)
    base = ratio[ratio["date"] == baseline]
    if base.empty:
        return _not_reproducible(f"{definition}: no registered-patient count and GP figure both exist for {month_label(baseline)} "
                                 f"(paired months: {', '.join(month_label(d) for d in ratio['date'])})", unit)
    later = ratio[(ratio["date"] > baseline) & (ratio["date"] <= comparison)]
    if later.empty:
        return _not_reproducible(f"{definition}: no paired month after {month_label(baseline)} up to {month_label(comparison)}", unit)
    b, c = base.iloc[0], later.iloc[-1]
    change = float(c["patients_per_gp"] - b["patients_per_gp"])
    parts = [verdicts.direction(change, "rise")]
    pub = published[(published["figure"] == "patients_per_fte_fully_qualified_gp") & (published["date"] == c["date"])
                    & (published["vintage"] == c["vintage"])]
    if cross_check and not pub.empty and definition.startswith("FTE, fully qualified GPs") and "excluding" not in definition:
        parts.append(verdicts.rederived(float(pub["value"].iloc[0]), float(c["patients_per_gp"])))
    v = verdicts.all_of(*parts) if len(parts) > 1 else parts[0]
    detail = (f"{b['patients_per_gp']:,.0f} in {month_label(b['date'])}, {c['patients_per_gp']:,.0f} in "
              f"{month_label(c['date'])} ({change:+,.0f})")
    return ClaimResult(round(float(c["patients_per_gp"])), unit + f", {month_label(c['date'])}", v, detail,
                       {"baseline": b, "comparison": c, "change": change, "crosses_source_break": b["source_system"] != c["source_system"]})


def claim_patients_per_gp_as_of(gp: pd.DataFrame, patients: pd.DataFrame, published: pd.DataFrame, measure: str,
                                include_trainees: bool, include_locums: bool, vintage: str, baseline: str,
                                on_or_before: str, cross_check: bool = True) -> ClaimResult:
    """Claim 5 under one definition and vintage, from ``baseline`` to the latest paired month on or
    before ``on_or_before`` (the claim's date for the verdict, the comparison month for "now")."""
    definition = definition_label(measure, include_trainees, include_locums)
    try:
        key = measure_key(measure, include_trainees, include_locums)
    except NoDatum as exc:
        return _not_reproducible(f"{definition}: {exc}", f"registered patients per GP ({definition})")
    ratio = patients_per_gp(gp, patients, key, vintage)
    return claim_patients_per_gp(ratio, published, baseline, on_or_before[:7], definition, cross_check)


# --------------------------------------------------------------------------- summary and charts


def verdict_table(results: dict[str, ClaimResult]) -> pd.DataFrame:
    rows = []
    for cid, r in results.items():
        value = r.value if isinstance(r.value, str) else f"{r.value:,}"
        rows.append({"claim": cid, "reproduced": f"{value} {r.unit}", "verdict": r.verdict.label, "why": r.verdict.reason})
    return pd.DataFrame(rows)


#: Methodology and coverage breaks marked on the charts.

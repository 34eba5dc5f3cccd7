"""GP workforce and demand: the analysis behind ``notebooks/workforce.ipynb``.

Four vendored tables (see ``data/datapackage.yaml``):

- ``workforce_gp_datapoints``: national GP workforce figures, one row per (month, measure, vintage,
  source). NHS Digital revised the whole series back to Sept 2015 twice (Aug 2021 and Feb 2022), so
  every figure carries its **methodology vintage**, and :func:`compare` refuses to put figures of two
  vintages side by side.
- ``workforce_appointments_monthly``: appointments in general practice, excluding COVID-19
  vaccinations, with coverage flags.
- ``workforce_registered_patients``: registered patients, with the 2024 change of source flagged.
- ``workforce_published_figures``: published headline figures used as cross-checks.

Where a datum does not exist for a choice of definition, functions raise :class:`NoDatum` with the
reason; the ``claim_*`` functions turn that into the verdict ``not reproducible from public data``
instead of failing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import VertintError, claims, data, rubric, verdicts
from .verdicts import NOT_SUPPORTED, PARTLY, SUPPORTED, Verdict

CURRENT = "current"
#: Methodology vintages, as labelled in the data files (schema enum), with what each means.
VINTAGES = {
    "current": "current methodology (Dec 2021 release, published Feb 2022; series revised back to Sept 2015)",
    "current-2025-release": "current methodology, as re-published in a 2025 release",
    "aug-2021": "Aug 2021 methodology (no fully estimated records), superseded Feb 2022",
    "pre-aug-2021": "methodology before Aug 2021, superseded",
    "practice-csv-sum": "sum of NHS Digital practice-level CSVs (added by 'vertint data refresh'; excludes fully estimated records)",
}
#: Measures (schema enum of ``workforce_gp_datapoints.measure``) and how the chapter names them.
MEASURES = {
    "fte_fully_qualified": "FTE fully qualified GPs",
    "fte_fully_qualified_permanent": "FTE fully qualified GPs excluding locums",
    "fte_incl_trainees": "FTE GPs including trainees",
    "headcount_fully_qualified": "headcount of fully qualified GPs",
    "headcount_fully_qualified_permanent": "headcount of fully qualified GPs excluding locums",
    "headcount_incl_trainees": "headcount of GPs including trainees",
    "fte_partners": "FTE GP partners",
    "headcount_partners": "headcount of GP partners",
    "fte_salaried": "FTE salaried GPs",
    "fte_partners_salaried": "FTE partners and salaried GPs (excluding retainers, locums, registrars)",
    "fte_trainees": "FTE GPs in training",
    "headcount_locums_regular": "headcount of regular locums",
    "share_salaried_fte": "salaried share of fully qualified GPs (FTE)",
    "share_salaried_headcount": "salaried share of fully qualified GPs (headcount)",
    "share_salaried_headcount_incl_trainees": "salaried share of all GPs including trainees (headcount)",
}
MEASURE_CHOICES = ("fte", "headcount")
_MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")


class NoDatum(VertintError):
    """The public data hold no figure for this choice of definition, date or vintage."""


class VintageError(VertintError):
    """Two figures of different methodology vintages were about to be compared."""


# --------------------------------------------------------------------------- loading


def check_month(text: str, what: str = "month") -> str:
    """``YYYY-MM`` or a clear error naming the parameter."""
    if not isinstance(text, str) or not _MONTH.match(text):
        raise ValueError(f"{what} must be a month written YYYY-MM (e.g. 2015-09), got {text!r}")
    return text


def check_order(baseline: str, comparison: str) -> None:
    """Both months well formed and ``baseline`` strictly before ``comparison``."""
    check_month(baseline, "baseline")
    check_month(comparison, "comparison")
    if baseline >= comparison:
        raise ValueError(f"baseline ({baseline}) must be before comparison ({comparison})")


def check_vintage(vintage: str) -> str:
    if vintage not in VINTAGES:
        raise ValueError(f"vintage {vintage!r} is not one of {', '.join(VINTAGES)}")
    return vintage


def _month_index(text: str) -> int:
    y, m = text.split("-")
    return int(y) * 12 + int(m) - 1


def month_label(text: str) -> str:
    """'2015-09' -> 'Sept 2015' (NHS style for September)."""
    y, m = text.split("-")
    name = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"][int(m) - 1]
    return f"{name} {y}"


def load_gp() -> pd.DataFrame:
    """Validated GP workforce datapoints, with a ``month`` timestamp column."""
    df = data.load("workforce_gp_datapoints")
    df["month"] = pd.to_datetime(df["date"] + "-01")
    return df


def load_appointments() -> pd.DataFrame:
    df = data.load("workforce_appointments_monthly")
    df["date"] = pd.to_datetime(df["month"] + "-01")
    return df


def load_patients() -> pd.DataFrame:
    df = data.load("workforce_registered_patients")
    df["month"] = pd.to_datetime(df["date"] + "-01")
    return df


def load_published() -> pd.DataFrame:
    return data.load("workforce_published_figures")


# --------------------------------------------------------------------------- points and comparisons


@dataclass(frozen=True)
class Point:
    date: str
    measure: str
    value: float
    unit: str
    vintage: str
    how_obtained: str
    source_title: str
    source_url: str

    @property
    def label(self) -> str:
        return month_label(self.date)


@dataclass(frozen=True)
class Change:
    baseline: Point
    comparison: Point

    @property
    def change(self) -> float:
        return self.comparison.value - self.baseline.value

    @property
    def pct(self) -> float:
        return 100.0 * self.change / self.baseline.value


def measure_key(measure: str, include_trainees: bool, include_locums: bool) -> str:
    """The data measure for a definition; :class:`NoDatum` if no published series has it."""
    if measure not in MEASURE_CHOICES:
        raise ValueError(f"measure must be one of {', '.join(MEASURE_CHOICES)}, got {measure!r}")
    if include_trainees and not include_locums:
        raise NoDatum(
            "no published England total counts GPs in training while leaving out regular locums "
            "(totals including trainees always include locums)"
        )
    if include_trainees:
        return f"{measure}_incl_trainees"
    return f"{measure}_fully_qualified" + ("" if include_locums else "_permanent")


def _select(df: pd.DataFrame, measure: str, vintage: str) -> pd.DataFrame:
    """One value per month for a measure in one vintage: stated figures before derived ones."""
    sub = df[(df["measure"] == measure) & (df["vintage"] == vintage)].copy()
    sub["_rank"] = (sub["how_obtained"] != "stated").astype(int)
    sub = sub.sort_values(["date", "_rank"], kind="stable").drop_duplicates("date", keep="first")
    return sub.drop(columns="_rank").reset_index(drop=True)


def series(df: pd.DataFrame, measure: str, vintage: str = CURRENT) -> pd.DataFrame:
    """The single-vintage series for ``measure`` (month, value, how obtained, source)."""
    check_vintage(vintage)
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    return _select(df, measure, vintage)


def _nearest(df: pd.DataFrame, measure: str, date: str, vintage: str) -> str:
    sub = df[df["measure"] == measure]
    if sub.empty:
        return "the sources hold no figure for this measure at any date"
    same = sub[sub["vintage"] == vintage]
    hints = []
    if not same.empty:
        target = _month_index(date)
        dates = sorted(set(same["date"]), key=lambda d: (abs(_month_index(d) - target), d))
        hints.append(f"nearest {vintage} figures: {', '.join(month_label(d) for d in sorted(dates[:2]))}")
    other = sorted(set(sub.loc[(sub["date"] == date) & (sub["vintage"] != vintage), "vintage"]))
    if other:
        hints.append(f"{month_label(date)} exists only in the {', '.join(other)} vintage, which cannot be compared")
    return "; ".join(hints) if hints else f"no {vintage} figure for this measure at any date"


def point(df: pd.DataFrame, measure: str, date: str, vintage: str = CURRENT) -> Point:
    """The figure for ``measure`` at ``date`` in ``vintage``, or :class:`NoDatum` saying what exists."""
    check_month(date, "date")
    check_vintage(vintage)
    sub = _select(df, measure, vintage)
    sub = sub[sub["date"] == date]
    if sub.empty:
        raise NoDatum(
            f"no {vintage}-vintage figure for {MEASURES.get(measure, measure)} in {month_label(date)} "
            f"({_nearest(df, measure, date, vintage)})"
        )
    r = sub.iloc[0]
    return Point(r["date"], r["measure"], float(r["value"]), r["unit"], r["vintage"], r["how_obtained"],
                 r["source_title"], r["source_url"])


def same_vintage(*points: Point) -> str:
    """The one vintage of ``points``, or :class:`VintageError` naming the vintages found."""
    found = sorted({p.vintage for p in points})
    if len(found) > 1:
        where = ", ".join(f"{p.label} {p.measure} ({p.vintage})" for p in points)
        raise VintageError(f"refusing to combine figures of methodology vintages {' and '.join(repr(v) for v in found)}: {where}")
    return found[0]


def compare(baseline: Point, comparison: Point) -> Change:
    """The change between two figures of the same measure **and the same vintage**.

    Raises :class:`VintageError` naming both vintages if they differ: a 2019 figure of a superseded
    vintage cannot be differenced against a 2024 figure of the current one.
    """
    if baseline.vintage != comparison.vintage:
        raise VintageError(
            f"refusing to compare {MEASURES.get(baseline.measure, baseline.measure)} across methodology vintages: "
            f"{baseline.label} is from vintage {baseline.vintage!r}, {comparison.label} from vintage "
            f"{comparison.vintage!r}; the series was revised in between, so the difference would mix two methods"
        )
    if baseline.measure != comparison.measure:
        raise ValueError(f"refusing to compare two measures: {baseline.measure!r} and {comparison.measure!r}")
    return Change(baseline, comparison)


def change_between(df: pd.DataFrame, measure: str, baseline: str, comparison: str, vintage: str = CURRENT) -> Change:
    check_month(baseline, "baseline")
    check_month(comparison, "comparison")
    return compare(point(df, measure, baseline, vintage), point(df, measure, comparison, vintage))


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
    return ClaimResult("not available", unit, verdicts.not_reproducible(reason), reason)


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


# --------------------------------------------------------------------------- trend model


@dataclass
class Trend:
    measure: str
    vintage: str
    n: int
    start: str
    end: str
    break_date: str
    slope_before: float
    before_ci: tuple[float, float]
    slope_after: float
    after_ci: tuple[float, float]
    fitted: pd.DataFrame
    cov_type: str = "HC3"

    def verdict_since_trough(self) -> Verdict:
        """Direction of the trend since the break (the trough), judged by its 95% interval."""
        return verdicts.direction(self.slope_after, "rise", *self.after_ci)


def segmented_trend(df: pd.DataFrame, measure: str = "fte_fully_qualified", vintage: str = CURRENT,
                    start: str = "2021-01", min_side: int = 4) -> Trend:
    """Segmented (broken-stick) linear trend on the single-vintage points from ``start``.

    ``value = a + b*t + c*max(0, t - t_k)`` with t in years; the break t_k is the observed month that
    minimises the residual sum of squares among those leaving at least ``min_side`` points on each
    side. Standard errors are heteroskedasticity-robust (HC3). The interval does not reflect the
    uncertainty of choosing the break, nor the rounding of figures quoted by the press.
    """
    import statsmodels.api as sm

    pts = series(df, measure, vintage)
    pts = pts[pts["date"] >= check_month(start, "start")].reset_index(drop=True)
    n = len(pts)
    if n < 2 * min_side + 1:
        raise NoDatum(
            f"only {n} {vintage}-vintage figure(s) for {MEASURES[measure]} from {month_label(start)}: "
            f"a segmented trend needs at least {2 * min_side + 1}"
        )
    t = np.array([(_month_index(d) - _month_index(start)) / 12.0 for d in pts["date"]])
    y = pts["value"].to_numpy(dtype=float)
    best = None
    for k in range(min_side - 1, n - min_side):
        x = np.column_stack([np.ones(n), t, np.maximum(0.0, t - t[k])])
        ssr = float(np.sum((y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) ** 2))
        if best is None or ssr < best[0] - 1e-9:
            best = (ssr, k)
    k = best[1]
    x = np.column_stack([np.ones(n), t, np.maximum(0.0, t - t[k])])
    res = sm.OLS(y, x).fit(cov_type="HC3")
    lo_b, hi_b = res.conf_int(alpha=0.05)[1]
    tt = res.t_test(np.array([[0.0, 1.0, 1.0]]))
    lo_a, hi_a = np.asarray(tt.conf_int(alpha=0.05))[0]
    fitted = pd.DataFrame({"date": pts["date"], "month": pts["month"], "value": y, "fitted": res.fittedvalues})
    return Trend(measure, vintage, n, pts["date"].iloc[0], pts["date"].iloc[-1], pts["date"].iloc[k],
                 float(res.params[1]), (float(lo_b), float(hi_b)),
                 float(res.params[1] + res.params[2]), (float(lo_a), float(hi_a)), fitted)


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


def loss_window_at(windows: pd.DataFrame, on_or_before: str):
    """The latest 12-month window whose two ends are both stated (not derived) and which ends on or
    before ``on_or_before`` (YYYY-MM): what a reader could have checked on that date. A derived end
    is excluded because it may have been computed from the very change being checked."""
    w = windows[(~windows["derived"]) & (windows["end"] <= on_or_before[:7])]
    return None if w.empty else w.sort_values("end").iloc[-1]


def claim_lost_400(df: pd.DataFrame, target: float, measure: str, include_trainees: bool, include_locums: bool,
                   vintage: str, on_or_before: str) -> ClaimResult:
    """Claim 4, 'loses ``target`` in a year', judged on the latest stated 12-month window ending on or
    before ``on_or_before``, with the rubric's ``rounds_to`` rule at the claim's precision."""
    definition = definition_label(measure, include_trainees, include_locums)
    unit = f"change over the 12 months to the latest stated window up to {month_label(on_or_before[:7])}, {definition}"
    try:
        key = measure_key(measure, include_trainees, include_locums)
    except NoDatum as exc:
        return _not_reproducible(f"{definition}: {exc}", unit)
    allw = twelve_month_windows(df, target, claims.precision("workforce-lost-400"))
    w = allw[(allw["measure"] == key) & (allw["vintage"] == vintage)]
    row = loss_window_at(w, on_or_before)
    if row is None:
        return _not_reproducible(f"{definition}, {vintage} vintage: no 12-month window with two stated ends up to "
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
                          definition: str) -> ClaimResult:
    """Claim 5: registered patients per GP rose from ``baseline`` to the latest paired month on or
    before ``comparison``; cross-checked against the BMA's published ratio for that month."""
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
    if not pub.empty and definition.startswith("FTE, fully qualified GPs") and "excluding" not in definition:
        parts.append(verdicts.rederived(float(pub["value"].iloc[0]), float(c["patients_per_gp"])))
    v = verdicts.all_of(*parts) if len(parts) > 1 else parts[0]
    detail = (f"{b['patients_per_gp']:,.0f} in {month_label(b['date'])}, {c['patients_per_gp']:,.0f} in "
              f"{month_label(c['date'])} ({change:+,.0f})")
    return ClaimResult(round(float(c["patients_per_gp"])), unit + f", {month_label(c['date'])}", v, detail,
                       {"baseline": b, "comparison": c, "change": change, "crosses_source_break": b["source_system"] != c["source_system"]})


# --------------------------------------------------------------------------- summary and charts


def verdict_table(results: dict[str, ClaimResult]) -> pd.DataFrame:
    rows = []
    for cid, r in results.items():
        value = r.value if isinstance(r.value, str) else f"{r.value:,}"
        rows.append({"claim": cid, "reproduced": f"{value} {r.unit}", "verdict": r.verdict.label, "why": r.verdict.reason})
    return pd.DataFrame(rows)


#: Methodology and coverage breaks marked on the charts.
WORKFORCE_BREAKS = pd.DataFrame({
    "month": pd.to_datetime(["2021-07-01"]),
    "label": ["monthly collection from Jul 2021; series revised Aug 2021 and Feb 2022"],
})
PATIENT_BREAKS = pd.DataFrame({"month": pd.to_datetime(["2024-04-01"]), "label": ["patient source NHAIS to PDS (Apr/May 2024)"]})


def _rules(breaks: pd.DataFrame):
    import altair as alt

    return alt.Chart(breaks).mark_rule(strokeDash=[4, 3], color="#5f6b73").encode(
        x="month:T", tooltip=[alt.Tooltip("label:N", title="break"), alt.Tooltip("month:T", title="from", format="%b %Y")])


def chart_workforce(gp: pd.DataFrame, measure: str, trend: Trend | None):
    """Figures for one measure in every vintage (colour), with the series break and the fitted trend."""
    import altair as alt

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
    if trend is not None:
        fit = trend.fitted.assign(vintage="segmented trend (current)")
        layers.append(alt.Chart(fit).mark_line(strokeDash=[2, 2], color="#222222").encode(
            x="month:T", y="fitted:Q", tooltip=[alt.Tooltip("date:N", title="month"), alt.Tooltip("fitted:Q", format=",.0f", title="trend")]))
    return alt.layer(*layers).properties(width="container"), data_out


def chart_appointments(rec: pd.DataFrame, highlight: str):
    import altair as alt

    d = rec[["date", "month", "appointments", "running_max", "release", "coverage", "first_published", "is_record"]].copy()
    d["appointments_m"] = d["appointments"].astype(float) / 1e6
    d["running_max_m"] = d["running_max"] / 1e6
    d["flag"] = np.where(d["coverage"] == "emis-tpp-only", "EMIS and TPP practices only",
                         np.where(d["first_published"].astype(bool), "first-published month", "full coverage of its release"))
    x = alt.X("date:T", title="Month")
    line = alt.Chart(d).mark_line(color="#1f5f8b").encode(x=x, y=alt.Y("appointments_m:Q", title="Appointments, excl. COVID-19 vaccinations (millions)"))
    rmax = alt.Chart(d).mark_line(interpolate="step-after", color="#d1603d", strokeDash=[5, 3]).encode(x=x, y="running_max_m:Q")
    pts = alt.Chart(d).mark_point(filled=True, size=40).encode(
        x=x, y="appointments_m:Q",
        color=alt.Color("flag:N", title="Coverage", scale=alt.Scale(
            domain=["full coverage of its release", "EMIS and TPP practices only", "first-published month"],
            range=["#1f5f8b", "#b8860b", "#d1603d"])),
        shape=alt.Shape("is_record:N", title="New record"),
        tooltip=[alt.Tooltip("month:N"), alt.Tooltip("appointments:Q", format=","), "release:N", "coverage:N", "first_published:N", "is_record:N"])
    rel = d.groupby("release", as_index=False)["date"].min().iloc[1:].assign(label=lambda f: "new release from " + f["release"])
    rel = rel.rename(columns={"date": "month"})
    hl = alt.Chart(d[d["month"] == highlight]).mark_text(dy=-12, fontSize=11, text="claimed record").encode(x=x, y="appointments_m:Q")
    return alt.layer(line, rmax, pts, _rules(rel), hl).properties(width="container"), d.drop(columns=["date"])


def chart_patients_per_gp(ratio: pd.DataFrame, published: pd.DataFrame):
    import altair as alt

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
    line = alt.Chart(d).mark_line(color="#1f5f8b", opacity=0.5).encode(x=x, y="patients_per_gp:Q")
    return alt.layer(line, pts, _rules(PATIENT_BREAKS)).properties(width="container"), both.drop(columns="month")


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
NA = "not available"


def glue_all(facts: dict[str, str], prefix: str = "workforce_") -> dict[str, str]:
    """Glue already formatted strings under ``prefix + key`` (see :func:`vertint.nb.glue_text`)."""
    from .nb import glue_text

    for key, text in facts.items():
        glue_text(prefix + key, text, "{}")
    return facts


def claims_examined_markdown(chapter: str = "workforce") -> str:
    """The claims examined in this chapter, quoted from the registry, as a markdown list."""
    from .claims import registry

    lines = []
    for cid, rec in registry().items():
        if rec["chapter"] == chapter:
            lines.append(f"- {{ref}}`{cid} <{rec['section']}>`: \u201c{rec['claim']}\u201d ({rec['source']})")
    return "\n".join(lines)


def _fmt(x, spec: str = "{:,.0f}") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return NA
    return spec.format(x)


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


def trend_facts(trend: Trend | None, reason: str = "") -> dict[str, str]:
    if trend is None:
        return {"trend_sentence": f"No trend could be fitted: {reason}.", "trend_n": NA, "trend_break": NA,
                "trend_after": NA, "trend_verdict": NA}
    lo, hi = trend.after_ci
    blo, bhi = trend.before_ci
    sentence = (
        f"Fitted to the {trend.n} {trend.vintage}-vintage figures from {month_label(trend.start)} to "
        f"{month_label(trend.end)}, the segmented trend falls by {abs(trend.slope_before):,.0f} FTE a year "
        f"(95% interval {blo:+,.0f} to {bhi:+,.0f}) until {month_label(trend.break_date)} and changes by "
        f"{trend.slope_after:+,.0f} FTE a year after it (95% interval {lo:+,.0f} to {hi:+,.0f})."
    )
    return {"trend_sentence": sentence, "trend_n": f"{trend.n}", "trend_break": month_label(trend.break_date),
            "trend_after": f"{trend.slope_after:+,.0f}", "trend_verdict": trend.verdict_since_trough().label}


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


class Table:
    """A DataFrame shown as a plain, deterministic HTML table (no index; numbers formatted)."""

    def __init__(self, df: pd.DataFrame, signed: tuple[str, ...] = ("change",)):
        self.df = df
        self.signed = signed

    @staticmethod
    def _cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        if isinstance(v, (float, np.floating)):
            return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
        return str(v)

    def formatted(self) -> pd.DataFrame:
        out = self.df.astype(object).map(self._cell)
        for col in self.signed:
            if col in self.df:
                vals = pd.to_numeric(self.df[col], errors="coerce")
                out[col] = [("+" + t if v > 0 else t) if pd.notna(v) else t for v, t in zip(vals, out[col])]
        return out

    def _repr_html_(self):
        return self.formatted().to_html(index=False, border=0, classes="vertint-table", escape=True)

    def __repr__(self):
        return self.formatted().to_string(index=False)


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
    from .claims import registry

    reg = registry()
    return "\n".join(f"- \u201c{reg[cid]['claim']}\u201d: **{r.verdict.label}**. {r.detail[0].upper() + r.detail[1:]}."
                     for cid, r in results.items())

"""GP workforce series: loading the vendored tables, points of one methodology vintage, comparisons
that refuse mixed vintages, and the segmented trend model (statsmodels OLS, HC3 errors)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import VertintError, data, verdicts
from ..verdicts import Verdict

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



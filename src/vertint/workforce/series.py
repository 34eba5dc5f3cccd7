"""GP workforce series: loading the vendored tables, points of one methodology vintage, comparisons
that refuse mixed vintages, and the segmented trend model (statsmodels OLS, HC3 errors)."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field

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


#: :func:`_select`'s results by frame (its id, with a weak reference that tells a reused id from
#: the same frame) and (measure, vintage). The robustness grid asks the same loaded frame for the
#: same few series some thousand times; frames are loaded once and never changed in place.
_SELECTED: dict[int, tuple[weakref.ref, dict[tuple[str, str], pd.DataFrame]]] = {}


def _select(df: pd.DataFrame, measure: str, vintage: str) -> pd.DataFrame:
    """One value per month for a measure in one vintage: stated figures before derived ones (a
    copy, computed once per frame, measure and vintage)."""
    ref, done = _SELECTED.get(id(df), (None, None))
    if ref is None or ref() is not df:
        if len(_SELECTED) >= 32:
            _SELECTED.clear()
        ref, done = weakref.ref(df), {}
        _SELECTED[id(df)] = (ref, done)
    if (measure, vintage) not in done:
        sub = df[(df["measure"] == measure) & (df["vintage"] == vintage)].copy()
        sub["_rank"] = (sub["how_obtained"] != "stated").astype(int)
        sub = sub.sort_values(["date", "_rank"], kind="stable").drop_duplicates("date", keep="first")
        done[(measure, vintage)] = sub.drop(columns="_rank").reset_index(drop=True)
    return done[(measure, vintage)].copy()


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

#: Seasonal terms the trend can carry (parameter ``trend_seasonal``). GP specialty training ends in
#: late summer, so newly qualified GPs join the fully qualified count from August; the vendored
#: series has September and October figures but only one August, so the intake is modelled as a step
#: in September and October.
SEASONAL = {
    "sept_oct": "a step for September and October, when GPs who finished training in the summer have joined",
    "harmonic": "one annual sine and cosine pair",
    "none": "no seasonal term",
}
SEASONAL_SHORT = {"sept_oct": "a September-October step", "harmonic": "an annual cycle", "none": "no seasonal term"}
INTAKE_MONTHS = (9, 10)
#: Bootstrap replications in a smoke run (the parameter ``trend_reps`` sets the full number).
SMOKE_REPS = 50


def _season(months: np.ndarray, seasonal: str) -> np.ndarray:
    """Seasonal columns for calendar months 1-12 (``n`` x 0, 1 or 2)."""
    if seasonal not in SEASONAL:
        raise ValueError(f"trend_seasonal must be one of {', '.join(SEASONAL)}, got {seasonal!r}")
    m = np.asarray(months, dtype=float)
    if seasonal == "none":
        return np.zeros((len(m), 0))
    if seasonal == "sept_oct":
        return np.isin(m, INTAKE_MONTHS).astype(float).reshape(-1, 1)
    angle = 2 * np.pi * (m - 1) / 12
    return np.column_stack([np.sin(angle), np.cos(angle)])


def _design(t: np.ndarray, tk: float, season: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(t)), t, np.maximum(0.0, t - tk), season])


def _search(t: np.ndarray, Y: np.ndarray, season: np.ndarray, candidates: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """For each column of ``Y`` (n x B), the candidate break with the smallest residual sum of
    squares (the earliest on a tie) and the coefficients at that break (B x p)."""
    ssr, coefs = [], []
    for k in candidates:
        x = _design(t, t[k], season)
        q, r = np.linalg.qr(x)
        qty = q.T @ Y
        ssr.append(np.sum((Y - q @ qty) ** 2, axis=0))
        coefs.append(np.linalg.solve(r, qty).T)
    ssr = np.vstack(ssr)  # K x B
    best = np.argmin(np.round(ssr, 6), axis=0)
    return best, np.stack(coefs)[best, np.arange(Y.shape[1])]


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
    seasonal: str = "none"
    season_effect: float | None = None  # the September-October step (FTE), or the harmonic's amplitude
    season_ci: tuple[float, float] | None = None  # 95% interval of the step (sept_oct only)
    n_derived: int = 0
    derived_dates: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()  # months the break may sit at
    _arrays: dict = field(default_factory=dict, repr=False)

    def verdict_since_trough(self) -> Verdict:
        """Direction of the trend since the break (the trough), judged by its 95% interval."""
        return verdicts.direction(self.slope_after, "rise", *self.after_ci)


@dataclass
class TrendBootstrap:
    """A wild bootstrap of a :class:`Trend`: the break re-chosen with the slopes in each replicate."""

    trend: Trend
    reps: int
    seed: int
    breaks: pd.DataFrame  # date, label, count, share: where the replicates put the break
    break_range: tuple[str, str]  # the break months at the 2.5th and 97.5th percentiles
    share_at_estimate: float  # share of replicates that put the break where the data do
    before_ci: tuple[float, float]  # percentile 95% intervals, break chosen anew in each replicate
    after_ci: tuple[float, float]
    season_ci: tuple[float, float] | None
    curve: pd.DataFrame  # monthly: the trend without its seasonal term, with a pointwise 95% band

    def verdict_since_trough(self) -> Verdict:
        """Direction of the trend since the break, judged by the bootstrap interval of its slope
        (which carries the uncertainty of where the break is)."""
        return verdicts.direction(self.trend.slope_after, "rise", *self.after_ci)


def segmented_trend(df: pd.DataFrame, measure: str = "fte_fully_qualified", vintage: str = CURRENT,
                    start: str = "2021-01", min_side: int = 4, seasonal: str = "sept_oct",
                    stated_only: bool = False) -> Trend:
    """Segmented (broken-stick) linear trend on the single-vintage points from ``start``.

    ``value = a + b*t + c*max(0, t - t_k) + seasonal terms`` with t in years; the break t_k is the
    observed month that minimises the residual sum of squares among those leaving at least
    ``min_side`` points on each side. ``seasonal`` is one of :data:`SEASONAL` (default: a step for
    the September-October intake of newly qualified GPs). ``stated_only`` leaves out the points
    derived from reported differences (``how_obtained``). Standard errors are
    heteroskedasticity-robust (HC3); the interval does not reflect the uncertainty of choosing the
    break (see :func:`bootstrap_trend`), nor the rounding of figures quoted by the press.
    """
    import statsmodels.api as sm

    if seasonal not in SEASONAL:
        raise ValueError(f"trend_seasonal must be one of {', '.join(SEASONAL)}, got {seasonal!r}")
    pts = series(df, measure, vintage)
    pts = pts[pts["date"] >= check_month(start, "start")]
    if stated_only:
        pts = pts[pts["how_obtained"] == "stated"]
    pts = pts.reset_index(drop=True)
    n = len(pts)
    if n < 2 * min_side + 1:
        raise NoDatum(
            f"only {n} {vintage}-vintage figure(s) for {MEASURES[measure]} from {month_label(start)}: "
            f"a segmented trend needs at least {2 * min_side + 1}"
        )
    t = np.array([(_month_index(d) - _month_index(start)) / 12.0 for d in pts["date"]])
    months = np.array([int(d[5:7]) for d in pts["date"]])
    season = _season(months, seasonal)
    if season.shape[1] and np.linalg.matrix_rank(np.column_stack([np.ones(n), t, season])) < 2 + season.shape[1]:
        raise NoDatum(f"the {vintage}-vintage figures from {month_label(start)} cannot identify {SEASONAL[seasonal]} "
                      f"(no figure for {' or '.join(month_label(f'2000-{m:02d}')[:-5] for m in INTAKE_MONTHS)}, or no other month)")
    y = pts["value"].to_numpy(dtype=float)
    candidates = list(range(min_side - 1, n - min_side))
    best, _ = _search(t, y.reshape(-1, 1), season, candidates)
    k = candidates[int(best[0])]
    x = _design(t, t[k], season)
    res = sm.OLS(y, x).fit(cov_type="HC3")
    lo_b, hi_b = res.conf_int(alpha=0.05)[1]
    tt = res.t_test(np.array([[0.0, 1.0, 1.0] + [0.0] * season.shape[1]]))
    lo_a, hi_a = np.asarray(tt.conf_int(alpha=0.05))[0]
    effect, effect_ci = None, None
    if seasonal == "sept_oct":
        effect = float(res.params[3])
        effect_ci = tuple(float(v) for v in res.conf_int(alpha=0.05)[3])
    elif seasonal == "harmonic":
        effect = float(np.hypot(res.params[3], res.params[4]))
    trend_only = x[:, :3] @ res.params[:3]
    fitted = pd.DataFrame({"date": pts["date"], "month": pts["month"], "value": y, "fitted": res.fittedvalues,
                           "trend": trend_only, "how_obtained": pts["how_obtained"]})
    derived = tuple(pts.loc[pts["how_obtained"] != "stated", "date"])
    return Trend(measure, vintage, n, pts["date"].iloc[0], pts["date"].iloc[-1], pts["date"].iloc[k],
                 float(res.params[1]), (float(lo_b), float(hi_b)),
                 float(res.params[1] + res.params[2]), (float(lo_a), float(hi_a)), fitted,
                 seasonal=seasonal, season_effect=effect, season_ci=effect_ci,
                 n_derived=len(derived), derived_dates=derived,
                 candidates=tuple(pts["date"].iloc[candidates]),
                 _arrays={"t": t, "y": y, "season": season, "candidates": candidates, "k": k,
                          "x": x, "params": np.asarray(res.params), "start": start})


def bootstrap_trend(trend: Trend, reps: int, seed: int) -> TrendBootstrap:
    """Wild bootstrap of ``trend`` (Rademacher weights, numpy ``default_rng(seed)``): each replicate
    adds the fitted values to the leverage-adjusted residuals times random signs, then chooses the
    break again among the same candidate months and refits the slopes and the seasonal terms, so
    the slopes' intervals carry the uncertainty of where the break is. The design (the observed
    months) is kept fixed; residuals are not resampled in blocks, so autocorrelation between
    neighbouring months is not modelled."""
    if reps < 1:
        raise ValueError(f"trend_reps must be at least 1, got {reps}")
    a = trend._arrays
    t, y, season, candidates, x = a["t"], a["y"], a["season"], a["candidates"], a["x"]
    fit = x @ a["params"]
    h = np.einsum("ij,ji->i", x, np.linalg.pinv(x))
    resid = (y - fit) / np.sqrt(np.clip(1 - h, 1e-12, None))
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(len(y), reps))
    Y = fit[:, None] + resid[:, None] * signs
    best, coefs = _search(t, Y, season, candidates)
    ks = np.array(candidates)[best]
    dates = trend.fitted["date"].to_numpy()
    before = coefs[:, 1]
    after = coefs[:, 1] + coefs[:, 2]
    counts = pd.Series(dates[ks]).value_counts()
    breaks = pd.DataFrame({"date": list(trend.candidates)})
    breaks["count"] = breaks["date"].map(counts).fillna(0).astype(int)
    breaks["share"] = breaks["count"] / reps
    breaks["label"] = breaks["date"].map(month_label)
    breaks["estimate"] = breaks["date"] == trend.break_date
    lo_k, hi_k = np.quantile(ks, [0.025, 0.975], method="inverted_cdf")
    # the trend without its seasonal term, month by month, with a pointwise 95% band
    start = a["start"]
    grid_dates = [f"{(i // 12)}-{i % 12 + 1:02d}" for i in range(_month_index(trend.start), _month_index(trend.end) + 1)]
    tg = np.array([(_month_index(d) - _month_index(start)) / 12.0 for d in grid_dates])
    tk = t[ks]  # reps
    curves = coefs[:, [0]] + coefs[:, [1]] * tg[None, :] + coefs[:, [2]] * np.maximum(0.0, tg[None, :] - tk[:, None])
    p = a["params"]
    point = p[0] + p[1] * tg + p[2] * np.maximum(0.0, tg - t[a["k"]])
    band = np.quantile(curves, [0.025, 0.975], axis=0)
    curve = pd.DataFrame({"date": grid_dates, "month": pd.to_datetime([d + "-01" for d in grid_dates]),
                          "trend": point, "low": band[0], "high": band[1]})
    season_ci = None
    if trend.seasonal == "sept_oct":
        season_ci = tuple(float(v) for v in np.quantile(coefs[:, 3], [0.025, 0.975]))
    return TrendBootstrap(
        trend=trend, reps=reps, seed=seed, breaks=breaks,
        break_range=(str(dates[int(lo_k)]), str(dates[int(hi_k)])),
        share_at_estimate=float(np.mean(dates[ks] == trend.break_date)),
        before_ci=tuple(float(v) for v in np.quantile(before, [0.025, 0.975])),
        after_ci=tuple(float(v) for v in np.quantile(after, [0.025, 0.975])),
        season_ci=season_ci, curve=curve,
    )


def fit_trend(df: pd.DataFrame, vintage: str, seasonal: str, reps: int, seed: int,
              measure: str = "fte_fully_qualified") -> tuple[Trend | None, TrendBootstrap | None, Trend | None, str]:
    """The chapter's trend: the fit, its bootstrap and the fit on stated points only. Where the
    vintage holds too few points, (None, None, None, the reason); where only the stated-only fit
    fails, its slot is None."""
    try:
        trend = segmented_trend(df, measure, vintage, seasonal=seasonal)
    except NoDatum as exc:
        return None, None, None, str(exc)
    try:
        stated = segmented_trend(df, measure, vintage, seasonal=seasonal, stated_only=True)
    except NoDatum:
        stated = None
    return trend, bootstrap_trend(trend, reps, seed), stated, ""


def trend_variants(df: pd.DataFrame, measure: str = "fte_fully_qualified", vintage: str = CURRENT) -> pd.DataFrame:
    """The segmented trend under each seasonal term, on every point and on stated points only: the
    break and both slopes (HC3 95% intervals), or why it could not be fitted."""
    rows = []
    for seasonal in SEASONAL:
        for stated_only in (False, True):
            row = {"seasonal": seasonal, "points": "stated only" if stated_only else "stated and derived"}
            try:
                tr = segmented_trend(df, measure, vintage, seasonal=seasonal, stated_only=stated_only)
            except NoDatum as exc:
                rows.append({**row, "n": 0, "break": None, "slope_before": None, "before_ci": None,
                             "slope_after": None, "after_ci": None, "note": str(exc)})
                continue
            rows.append({**row, "n": tr.n, "break": tr.break_date, "slope_before": tr.slope_before, "before_ci": tr.before_ci,
                         "slope_after": tr.slope_after, "after_ci": tr.after_ci, "note": ""})
    return pd.DataFrame(rows)


def year_on_year(df: pd.DataFrame, measure: str = "fte_fully_qualified", vintage: str = CURRENT,
                 start: str = "2021-01") -> pd.DataFrame:
    """Changes over exactly twelve months between figures of one vintage from ``start``: each pair
    compares the same calendar month, so seasonality cancels. Says whether either end is derived."""
    pts = series(df, measure, vintage)
    pts = pts[pts["date"] >= check_month(start, "start")].set_index("date")
    rows = []
    for d in pts.index:
        later = f"{int(d[:4]) + 1}{d[4:]}"
        if later in pts.index:
            a, b = pts.loc[d], pts.loc[later]
            rows.append({"from": d, "to": later, "start_value": float(a["value"]), "end_value": float(b["value"]),
                         "change": float(b["value"] - a["value"]),
                         "derived": bool(a["how_obtained"] != "stated" or b["how_obtained"] != "stated")})
    return pd.DataFrame(rows, columns=["from", "to", "start_value", "end_value", "change", "derived"])

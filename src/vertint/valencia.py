"""Valencia (Alzira) and the international comparisons: the logic behind ``notebooks/valencia.md``.

Everything here works from the published, abstract-level figures vendored in ``data/valencia_*.csv``:

- :func:`resolve_counts` and :func:`reading_table` turn the published indicator counts of
  Comendeiro-Maaløe et al. (2019) into exact binomial sign tests of "Alzira was no better than its
  public peers", under each reading of the ties (indicators with no significant difference);
  :func:`no_better_verdict` turns the chosen reading into a verdict.
- :func:`timeline` / :func:`timeline_chart` / :func:`capitation_chart`: the concession as data.
- :func:`evidence_table`: each finding about Alzira, graded by the kind of source behind it.
- :func:`kaiser_table` / :func:`costs_similar_verdict`: the Kaiser Permanente and NHS cost comparison
  under the published adjustments, and how its conclusion turns on them.
- :func:`international_table` / :func:`merging_verdict`: the other countries and what transfers.

Verdicts returned here are :class:`vertint.verdicts.Verdict` objects made by rules, never typed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import pandas as pd
from scipy.stats import binomtest

from . import claims, data, verdicts
from .charts import GREY
from .verdicts import Verdict, not_reproducible

#: Order of the four numbers in the ``indicator_counts`` parameter.
COUNT_FIELDS = ("indicators_total", "worse_2015", "improved_more", "improved_less")
#: How indicators with no significant difference (ties) enter a sign test.
TIE_HANDLING = ("exclude", "split", "against", "favour")
TIE_LABELS = {
    "exclude": "ties excluded (standard sign test)",
    "split": "ties split evenly between the two sides",
    "against": "ties counted as not better (against Alzira)",
    "favour": "ties counted as better (for Alzira; an upper bound, not a fair reading)",
}
COST_ADJUSTMENTS = ("feachem2002", "unadjusted", "talbot_smith")
COST_SHORT = {"unadjusted": "Unadjusted", "feachem2002": "Feachem et al. adjusted", "talbot_smith": "Currency corrected"}
COST_LABELS = {
    "unadjusted": "Unadjusted",
    "feachem2002": "Feachem et al. 2002 adjustments",
    "talbot_smith": "Corrected currency conversion (Talbot-Smith et al.)",
}
#: "the early 2000s", read generously.
EARLY_2000S = (2000, 2005)
STRONG_KINDS = ("peer-reviewed", "official")
KIND_ORDER = ["peer-reviewed", "official", "press", "provider claim"]
MERGING_FORMS = ("single-provider contract", "public merger", "integrated insurer and provider")


_LOADED: dict[tuple[str, str], pd.DataFrame] = {}


def _load(name: str) -> pd.DataFrame:
    """``vertint.data.load`` (which validates hash and schema), once per resource per process."""
    from . import paths

    key = (str(paths.root()), name)
    if key not in _LOADED:
        _LOADED[key] = data.load(name)
    return _LOADED[key].copy()


class CountsError(ValueError):
    """The ``indicator_counts`` parameter cannot be read as four consistent counts."""


# --------------------------------------------------------------------------- the published counts


def published_counts() -> dict[str, int]:
    """The counts in the abstract of Comendeiro-Maaløe et al. (2019), from the vendored data."""
    df = _load("valencia_indicator_counts")
    return {str(q): int(v) for q, v in zip(df["quantity"], df["value"])}


def resolve_counts(indicator_counts) -> dict[str, int]:
    """The counts to analyse: the published ones if ``indicator_counts`` is empty, otherwise the four
    numbers given (total, worse in 2015, improved more, improved less), as ints or as strings from a
    command-line override (``-p valencia.indicator_counts=26,15,11,9``). Raises :class:`CountsError`."""
    pub = published_counts()
    if indicator_counts is None or len(indicator_counts) == 0:
        out = {k: pub[k] for k in COUNT_FIELDS}
        out["best_named_2015"] = pub["best_named_2015"]
        out["source"] = "published"
        return out
    if isinstance(indicator_counts, (str, bytes)) or len(indicator_counts) != len(COUNT_FIELDS):
        raise CountsError(f"indicator_counts needs {len(COUNT_FIELDS)} whole numbers ({', '.join(COUNT_FIELDS)}), got {indicator_counts!r}")
    values = []
    for name, raw in zip(COUNT_FIELDS, indicator_counts):
        if isinstance(raw, bool):
            raise CountsError(f"indicator_counts: {name} must be a whole number, got {raw!r}")
        if isinstance(raw, float) and not raw.is_integer():
            raise CountsError(f"indicator_counts: {name} must be a whole number, got {raw!r}")
        try:
            value = int(str(raw).strip()) if not isinstance(raw, (int, float)) else int(raw)
        except ValueError:
            raise CountsError(f"indicator_counts: {name} must be a whole number, got {raw!r}") from None
        if value < 0:
            raise CountsError(f"indicator_counts: {name} must not be negative, got {value}")
        values.append(value)
    total, worse, more, less = values
    if total == 0:
        raise CountsError("indicator_counts: the total number of indicators must be positive")
    if worse > total:
        raise CountsError(f"indicator_counts: worse_2015 ({worse}) exceeds the total ({total})")
    if more + less > total:
        raise CountsError(f"indicator_counts: improved_more + improved_less ({more + less}) exceeds the total ({total})")
    out = dict(zip(COUNT_FIELDS, values))
    # an override says nothing about named best indicators: keep the lower bound at zero unless consistent
    out["best_named_2015"] = min(pub["best_named_2015"], total - worse)
    out["source"] = "override"
    return out


@dataclass(frozen=True)
class SignTest:
    comparison: str  # "change_2003_2015" or "level_2015"
    reading: str  # one of TIE_HANDLING
    favour: int  # indicators counted for Alzira
    n: int  # indicators in the test
    ties_dropped: int
    p_better: float  # one-sided: P(at least `favour` of `n` | p = 0.5): evidence Alzira is better
    p_worse: float  # one-sided the other way: evidence Alzira is worse
    p_two_sided: float

    @property
    def against(self) -> int:
        return self.n - self.favour


def sign_test(favour: int, against: int, ties: int, tie_handling: str, comparison: str = "change_2003_2015") -> SignTest:
    """Exact binomial sign test (p = 0.5) with ties handled as ``tie_handling``.

    ``split`` with an odd number of ties drops one tie first (the usual convention), so every count
    stays whole."""
    if tie_handling not in TIE_HANDLING:
        raise ValueError(f"tie_handling must be one of {TIE_HANDLING}, got {tie_handling!r}")
    if min(favour, against, ties) < 0:
        raise ValueError("counts must not be negative")
    dropped = 0
    if tie_handling == "exclude":
        k, n, dropped = favour, favour + against, ties
    elif tie_handling == "split":
        dropped = ties % 2
        half = (ties - dropped) // 2
        k, n = favour + half, favour + against + ties - dropped
    elif tie_handling == "against":
        k, n = favour, favour + against + ties
    else:  # favour
        k, n = favour + ties, favour + against + ties
    if n == 0:
        return SignTest(comparison, tie_handling, 0, 0, dropped, 1.0, 1.0, 1.0)
    return SignTest(
        comparison,
        tie_handling,
        k,
        n,
        dropped,
        float(binomtest(k, n, 0.5, alternative="greater").pvalue),
        float(binomtest(k, n, 0.5, alternative="less").pvalue),
        float(binomtest(k, n, 0.5, alternative="two-sided").pvalue),
    )


def change_test(counts: dict, tie_handling: str) -> SignTest:
    """2003-2015 improvement: more vs less improvement than peers; the rest are ties."""
    more, less = counts["improved_more"], counts["improved_less"]
    ties = counts["indicators_total"] - more - less
    return sign_test(more, less, ties, tie_handling, "change_2003_2015")


def level_test(counts: dict) -> SignTest:
    """2015 levels: only "worse" vs "not worse" is published, so every indicator not worse is counted
    for Alzira (the most generous reading; ties cannot be separated). Tie handling does not apply."""
    worse = counts["worse_2015"]
    not_worse = counts["indicators_total"] - worse
    t = sign_test(not_worse, worse, 0, "exclude", "level_2015")
    return SignTest("level_2015", "not worse counted as better", t.favour, t.n, 0, t.p_better, t.p_worse, t.p_two_sided)


def level_test_bounds(counts: dict) -> tuple[float, float]:
    """One-sided p that Alzira is better in 2015 with ties excluded, over every split of the
    not-worse indicators into better and no-different consistent with the abstract (at least the
    named best indicators are better). Returns (smallest p, largest p)."""
    worse = counts["worse_2015"]
    not_worse = counts["indicators_total"] - worse
    low = max(counts.get("best_named_2015", 0), 0)
    ps = [binomtest(b, b + worse, 0.5, alternative="greater").pvalue for b in range(low, not_worse + 1) if b + worse > 0]
    return (float(min(ps)), float(max(ps))) if ps else (1.0, 1.0)


def significance_count_p(worse: int, total: int, level: float) -> float:
    """If Alzira matched the benchmark on every indicator and each test were independent at two-sided
    ``level``, each indicator would come out 'significantly worse' with probability level/2. This is
    the chance of ``worse`` or more such results. Indicators are not independent: a lower bound only."""
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    return float(binomtest(worse, total, level / 2, alternative="greater").pvalue)


def reading_table(counts: dict) -> pd.DataFrame:
    """Every reading of the counts as one table: comparison, reading, k of n, and the p-values."""
    rows = [level_test(counts)] + [change_test(counts, t) for t in TIE_HANDLING]
    names = {"level_2015": "2015 levels", "change_2003_2015": "Change 2003-2015"}
    out = pd.DataFrame(
        {
            "Comparison": [names[r.comparison] for r in rows],
            "Reading": [TIE_LABELS.get(r.reading, r.reading) for r in rows],
            "For Alzira": [f"{r.favour} of {r.n}" for r in rows],
            "p (Alzira better)": [r.p_better for r in rows],
            "p (Alzira worse)": [r.p_worse for r in rows],
            "p (two-sided)": [r.p_two_sided for r in rows],
        }
    )
    return out


def favour_upper(test: SignTest) -> float:
    """Upper end of the 90% Clopper-Pearson interval of the share of indicators in Alzira's favour."""
    if test.n == 0:
        return 1.0
    return float(binomtest(test.favour, test.n, 0.5).proportion_ci(confidence_level=0.90, method="exact").high)


def no_better_verdict(level: SignTest, change: SignTest) -> Verdict:
    """The claim that Alzira "did not appear to outperform": the rubric's ``not_better`` rule on each
    comparison (2015 levels, 2003-2015 change), combined with ``all_of``."""
    parts = [
        verdicts.not_better(level.p_better, favour_upper(level), f"2015 levels, {level.favour} of {level.n} not worse"),
        verdicts.not_better(change.p_better, favour_upper(change),
                            f"2003-2015 change ({TIE_LABELS[change.reading]}), {change.favour} of {change.n}"),
    ]
    return verdicts.all_of(*parts)


def fmt_p(p: float) -> str:
    """A p-value for prose: three decimals, or '< 0.001'."""
    if not math.isfinite(p):
        raise ValueError("p must be finite")
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def format_reading_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col in ("p (Alzira better)", "p (Alzira worse)", "p (two-sided)"):
        out[col] = out[col].map(fmt_p)
    return out


# --------------------------------------------------------------------------- the timeline


def timeline() -> pd.DataFrame:
    return _load("valencia_timeline")


TRACKS = {
    "contract_signed": "Contract",
    "hospital_concession": "Contract",
    "contract_rescinded": "Contract",
    "primary_care_added": "Contract",
    "reversion": "Contract",
    "public_provision_law": "Contract",
    "capitation": "Money",
    "capitation_increase": "Money",
    "rescue_payment": "Money",
    "operating_result": "Money",
    "population": "Population",
}


def timeline_chart_data(tl: pd.DataFrame) -> pd.DataFrame:
    """Dated rows only, with a track for the chart and a label that carries the value."""
    df = tl.dropna(subset=["year"]).copy()
    df["track"] = df["event"].map(TRACKS)
    unknown = df.loc[df["track"].isna(), "event"].unique().tolist()
    if unknown:
        raise ValueError(f"events without a chart track: {unknown}")

    def label(row):
        if pd.isna(row["value"]):
            return row["description"]
        v = row["value"]
        num = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
        return f"{row['description']}: {num} {row['unit']}"

    df["detail"] = df.apply(label, axis=1)
    df["year"] = df["year"].astype(int)
    return df[["year", "track", "event", "kind", "detail", "source_title", "source_url"]].reset_index(drop=True)


def _year_axis(domain: tuple[int, int]) -> alt.X:
    return alt.X("year:Q", title="Year", scale=alt.Scale(domain=list(domain), zero=False, nice=False),
                 axis=alt.Axis(format="d", tickMinStep=1, labelOverlap=True))


def _year_marks(marks: pd.DataFrame, domain: tuple[int, int]) -> alt.LayerChart:
    """Dashed rules at the given years, each labelled on the side away from the chart's edge."""
    mid = (domain[0] + domain[1]) / 2
    marks = marks.assign(align=marks["year"].map(lambda y: "left" if y < mid else "right"),
                         dx=marks["year"].map(lambda y: 4 if y < mid else -4))
    x = alt.X("year:Q", scale=alt.Scale(domain=list(domain), zero=False, nice=False))
    rules = alt.Chart(marks).mark_rule(strokeDash=[4, 3], color=GREY).encode(x=x)
    left = alt.Chart(marks[marks["align"] == "left"]).mark_text(align="left", dx=4, baseline="top", fontSize=11, color=GREY).encode(
        x=x, y=alt.value(2), text="note:N")
    right = alt.Chart(marks[marks["align"] == "right"]).mark_text(align="right", dx=-4, baseline="top", fontSize=11, color=GREY).encode(
        x=x, y=alt.value(2), text="note:N")
    return alt.layer(rules, left, right)


TIMELINE_YEARS = (1996, 2019)


def timeline_chart(df: pd.DataFrame) -> alt.LayerChart:
    """Events by year on three tracks, coloured and shaped by the kind of source."""
    points = alt.Chart(df).mark_point(size=110, filled=True, opacity=0.85).encode(
        x=_year_axis(TIMELINE_YEARS),
        y=alt.Y("track:N", title=None, sort=["Contract", "Money", "Population"]),
        yOffset=alt.YOffset("kind:N", sort=KIND_ORDER, scale=alt.Scale(domain=KIND_ORDER)),
        color=alt.Color("kind:N", title="Source", sort=KIND_ORDER, scale=alt.Scale(domain=KIND_ORDER)),
        shape=alt.Shape("kind:N", title="Source", sort=KIND_ORDER, scale=alt.Scale(domain=KIND_ORDER)),
        tooltip=[alt.Tooltip("year:Q", title="Year", format="d"), alt.Tooltip("detail:N", title="Event"),
                 alt.Tooltip("kind:N", title="Source kind"), alt.Tooltip("source_title:N", title="Source")],
    )
    marks = pd.DataFrame({"year": [2003, 2018], "note": ["Primary care added", "Reversion"]})
    return alt.layer(_year_marks(marks, TIMELINE_YEARS), points).properties(width=520, height=260)


def capitation_series(tl: pd.DataFrame) -> pd.DataFrame:
    """Capitation per inhabitant by year (press figures, nominal euros), with the scope of care."""
    df = tl[(tl["event"] == "capitation") & tl["year"].notna()].copy()
    df["year"] = df["year"].astype(int)
    df["scope"] = df["year"].map(lambda y: "Hospital care only" if y < 2003 else "Hospital and primary care")
    return df[["year", "value", "unit", "scope", "kind", "source_title"]].rename(columns={"value": "eur_per_inhabitant"}).reset_index(drop=True)


CAPITATION_YEARS = (1998, 2019)


def capitation_chart(df: pd.DataFrame) -> alt.LayerChart:
    points = alt.Chart(df).mark_point(size=120, filled=True).encode(
        x=_year_axis(CAPITATION_YEARS),
        y=alt.Y("eur_per_inhabitant:Q", title="Capitation (euros per inhabitant per year, nominal)", scale=alt.Scale(zero=True)),
        color=alt.Color("scope:N", title="Care covered", sort=["Hospital care only", "Hospital and primary care"]),
        tooltip=[alt.Tooltip("year:Q", format="d", title="Year"), alt.Tooltip("eur_per_inhabitant:Q", title="Euros per inhabitant"),
                 alt.Tooltip("scope:N", title="Care covered"), alt.Tooltip("kind:N", title="Source kind"),
                 alt.Tooltip("source_title:N", title="Source")],
    )
    brk = pd.DataFrame({"year": [2003], "note": ["Series break: primary care added"]})
    return alt.layer(_year_marks(brk, CAPITATION_YEARS), points).properties(width=520, height=260)


def capitation_check(tl: pd.DataFrame) -> dict:
    """Cross-check two press sources: the rise from the last pre-2003 capitation to the 2003 one,
    against the percentage rise reported separately."""
    cap = tl[tl["event"] == "capitation"]
    before = float(cap[cap["year"].isna()]["value"].iloc[0])  # the undated 'soon after' rise
    after = float(cap[cap["year"] == 2003]["value"].iloc[0])
    reported = float(tl[tl["event"] == "capitation_increase"]["value"].iloc[0])
    computed = (after / before - 1) * 100
    return {"before": before, "after": after, "computed_pct": computed, "reported_pct": reported}


def event_verdict(tl: pd.DataFrame, event: str, years: tuple[int, int] | None = None) -> Verdict:
    """Is an event documented (within ``years`` if given)? The rubric's ``dated_event`` rule over the
    timeline's dated rows for ``event``."""
    rows = tl[tl["event"] == event].dropna(subset=["year"])
    return verdicts.dated_event(repr(event), [(int(y), k) for y, k in zip(rows["year"], rows["kind"])], years)


# --------------------------------------------------------------------------- the evidence grades


def grade(kind: str, design: str, alzira_specific: bool) -> tuple[str, str]:
    """What a finding of this kind and design can support, and how this chapter uses it."""
    if kind == "peer-reviewed" and alzira_specific:
        return ("An association between Alzira and its performance relative to all public peers, "
                "adjusted for age, sex and risk; not a causal effect of integration", "used in the verdict")
    if kind == "peer-reviewed":
        return ("How concession (PPP) hospitals compare in general; nothing specific to Alzira's "
                "integrated primary care", "context only")
    if kind == "official":
        return ("Facts about the contract and the population covered", "used for the timeline")
    if kind == "press":
        return ("That a figure was reported; method, period and comparator cannot be checked", "not used as evidence")
    if kind == "provider claim":
        return ("That the provider made the claim; no independent check or published method", "not used as evidence")
    raise ValueError(f"unknown kind {kind!r}")


def evidence_table() -> pd.DataFrame:
    """The graded evidence table, ordered from strongest to weakest kind of source."""
    ev = _load("valencia_evidence")
    graded = [grade(k, d, bool(a)) for k, d, a in zip(ev["kind"], ev["design"], ev["alzira_specific"])]
    ev["can_support"] = [g[0] for g in graded]
    ev["use"] = [g[1] for g in graded]
    ev["order"] = ev["kind"].map(KIND_ORDER.index)
    return ev.sort_values("order", kind="stable").drop(columns="order").reset_index(drop=True)


def evidence_display(ev: pd.DataFrame) -> pd.DataFrame:
    """Four narrow columns for the page."""
    return pd.DataFrame(
        {
            "Finding (source)": [f"{f} ({s})" for f, s in zip(ev["finding"], ev["source_short"])],
            "Kind": ev["kind"],
            "What it can support": ev["can_support"],
            "Use here": ev["use"],
        }
    )


def provider_claim_verdict(ev: pd.DataFrame, claim_id: str) -> Verdict:
    """A press or provider figure without published method or data cannot be reproduced."""
    row = ev[ev["id"] == claim_id]
    if row.empty:
        raise KeyError(claim_id)
    r = row.iloc[0]
    if r["kind"] in STRONG_KINDS and bool(r["underlying_data_public"]):
        raise ValueError(f"{claim_id}: has public data; judge it with a numeric rule instead")
    return not_reproducible(
        f"a {r['kind']} ({r['source_short']}); the comparison's method, period and underlying data "
        "are not published, so the figure cannot be recomputed")


# --------------------------------------------------------------------------- Kaiser Permanente vs NHS


def kaiser_year() -> int:
    """The cost year of the Kaiser comparison."""
    years = _load("valencia_kaiser_costs")["year"].unique()
    if len(years) != 1:
        raise ValueError(f"valencia_kaiser_costs: expected one cost year, found {list(years)}")
    return int(years[0])


def kaiser_table() -> pd.DataFrame:
    """One row per adjustment: NHS and Kaiser cost per person (US$, 2000), the gap, which is cheaper."""
    k = _load("valencia_kaiser_costs")
    wide = k.pivot(index="adjustment", columns="system", values="usd_per_capita").reindex(list(COST_ADJUSTMENTS))
    if wide.isna().any().any():
        raise ValueError("valencia_kaiser_costs: every adjustment needs an NHS and a Kaiser row")
    out = pd.DataFrame({"adjustment": wide.index, "nhs": wide["NHS"].to_numpy(), "kaiser": wide["Kaiser"].to_numpy()})
    out["gap"] = out["kaiser"] - out["nhs"]
    out["gap_share_of_larger"] = out["gap"].abs() / out[["nhs", "kaiser"]].max(axis=1)
    out["gap_share_of_nhs"] = out["gap"] / out["nhs"]
    out["cheaper"] = out["gap"].map(lambda g: "NHS" if g > 0 else ("Kaiser" if g < 0 else "neither"))
    out["gap_share_of_kaiser"] = out["gap"].abs() / out["kaiser"]
    out["label"] = out["adjustment"].map(COST_LABELS)
    return out.reset_index(drop=True)


def kaiser_within() -> float:
    """The margin of the Kaiser claim ("similar to within 10%"), from its registered published value."""
    return float(claims.registry()["valencia-kaiser-costs-similar"]["published"]["value"]) / 100


def costs_similar_verdict(table: pd.DataFrame, adjustment: str, within: float) -> Verdict:
    """Feachem et al.'s 'similar to within 10%' (``within`` = 0.10, the claim's own figure) under the
    chosen adjustment: the rubric's ``within_share`` rule, which reads the gap against both figures."""
    if adjustment not in COST_ADJUSTMENTS:
        raise ValueError(f"cost_adjustment must be one of {COST_ADJUSTMENTS}, got {adjustment!r}")
    row = table.set_index("adjustment").loc[adjustment]
    v = verdicts.within_share(float(row["nhs"]), float(row["kaiser"]), within, ("the NHS figure", "the Kaiser figure"))
    return verdicts.relabel(v, COST_LABELS[adjustment])


def kaiser_chart(table: pd.DataFrame, chosen: str) -> alt.Chart:
    long = table.melt(id_vars=["adjustment", "label"], value_vars=["nhs", "kaiser"], var_name="system", value_name="usd")
    long["system"] = long["system"].map({"nhs": "NHS", "kaiser": "Kaiser Permanente"})
    long["chosen"] = long["adjustment"].eq(chosen).map({True: "used on this page", False: "alternative"})
    long["short"] = long["adjustment"].map(COST_SHORT)
    order = [COST_SHORT[a] for a in COST_ADJUSTMENTS]
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("short:N", title=None, sort=order),
        yOffset=alt.YOffset("system:N"),
        x=alt.X("usd:Q", title="Cost per person, 2000 (US dollars)"),
        color=alt.Color("system:N", title="System"),
        opacity=alt.Opacity("chosen:N", title="Adjustment", scale=alt.Scale(domain=["used on this page", "alternative"], range=[1.0, 0.45])),
        tooltip=[alt.Tooltip("label:N", title="Adjustment"), alt.Tooltip("system:N", title="System"),
                 alt.Tooltip("usd:Q", title="US$ per person", format=",.0f")],
    ).properties(width=440, height=220)


# --------------------------------------------------------------------------- other countries


def international_table() -> pd.DataFrame:
    return _load("valencia_international")


def international_display(intl: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Where (form)": [f"{c}: {p} ({f})" for c, p, f in zip(intl["country"], intl["programme"], intl["form"])],
            "What was found": intl["main_finding"],
            "Transfers to English general practice?": [f"{t.capitalize()}. {w}." for t, w in zip(intl["transfers"], intl["why"])],
        }
    )


def merging_verdict(intl: pd.DataFrame) -> Verdict:
    """'Similar merging ... has happened in Spain, the US, New Zealand and Denmark': each named country
    counts if any of its rows is a merger in form (single provider, public merger, integrated
    insurer-provider); the rubric's ``named_places`` rule."""
    named = intl[intl["named_in_claim"].astype(bool)]
    by_country = named.groupby("country", sort=True)["form"].apply(list)
    return verdicts.named_places({c: any(f in MERGING_FORMS for f in forms) for c, forms in by_country.items()},
                                 "merger in form")


# --------------------------------------------------------------------------- display helpers


def glue_many(values: dict[str, tuple]) -> dict[str, str]:
    """Glue several numbers at once: ``{key: (value, fmt)}``; returns the glued texts."""
    from .nb import glue_text

    return {key: glue_text(key, value, fmt) for key, (value, fmt) in values.items()}


# --------------------------------------------------------------------------- sentences that depend on parameters


def study_period() -> tuple[int, int]:
    """First and last data year of the comparison (from the vendored counts)."""
    df = _load("valencia_indicator_counts")
    return int(df["period_start"].min()), int(df["period_end"].max())


def describe_tests(level: SignTest, change: SignTest, alpha: float) -> str:
    """One sentence, for the page, on what the chosen reading shows at ``alpha``."""
    better = [name for name, t in (("the 2015 levels", level), ("the change over time", change)) if t.p_better < alpha]
    worse = [name for name, t in (("the 2015 levels", level), ("the change over time", change)) if t.p_worse < alpha]
    parts = []
    parts.append("neither comparison shows Alzira better than its peers" if not better
                 else f"{' and '.join(better)} show{'s' if len(better) == 1 else ''} Alzira better than its peers")
    parts.append("and neither shows it worse" if not worse
                 else f"and {' and '.join(worse)} show{'s' if len(worse) == 1 else ''} it worse")
    return " ".join(parts)


def describe_costs(row: pd.Series) -> str:
    """Which system is cheaper under one adjustment, in words."""
    if row["cheaper"] == "neither":
        return "the two systems cost the same"
    return f"the {row['cheaper']} is cheaper"


def event_year(tl: pd.DataFrame, event: str) -> int:
    """The earliest year any source gives for ``event``."""
    years = tl.loc[tl["event"] == event, "year"].dropna()
    if years.empty:
        raise KeyError(f"no dated row for event {event!r}")
    return int(years.min())


def event_value(tl: pd.DataFrame, event: str, year: int | None = None) -> float:
    """The value recorded for ``event`` (in its earliest year unless ``year`` is given)."""
    year = event_year(tl, event) if year is None else year
    rows = tl[(tl["event"] == event) & (tl["year"] == year)].dropna(subset=["value"])
    if len(rows) != 1:
        raise KeyError(f"expected one value for {event!r} in {year}, found {len(rows)}")
    return float(rows["value"].iloc[0])

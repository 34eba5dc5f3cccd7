"""Valencia (Alzira) and the international comparisons: the logic behind ``notebooks/valencia.md``.

Everything here works from the published, abstract-level figures vendored in ``data/valencia_*.csv``:

- :func:`resolve_counts` and :func:`reading_table` turn the published indicator counts of
  Comendeiro-Maaløe et al. (2019) into exact binomial sign tests of "Alzira was no better than its
  public peers", under each reading of the ties (indicators with no significant difference);
  :func:`no_better_verdict` turns the chosen reading into a verdict; :func:`rule_out_table` says
  what each comparison's 90% interval rules out against the rubric's smallest advantage of interest.
- :func:`chance_count`: the number of indicators significantly worse, against what no difference
  would give with independent indicators (binomial), correlated ones (beta-binomial over a declared
  range of intra-indicator correlations) and any dependence at all (Markov's bound).
- :func:`timeline` / :func:`timeline_chart` / :func:`capitation_chart`: the concession as data.
- :func:`evidence_table`: each finding about Alzira, graded by the kind of source behind it.
- :func:`kaiser_table` / :func:`costs_similar_verdict` / :func:`kaiser_bases_table`: the Kaiser
  Permanente and NHS cost comparison under the published adjustments, on both bases of "within 10%",
  and how its conclusion turns on them.
- :func:`international_table` / :func:`merging_verdict`: the other countries and what transfers.
- :func:`no_better_claim`, :func:`integrated_verdict`, :func:`withdrawn_verdict`, :func:`merging_verdict`
  and :func:`kaiser_claim` are what the chapter emits; the robustness grid
  (:mod:`vertint.specs.valencia`) calls the same functions with other declared choices.

Verdicts returned here are :class:`vertint.verdicts.Verdict` objects made by rules, never typed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from . import claims, data, verdicts
from .charts import BLUE, GREY, ORANGE
from .verdicts import Verdict, not_reproducible

#: Order of the four numbers in the ``indicator_counts`` parameter.
COUNT_FIELDS = ("indicators_total", "worse_2015", "improved_more", "improved_less")
#: How indicators with no significant difference (ties) enter a sign test.
TIE_HANDLING = ("exclude", "split", "against", "favour")
#: Coverage of the interval of the share in Alzira's favour that the rubric's ``not_better`` rule
#: reads ("the upper end of the 90% interval", rubric/rubric.yml).
INTERVAL = 0.90
#: Readings whose share in Alzira's favour is a bound, not an estimate: from above (every tie, or every
#: indicator not worse, counted for Alzira) or from below (every tie counted against it).
UPPER_BOUND_READINGS = ("favour", "not worse counted as better")
LOWER_BOUND_READINGS = ("against",)
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
    ties: int = 0  # indicators with no significant difference, however the reading handles them

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
        return SignTest(comparison, tie_handling, 0, 0, dropped, 1.0, 1.0, 1.0, ties)
    return SignTest(
        comparison,
        tie_handling,
        k,
        n,
        dropped,
        float(binomtest(k, n, 0.5, alternative="greater").pvalue),
        float(binomtest(k, n, 0.5, alternative="less").pvalue),
        float(binomtest(k, n, 0.5, alternative="two-sided").pvalue),
        ties,
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


# --------------------------------------------------------------------------- the count of worse results, against chance


@dataclass(frozen=True)
class ChanceCount:
    """How surprising ``k`` significantly worse results of ``n`` would be if Alzira matched the
    benchmark on every indicator. Each indicator's test is taken to be two-sided at ``level``, so
    under no difference it comes out significantly *worse* with probability ``p0 = level / 2``;
    the other indicators are "not significantly worse", never "better"."""

    k: int
    n: int
    level: float  # two-sided level assumed for each indicator's test
    p0: float  # level / 2: chance that one indicator is significantly worse under no difference
    expected: float  # n * p0
    independent: float  # P(X >= k), X ~ Binomial(n, p0): indicators independent
    correlations: tuple[float, ...]  # grid over the declared range of intra-indicator correlations
    tails: tuple[float, ...]  # P(X >= k) under the beta-binomial at each correlation
    range_low: float
    range_high: float
    worst_correlation: float  # correlation in the range with the largest tail probability
    worst_tail: float
    family_limit: float  # the beta-binomial tail as the correlation tends to one (all indicators move together)
    any_dependence: float  # Markov: P(X >= k) <= E[X] / k, whatever the dependence (sharp)
    level_for_bound: float  # largest two-sided level per indicator at which the Markov bound stays below alpha


def betabinom_tail(k: int, n: int, p0: float, rho: float) -> float:
    """P(X >= k) for X beta-binomial with n trials, mean share ``p0`` and intra-class correlation
    ``rho`` (rho = 0: the binomial). With rho the Beta parameters are a = p0 (1 - rho) / rho and
    b = (1 - p0) (1 - rho) / rho, so that corr(X_i, X_j) = 1 / (a + b + 1) = rho."""
    from scipy.stats import betabinom, binom

    if not (0 < p0 < 1) or not (0 <= rho < 1) or not (0 <= k <= n):
        raise ValueError(f"betabinom_tail needs 0 < p0 < 1, 0 <= rho < 1 and 0 <= k <= n; got p0={p0}, rho={rho}, k={k}, n={n}")
    if k == 0:
        return 1.0
    if rho == 0:
        return float(binom.sf(k - 1, n, p0))
    a, b = p0 * (1 - rho) / rho, (1 - p0) * (1 - rho) / rho
    return float(betabinom.sf(k - 1, n, a, b))


def markov_bound(k: int, n: int, p0: float) -> float:
    """P(X >= k) <= E[X] / k = n p0 / k for a count X of n events each of probability p0, whatever
    their dependence. The bound is sharp: X = k with probability n p0 / k and 0 otherwise attains it."""
    if k <= 0:
        return 1.0
    return min(1.0, n * p0 / k)


def check_correlation_range(corr_range) -> tuple[float, float]:
    """The ``indicator_correlation`` parameter: two numbers, low <= high, each in [0, 1)."""
    try:
        low, high = (float(x) for x in corr_range)
    except (TypeError, ValueError):
        raise ValueError(f"indicator_correlation needs two numbers (low, high), got {corr_range!r}") from None
    if not (0 <= low <= high < 1) or not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"indicator_correlation needs 0 <= low <= high < 1, got {corr_range!r}")
    return low, high


def chance_count(worse: int, total: int, level: float, corr_range, alpha: float, steps: int = 20) -> ChanceCount:
    """``worse`` significantly worse results of ``total`` against what no difference would give:
    independent indicators (binomial), correlated ones (beta-binomial over ``steps + 1`` evenly
    spaced correlations of the declared range), and any dependence at all (Markov)."""
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    low, high = check_correlation_range(corr_range)
    p0 = level / 2
    grid = tuple(float(x) for x in (np.linspace(low, high, steps + 1) if high > low else [low]))
    tails = tuple(betabinom_tail(worse, total, p0, r) for r in grid)
    i = int(np.argmax(tails))
    return ChanceCount(
        k=worse, n=total, level=level, p0=p0, expected=total * p0,
        independent=betabinom_tail(worse, total, p0, 0.0),
        correlations=grid, tails=tails, range_low=low, range_high=high,
        worst_correlation=grid[i], worst_tail=tails[i],
        family_limit=p0 if worse > 0 else 1.0,
        any_dependence=markov_bound(worse, total, p0),
        level_for_bound=min(1.0, 2 * alpha * worse / total) if worse > 0 else 0.0,
    )


def chance_curve(cc: ChanceCount, top: float = 0.95, steps: int = 95) -> pd.DataFrame:
    """The beta-binomial tail probability from no correlation to ``top``, for the chart, with
    whether each correlation lies in the declared range."""
    rs = np.linspace(0.0, top, steps + 1)
    rs = np.unique(np.concatenate([rs, [cc.range_low, cc.range_high]]))
    return pd.DataFrame({
        "correlation": rs,
        "tail": [betabinom_tail(cc.k, cc.n, cc.p0, float(r)) for r in rs],
        "in_range": [bool(cc.range_low <= r <= cc.range_high) for r in rs],
    })


def chance_table(cc: ChanceCount) -> pd.DataFrame:
    """Three rows for the page: independence, the declared range, any dependence."""
    return pd.DataFrame({
        "Indicators assumed": [
            "independent (binomial)",
            f"correlated, intra-indicator correlation {cc.range_low:g} to {cc.range_high:g} (beta-binomial; largest at {cc.worst_correlation:g})",
            "any dependence at all (Markov bound, sharp)",
        ],
        f"P({cc.k} or more of {cc.n} worse by chance)": [fmt_small(cc.independent), fmt_small(cc.worst_tail), fmt_small(cc.any_dependence)],
    })


def describe_chance(cc: ChanceCount, alpha: float) -> str:
    """What the count of worse results shows at ``alpha``, in words, never recoding the indicators
    that were not significantly worse as better."""
    many = f"{cc.k} or more significantly worse results"
    if cc.any_dependence < alpha:
        return (f"{many} would be unlikely by chance however the indicators depend on one another, "
                "so Alzira was worse than the benchmark on at least some indicators")
    if cc.worst_tail < alpha:
        return (f"{many} would be unlikely by chance for every correlation in the declared range, "
                "but some stronger dependence between the indicators could produce them")
    if cc.independent < alpha:
        return (f"{many} would be unlikely by chance if the indicators were independent, "
                "but not if they are as correlated as the declared range allows")
    return f"{many} could be chance even if the indicators were independent"


def chance_chart(curve: pd.DataFrame, cc: ChanceCount, alpha: float) -> alt.LayerChart:
    """Tail probability against the intra-indicator correlation (log scale), the declared range
    shaded, with the bound under any dependence and the page's level as rules."""
    floor = max(1e-20, float(curve["tail"].min()))
    d = curve.assign(tail=curve["tail"].clip(lower=floor), range=curve["in_range"].map({True: "declared range", False: "outside the range"}))
    x = alt.X("correlation:Q", title="Intra-indicator correlation", scale=alt.Scale(domain=[0, float(curve["correlation"].max())]))
    y = alt.Y("tail:Q", title=f"Probability of {cc.k} or more of {cc.n} worse by chance", scale=alt.Scale(type="log"),
              axis=alt.Axis(format=".0e"))
    band = alt.Chart(pd.DataFrame({"lo": [cc.range_low], "hi": [cc.range_high]})).mark_rect(opacity=0.12, color=GREY).encode(
        x=alt.X("lo:Q", scale=alt.Scale(domain=[0, float(curve["correlation"].max())])), x2="hi:Q")
    line = alt.Chart(d).mark_line(color=BLUE).encode(
        x=x, y=y, tooltip=[alt.Tooltip("correlation:Q", format=".2f", title="Correlation"),
                           alt.Tooltip("tail:Q", format=".2e", title="Probability"), alt.Tooltip("range:N", title="")])
    refs = pd.DataFrame({"tail": [cc.any_dependence, alpha],
                         "note": [f"any dependence: {cc.any_dependence:.3f}", f"level {alpha:g}"],
                         "colour": [ORANGE, GREY]})
    rules = alt.Chart(refs).mark_rule(strokeDash=[4, 3]).encode(
        y="tail:Q", color=alt.Color("colour:N", scale=None), tooltip=[alt.Tooltip("note:N", title="")])
    # the two reference lines can sit close together: the level's label above its line, the bound's below
    # its own, both at the left, where the curve is far below them
    left = alt.Chart(refs.iloc[[1]]).mark_text(align="left", dx=4, dy=-7, fontSize=11, color=GREY).encode(
        x=alt.value(0), y="tail:Q", text="note:N")
    right = alt.Chart(refs.iloc[[0]]).mark_text(align="left", dx=4, dy=9, fontSize=11, color=ORANGE).encode(
        x=alt.value(0), y="tail:Q", text="note:N")
    return alt.layer(band, line, rules, left, right).properties(width=480, height=260)


def fmt_small(p: float) -> str:
    """A probability for a table: three decimals from 0.001 up, scientific notation below."""
    if not math.isfinite(p):
        raise ValueError("p must be finite")
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


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
    return favour_interval(test)[1]


def no_better_verdict(level: SignTest, change: SignTest) -> Verdict:
    """The claim that Alzira "did not appear to outperform": the rubric's ``not_better`` rule on each
    comparison (2015 levels, 2003-2015 change), combined with ``all_of``.

    The 2015 levels count every indicator that was not worse for Alzira, so their interval bounds the
    share in its favour from above, and can rule out an advantage. A change reading that counts every
    tie against Alzira bounds the share only from below: an advantage it seems to rule out would be
    ruled out only because the ties were scored as disadvantages. For that reading the upper bound is
    taken from the reading that holds whatever the ties are (every tie for Alzira)."""
    what = f"2003-2015 change ({TIE_LABELS[change.reading]}), {change.favour} of {change.n}"
    upper = favour_upper(change)
    if change.reading in LOWER_BOUND_READINGS:
        generous = sign_test(change.favour, change.n - change.favour - change.ties, change.ties, "favour", change.comparison)
        upper = favour_upper(generous)
        what += (f"; this reading bounds the share only from below, so the upper bound is that of "
                 f"{generous.favour} of {generous.n} (every tie for Alzira)")
    parts = [
        verdicts.not_better(level.p_better, favour_upper(level), f"2015 levels, {level.favour} of {level.n} not worse"),
        verdicts.not_better(change.p_better, upper, what),
    ]
    return verdicts.all_of(*parts)


def no_better_claim(counts: dict, tie_handling: str) -> tuple[float, Verdict]:
    """The claim as the chapter emits it: the one-sided sign-test p that Alzira improved more than its
    peers under ``tie_handling`` (three significant figures) and :func:`no_better_verdict` on the
    2015 levels and that change."""
    change = change_test(counts, tie_handling)
    return float(f"{change.p_better:.3g}"), no_better_verdict(level_test(counts), change)


# --------------------------------------------------------------------------- what the counts rule out


def favour_interval(test: SignTest) -> tuple[float, float]:
    """The 90% Clopper-Pearson interval of the share of indicators in Alzira's favour (the interval
    the rubric's ``not_better`` rule reads)."""
    if test.n == 0:
        return (0.0, 1.0)
    ci = binomtest(test.favour, test.n, 0.5).proportion_ci(confidence_level=INTERVAL, method="exact")
    return float(ci.low), float(ci.high)


def margin() -> float:
    """The rubric's smallest advantage of interest for a count of indicators (``not_better.margin``)."""
    from . import rubric

    return float(rubric.param("not_better", "margin"))


def rule_out_table(level: SignTest, changes: list[SignTest], margin_: float) -> pd.DataFrame:
    """For each comparison, the share in Alzira's favour, its 90% interval, and whether the interval
    rules out an advantage of interest (share above one half plus the rubric's margin) and a
    disadvantage of the same size (below one half minus it). A test that fails to reject rules out
    nothing by itself: only the interval's ends do."""
    names = {"level_2015": "2015 levels", "change_2003_2015": "Change 2003-2015"}
    rows = []
    for t in [level, *changes]:
        lo, hi = favour_interval(t)
        rows.append({
            "comparison": names[t.comparison],
            "reading": TIE_LABELS.get(t.reading, "indicators not worse counted for Alzira (an upper bound)"),
            "reading_key": t.reading,
            "favour": t.favour, "n": t.n,
            "share": t.favour / t.n if t.n else float("nan"),
            "low": lo, "high": hi,
            # a reading that only bounds the share from one side can rule out a difference on that side only
            "advantage_ruled_out": (hi <= 0.5 + margin_) if t.reading not in LOWER_BOUND_READINGS else None,
            "disadvantage_ruled_out": (lo >= 0.5 - margin_) if t.reading not in UPPER_BOUND_READINGS else None,
        })
    return pd.DataFrame(rows)


def rule_out_display(table: pd.DataFrame, margin_: float) -> pd.DataFrame:
    def word(ok, side):
        if ok is None:
            return f"cannot tell (this reading bounds the share only from {side})"
        return "ruled out" if ok else "not ruled out"

    return pd.DataFrame({
        "Comparison": table["comparison"],
        "Reading": table["reading"],
        "For Alzira": [f"{f} of {n} ({s:.1%})" for f, n, s in zip(table["favour"], table["n"], table["share"])],
        f"{INTERVAL:.0%} interval of the share": [f"{lo:.1%} to {hi:.1%}" for lo, hi in zip(table["low"], table["high"])],
        f"Advantage of interest (share above {0.5 + margin_:.0%})": [word(v, "below") for v in table["advantage_ruled_out"]],
        f"Disadvantage of the same size (share below {0.5 - margin_:.0%})": [word(v, "above") for v in table["disadvantage_ruled_out"]],
    })


def ruled_words(ruled_out) -> str:
    """A cell of :func:`rule_out_table` as words for a sentence ("an advantage of interest ...")."""
    if ruled_out is None or (isinstance(ruled_out, float) and math.isnan(ruled_out)):
        return "cannot be judged on this reading, which bounds the share from one side only"
    return "is ruled out" if bool(ruled_out) else "is not ruled out"


def rule_out_chart(table: pd.DataFrame, margin_: float, chosen: str) -> alt.LayerChart:
    """Each comparison's share in Alzira's favour with its 90% interval, against one half and the
    band of differences smaller than the rubric's margin."""
    d = table.assign(label=[f"{c}: {r}" for c, r in zip(table["comparison"], table["reading"])],
                     used=[("used in the verdict" if (c == "2015 levels" or k == chosen) else "other reading")
                           for c, k in zip(table["comparison"], table["reading_key"])])
    order = list(d["label"])
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=520))
    x_scale = alt.Scale(domain=[0, 1])
    band = alt.Chart(pd.DataFrame({"lo": [0.5 - margin_], "hi": [0.5 + margin_]})).mark_rect(opacity=0.12, color=GREY).encode(
        x=alt.X("lo:Q", scale=x_scale), x2="hi:Q")
    half = alt.Chart(pd.DataFrame({"x": [0.5]})).mark_rule(strokeDash=[4, 3], color=GREY).encode(x=alt.X("x:Q", scale=x_scale))
    bars = alt.Chart(d).mark_rule(strokeWidth=2).encode(
        y=y, x=alt.X("low:Q", scale=x_scale, title=f"Share of indicators in Alzira's favour ({INTERVAL:.0%} interval)", axis=alt.Axis(format="%")),
        x2="high:Q", color=alt.Color("used:N", title=None, sort=["used in the verdict", "other reading"]))
    pts = alt.Chart(d).mark_point(filled=True, size=70).encode(
        y=y, x=alt.X("share:Q", scale=x_scale), color=alt.Color("used:N", title=None, sort=["used in the verdict", "other reading"]),
        tooltip=[alt.Tooltip("label:N", title="Comparison"), alt.Tooltip("favour:Q", title="For Alzira"),
                 alt.Tooltip("n:Q", title="Of"), alt.Tooltip("low:Q", format=".0%", title="interval, low"),
                 alt.Tooltip("high:Q", format=".0%", title="interval, high")])
    return alt.layer(band, half, bars, pts).properties(width=420, height=32 * len(d))


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


#: Two datings of the start of integrated (hospital and primary) care under one provider: the
#: re-tender that added primary care (the Observatory, the press), or the reversion paper's, which
#: says the concession covered hospital and primary care from the start (the only peer-reviewed
#: source that dates it).
INTEGRATION_DATINGS = ("retender", "reversion_paper")


def integrated_verdict(tl: pd.DataFrame, dating: str = "retender", years: tuple[int, int] = EARLY_2000S) -> Verdict:
    """'A single provider was contracted in the early 2000s to provide integrated access': the
    rubric's ``dated_event`` rule on the rows that date integrated care under ``dating``."""
    if dating == "retender":
        return event_verdict(tl, "primary_care_added", years)
    if dating == "reversion_paper":
        rows = tl[(tl["event"] == "hospital_concession") & (tl["kind"] == "peer-reviewed")].dropna(subset=["year"])
        return verdicts.dated_event("'integrated concession (as the reversion paper dates it)'",
                                    [(int(y), k) for y, k in zip(rows["year"], rows["kind"])], years)
    raise ValueError(f"dating must be one of {INTEGRATION_DATINGS}, got {dating!r}")


#: Two readings of "withdrawn": the concession ended and reverted to public provision (however it
#: ended), or the integrated contract was ended before its term.
WITHDRAWN_READINGS = ("ended", "ended_early")


def withdrawn_verdict(tl: pd.DataFrame, reading: str = "ended") -> Verdict:
    """'The contract has since been withdrawn': the rubric's ``dated_event`` rule on the reversion
    (``reading="ended"``), or on an early end of the integrated contract, i.e. a rescission dated
    at or after primary care was added (``"ended_early"``)."""
    if reading == "ended":
        return event_verdict(tl, "reversion")
    if reading == "ended_early":
        start = event_year(tl, "primary_care_added")
        rows = tl[(tl["event"] == "contract_rescinded") & (tl["year"] >= start)].dropna(subset=["year"])
        return verdicts.dated_event("'early end of the integrated contract'",
                                    [(int(y), k) for y, k in zip(rows["year"], rows["kind"])])
    raise ValueError(f"reading must be one of {WITHDRAWN_READINGS}, got {reading!r}")


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


def kaiser_claim(table: pd.DataFrame, adjustment: str, within: float) -> tuple[str, Verdict]:
    """The Kaiser claim as the chapter emits it: the gap as a percentage of Kaiser's and of the NHS's
    cost under ``adjustment`` ("9.6; 10.6") and :func:`costs_similar_verdict`."""
    v = costs_similar_verdict(table, adjustment, within)
    row = table.set_index("adjustment").loc[adjustment]
    return f"{float(row['gap_share_of_kaiser']) * 100:.1f}; {abs(float(row['gap_share_of_nhs'])) * 100:.1f}", v


def kaiser_bases_table(table: pd.DataFrame, within: float) -> pd.DataFrame:
    """Every adjustment with the gap as a share of each figure, and what the rubric's
    ``within_share`` rule makes of the claim's margin on that basis (both bases must hold)."""
    rows = []
    for adj in COST_ADJUSTMENTS:
        r = table.set_index("adjustment").loc[adj]
        v = costs_similar_verdict(table, adj, within)
        rows.append({
            "Adjustment": COST_LABELS[adj],
            "NHS (US$)": f"{r['nhs']:,.0f}",
            "Kaiser (US$)": f"{r['kaiser']:,.0f}",
            "Gap as a share of Kaiser's cost": f"{r['gap_share_of_kaiser']:.1%}",
            "Gap as a share of the NHS's cost": f"{abs(r['gap_share_of_nhs']):.1%}",
            f"Within {within:.0%} on": _bases_word(r["gap_share_of_kaiser"] <= within, abs(r["gap_share_of_nhs"]) <= within),
            "Verdict under this adjustment": v.label,
        })
    return pd.DataFrame(rows)


def _bases_word(of_kaiser: bool, of_nhs: bool) -> str:
    if of_kaiser and of_nhs:
        return "both bases"
    if of_kaiser:
        return "Kaiser's cost only"
    if of_nhs:
        return "the NHS's cost only"
    return "neither base"


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


#: Which forms of a programme count as "merging": a change of ownership or contract that puts
#: general practice and hospital care under one organisation (the chapter's), that without an
#: insurer owning its providers (Kaiser), or that plus joint working without a change of ownership.
MERGING_READINGS = {
    "ownership": MERGING_FORMS,
    "provider_only": ("single-provider contract", "public merger"),
    "any_integration": MERGING_FORMS + ("inter-organisational", "co-location"),
}


def merging_verdict(intl: pd.DataFrame, forms: str = "ownership", unassessed: str = "not_shown") -> Verdict:
    """'Similar merging ... has happened in Spain, the US, New Zealand and Denmark': each named country
    counts if any of its rows is a merger in form (under ``forms``, one of :data:`MERGING_READINGS`);
    the rubric's ``named_places`` rule. A named country whose only source we could not assess counts
    as not shown (``unassessed="not_shown"``, the chapter's) or is left out of the claim (``"left_out"``)."""
    if forms not in MERGING_READINGS:
        raise ValueError(f"forms must be one of {tuple(MERGING_READINGS)}, got {forms!r}")
    if unassessed not in ("not_shown", "left_out"):
        raise ValueError(f"unassessed must be 'not_shown' or 'left_out', got {unassessed!r}")
    named = intl[intl["named_in_claim"].astype(bool)]
    if unassessed == "left_out":
        named = named[named["form"] != "not assessed"]
    by_country = named.groupby("country", sort=True)["form"].apply(list)
    return verdicts.named_places({c: any(f in MERGING_READINGS[forms] for f in fs) for c, fs in by_country.items()},
                                 "merger in form")


def merging_shown(intl: pd.DataFrame, forms: str = "ownership") -> str:
    """The named countries where a merger in form was found (the claim's reproduced value)."""
    hit = intl[intl["form"].isin(MERGING_READINGS[forms]) & intl["named_in_claim"].astype(bool)]
    return ", ".join(sorted(hit["country"].unique()))


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

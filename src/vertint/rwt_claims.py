"""The Royal Wolverhampton chapter's claims and figure: what the event study (:mod:`vertint.rwt`)
says about three claims, each judged on the years published before the claim was made, and
again on every year now available.

A claim about an effect of the trust taking practices on is read as a direction of the average
effect (:func:`vertint.rwt.average_effect`), judged by the rubric's ``direction`` rule with its
95% interval (supported only if the whole interval lies on the claimed side), capped at partly
supported unless the randomisation p-value reaches the rubric's level (:func:`vertint.verdicts.few_units`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from . import claims, rwt, verdicts
from .charts import GREY
from .verdicts import Verdict


def effect(outcome: str, last: str = rwt.LAST_YEAR, n_reps: int = 499, seed: int = rwt.DEFAULT_SEED, **choices) -> dict:
    """The average effect of take-over on ``outcome`` with the years up to ``last``, with its
    randomisation p-value (``p_ri``)."""
    df = rwt.study_panel(outcome, last=last, **choices)
    avg = rwt.average_effect(df)
    avg["p_ri"] = rwt.randomisation_inference(df, n_reps=n_reps, seed=seed)["p_value"]
    return avg


def _verdict(avg: dict, claimed: str, outcome: str) -> Verdict:
    label = rwt.OUTCOMES[outcome].label
    if avg["n_treated_units"] < rwt.MIN_TREATED:
        return verdicts.not_reproducible(f"{label}: fewer than {rwt.MIN_TREATED} taken-over practices with a year before "
                                         "their take-over in the years available")
    v = verdicts.direction(avg["estimate"], claimed, avg["ci_low"], avg["ci_high"])
    v = verdicts.few_units(v, avg["p_ri"], avg["n_treated_units"])
    return verdicts.relabel(v, label)


def _text(avg: dict, outcome: str, last: str) -> str:
    o = rwt.OUTCOMES[outcome]
    return (f"{o.label}: {avg['estimate']:+.2f} {o.unit} (95% CI {avg['ci_low']:+.2f} to {avg['ci_high']:+.2f}; "
            f"randomisation p {avg['p_ri']:.2f}; {avg['n_treated_units']} practices; years to {last})")


def judge(parts: list[tuple[str, str]], effects: dict[str, dict], last: str) -> tuple[Verdict, str]:
    """The verdict and the reproduced text of a claim made of ``parts`` (outcome, claimed direction),
    from the average effects of those outcomes (:func:`effect`) with the years up to ``last``: the one
    call the chapter and the robustness grid (:mod:`vertint.specs.rwt`) both make."""
    vs = [_verdict(effects[o], c, o) for o, c in parts]
    v = verdicts.all_of(*vs) if len(vs) > 1 else vs[0]
    return v, "; ".join(_text(effects[o], o, last) for o, _ in parts)


def claim(claim_id: str, parts: list[tuple[str, str]], now: dict[str, dict], n_reps: int = 499,
          seed: int = rwt.DEFAULT_SEED, **choices) -> dict:
    """Keyword arguments for :func:`vertint.claims.emit`: each (outcome, claimed direction) in
    ``parts`` judged with the years before the claim, and on ``now`` (the chapter's full results,
    by outcome) for *still true now?*."""
    last = claims.last_financial_year(claim_id)
    then = {o: effect(o, last=last, n_reps=n_reps, seed=seed, **choices) for o, _ in parts}
    v_then, text_then = judge(parts, then, last)
    v_now, text_now = judge(parts, now, rwt.LAST_YEAR)
    return {"reproduced": {"value": text_then, "unit": "average effect of the trust taking a practice on (imputation event study)"},
            "verdict": v_then,
            "as_of": {"date": claims.fy_end(last), "figure": text_then,
                      "why": "the financial years published before the claim was made (practice panels end each March)"},
            "now": {"verdict": v_now, "date": claims.fy_end(rwt.LAST_YEAR), "note": text_now}}


def event_data(results: list[dict]) -> pd.DataFrame:
    """The event-time estimates of every outcome and comparator set, in one table."""
    rows = []
    for r in results:
        es = r["event_study"].copy()
        es["outcome"] = rwt.OUTCOMES[r["outcome"]].label
        es["comparator"] = r["comparator"]
        rows.append(es)
    return pd.concat(rows, ignore_index=True)[["outcome", "comparator", "rel", "estimate", "ci_low", "ci_high", "n_units"]]


def event_chart(d: pd.DataFrame) -> alt.FacetChart:
    """Event-study estimates (:func:`event_data`) with 95% intervals by year relative to take-over,
    one panel per outcome, one colour per comparator set, and a dashed line at no effect."""
    base = alt.Chart().encode(x=alt.X("rel:Q", title="Years since take-over", axis=alt.Axis(tickMinStep=1)))
    bars = base.mark_rule().encode(y=alt.Y("ci_low:Q", title="Effect"), y2="ci_high:Q",
                                   color=alt.Color("comparator:N", title="Comparators", legend=alt.Legend(orient="bottom")),
                                   xOffset=alt.XOffset("comparator:N"))
    pts = base.mark_point(filled=True, size=40).encode(
        y="estimate:Q", color="comparator:N", xOffset=alt.XOffset("comparator:N"),
        tooltip=["outcome", "comparator", "rel", alt.Tooltip("estimate:Q", format="+.2f"),
                 alt.Tooltip("ci_low:Q", format="+.2f"), alt.Tooltip("ci_high:Q", format="+.2f"), "n_units"])
    zero = alt.Chart().mark_rule(color=GREY, strokeDash=[4, 3]).encode(y=alt.datum(0))
    return (alt.layer(zero, bars, pts, data=d).properties(width=230, height=140)
            .facet(facet=alt.Facet("outcome:N", title=None, header=alt.Header(labelLimit=260)), columns=2)
            .resolve_scale(y="independent"))

"""The verdict rules of the declared rubric (``rubric/rubric.yml``), applied by code.

A verdict is one of four fixed words (the *fidelity* axis). Every verdict that data decide is made
by a rule function here or in a chapter module, under a rule name declared in the rubric, and
records which rule made it; every threshold is read from the rubric (:mod:`vertint.rubric`), never
typed in code. A ``Verdict`` whose rule the rubric does not declare is refused.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from . import rubric

SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
NOT_REPRODUCIBLE = "not reproducible from public data"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, NOT_REPRODUCIBLE)


@dataclass(frozen=True)
class Verdict:
    label: str
    rule: str
    reason: str

    def __post_init__(self):
        if self.label not in VERDICTS:
            raise ValueError(f"verdict {self.label!r} is not one of {VERDICTS}")
        if self.rule not in rubric.rule_names():
            raise ValueError(f"verdict rule {self.rule!r} is not declared in rubric/rubric.yml")
        if (self.rule == "not_reproducible") != (self.label == NOT_REPRODUCIBLE) and self.rule not in ("all_of", "consistency"):
            raise ValueError(f"rule {self.rule!r} cannot give {self.label!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def _finite(*xs: float) -> None:
    if not all(isinstance(x, (int, float)) and math.isfinite(x) for x in xs):
        raise ValueError(f"verdict rules need finite numbers, got {xs}")


def equals(published: float, reproduced: float) -> Verdict:
    """A count or simple fact: supported if equal, not supported otherwise."""
    ok = published == reproduced
    return Verdict(SUPPORTED if ok else NOT_SUPPORTED, "equals", f"published {published:g}, reproduced {reproduced:g}")


def rounds_to(published: float, reproduced: float, unit: float, what: str = "") -> Verdict:
    """A figure stated to the nearest ``unit`` (the claim's own precision): supported if the
    reproduced value is within half a unit, partly within the rubric's further band, else not."""
    _finite(published, reproduced, unit)
    if unit <= 0:
        raise ValueError("rounds_to needs a positive rounding unit")
    partly = 0.5 + float(rubric.param("rounds_to", "partly_units"))
    gap = reproduced - published
    reason = (f"{what + ': ' if what else ''}{reproduced:,.6g} against the stated {published:,.6g} "
              f"({gap:+,.6g}); stated to the nearest {unit:,.6g}, so supported within ±{0.5 * unit:,.6g}, "
              f"partly within ±{partly * unit:,.6g}")
    if abs(gap) <= 0.5 * unit:
        return Verdict(SUPPORTED, "rounds_to", reason)
    if abs(gap) <= partly * unit:
        return Verdict(PARTLY, "rounds_to", reason)
    return Verdict(NOT_SUPPORTED, "rounds_to", reason)


def _fraction_words(x: float) -> str:
    from fractions import Fraction

    f = Fraction(x).limit_denominator(10)
    return f"{f.numerator}/{f.denominator}"


def simple_fraction(named: float, observed: float) -> Verdict:
    """'Around a third' (``named`` = 1/3) against an observed share (0-1): supported if the named
    fraction is the nearest simple fraction of the rubric's list; partly if a neighbour is."""
    _finite(named, observed)
    fr = [float(f) for f in rubric.param("simple_fraction", "fractions")]
    idx = min(range(len(fr)), key=lambda i: abs(fr[i] - named))
    if abs(fr[idx] - named) > 1e-6:
        raise ValueError(f"{named} is not one of the rubric's simple fractions")
    nearest = min(range(len(fr)), key=lambda i: (abs(fr[i] - observed), i))
    lo = (fr[idx - 1] + fr[idx]) / 2 if idx > 0 else 0.0
    hi = (fr[idx] + fr[idx + 1]) / 2 if idx + 1 < len(fr) else 1.0
    reason = (f"observed {observed:.1%}; the nearest simple fraction is {_fraction_words(fr[nearest])} "
              f"('{_fraction_words(named)}' covers {lo:.1%} to {hi:.1%})")
    if nearest == idx:
        return Verdict(SUPPORTED, "simple_fraction", reason)
    if abs(nearest - idx) == 1:
        return Verdict(PARTLY, "simple_fraction", reason)
    return Verdict(NOT_SUPPORTED, "simple_fraction", reason)


def rederived(published: float, reproduced: float) -> Verdict:
    """A study's figure re-derived from its other rounded figures (relative to the published one)."""
    _finite(published, reproduced)
    if published == 0:
        raise ValueError("rederived needs a non-zero published value")
    tol = float(rubric.param("rederived", "supported_rel"))
    partly = tol * float(rubric.param("rederived", "partly_multiple"))
    rel = abs(reproduced - published) / abs(published)
    reason = (f"published {published:,.4g}, re-derived {reproduced:,.4g}: relative difference {rel:.1%} "
              f"(supported within {tol:.0%}, partly within {partly:.0%})")
    if rel <= tol:
        return Verdict(SUPPORTED, "rederived", reason)
    if rel <= partly:
        return Verdict(PARTLY, "rederived", reason)
    return Verdict(NOT_SUPPORTED, "rederived", reason)


def signed(x: float, decimals: int = 2) -> str:
    """``x`` with its sign to ``decimals`` places, or, if that rounds to zero, to one significant
    figure ("+0.003"), so that no nonzero difference reads "-0.00"; exactly zero is "0.00"."""
    _finite(x)
    if x == 0:
        return f"{0:.{decimals}f}"
    if round(x, decimals) == 0:
        return f"{x:+.1g}"
    return f"{x:+.{decimals}f}"


def method_check(published: float, estimate: float, unit: str) -> Verdict:
    """This book's re-implementation of a published method against the published estimate."""
    _finite(published, estimate)
    tol = float(rubric.param("method_check", "abs_tol"))
    diff = estimate - published
    reason = f"ours {estimate:.2f}, published {published:.1f} {unit}; difference {signed(diff)} against a tolerance of ±{tol:g}"
    return Verdict(SUPPORTED if abs(diff) <= tol else NOT_SUPPORTED, "method_check", reason)


def direction(change: float, claimed: str, low: float | None = None, high: float | None = None) -> Verdict:
    """A claimed direction ('fall' or 'rise') against an observed change, optionally with an interval.

    With an interval: supported if the whole interval lies on the claimed side of zero; partly
    supported if the point estimate does but the interval crosses zero; not supported otherwise.
    """
    if claimed not in ("fall", "rise"):
        raise ValueError("claimed must be 'fall' or 'rise'")
    sign = -1 if claimed == "fall" else 1
    on_side = sign * change > 0
    if low is None or high is None:
        label = SUPPORTED if on_side else NOT_SUPPORTED
        return Verdict(label, "direction", f"observed change {change:+,.4g}; claimed a {claimed}")
    whole = (sign * low > 0) and (sign * high > 0)
    reason = f"observed change {change:+,.4g} (interval {low:+,.4g} to {high:+,.4g}); claimed a {claimed}"
    if on_side and whole:
        return Verdict(SUPPORTED, "direction", reason)
    if on_side:
        return Verdict(PARTLY, "direction", reason)
    return Verdict(NOT_SUPPORTED, "direction", reason)


def across_break(v: Verdict, what: str) -> Verdict:
    """A direction read across a methodology break: at most partly supported (rubric, ``direction``)."""
    label = PARTLY if v.label == SUPPORTED else v.label
    return Verdict(label, v.rule, f"{what}: {v.reason}" + ("; at most partly supported across a break" if label == PARTLY else ""))


def few_units(v: Verdict, p_randomisation: float, n_units: int) -> Verdict:
    """An effect from few treated units (rubric, ``direction``): *supported* stands only if the
    randomisation p-value is below the rubric's ``randomisation_alpha``; otherwise at most partly."""
    alpha = rubric.param("direction", "randomisation_alpha")
    reason = f"{v.reason}; randomisation p {p_randomisation:.3f} with {n_units} treated units"
    if v.label == SUPPORTED and not p_randomisation < alpha:
        return Verdict(PARTLY, v.rule, reason + f", not below {alpha:g}: at most partly supported")
    return Verdict(v.label, v.rule, reason)


def reported_effect(null: float, low: float, high: float, claimed: str) -> Verdict:
    """Does a claim report a study's effect ('reduction' or 'increase' relative to ``null``)
    faithfully, judged by the study's own interval? Fidelity only: certainty is judged apart."""
    if claimed not in ("reduction", "increase"):
        raise ValueError("claimed must be 'reduction' or 'increase'")
    below, above = high < null, low > null
    reason = f"the study's interval {low:.4g} to {high:.4g} against no effect at {null:g}"
    if (claimed == "reduction" and below) or (claimed == "increase" and above):
        return Verdict(SUPPORTED, "reported_effect", reason + ": the claim reports the study faithfully")
    if (claimed == "reduction" and above) or (claimed == "increase" and below):
        return Verdict(NOT_SUPPORTED, "reported_effect", reason)
    return Verdict(PARTLY, "reported_effect", reason + " (includes no effect)")


def not_better(p_better: float, upper: float, what: str) -> Verdict:
    """'Did not outperform'. ``p_better``: one-sided p of the advantage the claim denies; ``upper``:
    upper end of the 90% interval of the share of comparisons in its favour."""
    _finite(p_better, upper)
    alpha = float(rubric.param("not_better", "alpha"))
    bound = 0.5 + float(rubric.param("not_better", "margin"))
    reason = (f"{what}: one-sided p = {p_better:.3g} for an advantage (level {alpha:g}); the share in its favour "
              f"is at most {upper:.0%} (upper 90% bound) against {bound:.0%} for an advantage of interest")
    if p_better < alpha:
        return Verdict(NOT_SUPPORTED, "not_better", reason + ": the data show an advantage")
    if upper <= bound:
        return Verdict(SUPPORTED, "not_better", reason + ": an advantage of interest is ruled out")
    return Verdict(PARTLY, "not_better", reason + ": no advantage shown, but one is not ruled out")


def within_share(a: float, b: float, within: float, labels: tuple[str, str] = ("A", "B")) -> Verdict:
    """'A and B are within ``within`` (a fraction) of each other', read against both bases."""
    _finite(a, b, within)
    gap = abs(a - b)
    of_a, of_b = gap / abs(a), gap / abs(b)
    reason = (f"gap {of_a:.1%} of {labels[0]}, {of_b:.1%} of {labels[1]} "
              f"(claimed within {within:.0%})")
    if max(of_a, of_b) <= within:
        return Verdict(SUPPORTED, "within_share", reason + "; within on either base")
    if min(of_a, of_b) <= within:
        return Verdict(PARTLY, "within_share", reason + "; within only against the larger figure")
    return Verdict(NOT_SUPPORTED, "within_share", reason + "; not within on either base")


def at_least(threshold: float, observed: float, what: str) -> Verdict:
    """A claim of 'more than ``threshold``': supported if the observed value exceeds it."""
    ok = observed > threshold
    return Verdict(SUPPORTED if ok else NOT_SUPPORTED, "at_least",
                   f"{what}: observed {observed:g}, claimed more than {threshold:g}")


def record(value: float, previous_max: float, previous_label: str) -> Verdict:
    """'A record': supported if the value exceeds every earlier value of the same series."""
    reason = f"{value:,.0f} against the earlier maximum {previous_max:,.0f} ({previous_label})"
    return Verdict(SUPPORTED if value > previous_max else NOT_SUPPORTED, "record", reason)


def dated_event(event: str, dated: list[tuple[int, str]], years: tuple[int, int] | None = None) -> Verdict:
    """'An event happened (between ``years``)': ``dated`` holds (year, source kind) for each source
    that dates the event. Supported if a source of a strong kind (rubric) dates it in the span,
    partly supported if only other kinds do, not supported if the sources date it elsewhere or not
    at all."""
    strong = rubric.param("dated_event", "strong_kinds")
    span = "" if years is None else f" between {years[0]} and {years[1]}" if years[0] != years[1] else f" in {years[0]}"
    if not dated:
        return Verdict(NOT_SUPPORTED, "dated_event", f"no source dates {event}")
    inside = [(y, k) for y, k in dated if years is None or years[0] <= y <= years[1]]
    if not inside:
        found = ", ".join(str(y) for y in sorted({y for y, _ in dated}))
        return Verdict(NOT_SUPPORTED, "dated_event", f"{event} is dated {found}, not{span}")
    kinds = sorted({k for _, k in inside})
    when = ", ".join(str(y) for y in sorted({y for y, _ in inside}))
    reason = f"{event} dated {when}{span and ' (claim:' + span + ')'} by {len(inside)} source(s): {', '.join(kinds)}"
    if any(k in strong for k in kinds):
        return Verdict(SUPPORTED, "dated_event", reason)
    return Verdict(PARTLY, "dated_event", reason + f" (no {' or '.join(strong)} source)")


def named_places(shown: dict[str, bool], what: str) -> Verdict:
    """'X has happened in A, B and C': ``shown`` says, for each named place, whether a source shows
    X there in form. Supported if every place does, not supported if none does, else partly."""
    yes = [p for p, ok in shown.items() if ok]
    no = [p for p, ok in shown.items() if not ok]
    reason = f"{what}: shown in {', '.join(yes) or 'none'}; not shown in {', '.join(no) or 'none'}"
    if not no:
        return Verdict(SUPPORTED, "named_places", reason)
    if not yes:
        return Verdict(NOT_SUPPORTED, "named_places", reason)
    return Verdict(PARTLY, "named_places", reason)


def similarity(a: dict, b: dict, same_scale: bool) -> Verdict:
    """Two findings 'similar'? Each dict has estimate, ci_low, ci_high, null (0 or 1) and label.

    Supported: both intervals exclude no effect on the same side, on a common scale, and overlap.
    Partly: both show a reduction that excludes no effect, but the magnitudes are not on a common
    scale (or do not overlap). Not supported: different directions or one includes no effect.
    """
    def side(d):
        if d["ci_high"] < d["null"]:
            return -1
        if d["ci_low"] > d["null"]:
            return 1
        return 0

    sa, sb = side(a), side(b)
    reason = (f"{a['label']}: {a['estimate']:g} ({a['ci_low']:g} to {a['ci_high']:g}); "
              f"{b['label']}: {b['estimate']:g} ({b['ci_low']:g} to {b['ci_high']:g})")
    if sa == 0 or sb == 0 or sa != sb:
        return Verdict(NOT_SUPPORTED, "similarity", reason + "; not both clear effects in the same direction")
    if same_scale and a["ci_low"] <= b["ci_high"] and b["ci_low"] <= a["ci_high"]:
        return Verdict(SUPPORTED, "similarity", reason + "; same direction, overlapping intervals on one scale")
    return Verdict(PARTLY, "similarity", reason + "; same direction, but magnitudes are not on a common scale")


# --------------------------------------------------------------------------- charts


def relabel(v: Verdict, context: str) -> Verdict:
    """The same verdict by the same rule, its reason prefixed with what it was applied to."""
    return Verdict(v.label, v.rule, f"{context}: {v.reason}")


def all_of(*verdicts: Verdict) -> Verdict:
    """Combine verdicts on parts of one claim.

    Supported only if every part is; not reproducible if no part can be checked; not supported if
    at least one part is refuted and no part is (even partly) supported; otherwise partly supported.
    """
    labels = [v.label for v in verdicts]
    if all(lab == SUPPORTED for lab in labels):
        label = SUPPORTED
    elif all(lab == NOT_REPRODUCIBLE for lab in labels):
        label = NOT_REPRODUCIBLE
    elif all(lab in (NOT_SUPPORTED, NOT_REPRODUCIBLE) for lab in labels):
        label = NOT_SUPPORTED
    else:
        label = PARTLY
    return Verdict(label, "all_of", "; ".join(v.reason for v in verdicts))


def consistency(contradict: bool, reason: str) -> Verdict:
    """Two figures from one source that cannot be recomputed: not supported if they contradict each
    other, otherwise not reproducible (agreement with each other is not evidence)."""
    if contradict:
        return Verdict(NOT_SUPPORTED, "consistency", reason)
    return Verdict(NOT_REPRODUCIBLE, "consistency", reason + "; neither figure can be recomputed from public data")


def not_reproducible(reason: str) -> Verdict:
    """The only verdict that may be given without data: say why the public data cannot settle it."""
    return Verdict(NOT_REPRODUCIBLE, "not_reproducible", reason)

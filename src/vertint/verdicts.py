"""The verdict rubric, applied by code wherever the evidence is numeric.

A verdict is one of four fixed words. Every verdict that data decide is made by a function here, and
records which rule made it, so the claims ledger can show (and a test can check) that no such
verdict was typed by hand.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

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

    def as_dict(self) -> dict:
        return asdict(self)


def close_to(published: float, reproduced: float, rel_tol: float = 0.05, partly_tol: float | None = None) -> Verdict:
    """Supported if the reproduced value is within ``rel_tol`` of the published one (relative),
    partly supported within ``partly_tol`` (default twice ``rel_tol``), else not supported."""
    if partly_tol is None:
        partly_tol = 2 * rel_tol
    if published == 0 or not math.isfinite(published) or not math.isfinite(reproduced):
        raise ValueError("close_to needs finite values and a non-zero published value")
    rel = abs(reproduced - published) / abs(published)
    reason = f"relative difference {rel:.1%} (supported within {rel_tol:.0%}, partly within {partly_tol:.0%})"
    if rel <= rel_tol:
        return Verdict(SUPPORTED, "close_to", reason)
    if rel <= partly_tol:
        return Verdict(PARTLY, "close_to", reason)
    return Verdict(NOT_SUPPORTED, "close_to", reason)


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


def interval_excludes(null: float, low: float, high: float, claimed: str) -> Verdict:
    """An effect claim ('reduction' or 'increase' relative to ``null``) judged by a confidence interval."""
    if claimed not in ("reduction", "increase"):
        raise ValueError("claimed must be 'reduction' or 'increase'")
    below, above = high < null, low > null
    reason = f"interval {low:.4g} to {high:.4g} against no effect at {null:g}"
    if (claimed == "reduction" and below) or (claimed == "increase" and above):
        return Verdict(SUPPORTED, "interval_excludes", reason)
    if (claimed == "reduction" and above) or (claimed == "increase" and below):
        return Verdict(NOT_SUPPORTED, "interval_excludes", reason)
    return Verdict(PARTLY, "interval_excludes", reason + " (includes no effect)")


def equals(published: float, reproduced: float) -> Verdict:
    """A count or simple fact: supported if equal, not supported otherwise."""
    ok = published == reproduced
    return Verdict(SUPPORTED if ok else NOT_SUPPORTED, "equals", f"published {published:g}, source says {reproduced:g}")


def all_of(*verdicts: Verdict, rule: str = "all_of") -> Verdict:
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
    return Verdict(label, rule, "; ".join(v.reason for v in verdicts))


def not_reproducible(reason: str) -> Verdict:
    """The only verdict that may be given without data: say why the public data cannot settle it."""
    return Verdict(NOT_REPRODUCIBLE, "not_reproducible", reason)

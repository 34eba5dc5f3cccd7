"""Spec functions of the workforce chapter (see :mod:`vertint.specs`).

Each calls the same package function as ``notebooks/workforce.md`` calls for the claim it emits
(``vertint.workforce.*_as_of``, ``claim_appointments_record``, ``claim_lost_400``), so the default
specification reproduces the ledger by construction. Choices that are not chapter parameters are
applied here: the as-of horizon moved back by a publication lag, the comparison months, which
earlier months an appointments record must beat, the patient count at the baseline, the set of
simple fractions "around a third" is read against.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from .. import claims, rubric, verdicts
from .. import workforce as wf
from ..robustness import Outcome, spec

#: "Around a third" read against quarters, thirds and halves only (no fifths): the coarser reading.
COARSE_FRACTIONS = [0.25, 0.3333333333, 0.5, 0.6666666667, 0.75]


@lru_cache(maxsize=1)
def _gp() -> pd.DataFrame:
    return wf.load_gp()


@lru_cache(maxsize=1)
def _appts() -> pd.DataFrame:
    return wf.load_appointments()


@lru_cache(maxsize=1)
def _published() -> pd.DataFrame:
    return wf.load_published()


@lru_cache(maxsize=2)
def _patients(baseline_patients: str) -> pd.DataFrame:
    """Registered patients, as vendored (``as_published``) or with each derived count replaced by
    the nearest stated count at most one month away (``nearest_stated``; the later one on a tie),
    a derived count being dropped when there is none."""
    p = wf.load_patients()
    if baseline_patients == "as_published":
        return p
    if baseline_patients != "nearest_stated":
        raise ValueError(f"baseline_patients must be as_published or nearest_stated, got {baseline_patients!r}")
    idx = p["date"].map(_month_index)
    stated = p[p["how_obtained"] == "stated"]
    rows = []
    for i, r in p.iterrows():
        if r["how_obtained"] == "stated":
            rows.append(r)
            continue
        gap = (stated["date"].map(_month_index) - idx[i]).abs()
        near = stated[gap <= 1]
        if near.empty:
            continue
        best = near.assign(_gap=gap[gap <= 1]).sort_values(["_gap", "date"], ascending=[True, False]).iloc[0]
        r = r.copy()
        r["patients"] = best["patients"]
        r["precision"] = best["precision"]
        r["how_obtained"] = "stated"
        rows.append(r)
    return pd.DataFrame(rows).reset_index(drop=True)


def _month_index(text: str) -> int:
    y, m = str(text)[:7].split("-")
    return int(y) * 12 + int(m) - 1


@lru_cache(maxsize=1)
def _windows() -> pd.DataFrame:
    target = _claimed("workforce-lost-400")
    return wf.twelve_month_windows(_gp(), target, claims.precision("workforce-lost-400"))


@lru_cache(maxsize=None)
def _param(name: str):
    """A chapter parameter's default in runs.yml, for a claim whose grid does not vary it."""
    from ..runner import load_matrix

    return load_matrix()["workforce"].params[name].default


@lru_cache(maxsize=None)
def _claimed(claim_id: str) -> float:
    """The claim's published figure (the claims registry is deep-copied on each read: read it once)."""
    return abs(float(claims.registry()[claim_id]["published"]["value"]))


@lru_cache(maxsize=None)
def _as_of(claim_id: str, lag: int) -> str:
    """The month a claim is judged on (the rubric's ``timing.as_of``), less a publication lag."""
    return wf.month_before(claims.seen_up_to(claim_id), lag)


def _outcome(r: wf.ClaimResult) -> Outcome:
    return Outcome(r.value if r.reproducible else None, r.verdict)


@spec("workforce-fte-fallen")
def fte_fallen(c: dict) -> Outcome:
    return _outcome(wf.fte_fallen_as_of(_gp(), c["measure"], c["include_trainees"], c["include_locums"], c["baseline"],
                                        c["vintage"], _as_of("workforce-fte-fallen", c["publication_lag"]),
                                        c["comparison_rule"]))


@spec("workforce-salaried-third")
def salaried_third(c: dict) -> Outcome:
    claimed = _claimed("workforce-salaried-third")
    overrides = {} if c["fractions"] == "rubric" else {"simple_fraction.fractions": COARSE_FRACTIONS}
    with rubric.overriding(overrides):
        r = wf.claim_salaried_as_of(_gp(), claimed, c["measure"], c["include_trainees"], True, c["vintage"],
                                    _as_of("workforce-salaried-third", c["publication_lag"]))
    return _outcome(r)


@spec("workforce-appointments-record")
def appointments_record(c: dict) -> Outcome:
    claimed = _claimed("workforce-appointments-record")
    appts = _appts()
    if c["earlier_months"] == "full_coverage":
        # a record against the months of the same coverage as the month claimed (all current suppliers)
        month = appts[appts["month"] == c["record_month"]]
        if month.empty:
            return Outcome(None, verdicts.not_reproducible(f"{c['record_month']} is outside the vendored monthly series"))
        appts = appts[appts["coverage"] == month["coverage"].iloc[0]]
    r = wf.claim_appointments_record(appts, _published(), claimed, c["record_month"], c["include_vaccinations"])
    return _outcome(r)


@spec("workforce-lost-400")
def lost_400(c: dict) -> Outcome:
    target = _claimed("workforce-lost-400")
    r = wf.claim_lost_400(_gp(), target, c["measure"], c["include_trainees"], c["include_locums"], c["vintage"],
                          _as_of("workforce-lost-400", c["publication_lag"]),
                          stated_only=c["derived_ends"] == "exclude", windows=_windows())
    return _outcome(r)


@spec("workforce-patients-per-gp")
def patients_per_gp(c: dict) -> Outcome:
    r = wf.claim_patients_per_gp_as_of(_gp(), _patients(c["baseline_patients"]), _published(), c["measure"],
                                       c["include_trainees"], c["include_locums"], c["vintage"], _param("baseline"),
                                       _as_of("workforce-patients-per-gp", c["publication_lag"]), c["cross_check"])
    return _outcome(r)

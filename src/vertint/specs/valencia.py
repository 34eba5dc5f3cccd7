"""Spec functions of the Valencia chapter (see :mod:`vertint.specs`).

Each calls the package function the chapter's ``claims.emit`` cell calls, with the specification's
choices. The claims are judged on documents (the study's published counts, the timeline's sources,
the programmes' descriptions, the Kaiser comparison and its critiques), every one dated before the
claims it bears on or undated, so the as-of evidence is the vendored evidence. The stricter reading
of the ``dated_event`` rule's strong kinds is a list, which a declared choice cannot hold, so it is
applied here with :func:`vertint.rubric.overriding`.
"""

from __future__ import annotations

from functools import lru_cache

from .. import rubric
from .. import valencia as val
from ..robustness import Outcome, spec

#: the values of the ``strong_kinds`` choice, as the rubric parameter ``dated_event.strong_kinds``
STRONG_KINDS = {"peer-reviewed and official": ["peer-reviewed", "official"], "peer-reviewed only": ["peer-reviewed"]}


@lru_cache(maxsize=1)
def _counts():
    return val.resolve_counts([])


@lru_cache(maxsize=1)
def _timeline():
    return val.timeline()


@spec("valencia-alzira-no-better")
def alzira_no_better(c: dict) -> Outcome:
    value, verdict = val.no_better_claim(_counts(), c["tie_handling"])
    return Outcome(value, verdict)


def _strong(c: dict):
    return rubric.overriding({"dated_event.strong_kinds": STRONG_KINDS[c["strong_kinds"]]})


@spec("valencia-alzira-integrated")
def alzira_integrated(c: dict) -> Outcome:
    tl = _timeline()
    with _strong(c):
        verdict = val.integrated_verdict(tl, c["dating"])
    year = val.event_year(tl, "primary_care_added") if c["dating"] == "retender" else val.event_year(tl, "hospital_concession")
    return Outcome(str(year), verdict)


@spec("valencia-alzira-withdrawn")
def alzira_withdrawn(c: dict) -> Outcome:
    tl = _timeline()
    with _strong(c):
        verdict = val.withdrawn_verdict(tl, c["reading"])
    return Outcome(str(val.event_year(tl, "reversion")) if c["reading"] == "ended" else "none", verdict)


@spec("valencia-similar-merging")
def similar_merging(c: dict) -> Outcome:
    intl = val.international_table()
    return Outcome(val.merging_shown(intl, c["forms"]), val.merging_verdict(intl, c["forms"], c["unassessed"]))


@spec("valencia-kaiser-costs-similar")
def kaiser_costs_similar(c: dict) -> Outcome:
    value, verdict = val.kaiser_claim(val.kaiser_table(), c["cost_adjustment"], val.kaiser_within())
    return Outcome(value, verdict)

"""Spec functions of the admission-effects chapter (see :mod:`vertint.specs`).

Each calls the package function the chapter's ``claims.emit`` cell calls, with the specification's
choices; the rubric choices are applied around the call by :mod:`vertint.robustness`. The claims
are judged on published documents (the studies, their press release, the Proposition 99 panel and
papers), all dated before the claims, so the as-of figure is the published one. Estimates that cost
time (the synthetic controls) are cached per process; verdicts are never cached, since they read
the rubric.
"""

from __future__ import annotations

from functools import cache, lru_cache

from .. import admissions as adm
from .. import prop99, verdicts
from ..robustness import Outcome, spec


@lru_cache(maxsize=1)
def _inputs():
    est, rep = adm.estimates(), adm.reported()
    return est, rep, adm.yu_rederivation(est, rep)


@spec("admissions-avoided-admissions")
def avoided_admissions(c: dict) -> Outcome:
    value, verdict = adm.avoided_claim(_inputs()[2], "admissions", c["inputs"])
    return Outcome(value, verdict)


@spec("admissions-avoided-readmissions")
def avoided_readmissions(c: dict) -> Outcome:
    value, verdict = adm.avoided_claim(_inputs()[2], "readmissions", c["inputs"])
    return Outcome(value, verdict)


@spec("admissions-pvalues")
def pvalues(c: dict) -> Outcome:
    value, verdict = adm.pvalues_claim(_inputs()[2], c["scale"], c["se_from"], c["reference"])
    return Outcome(value, verdict)


@spec("admissions-wolverhampton-reduction")
def wolverhampton_reduction(c: dict) -> Outcome:
    value, verdict = adm.reduction_claim(_inputs()[2], c["outcomes"], c["reading"])
    return Outcome(value, verdict)


@lru_cache(maxsize=1)
def _panel():
    from ..synth import prop99_panel

    return prop99_panel()


@cache
def _sc(implementation: str) -> float:
    return prop99.sc_estimate_by(implementation, _panel())


@lru_cache(maxsize=1)
def _published():
    from ..synth import prop99_published

    return prop99_published(), prop99.published_placebo()["value"]


@spec("admissions-prop99-sc-check")
def prop99_sc_check(c: dict) -> Outcome:
    est = _sc(c["implementation"])
    published = float(_published()[0].loc["sc", "estimate"])
    return Outcome(round(est, 2), verdicts.method_check(published, est, "packs per capita"))


@cache
def _placebo(california_in_pools: bool, v_starts: int):
    """California's placebo rank under one specification of Abadie et al.'s test: 39 synthetic
    controls (about 4 s of CPU per start of the V search), fitted once per process. The outcome-only
    fit is a different test (this book's own estimator), shown in the text, not a choice here."""
    return prop99.placebo_summary(prop99.placebo_table("abadie", california_in_pools, v_starts))


@spec("admissions-prop99-placebo")
def prop99_placebo(c: dict) -> Outcome:
    inp, starts = c["california_in_pools"], int(c["v_starts"])
    r = _placebo(inp, starts)
    return Outcome(round(r["p"], 3), prop99.placebo_verdict(_published()[1]["rank"], r["rank"], "abadie", inp, starts))


@cache
def _sdid(sparsify: bool) -> float:
    return prop99.sdid_estimate(sparsify, _panel())


@spec("admissions-prop99-sdid")
def prop99_sdid(c: dict) -> Outcome:
    est = _sdid(c["sparsify"])
    published = float(_published()[0].loc["sdid", "estimate"])
    return Outcome(round(est, 2), verdicts.method_check(published, est, "packs per capita"))

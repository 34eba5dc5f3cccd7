"""Spec functions of the context chapter (see :mod:`vertint.specs`).

Each calls the same :mod:`vertint.context` function the chapter notebook calls to emit the claim,
with the specification's choices as arguments, so the default specification reproduces the ledger
by construction. Data loads are cached per process.
"""

from __future__ import annotations

from functools import lru_cache

from .. import context, data, rubric, workforce
from ..robustness import Outcome, spec


@lru_cache(maxsize=1)
def _sites():
    return context.sites()


@lru_cache(maxsize=None)
def _load(name: str):
    return data.load(name)


@lru_cache(maxsize=1)
def _appointments():
    return workforce.load_appointments()


def _out(kwargs: dict) -> Outcome:
    return Outcome(kwargs["reproduced"]["value"], kwargs["verdict"])


def _rwt(claim_id: str, c: dict) -> Outcome:
    sites = _sites()
    payments = _load("practice_payments") if c["reference"] == context.OFFICIAL else None
    b = context.rwt_benchmark(sites, claim_id, c["reference"], payments)
    return _out(context.rwt_claim(sites, b, claim_id))


@spec("context-rwt-eight-practices")
def rwt_eight(c: dict) -> Outcome:
    return _rwt("context-rwt-eight-practices", c)


@spec("context-rwt-nine-practices")
def rwt_nine(c: dict) -> Outcome:
    return _rwt("context-rwt-nine-practices", c)


@spec("context-pulse-dhsc-visit")
def dhsc_visit(c: dict) -> Outcome:
    strong = [k.strip() for k in c["strong_kinds"].split(",")]
    with rubric.overriding({"dated_event.strong_kinds": strong}):
        return _out(context.visit_claim(_sites(), "context-pulse-dhsc-visit", dated_by=c["dated_by"]))


@spec("context-symphony-practices")
def symphony(c: dict) -> Outcome:
    return _out(context.symphony_claim(_sites(), "context-symphony-practices", c["measure"]))


@spec("context-swindon-handback")
def swindon(c: dict) -> Outcome:
    return _out(context.swindon_claim(_sites(), c["months"]))


@spec("context-hf-uk-range-of-models")
def range_of_models(c: dict) -> Outcome:
    return _out(context.places_claim(_sites(), c["evidence"]))


@spec("context-wales-885")
def wales_885(c: dict) -> Outcome:
    return _out(context.wales_claim(_sites(), "context-wales-885", c["basis"]))


@spec("context-mapping-mean")
def mapping_mean(c: dict) -> Outcome:
    return _out(context.mapping_mean_claim(_sites(), "context-mapping-mean"))


@spec("context-hf-trusts-greater-role")
def trusts_greater_role(c: dict) -> Outcome:
    return _out(context.trusts_claim(_sites(), c["measure"]))


@spec("context-nihr-usually-separate")
def usually_separate(c: dict) -> Outcome:
    return _out(context.separate_claim(_sites(), _load("practice_payments"), c["trust_run"]))


@spec("context-nihr-interviews")
def nihr_interviews(c: dict) -> Outcome:
    qc = context.qualitative_counts(context.qualitative())
    return _out(context.equals_claim("context-nihr-interviews", qc["interviews"], "interviews"))


@spec("context-nihr-sites")
def nihr_sites(c: dict) -> Outcome:
    qc = context.qualitative_counts(context.qualitative())
    return _out(context.equals_claim("context-nihr-sites", qc["sites"], "sites"))


@spec("context-nihr-growing-workload")
def growing_workload(c: dict) -> Outcome:
    return _out(context.workload_claim(_appointments(), "context-nihr-growing-workload", c["comparison"], c["first_published"]))

"""Spec functions of the models chapter (see :mod:`vertint.specs`).

Each calls the same :mod:`vertint.models` function the chapter notebook calls to emit the claim
(or :func:`vertint.context.equals_claim`, shared by both chapters), with the specification's
choices as arguments, so the default specification reproduces the ledger by construction. Data
loads are cached per process.
"""

from __future__ import annotations

from functools import lru_cache

from .. import context, data, models
from ..robustness import Outcome, spec


@lru_cache(maxsize=None)
def _load(name: str):
    return data.load(name)


def _out(kwargs: dict) -> Outcome:
    return Outcome(kwargs["reproduced"]["value"], kwargs["verdict"])


@spec("context-scaled-21-models")
def scaled_21(c: dict) -> Outcome:
    ms = models.model_summary(models.models())
    return _out(context.equals_claim("context-scaled-21-models", (ms["models"], ms["types"]), "models; types"))


@spec("context-scaled-four-types")
def scaled_four(c: dict) -> Outcome:
    ms = models.model_summary(models.models())
    return _out(context.equals_claim("context-scaled-four-types", ms["promising_types"], "types"))


@spec("context-scaled-five-functions")
def scaled_five(c: dict) -> Outcome:
    items = models.checklist_items()
    return _out(context.equals_claim("context-scaled-five-functions", int((items["group"] == "function").sum()), "functions"))


@spec("context-scaled-mirrored")
def scaled_mirrored(c: dict) -> Outcome:
    ms = models.model_summary(models.models())
    return _out(context.equals_claim("context-scaled-mirrored", ms["mirror_countries_present"], "countries"))


#: the measures of the GP Patient Survey a reader could take as 'harder to book' (the chapter's default: the first two)
GPPS_MEASURES = {
    "both": ["overall_experience_making_appointment_good", "easy_to_get_through_by_phone"],
    "making_appointment": ["overall_experience_making_appointment_good"],
    "phone": ["easy_to_get_through_by_phone"],
    "appointment_times": ["satisfied_with_appointment_times"],
}


@spec("context-hf-harder-to-book")
def harder_to_book(c: dict) -> Outcome:
    surveys = _load("context_patient_experience")
    return _out(models.survey_claim(surveys, "context-hf-harder-to-book", "gpps", GPPS_MEASURES[c["measures"]], "fall",
                                     pair=c.get("pair", "latest_two")))


@spec("context-hf-satisfaction-falling")
def satisfaction_falling(c: dict) -> Outcome:
    surveys = _load("context_patient_experience")
    return _out(models.survey_claim(surveys, "context-hf-satisfaction-falling", "bsa", ["satisfied_with_gp_services"], "fall",
                                     pair=c["pair"]))


@spec("context-mip-deprived-shortages")
def deprived_shortages(c: dict) -> Outcome:
    payments = _load("practice_payments") if c["patients"] == "weighted" else None
    return _out(models.deprivation_claim(_load("practice_workforce"), "context-mip-deprived-shortages", c["measure"],
                                          c["groups"], c["patients"], payments))

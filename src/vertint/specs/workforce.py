"""Spec functions of the workforce chapter (see :mod:`vertint.specs`)."""

from __future__ import annotations

from functools import lru_cache

from .. import claims, verdicts, workforce as wf
from ..robustness import Outcome, spec


@lru_cache(maxsize=1)
def _gp():
    return wf.load_gp()


@spec("workforce-fte-fallen")
def fte_fallen(c: dict) -> Outcome:
    gp = _gp()
    key = (wf.measure_key(c["measure"], c["include_trainees"], c["include_locums"])
           if not (c["include_trainees"] and not c["include_locums"]) else "fte_fully_qualified")
    month = wf.latest_month(gp, key, c["vintage"], claims.seen_up_to("workforce-fte-fallen"))
    if month is None or month <= c["baseline"]:
        return Outcome(None, verdicts.not_reproducible("no figure of this definition and vintage after the baseline "
                                                        "and on or before the claim's date"))
    r = wf.claim_fte_fallen(gp, c["measure"], c["include_trainees"], c["include_locums"], c["baseline"], month, c["vintage"])
    return Outcome(r.value, r.verdict)

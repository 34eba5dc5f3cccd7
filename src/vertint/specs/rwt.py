"""Spec functions of the Royal Wolverhampton chapter (see :mod:`vertint.specs`).

Each claim is judged by :func:`vertint.rwt_claims.judge`, the call the chapter makes, on the average
effects of :func:`vertint.rwt_claims.effect` with the years published before the claim. Effects are
cached per process by (outcome, last year, comparator set, undated take-overs), and each outcome's
England panel by (outcome, last year), so a choice that only changes the judgement (the
randomisation level) or picks among outcomes costs nothing more.
Every specification uses the chapter's default number of re-assignments and seed (what the
rubric's randomisation level needs: 199 re-assignments resolve p-values to 0.005).
"""

from __future__ import annotations

from functools import lru_cache

from .. import claims, rwt, rwt_claims
from ..robustness import Outcome, spec

#: the chapter's defaults (runs.yml: rwt.n_reps, rwt.seed)
N_REPS = 199
SEED = rwt.DEFAULT_SEED


@lru_cache(maxsize=None)
def _panel(outcome: str, last: str):
    """The outcome's England panel (what :func:`vertint.rwt.study_panel` builds by default), built once
    per process for every comparator set and dating of take-overs. Never modified by its users."""
    return rwt.panel(outcome, last=last)


@lru_cache(maxsize=None)
def _effect(outcome: str, last: str, comparator: str, unknown: str, left_stays_treated: bool) -> dict:
    return rwt_claims.effect(outcome, last=last, n_reps=N_REPS, seed=SEED, comparator=comparator, unknown=unknown,
                             left_stays_treated=left_stays_treated, pan=_panel(outcome, last))


def _judge(claim_id: str, parts: list[tuple[str, str]], c: dict) -> Outcome:
    last = claims.last_financial_year(claim_id)
    effects = {o: _effect(o, last, c["comparator"], c["unknown"], True) for o, _ in parts}
    v, text = rwt_claims.judge(parts, effects, last)
    return Outcome(text, v)


#: outcome readings of 'recruitment and retention' and of 'loss of GPs' (the chapter's are the first)
RECRUITMENT = {"both": [("gp_fte_per_10k", "rise"), ("gp_hc", "rise")], "fte": [("gp_fte_per_10k", "rise")],
               "headcount": [("gp_hc", "rise")]}
LOSS = {"fte": [("gp_fte_per_10k", "fall")], "headcount": [("gp_hc", "fall")]}


@spec("rwt-nihr-recruitment-retention")
def recruitment_retention(c: dict) -> Outcome:
    return _judge("rwt-nihr-recruitment-retention", RECRUITMENT[c["outcome"]], c)


@spec("rwt-nihr-practices-open")
def practices_open(c: dict) -> Outcome:
    return _judge("rwt-nihr-practices-open", [("closed", "fall")], c)


@spec("rwt-hf-further-loss")
def further_loss(c: dict) -> Outcome:
    return _judge("rwt-hf-further-loss", LOSS[c["outcome"]], c)

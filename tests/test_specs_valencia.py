"""The Valencia chapter's robustness grid (rubric/choices/valencia.yml, vertint.specs.valencia):
every data-decided claim has declared choices and a spec function, the default specification
reproduces the locked ledger, and non-default specifications give the values and verdicts worked
out here by hand from the published counts, the timeline and the cost figures."""

from __future__ import annotations

from math import comb
from pathlib import Path

import pytest
from scipy.stats import beta
from specgrid import ChapterGrid

from vertint import verdicts

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "valencia"


G = ChapterGrid(CHAPTER)
run = G.run


def choices() -> dict:
    return G.declared


(test_grid_covers_every_data_decided_claim, test_default_specification_reproduces_the_lock,
 test_claims_without_choices_say_why) = G.standard_tests()


def test_the_tie_choice_is_the_chapter_parameter():
    cc = choices()["valencia-alzira-no-better"]
    assert {c.name: c.param for c in cc.choices}["tie_handling"] == "valencia.tie_handling"


def test_no_better_with_every_tie_for_alzira_at_a_looser_level():
    # published counts: 11 improved more, 9 less, 6 no different; 15 of 26 worse in 2015
    p_change = sum(comb(26, i) for i in range(17, 27)) / 2**26  # 17 of 26 for Alzira
    assert 0.05 < p_change < 0.10
    level_upper = beta.ppf(0.95, 11 + 1, 26 - 11)  # 90% Clopper-Pearson, 11 of 26 not worse
    assert level_upper <= 0.5 + 0.15
    got = run("valencia-alzira-no-better", tie_handling="favour", alpha=0.1)
    # the change shows an advantage at 10% (not supported), the levels rule one out (supported): partly
    assert got["value"] == float(f"{p_change:.3g}") and got["verdict"] == verdicts.PARTLY
    change_upper = beta.ppf(0.95, 11 + 1, 20 - 11)  # ties excluded: 11 of 20
    assert change_upper > 0.5 + 0.2  # no margin declared rules an advantage out
    assert run("valencia-alzira-no-better", margin=0.2)["verdict"] == verdicts.PARTLY


def test_integration_dated_otherwise():
    # the only peer-reviewed dating of integrated care is the reversion paper's 1999, before the 2000s
    got = run("valencia-alzira-integrated", dating="reversion_paper")
    assert got == {"value": "1999", "verdict": verdicts.NOT_SUPPORTED, "rule": "dated_event"}
    # the re-tender of 2003 is dated by the Observatory only, an official source
    got = run("valencia-alzira-integrated", strong_kinds="peer-reviewed only")
    assert got == {"value": "2003", "verdict": verdicts.PARTLY, "rule": "dated_event"}


def test_withdrawn_read_strictly():
    # the integrated contract (2003) ran to its term: the only early end is the first contract's, in 2002
    got = run("valencia-alzira-withdrawn", reading="ended_early")
    assert got["verdict"] == verdicts.NOT_SUPPORTED
    # the reversion of 2018 is dated by a peer-reviewed paper, so a stricter reader still finds it
    assert run("valencia-alzira-withdrawn", strong_kinds="peer-reviewed only")["verdict"] == verdicts.SUPPORTED


def test_merging_read_broadly_or_narrowly():
    # Denmark's programmes are co-location and joint working; New Zealand's source is a commentary
    got = run("valencia-similar-merging", forms="any_integration", unassessed="left_out")
    assert got == {"value": "Denmark, Spain, United States", "verdict": verdicts.SUPPORTED, "rule": "named_places"}
    got = run("valencia-similar-merging", forms="provider_only")
    assert got == {"value": "Spain", "verdict": verdicts.PARTLY, "rule": "named_places"}


@pytest.mark.parametrize("adjustment, nhs", [("unadjusted", 1402), ("talbot_smith", 1161)])
def test_kaiser_on_other_cost_bases(adjustment, nhs):
    kaiser = 1951
    gap = kaiser - nhs
    assert gap / kaiser > 0.1 and gap / nhs > 0.1
    got = run("valencia-kaiser-costs-similar", cost_adjustment=adjustment)
    assert got["value"] == f"{100 * gap / kaiser:.1f}; {100 * gap / nhs:.1f}"
    assert got["verdict"] == verdicts.NOT_SUPPORTED

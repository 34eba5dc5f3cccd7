"""The Royal Wolverhampton chapter's robustness grid (rubric/choices/rwt.yml, vertint/specs/rwt.py):
the default specification of every claim reproduces the locked ledger, the grid covers every
data-decided claim of the chapter, and a non-default specification of each claim gives the verdict
derived here from the event study directly (not through rwt_claims)."""

from __future__ import annotations

from specgrid import ChapterGrid

from vertint import rubric, rwt, rwt_claims, verdicts

CHAPTER = "rwt"


G = ChapterGrid(CHAPTER)
run = G.run


(test_grid_covers_every_data_decided_claim, test_default_specification_reproduces_the_lock,
 test_claims_without_choices_say_why) = G.standard_tests()


def test_specs_use_the_chapters_reassignments():
    from vertint.runner import load_matrix
    from vertint.specs import rwt as specs

    params = load_matrix()["rwt"].params
    assert specs.N_REPS == params["n_reps"].default and specs.SEED == params["seed"].default


def _direct(outcome: str, last: str, comparator: str = "wolverhampton", unknown: str = "drop") -> dict:
    df = rwt.study_panel(outcome, comparator=comparator, unknown=unknown, last=last)
    return rwt.average_effect(df)


def test_further_loss_read_as_headcount():
    # GP headcount with the years to 2021-22: a small fall whose interval crosses zero, so by the
    # direction rule partly supported (never supported: the interval is not wholly below zero)
    avg = _direct("gp_hc", "2021-22")
    assert avg["estimate"] < 0 < avg["ci_high"]
    got = run("rwt-hf-further-loss", outcome="headcount")
    assert got["verdict"] == verdicts.PARTLY
    assert f"{avg['estimate']:+.2f} people (95% CI {avg['ci_low']:+.2f} to {avg['ci_high']:+.2f}" in got["value"]


def test_recruitment_read_as_fte_only():
    # GP FTE per patient fell (the point estimate is below zero) where a rise was claimed
    avg = _direct("gp_fte_per_10k", "2018-19")
    assert avg["estimate"] < 0
    got = run("rwt-nihr-recruitment-retention", outcome="fte")
    assert got["verdict"] == verdicts.NOT_SUPPORTED


def test_practices_open_with_matched_comparators():
    avg = _direct("closed", "2018-19", comparator="matched")
    expected = verdicts.PARTLY if avg["estimate"] < 0 else verdicts.NOT_SUPPORTED  # p_ri never below 0.05 here
    got = run("rwt-nihr-practices-open", comparator="matched")
    assert got["verdict"] == expected
    assert f"{avg['estimate']:+.2f} share of practices" in got["value"]


def test_randomisation_level_decides_a_clear_effect():
    # an effect whose interval lies wholly on the claimed side, with randomisation p 0.07: partly at
    # the rubric's 5%, supported at 10%
    eff = {"estimate": -0.2, "ci_low": -0.3, "ci_high": -0.1, "p_ri": 0.07, "n_treated_units": 6}
    parts = [("closed", "fall")]
    assert rwt_claims.judge(parts, {"closed": eff}, "2018-19")[0].label == verdicts.PARTLY
    with rubric.overriding({"direction.randomisation_alpha": 0.1}):
        assert rwt_claims.judge(parts, {"closed": eff}, "2018-19")[0].label == verdicts.SUPPORTED

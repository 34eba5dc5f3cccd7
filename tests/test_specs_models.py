"""The models chapter's robustness grid (rubric/choices/models.yml, vertint/specs/models.py): the
default specification of every claim reproduces the locked ledger, the grid covers every
data-decided claim of the chapter, and one non-default specification per claim with choices gives
the value and verdict derived here by hand from the data. The claims keep the context- ids they had
before the chapters were split."""

from __future__ import annotations

import pandas as pd
from specgrid import ChapterGrid

from vertint import paths, robustness, verdicts

CHAPTER = "models"


G = ChapterGrid(CHAPTER)
run = G.run


(test_grid_covers_every_data_decided_claim, test_default_specification_reproduces_the_lock,
 test_claims_without_choices_say_why) = G.standard_tests()


def test_panel_names_the_choices_file_of_the_claims_chapter():
    # the id keeps its context- prefix; its choices are declared in the models chapter's file
    html = robustness.panel("context-hf-satisfaction-falling")._repr_html_()
    assert "rubric/choices/models.yml" in html and "rubric/choices/context.yml" not in html


# --------------------------------------------------------------------------- hand-checked non-default specifications


def test_booking_read_as_appointment_times():
    got = run("context-hf-harder-to-book", measures="appointment_times")
    assert got["value"] == "satisfied with appointment times: 67% (2021) to 55.2% (2022)"
    assert got["verdict"] == verdicts.SUPPORTED


def test_satisfaction_within_one_series_is_undecided():
    # before 2023 the online series had one figure (2021), so no comparison within one series
    got = run("context-hf-satisfaction-falling", pair="same_series")
    assert got["verdict"] == verdicts.NOT_REPRODUCIBLE and got["value"] is None


def test_deprivation_headcount():
    wf = pd.read_csv(paths.root() / "data" / "practice_workforce.csv")
    w = wf[(wf["year"] == "2020-21") & wf["gp_fte"].notna() & wf["imd_quintile"].notna()]
    g = w.groupby("imd_quintile")[["gp_hc", "total_patients"]].sum()
    per = g["gp_hc"] / g["total_patients"] * 10_000
    got = run("context-mip-deprived-shortages", measure="headcount")
    assert got["value"].startswith(f"{per.loc[5]:.2f} against {per.loc[1]:.2f} GPs (headcount)")
    assert per.loc[5] < per.loc[1] and got["verdict"] == verdicts.SUPPORTED

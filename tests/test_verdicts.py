from __future__ import annotations

import pytest

from vertint import verdicts as v


def test_rederived_bands_come_from_the_rubric():
    # rubric: supported within 5% of the published figure, partly within twice that
    assert v.rederived(100, 104).label == v.SUPPORTED
    assert v.rederived(100, 108).label == v.PARTLY
    assert v.rederived(100, 111).label == v.NOT_SUPPORTED
    assert v.rederived(888, 889.7).reason.startswith("published 888, re-derived 889.7: relative difference 0.2%")


def test_rounds_to_follows_the_claims_precision():
    # "400", stated to the nearest hundred: within 50 supported, within 150 partly
    assert v.rounds_to(-400, -364, 100).label == v.SUPPORTED
    assert v.rounds_to(-400, -450, 100).label == v.SUPPORTED
    assert v.rounds_to(-400, -451, 100).label == v.PARTLY
    assert v.rounds_to(-400, -243, 100).label == v.NOT_SUPPORTED  # 157 away
    assert v.rounds_to(32_000_000, 31_990_119, 1_000_000).label == v.SUPPORTED


def test_simple_fraction_bands():
    third = 1 / 3
    assert v.simple_fraction(third, 0.355).label == v.SUPPORTED  # July 2022, 35.5%
    assert v.simple_fraction(third, 0.367).label == v.PARTLY  # nearest is two fifths, a neighbour
    assert v.simple_fraction(third, 0.40).label == v.PARTLY
    assert v.simple_fraction(third, 0.47).label == v.NOT_SUPPORTED  # nearest is a half
    assert v.simple_fraction(third, 0.29).label == v.PARTLY  # nearest is a quarter
    with pytest.raises(ValueError):
        v.simple_fraction(0.37, 0.4)


def test_within_share_reads_both_bases():
    # Kaiser 1,951 vs NHS 1,764 (Feachem adjusted): 9.6% of Kaiser, 10.6% of the NHS
    assert v.within_share(1764, 1951, 0.10).label == v.PARTLY
    assert v.within_share(100, 105, 0.10).label == v.SUPPORTED
    assert v.within_share(100, 130, 0.10).label == v.NOT_SUPPORTED


def test_not_better_never_supports_on_a_failed_test_alone():
    assert v.not_better(0.41, 0.74, "x").label == v.PARTLY  # no advantage shown, none ruled out
    assert v.not_better(0.90, 0.58, "x").label == v.SUPPORTED  # an advantage beyond 65% is ruled out
    assert v.not_better(0.01, 0.90, "x").label == v.NOT_SUPPORTED


def test_direction_with_and_without_interval():
    assert v.direction(-1398, "fall").label == v.SUPPORTED
    assert v.direction(7565, "fall").label == v.NOT_SUPPORTED
    assert v.direction(-5, "fall", -9, -1).label == v.SUPPORTED
    assert v.direction(-5, "fall", -9, 2).label == v.PARTLY
    assert v.direction(3, "fall", -1, 6).label == v.NOT_SUPPORTED
    assert v.across_break(v.direction(-30, "fall"), "x").label == v.PARTLY


def test_reported_effect_for_ratios():
    assert v.reported_effect(1.0, 0.812, 0.997, "reduction").label == v.SUPPORTED
    assert v.reported_effect(1.0, 0.827, 1.377, "reduction").label == v.PARTLY
    assert v.reported_effect(1.0, 1.02, 1.3, "reduction").label == v.NOT_SUPPORTED


def test_consistency_is_not_evidence():
    assert v.consistency(False, "agree").label == v.NOT_REPRODUCIBLE
    assert v.consistency(True, "contradict").label == v.NOT_SUPPORTED


def test_equals_and_all_of():
    assert v.equals(8, 10).label == v.NOT_SUPPORTED
    assert v.equals(16, 16).label == v.SUPPORTED
    both = v.all_of(v.equals(1, 1), v.equals(1, 2))
    assert both.label == v.PARTLY and ";" in both.reason
    refuted_rest_unknown = v.all_of(v.equals(1, 2), v.not_reproducible("no data"))
    assert refuted_rest_unknown.label == v.NOT_SUPPORTED
    assert v.all_of(v.not_reproducible("a"), v.not_reproducible("b")).label == v.NOT_REPRODUCIBLE
    assert v.all_of(v.rederived(100, 108), v.not_reproducible("b")).label == v.PARTLY


def test_labels_and_rules_are_fixed():
    with pytest.raises(ValueError):
        v.Verdict("mostly true", "equals", "y")
    with pytest.raises(ValueError, match="not declared in rubric"):
        v.Verdict("supported", "my_own_rule", "y")
    with pytest.raises(ValueError):
        v.Verdict("not reproducible from public data", "equals", "y")
    assert v.not_reproducible("no data").label == "not reproducible from public data"


def test_verdicts_are_made_only_by_rule_functions():
    """A Verdict is constructed only inside vertint.verdicts (its rule functions); chapter modules
    and notebooks call those functions, so no verdict word can be typed in by hand."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    made = re.compile(r"\bVerdict\(")
    offenders = [str(p.relative_to(root)) for p in sorted((root / "src" / "vertint").rglob("*.py"))
                 if p.name != "verdicts.py" and made.search(p.read_text(encoding="utf-8"))]
    offenders += [str(p.relative_to(root)) for p in sorted((root / "notebooks").glob("*.md"))
                  if made.search(p.read_text(encoding="utf-8"))]
    assert not offenders, f"Verdict(...) constructed outside vertint.verdicts: {offenders}"


def test_not_better_reads_its_bound_and_level_from_the_rubric():
    from vertint import rubric

    bound = 0.5 + float(rubric.param("not_better", "margin"))
    alpha = float(rubric.param("not_better", "alpha"))
    assert v.not_better(0.5, bound, "x").label == v.SUPPORTED  # at the bound: ruled out
    assert v.not_better(0.5, bound + 1e-9, "x").label == v.PARTLY  # just above: a failed test alone
    assert v.not_better(alpha - 1e-9, 0.5, "x").label == v.NOT_SUPPORTED
    assert v.not_better(alpha, bound + 0.1, "x").label == v.PARTLY
    assert f"against {bound:.0%}" in v.not_better(0.5, 0.6, "x").reason

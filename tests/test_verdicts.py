from __future__ import annotations

import pytest

from vertint import verdicts as v


def test_close_to_bands():
    assert v.close_to(100, 104).label == v.SUPPORTED
    assert v.close_to(100, 108).label == v.PARTLY
    assert v.close_to(100, 111).label == v.NOT_SUPPORTED
    assert v.close_to(888, 889.7, rel_tol=0.01).reason.startswith("relative difference 0.2%")


def test_direction_with_and_without_interval():
    assert v.direction(-1398, "fall").label == v.SUPPORTED
    assert v.direction(7565, "fall").label == v.NOT_SUPPORTED
    assert v.direction(-5, "fall", -9, -1).label == v.SUPPORTED
    assert v.direction(-5, "fall", -9, 2).label == v.PARTLY
    assert v.direction(3, "fall", -1, 6).label == v.NOT_SUPPORTED


def test_interval_excludes_for_ratios():
    assert v.interval_excludes(1.0, 0.812, 0.997, "reduction").label == v.SUPPORTED
    assert v.interval_excludes(1.0, 0.827, 1.377, "reduction").label == v.PARTLY
    assert v.interval_excludes(1.0, 1.02, 1.3, "reduction").label == v.NOT_SUPPORTED


def test_equals_and_all_of():
    assert v.equals(8, 10).label == v.NOT_SUPPORTED
    assert v.equals(16, 16).label == v.SUPPORTED
    both = v.all_of(v.equals(1, 1), v.equals(1, 2))
    assert both.label == v.PARTLY and ";" in both.reason
    refuted_rest_unknown = v.all_of(v.equals(1, 2), v.not_reproducible("no data"))
    assert refuted_rest_unknown.label == v.NOT_SUPPORTED
    assert v.all_of(v.not_reproducible("a"), v.not_reproducible("b")).label == v.NOT_REPRODUCIBLE
    assert v.all_of(v.close_to(100, 108), v.not_reproducible("b")).label == v.PARTLY


def test_labels_are_fixed_words():
    with pytest.raises(ValueError):
        v.Verdict("mostly true", "x", "y")
    assert v.not_reproducible("no data").label == "not reproducible from public data"

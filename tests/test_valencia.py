"""Tests for vertint.valencia: the sign tests, the timeline, the evidence grades, Kaiser and the
international rows. Expected values are computed by hand from the binomial distribution, not by the
code under test."""

from __future__ import annotations

import re
import shutil
from math import comb
from pathlib import Path

import pytest

import yaml

from vertint import data, verdicts
from vertint import valencia as val
from vertint.runner import load_matrix, notebook_parameters, parse_value

ROOT = Path(__file__).resolve().parents[1]


def upper_tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), by direct summation."""
    return sum(comb(n, i) for i in range(k, n + 1)) / 2**n


# --------------------------------------------------------------------------- the published counts


def test_published_counts_are_the_abstracts():
    c = val.resolve_counts([])
    assert (c["indicators_total"], c["worse_2015"], c["improved_more"], c["improved_less"]) == (26, 15, 11, 9)
    assert c["best_named_2015"] == 1 and c["source"] == "published"
    assert val.study_period() == (2003, 2015)


def test_override_strings_from_the_command_line_become_ints():
    c = val.resolve_counts(["26", " 5", "18", "2"])
    assert (c["indicators_total"], c["worse_2015"], c["improved_more"], c["improved_less"]) == (26, 5, 18, 2)
    assert c["source"] == "override"
    assert val.resolve_counts([26, 15, 11, 9])["improved_more"] == 11


@pytest.mark.parametrize(
    "bad, message",
    [
        (["26", "15", "11"], "needs 4"),
        (["26", "15", "11", "9", "1"], "needs 4"),
        (["26", "x", "11", "9"], "whole number"),
        (["26", "1.5", "11", "9"], "whole number"),
        ([26, 15.5, 11, 9], "whole number"),
        ([26, True, 11, 9], "whole number"),
        (["26", "-1", "11", "9"], "negative"),
        (["26", "27", "11", "9"], "exceeds the total"),
        (["26", "15", "20", "9"], "exceeds the total"),
        (["0", "0", "0", "0"], "positive"),
        ("26,15,11,9", "needs 4"),
    ],
)
def test_bad_overrides_are_refused(bad, message):
    with pytest.raises(val.CountsError, match=message):
        val.resolve_counts(bad)


def test_runner_parses_the_list_override_then_the_package_validates_it():
    runs = load_matrix(ROOT)
    p = runs["valencia"].params["indicator_counts"]
    assert parse_value("valencia", p, "26,15,11,9") == [26, 15, 11, 9]  # typed before any kernel starts
    assert val.resolve_counts(parse_value("valencia", p, "26,15,11,9"))["worse_2015"] == 15


# --------------------------------------------------------------------------- sign tests


def test_change_ties_excluded_is_11_of_20():
    t = val.change_test(val.resolve_counts([]), "exclude")
    assert (t.favour, t.n, t.ties_dropped) == (11, 20, 6)
    assert t.p_better == pytest.approx(upper_tail(11, 20), rel=1e-12)
    assert t.p_better == pytest.approx(0.411901474, abs=1e-9)
    assert t.p_two_sided == pytest.approx(0.823802948, abs=1e-9)
    assert t.p_worse == pytest.approx(upper_tail(9, 20), rel=1e-12)


def test_change_ties_split_is_14_of_26():
    t = val.change_test(val.resolve_counts([]), "split")
    assert (t.favour, t.n, t.ties_dropped) == (14, 26, 0)
    assert t.p_better == pytest.approx(upper_tail(14, 26), rel=1e-12)
    assert t.p_better == pytest.approx(0.422509491, abs=1e-9)


def test_split_with_odd_ties_drops_one():
    t = val.sign_test(11, 9, 5, "split")
    assert (t.favour, t.n, t.ties_dropped) == (13, 24, 1)


def test_change_ties_against_and_favour():
    c = val.resolve_counts([])
    against = val.change_test(c, "against")
    favour = val.change_test(c, "favour")
    assert (against.favour, against.n) == (11, 26)
    assert against.p_better == pytest.approx(0.836530209, abs=1e-9)
    assert (favour.favour, favour.n) == (17, 26)
    assert favour.p_better == pytest.approx(upper_tail(17, 26), rel=1e-12)
    assert favour.p_better == pytest.approx(0.084318772, abs=1e-9)


def test_level_15_worse_of_26():
    t = val.level_test(val.resolve_counts([]))
    assert (t.favour, t.n) == (11, 26)
    assert t.p_better == pytest.approx(0.836530209, abs=1e-9)
    assert t.p_worse == pytest.approx(upper_tail(15, 26), rel=1e-12)
    assert t.p_worse == pytest.approx(0.278598547, abs=1e-9)
    assert t.p_two_sided == pytest.approx(0.557197094, abs=1e-9)


def test_level_bounds_run_from_all_better_to_only_the_named_one():
    low, high = val.level_test_bounds(val.resolve_counts([]))
    assert low == pytest.approx(upper_tail(11, 26), rel=1e-12)
    assert high == pytest.approx(upper_tail(1, 16), rel=1e-12)


def test_significance_count_reading():
    p = val.significance_count_p(15, 26, 0.05)
    expected = sum(comb(26, i) * 0.025**i * 0.975 ** (26 - i) for i in range(15, 27))
    assert p == pytest.approx(expected, rel=1e-9)
    assert p < 1e-16
    with pytest.raises(ValueError):
        val.significance_count_p(15, 26, 1.5)


def test_unknown_tie_handling_is_refused():
    with pytest.raises(ValueError, match="tie_handling"):
        val.change_test(val.resolve_counts([]), "ignore")


def test_reading_table_has_every_reading():
    t = val.reading_table(val.resolve_counts([]))
    assert len(t) == 1 + len(val.TIE_HANDLING)
    assert list(t["For Alzira"]) == ["11 of 26", "11 of 20", "14 of 26", "11 of 26", "17 of 26"]
    shown = val.format_reading_table(t)
    assert shown.loc[1, "p (Alzira better)"] == "0.412"


def test_fmt_p():
    assert val.fmt_p(0.4119) == "0.412"
    assert val.fmt_p(0.0004) == "< 0.001"
    with pytest.raises(ValueError):
        val.fmt_p(float("nan"))


# --------------------------------------------------------------------------- the verdict on "did not outperform"


def _verdict(counts, ties="exclude"):
    c = val.resolve_counts(counts)
    return val.no_better_verdict(val.level_test(c), val.change_test(c, ties))


def test_published_counts_do_not_rule_out_an_advantage():
    # a failed test is not evidence of no advantage: 11 of 20 leaves the share in Alzira's favour
    # up to 74% (upper 90% bound), above the rubric's 65%, so the claim is only partly supported
    v = _verdict([])
    assert v.label == verdicts.PARTLY and v.rule == "all_of"
    assert "11 of 20" in v.reason
    c = val.resolve_counts([])
    assert val.favour_upper(val.change_test(c, "exclude")) == pytest.approx(0.7413, abs=0.001)


def test_verdict_flips_when_the_counts_favour_alzira():
    assert _verdict(["26", "5", "18", "2"]).label == verdicts.NOT_SUPPORTED  # both tests reject
    # the change shows an advantage (not supported), the levels only fail to show one (partly): all_of gives partly
    assert _verdict(["26", "15", "18", "2"]).label == verdicts.PARTLY


def test_verdict_depends_on_ties_not_on_the_page_alpha():
    # counting ties for Alzira gives 17 of 26, p = 0.0843: not an advantage at the rubric's 5% level,
    # and 17 of 26 cannot rule one out either
    assert _verdict([], "favour").label == verdicts.PARTLY
    assert "17 of 26" in _verdict([], "favour").reason


def test_describe_tests():
    c = val.resolve_counts([])
    text = val.describe_tests(val.level_test(c), val.change_test(c, "exclude"), 0.05)
    assert text == "neither comparison shows Alzira better than its peers and neither shows it worse"
    c2 = val.resolve_counts(["26", "24", "2", "18"])
    text2 = val.describe_tests(val.level_test(c2), val.change_test(c2, "exclude"), 0.05)
    assert text2.startswith("neither comparison shows Alzira better") and "show it worse" in text2


# --------------------------------------------------------------------------- the timeline


def test_timeline_kinds_and_sources():
    tl = val.timeline()
    assert set(tl["kind"]) <= set(val.KIND_ORDER)
    assert tl["source_url"].str.match(r"https?://").all()
    assert val.event_year(tl, "primary_care_added") == 2003
    assert val.event_year(tl, "reversion") == 2018
    assert val.event_value(tl, "population") == 259537
    assert val.event_value(tl, "rescue_payment") == 69


def test_timeline_chart_data_drops_undated_rows_only():
    tl = val.timeline()
    df = val.timeline_chart_data(tl)
    assert len(df) == len(tl) - int(tl["year"].isna().sum()) == len(tl) - 1
    assert set(df["track"]) == {"Contract", "Money", "Population"}
    spec = val.timeline_chart(df).to_dict()
    assert "title" not in spec  # captions carry the message


def test_capitation_series_and_cross_check():
    cap = val.capitation_series(val.timeline())
    assert list(cap["year"]) == [1999, 2003, 2018]
    assert list(cap["eur_per_inhabitant"]) == [204, 379, 750]
    assert list(cap["scope"]) == ["Hospital care only", "Hospital and primary care", "Hospital and primary care"]
    check = val.capitation_check(val.timeline())
    assert check["computed_pct"] == pytest.approx((379 / 225 - 1) * 100)
    assert check["reported_pct"] == 68


def test_event_verdicts():
    tl = val.timeline()
    assert val.event_verdict(tl, "primary_care_added", val.EARLY_2000S).label == verdicts.SUPPORTED
    assert val.event_verdict(tl, "reversion").label == verdicts.SUPPORTED
    # dated outside the claimed window
    assert val.event_verdict(tl, "reversion", (2000, 2005)).label == verdicts.NOT_SUPPORTED
    # only press sources date the rescue payment
    assert val.event_verdict(tl, "rescue_payment").label == verdicts.PARTLY
    assert val.event_verdict(tl, "no_such_event").label == verdicts.NOT_SUPPORTED


# --------------------------------------------------------------------------- evidence grades


def test_evidence_grades_separate_kinds():
    ev = val.evidence_table()
    assert list(ev["kind"]) == sorted(ev["kind"], key=val.KIND_ORDER.index)
    used = ev[ev["use"] == "used in the verdict"]
    assert set(used["kind"]) == {"peer-reviewed"} and used["alzira_specific"].all()
    assert (ev.loc[ev["kind"].isin(["press", "provider claim"]), "use"] == "not used as evidence").all()
    assert list(val.evidence_display(ev).columns) == ["Finding (source)", "Kind", "What it can support", "Use here"]
    with pytest.raises(ValueError):
        val.grade("blog", "provider statement", True)


def test_provider_claim_is_not_reproducible():
    v = val.provider_claim_verdict(val.evidence_table(), "wish_capitation")
    assert v.label == verdicts.NOT_REPRODUCIBLE
    with pytest.raises(KeyError):
        val.provider_claim_verdict(val.evidence_table(), "nope")


# --------------------------------------------------------------------------- Kaiser


def test_kaiser_table_values():
    kt = val.kaiser_table().set_index("adjustment")
    assert kt.loc["feachem2002", "gap"] == 187  # "Kaiser only costing $187 more"
    assert kt.loc["feachem2002", "gap_share_of_larger"] == pytest.approx(187 / 1951)
    assert kt.loc["feachem2002", "gap_share_of_nhs"] == pytest.approx(187 / 1764)
    assert kt.loc["talbot_smith", "gap_share_of_larger"] == pytest.approx(790 / 1951)  # "a 40% cost advantage"
    assert round(kt.loc["talbot_smith", "gap_share_of_larger"] * 100) == 40
    assert kt.loc["unadjusted", "gap"] == 1951 - 1402
    assert (kt["cheaper"] == "NHS").all()


def test_kaiser_verdict_flips_with_cost_adjustment():
    kt = val.kaiser_table()
    # Feachem adjusted: gap 9.6% of Kaiser's cost, 10.6% of the NHS's: within 10% on one base only
    assert val.costs_similar_verdict(kt, "feachem2002", 0.10).label == verdicts.PARTLY
    assert val.costs_similar_verdict(kt, "unadjusted", 0.10).label == verdicts.NOT_SUPPORTED
    assert val.costs_similar_verdict(kt, "talbot_smith", 0.10).label == verdicts.NOT_SUPPORTED
    assert val.costs_similar_verdict(kt, "feachem2002", 0.11).label == verdicts.SUPPORTED
    with pytest.raises(ValueError):
        val.costs_similar_verdict(kt, "ppp", 0.10)


def test_kaiser_margin_matches_the_registered_claim():
    reg = yaml.safe_load((ROOT / "claims" / "valencia.yml").read_text(encoding="utf-8"))
    kaiser = next(r for r in reg if r["id"] == "valencia-kaiser-costs-similar")
    assert kaiser["published"]["value"] == 10  # the claim's own "within 10%", read by the notebook


# --------------------------------------------------------------------------- international


def test_merging_verdict():
    intl = val.international_table()
    v = val.merging_verdict(intl)
    assert v.label == verdicts.PARTLY
    assert "Spain, United States" in v.reason and "Denmark" in v.reason and "New Zealand" in v.reason
    allmerged = intl.assign(form=lambda d: d["form"].where(d["country"] != "Denmark", "public merger"))
    allmerged = allmerged[allmerged["country"] != "New Zealand"]
    assert val.merging_verdict(allmerged).label == verdicts.SUPPORTED
    none = intl.assign(form="co-location")
    assert val.merging_verdict(none).label == verdicts.NOT_SUPPORTED


def test_international_rows_say_why():
    intl = val.international_table()
    assert set(intl["country"]) >= {"Spain", "Portugal", "United States", "Denmark", "New Zealand"}
    assert intl["why"].str.len().gt(40).all()
    d = val.international_display(intl)
    assert list(d.columns) == ["Where (form)", "What was found", "Transfers to English general practice?"]


# --------------------------------------------------------------------------- contracts: data, parameters, claims


def test_runs_yml_matches_the_notebook_parameters():
    runs = load_matrix(ROOT)
    declared = notebook_parameters(ROOT / "notebooks" / "valencia.md")
    assert declared == {k: p.default for k, p in runs["valencia"].params.items()}
    assert declared == {"tie_handling": "exclude", "alpha": 0.05, "indicator_counts": [],
                        "cost_adjustment": "feachem2002", "indicator_level": 0.05,
                        "indicator_correlation": [0.0, 0.5], "smoke": False}
    assert runs["valencia"].params["tie_handling"].choices == list(val.TIE_HANDLING)
    assert runs["valencia"].params["cost_adjustment"].choices == list(val.COST_ADJUSTMENTS)
    assert set(runs["valencia"].data) == {r for r in (x.get("name") for x in data.manifest()["resources"]) if r.startswith("valencia_")}


def test_every_claim_is_emitted_once_in_the_notebook():

    reg = yaml.safe_load((ROOT / "claims" / "valencia.yml").read_text(encoding="utf-8"))
    src = (ROOT / "notebooks" / "valencia.md").read_text(encoding="utf-8")
    for rec in reg:
        assert rec["id"].startswith("valencia-")
        assert len(re.findall(r'claims\.emit\(\s*"' + re.escape(rec["id"]) + '"', src)) == 1, rec["id"]
        declared = yaml.safe_load((ROOT / "rubric" / "choices" / "valencia.yml").read_text(encoding="utf-8"))["claims"]
        assert src.count(f'robustness_panel("{rec["id"]}")') == (1 if rec["id"] in declared else 0), rec["id"]
        assert f"({rec['section']})=" in src


def test_a_wrong_kind_label_is_refused(tmp_path, monkeypatch):
    """The manifest's enum on `kind` rejects an unknown label (validation runs on a copy)."""
    (tmp_path / "data").mkdir()
    for f in (ROOT / "data").glob("valencia_*.csv"):
        shutil.copy2(f, tmp_path / "data" / f.name)
    man = data.manifest()
    man["resources"] = [r for r in man["resources"] if r["name"].startswith("valencia_")]
    path = tmp_path / "data" / "valencia_timeline.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",press,", ",blog,", 1), encoding="utf-8")
    for r in man["resources"]:
        if r["name"] == "valencia_timeline":
            r["hash"] = "sha256:" + data.sha256(path)
    (tmp_path / "data" / "datapackage.yaml").write_text(yaml.safe_dump(man), encoding="utf-8")
    (tmp_path / "runs.yml").write_text("notebooks: {}\n", encoding="utf-8")
    monkeypatch.setenv("VERTINT_ROOT", str(tmp_path))
    with pytest.raises(data.DataError, match="kind"):
        data.validate("valencia_timeline")
    data.validate("valencia_evidence")  # the untouched files still pass


def test_kaiser_year():
    assert val.kaiser_year() == 2000


# --------------------------------------------------------------------------- the count of worse results against chance


def betabinom_tail_by_hand(k: int, n: int, p0: float, rho: float) -> float:
    """P(X >= k) for the beta-binomial with mean p0 and intra-class correlation rho, summed from
    the pmf C(n, x) B(x + a, n - x + b) / B(a, b) with log-gamma (no scipy)."""
    from math import exp, lgamma

    a, b = p0 * (1 - rho) / rho, (1 - p0) * (1 - rho) / rho

    def log_beta(x, y):
        return lgamma(x) + lgamma(y) - lgamma(x + y)

    return sum(comb(n, x) * exp(log_beta(x + a, n - x + b) - log_beta(a, b)) for x in range(k, n + 1))


@pytest.mark.parametrize("rho", [0.01, 0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("k", [1, 3, 15, 26])
def test_betabinom_tail_against_scipy_and_by_hand(rho, k):
    from scipy.stats import betabinom

    got = val.betabinom_tail(k, 26, 0.025, rho)
    a, b = 0.025 * (1 - rho) / rho, 0.975 * (1 - rho) / rho
    assert got == pytest.approx(float(betabinom.sf(k - 1, 26, a, b)), rel=1e-9)
    assert got == pytest.approx(betabinom_tail_by_hand(k, 26, 0.025, rho), rel=1e-6)
    assert 1 / (a + b + 1) == pytest.approx(rho)  # the parametrisation has intra-class correlation rho


def test_betabinom_tail_without_correlation_is_the_binomial():
    by_hand = sum(comb(26, i) * 0.025**i * 0.975 ** (26 - i) for i in range(15, 27))
    assert val.betabinom_tail(15, 26, 0.025, 0.0) == pytest.approx(by_hand, rel=1e-9)
    assert val.betabinom_tail(0, 26, 0.025, 0.3) == 1.0
    with pytest.raises(ValueError):
        val.betabinom_tail(15, 26, 0.025, 1.0)


def test_markov_bound_by_hand():
    # E[X] = 26 x 0.025 = 0.65; P(X >= 15) <= 0.65 / 15
    assert val.markov_bound(15, 26, 0.025) == pytest.approx(0.65 / 15)
    assert val.markov_bound(15, 26, 0.025) == pytest.approx(0.043333, abs=1e-6)
    assert val.markov_bound(1, 26, 0.05) == 1.0  # capped at one
    # the bound is attained: X = 15 with probability 0.65/15, else 0, has mean 0.65 (each of 26
    # exchangeable indicators then has marginal probability 0.025)
    q = val.markov_bound(15, 26, 0.025)
    assert q * 15 / 26 == pytest.approx(0.025)


def test_chance_count_on_the_published_counts():
    cc = val.chance_count(15, 26, 0.05, [0.0, 0.5], 0.05)
    assert cc.p0 == 0.025 and cc.expected == pytest.approx(0.65)
    assert cc.independent == pytest.approx(val.significance_count_p(15, 26, 0.05), rel=1e-9)
    assert cc.correlations[0] == 0.0 and cc.correlations[-1] == 0.5 and len(cc.correlations) == 21
    assert list(cc.tails) == sorted(cc.tails)  # more correlation, likelier by chance
    assert cc.worst_correlation == 0.5
    assert cc.worst_tail == pytest.approx(betabinom_tail_by_hand(15, 26, 0.025, 0.5), rel=1e-6)
    assert cc.worst_tail < cc.family_limit == 0.025 < cc.any_dependence
    assert cc.any_dependence == pytest.approx(0.65 / 15)
    assert cc.level_for_bound == pytest.approx(2 * 0.05 * 15 / 26)  # 5.8%: above it the bound passes 0.05
    assert val.describe_chance(cc, 0.05).startswith("15 or more significantly worse results would be unlikely by chance however")
    # at a 10% level per indicator, the bound under any dependence no longer excludes chance
    loose = val.chance_count(15, 26, 0.10, [0.0, 0.5], 0.05)
    assert loose.any_dependence == pytest.approx(1.3 / 15) and "declared range" in val.describe_chance(loose, 0.05)
    # a single correlation is a range of one point
    assert val.chance_count(15, 26, 0.05, [0.2, 0.2], 0.05).correlations == (0.2,)


def test_chance_curve_and_table():
    cc = val.chance_count(15, 26, 0.05, [0.0, 0.5], 0.05)
    curve = val.chance_curve(cc)
    assert curve["correlation"].is_monotonic_increasing and curve["correlation"].max() == pytest.approx(0.95)
    assert curve.loc[curve["correlation"] <= 0.5, "in_range"].all() and not curve.loc[curve["correlation"] > 0.5, "in_range"].any()
    tab = val.chance_table(cc)
    assert list(tab.iloc[:, 1]) == ["5.5e-18", "0.016", "0.043"]
    spec = val.chance_chart(curve, cc, 0.05).to_dict()
    assert "title" not in spec


@pytest.mark.parametrize("bad", [[0.5, 0.1], [0.2], [0.0, 1.0], [-0.1, 0.2], ["x", 0.2], [0.1, 0.2, 0.3], 0.3])
def test_a_bad_correlation_range_is_refused(bad):
    with pytest.raises(ValueError, match="indicator_correlation"):
        val.chance_count(15, 26, 0.05, bad, 0.05)


# --------------------------------------------------------------------------- what the counts rule out


def _rule_out(counts=()):
    c = val.resolve_counts(list(counts))
    return val.rule_out_table(val.level_test(c), [val.change_test(c, t) for t in val.TIE_HANDLING], val.margin())


def test_rule_out_reads_the_rubric_margin_and_each_readings_side():
    assert val.margin() == 0.15
    t = _rule_out().set_index("reading_key")
    # 2015 levels, 11 of 26 counted for Alzira: 90% interval 25.8% to 60.2%: an advantage (above 65%) is ruled out;
    # the reading bounds the share from above only, so it says nothing about a disadvantage
    lv = t.loc["not worse counted as better"]
    assert (lv["low"], lv["high"]) == (pytest.approx(0.2584, abs=1e-4), pytest.approx(0.6016, abs=1e-4))
    assert lv["advantage_ruled_out"] is True and lv["disadvantage_ruled_out"] is None
    # change, ties excluded, 11 of 20: 34.7% to 74.1%: neither side ruled out
    ex = t.loc["exclude"]
    assert (ex["low"], ex["high"]) == (pytest.approx(0.3469, abs=1e-4), pytest.approx(0.7413, abs=1e-4))
    assert ex["advantage_ruled_out"] is False and ex["disadvantage_ruled_out"] is False
    # ties counted against Alzira bound the share from below: it cannot rule out an advantage
    assert t.loc["against", "advantage_ruled_out"] is None and t.loc["against", "disadvantage_ruled_out"] is False
    assert t.loc["favour", "disadvantage_ruled_out"] is None and t.loc["favour", "advantage_ruled_out"] is False
    shown = val.rule_out_display(_rule_out(), val.margin())
    assert list(shown.columns)[-2:] == ["Advantage of interest (share above 65%)", "Disadvantage of the same size (share below 35%)"]
    assert shown.loc[1, "90% interval of the share"] == "34.7% to 74.1%"
    assert shown.loc[3, "Advantage of interest (share above 65%)"].startswith("cannot tell")
    assert val.ruled_words(True) == "is ruled out" and val.ruled_words(False) == "is not ruled out"
    assert val.ruled_words(None).startswith("cannot be judged")
    assert "title" not in val.rule_out_chart(_rule_out(), val.margin(), "exclude").to_dict()


def test_a_failed_test_never_supports_not_better():
    # every reading of the published counts fails to show an advantage; none may give 'supported'
    for ties in val.TIE_HANDLING:
        assert _verdict([], ties).label == verdicts.PARTLY, ties
    # counting every tie against Alzira used to make 11 of 26 look like a ruled-out advantage (upper bound 60%);
    # that reading bounds the share from below, so the verdict takes the bound with every tie for Alzira (81%)
    v = _verdict([], "against")
    assert "every tie for Alzira" in v.reason and "at most 81%" in v.reason
    # with few ties the generous bound is tight enough and the claim can be supported on the change too
    assert _verdict(["26", "15", "2", "23"], "against").label == verdicts.SUPPORTED


def test_the_sign_test_records_its_ties():
    c = val.resolve_counts([])
    assert val.change_test(c, "against").ties == 6 and val.change_test(c, "exclude").ties == 6


# --------------------------------------------------------------------------- Kaiser: both bases


def test_kaiser_bases_table_shows_both_denominators_and_the_rule():
    t = val.kaiser_bases_table(val.kaiser_table(), 0.10)
    assert list(t["Adjustment"]) == [val.COST_LABELS[a] for a in val.COST_ADJUSTMENTS]
    row = t.iloc[0]
    assert (row["Gap as a share of Kaiser's cost"], row["Gap as a share of the NHS's cost"]) == ("9.6%", "10.6%")
    assert row["Within 10% on"] == "Kaiser's cost only" and row["Verdict under this adjustment"] == verdicts.PARTLY
    assert list(t["Within 10% on"])[1:] == ["neither base", "neither base"]
    assert val.kaiser_bases_table(val.kaiser_table(), 0.11).iloc[0]["Within 11% on"] == "both bases"

"""Tests for the context chapter: the figures it states, the claims it must emit, and its data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import notebook_claims, notebook_run, source_cells

from vertint import claims, context, data, verdicts
from vertint.runner import load_matrix, notebook_parameters

ROOT = Path(__file__).resolve().parents[1]
#: the 2013 review's statements no data can test (emitted in the models chapter; their ids keep the context- prefix)
MODELS_OTHER_IDS = [
    "context-scaled-funding-share", "context-scaled-rising-demand", "context-scaled-insufficient-trainees",
    "context-scaled-more-ltc", "context-scaled-partner-ratio", "context-scaled-part-time-majority",
    "context-scaled-day-a-week", "context-scaled-24-7", "context-scaled-heroic-most-frequent",
    "context-scaled-all-underestimated", "context-scaled-local-access-valued",
    "context-scaled-emergency-pressures", "context-scaled-constrained-spending", "context-scaled-accelerating",
    "context-scaled-capacity-commissioning", "context-scaled-all-professionalise",
    "context-scaled-subspecialisation-interest", "context-scaled-many-federations",
]

#: Seed statements about integration that no vendored data or dossier figure can test; each carries
#: ``reason_if_unreproducible`` in claims/context.yml and is emitted in the context-other-claims section
#: (the 2013 review's are in tests/test_models.py).
OTHER_IDS = [
    "context-hf-public-funding",
    "context-nihr-three-arrangements", "context-pe-topups-mid-2030s", "context-pe-arrs-five-year",
    # added by the seed audit (claims/seed_audit.csv)
    "context-hf-diverse-employers", "context-hf-rarely-isolated", "context-hf-integration-not-better",
    "context-hf-smaller-scale", "context-nihr-main-driver", "context-nihr-developed-further",
    "context-nihr-emergency-flows", "context-nihr-impact-primary-care",
]
#: The ledger for this chapter: every id here must be registered and emitted, so a claim cannot
#: silently disappear. Add to this list when you add a claim to claims/context.yml.
EXPECTED_IDS = [
    "context-rwt-eight-practices", "context-rwt-nine-practices", "context-symphony-practices",
    "context-swindon-handback", "context-wales-885", "context-hf-trusts-greater-role",
    "context-hf-uk-range-of-models", "context-pulse-dhsc-visit", "context-nihr-usually-separate",
    "context-mapping-mean",
    "context-nihr-interviews", "context-nihr-sites", "context-nihr-growing-workload", "context-nihr-two-of-three",
    "context-nihr-back-office",
    "context-pe-gms-2030", "context-pe-6bn", "context-pe-majority-scaled",
    *OTHER_IDS,
]
#: Claims that no public data can settle: the only ones allowed the not_reproducible rule.
NOT_REPRODUCIBLE_IDS = {
    "context-nihr-two-of-three", "context-nihr-back-office", "context-pe-gms-2030", "context-pe-6bn",
    "context-pe-majority-scaled",
    *OTHER_IDS,  # the complete ledger: seed statements no vendored data can test (reason in claims/context.yml)
}
DEFAULT_VERDICTS = {
    "context-rwt-eight-practices": verdicts.NOT_SUPPORTED,
    "context-rwt-nine-practices": verdicts.NOT_SUPPORTED,
    "context-symphony-practices": verdicts.PARTLY,
    "context-swindon-handback": verdicts.SUPPORTED,
    "context-wales-885": verdicts.NOT_SUPPORTED,
    "context-mapping-mean": verdicts.SUPPORTED,
    "context-hf-trusts-greater-role": verdicts.SUPPORTED,
    "context-hf-uk-range-of-models": verdicts.SUPPORTED,
    "context-pulse-dhsc-visit": verdicts.PARTLY,
    "context-nihr-usually-separate": verdicts.SUPPORTED,
    "context-nihr-growing-workload": verdicts.PARTLY,
    "context-nihr-interviews": verdicts.SUPPORTED,
    "context-nihr-sites": verdicts.SUPPORTED,
    **{i: verdicts.NOT_REPRODUCIBLE for i in NOT_REPRODUCIBLE_IDS},
}


@pytest.fixture(scope="module")
def sites():
    return context.sites()


# --------------------------------------------------------------------------- figures


def test_national_mapping_mean_is_85_over_26(sites):
    mp = context.mapping(sites)
    assert (mp["trusts"], mp["practices"], mp["sites"]) == (26, 85, 116)
    assert mp["mean"] == pytest.approx(3.2692, abs=1e-4)
    assert round(mp["mean"], 1) == mp["published_mean"] == 3.3
    assert mp["sites_per_practice"] == pytest.approx(116 / 85)
    assert (mp["min"], mp["max"]) == (1, 12)


def test_wales_increase_is_785_not_885_percent(sites):
    w = context.wales(sites)
    assert (w["before"], w["after"]) == (17104, 151431)
    assert w["ratio"] == pytest.approx(8.8536, abs=1e-4)
    assert w["pct_increase"] == pytest.approx(785.36, abs=0.01)
    assert w["ratio_pct"] == pytest.approx(885.36, abs=0.01)  # what the press reported as the "increase"
    assert verdicts.rederived(885, w["pct_increase"]).label == verdicts.NOT_SUPPORTED
    assert (w["north_practices"], w["north_patients"]) == (12, 83984)


def test_growth_rejects_zero_base():
    with pytest.raises(context.ContextError):
        context.growth(0, 5)
    assert context.growth(100, 250)["pct_increase"] == pytest.approx(150)


def test_wolverhampton_counts_disagree(sites):
    spread = context.count_spread(sites)
    assert (spread["low"], spread["high"]) == (3, 12)
    assert spread["n_sources"] == 10 and spread["distinct"] == 5  # 3, 8, 9, 10, 12
    assert context.figure(sites, context.RWT, "practices", "yu2020") == 10
    assert context.figure(sites, context.RWT, "patients", "yu2020") == 67402
    counts = context.practice_counts(sites)
    dated = counts[counts["period"] != "undated"]
    assert list(dated["period"]) == sorted(dated["period"])  # dated first, in order
    assert counts["period"].iloc[-1] == "undated"


def test_eight_is_below_every_other_dated_count_after_the_pilot(sites):
    # the chapter's prose says so; this keeps it true if the data change
    counts = context.practice_counts(sites)
    later = counts[(counts["period"] > "2016-04") & (counts["period"] != "undated") & (counts["source_id"] != "hf2023")]
    assert len(later) >= 4 and (later["value"] > context.published("context-rwt-eight-practices")).all()


def test_symphony_practices_vs_contracts(sites):
    assert context.figure(sites, context.SHS, "practices", "shs_evidence") == 20
    assert context.figure(sites, context.SHS, "contracts", "shs_evidence") == 16
    assert context.figure(sites, context.SHS, "patients", "shs_evidence") == 117000
    # the seed's figures as re-keyed in the data agree with the registry's published value
    assert context.published_parts("context-symphony-practices") == [
        context.figure(sites, context.SHS, "practices", "hf2023"), context.figure(sites, context.SHS, "patients", "hf2023")]


def test_swindon_months_and_threshold(sites):
    s = context.swindon(sites)
    assert (s["practices"], s["handed_back"], s["patients"]) == (2, 2, 30000)
    assert (s["start"], s["end"], s["months"]) == ("2019-11", "2023-01", 38)
    assert context.swindon_published() == {"practices": 2, "months": 36}
    assert verdicts.at_least(36, 38, "x").label == verdicts.SUPPORTED
    assert verdicts.at_least(36, 36, "x").label == verdicts.NOT_SUPPORTED


def test_months_between():
    assert context.months_between("2019-11", "2019-11") == 0
    assert context.months_between("2016-06", "2020-01") == 43
    with pytest.raises(context.ContextError):
        context.months_between("2020-01", "2019-12")


def test_northumbria_sum(sites):
    assert context.northumbria(sites) == {"practices": 2, "patients": 16000}


def test_figure_refuses_ambiguous_lookup(sites):
    with pytest.raises(context.ContextError):
        context.figure(sites, context.WALES, "patients", "westernmail2018")  # two periods: must say which


def test_qualitative_counts_and_links():
    q = context.qualitative()
    qc = context.qualitative_counts(q)
    assert qc == {"challenges": 6, "advantages": 5, "takeaways": 3, "sites": 3, "interviews": 52, "meetings": 4}
    table = context.qualitative_table(q, ("challenge",))
    assert len(table) == 6 and table["source"].str.match(r"^\[.+\]\(https?://").all()
    from vertint.nb import Table

    page = Table(table)._repr_html_()
    assert page.count("<tr>") == len(table) + 1 and page.count('<a href="http') == len(table)


def test_published_parts():
    assert context.published_parts("context-scaled-21-models") == [21, 12]
    with pytest.raises(context.ContextError):
        context.published_parts("context-pe-majority-scaled")
    with pytest.raises(context.ContextError):
        context.published("context-no-such-claim")


def test_other_claims_carry_specific_reasons():
    reg = claims.registry()
    assert context.other_claim_ids(reg) == OTHER_IDS
    kwargs = context.other_claims(reg)
    assert [k["claim_id"] for k in kwargs] == OTHER_IDS
    for k in kwargs:
        assert k["verdict"].label == verdicts.NOT_REPRODUCIBLE and k["verdict"].rule == "not_reproducible"
        assert k["verdict"].reason == reg[k["claim_id"]]["reason_if_unreproducible"]
        assert len(k["verdict"].reason) > 30  # a specific reason, not a placeholder
        assert k["reproduced"]["unit"] == reg[k["claim_id"]]["published"]["unit"]
        assert reg[k["claim_id"]]["section"] == context.OTHER_SECTION
    # claims that data decide never carry a reason for being unreproducible
    assert not set(context.other_claim_ids(reg)) & (set(EXPECTED_IDS) - NOT_REPRODUCIBLE_IDS)


def test_other_claims_refuse_empty_reason_or_wrong_section():
    base = {"id": "context-x", "chapter": "context", "claim": "c", "source": "s",
            "published": {"value": 1, "unit": "u"}, "section": context.OTHER_SECTION}
    with pytest.raises(context.ContextError, match="empty"):
        context.other_claims({"context-x": {**base, "reason_if_unreproducible": " "}})
    with pytest.raises(context.ContextError, match="belong in"):
        context.other_claims({"context-x": {**base, "section": "context-models", "reason_if_unreproducible": "a reason"}})
    assert context.other_claims({"context-x": base}) == []  # no reason field: data decide it elsewhere


def _source_texts() -> dict[str, str]:
    """The source documents' texts, from VERTINT_SOURCES_DIR (set by .ci/run), checked against the
    sha256 in sources.yml; skips when the variable is unset."""
    import hashlib
    import os

    folder = os.environ.get("VERTINT_SOURCES_DIR")
    if not folder:
        pytest.skip("VERTINT_SOURCES_DIR is not set: the source texts are not part of the repository")
    out = {}
    for src in yaml.safe_load((ROOT / "sources.yml").read_text(encoding="utf-8"))["sources"]:
        raw = (Path(folder) / src["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == src["sha256"], f"{src['file']}: text differs from sources.yml"
        out[src["id"]] = raw.decode("utf-8")
    return out


def _norm(t: str) -> str:
    import re

    return re.sub(r"\s+", " ", t.replace("**", "").replace("\u2018", "'").replace("\u2019", "'")
                  .replace("\u201c", '"').replace("\u201d", '"')).strip()


def test_other_claims_quote_the_seeds_exactly():
    text = _norm(" ".join(_source_texts().values()))
    reg = claims.registry()
    for cid in OTHER_IDS + MODELS_OTHER_IDS:
        assert _norm(reg[cid]["claim"]) in text, cid


def test_seed_audit_covers_every_source_and_matches_the_registry():
    import csv

    rows = list(csv.DictReader((ROOT / "claims" / "seed_audit.csv").open(encoding="utf-8")))
    reg = claims.registry()
    ids = {s["id"] for s in yaml.safe_load((ROOT / "sources.yml").read_text(encoding="utf-8"))["sources"]}
    assert {r["seed"] for r in rows} == ids  # all five documents audited
    for r in rows:
        assert r["status"] in {"examined", "not-a-claim", "pending"}, r
        if r["status"] == "examined":
            assert r["claim_id"] in reg, r["claim_id"]
        else:
            assert not r["claim_id"] and r["reason"].strip(), r
    audited = {r["claim_id"] for r in rows if r["status"] == "examined"}
    # every claim no data can test (in this chapter or the models chapter) has its sentence in the audit
    for cid in OTHER_IDS + MODELS_OTHER_IDS:
        assert cid in audited, cid
    texts = {k: _norm(v) for k, v in _source_texts().items()}
    for r in rows:
        quote = _norm(r["sentence"]).split("\u2026")[0].strip()
        assert quote[:60] in texts[r["seed"]], (r["seed"], quote[:60])


def test_moved_claims_keep_their_old_anchors_on_this_page():
    from vertint.claims import anchor

    moved = context.moved_claims()
    assert set(moved) == set(MODELS_OTHER_IDS) | {
        "context-scaled-21-models", "context-scaled-four-types", "context-scaled-five-functions", "context-scaled-mirrored",
        "context-scaled-20-years", "context-hf-harder-to-book", "context-hf-satisfaction-falling", "context-mip-deprived-shortages"}
    assert set(moved.values()) == {"models"}
    note = context.moved_note()
    for cid in moved:
        assert f'<span id="{anchor(cid)}"></span>' in note, cid
    for slug in context.MOVED_SECTIONS:
        assert f'<span id="{slug}"></span>' in note
    assert '<a href="models.html">' in note and f"{len(moved):,} more claims" in note
    # the script sends an old link on to the same id on the new page
    assert '"context-hf-harder-to-book":"models"' in note
    # a moved claim pointing at a chapter that does not exist is refused
    reg = {"context-x": {"chapter": "nonesuch"}}
    with pytest.raises(context.ContextError, match="nonesuch"):
        context.moved_note(reg)


# --------------------------------------------------------------------------- data and contracts


def test_context_resources_validate_and_declared():
    names = [r["name"] for r in data.manifest()["resources"] if r["name"].startswith("context_")]
    runs = load_matrix()
    used = [d for ch in ("context", "models") for d in runs[ch].data if d.startswith("context_")]
    assert sorted(names) == sorted(used)  # each context_ file read by exactly one of the two chapters
    for name in names:
        data.validate(name)
        res = data.resource(name)
        assert all(s["path"].startswith("https://") or s["path"].startswith("http://") for s in res["sources"])


def test_reference_choices_match_data(sites):
    p = load_matrix()["context"].params["wolverhampton_reference"]
    assert sorted(p.choices) == sorted(["as_of", *context.count_sources(sites)])
    assert p.default in p.choices


def test_parameters_cell_matches_runs_yml():
    run = load_matrix()["context"]
    assert notebook_parameters(run.source) == {k: p.default for k, p in run.params.items()}


def test_registry_covers_expected_ids():
    reg = {k: v for k, v in claims.registry().items() if v["chapter"] == "context"}
    assert list(reg) == EXPECTED_IDS
    assert all(k.startswith("context-") for k in reg)


def hand_typed_numbers(chapter: str) -> None:
    """No number typed into the markdown of ``chapter``'s notebook (also run for the models chapter)."""
    import re

    for cell in source_cells(chapter):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        text = re.sub(r"\{glue:[a-z]+\}`[^`]+`", "", text)  # glued values
        text = re.sub(r"`[^`]*`", "", text)  # code
        text = text.replace("COVID-19", "")  # a name, not a count
        text = re.sub(r"\((context|models|fig)[-a-z]*\)=", "", text)
        text = re.sub(r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December)\b", "", text)  # dates
        text = re.sub(r"\b(19|20)\d\d(-\d\d)?\b", "", text)  # years and financial years are allowed
        assert not re.search(r"\d", text), f"hand-typed number in markdown: {text[:200]!r}"
        words = SPELLED.findall(text)
        assert not words, f"spelled-out number {words} in markdown: {text[:200]!r}"


def test_no_hand_typed_numbers_in_notebook_markdown():
    hand_typed_numbers("context")


#: spelled-out counts are numbers too ("one" is allowed: "one of", "one by one")
SPELLED = __import__("re").compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|dozens?|hundreds?|thousands?|millions?|billions?|half|thirds?|quarters?|decades?)\b",
    __import__("re").I)
MY_PAGES = ["policy_context", "intro", "methods", "caveats", "glossary"]


@pytest.mark.parametrize("page", MY_PAGES)
def test_no_hand_typed_numbers_in_my_pages(page):
    import re

    text = (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")
    text = re.sub(r"\{glue:[a-z]+\}`[^`]+`", "", text)
    text = re.sub(r"\{(cite:[pt]|ref|term|numref)\}`[^`]+`", "", text)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December)\b", "", text)
    text = re.sub(r"\b(19|20)\d\d(-\d\d)?s?\b", "", text)
    text = re.sub(r"\(glossary\)=|\((intro|policy-context|methods|caveats)\)=", "", text)
    text = re.sub(r"(?m)^\d+\. ", "", text).replace("sha256", "")  # list markers and a hash name
    assert not re.search(r"\d", text), (page, re.findall(r".{0,40}\d.{0,20}", text)[:3])
    assert not SPELLED.findall(text), SPELLED.findall(text)


def test_my_pages_glue_only_keys_the_notebook_glues():
    import re

    nb = (ROOT / "notebooks" / "context.md").read_text(encoding="utf-8")
    for page in MY_PAGES:
        for key in re.findall(r"context\.ipynb::([a-z_]+):s", (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")):
            assert f'glue_text(\\"{key}\\"' in nb or f"glue_text(\"{key}\"" in nb, f"{page}.md uses {key}, never glued"


# --------------------------------------------------------------------------- the executed notebook


#: The notebook executed with papermill (cwd notebooks/): with its defaults, with variant parameters
#: and with an unknown reference; conftest runs them in the background from the start of the session.
NOTEBOOK_RUNS = {
    "context": ("context", {}),
    "context-variant": ("context", {"wolverhampton_reference": "hsj_nine", "symphony_measure": "contracts"}),
    "context-unknown-reference": ("context", {"wolverhampton_reference": "nosuchsource"}),
}


@pytest.fixture(scope="module")
def executed():
    return notebook_claims("context")


def test_notebook_emits_every_expected_claim_once_with_computed_verdicts(executed):
    assert sorted(executed) == sorted(EXPECTED_IDS)
    for cid, rec in executed.items():
        assert rec["verdict"] == DEFAULT_VERDICTS[cid], cid
        if cid in NOT_REPRODUCIBLE_IDS:
            assert rec["rule"] == "not_reproducible"
        else:  # data decide it: a rule function made the verdict, never a typed string
            assert rec["rule"] in {"equals", "rounds_to", "rederived", "all_of", "at_least", "direction", "named_places"}, cid
    assert executed["context-mapping-mean"]["reproduced"]["value"] == 3.27
    assert executed["context-wales-885"]["reproduced"]["value"] == 785.4


def test_variant_parameters_change_verdicts():
    recs = notebook_claims("context-variant")
    assert recs["context-rwt-nine-practices"]["verdict"] == verdicts.SUPPORTED
    assert recs["context-rwt-eight-practices"]["verdict"] == verdicts.NOT_SUPPORTED
    assert recs["context-symphony-practices"]["verdict"] == verdicts.SUPPORTED


def test_unknown_reference_is_refused():
    proc, _ = notebook_run("context-unknown-reference")
    assert proc.returncode != 0 and "nosuchsource" in proc.stderr, proc.stderr[-3000:]


def test_site_table_never_benchmarks_against_the_claims_under_review(sites):
    t = context.site_table(sites).set_index("Site")
    assert t.loc["Wolverhampton", "Practices (latest)"] == "10 (2022-11, press)"  # not the long read's 8
    assert t.loc["Symphony", "Practices (latest)"] == "20 (undated, trust or provider)"  # not the long read's 16
    assert t.loc["Northumbria", "Patients (latest)"].startswith("16,000")
    assert t.loc["England", "Practices (latest)"].startswith("85 (2021-03-31")


# --------------------------------------------------------------------------- statements audited from the seeds


def test_trusts_trend_matches_the_mapping_abstract():
    # Sidhu et al. 2023 abstract: "At 31 March 2021, 26 NHS trusts ... The earliest vertical
    # integration between trusts and general practices was in 2015"
    t = context.trusts_trend(context.sites())
    assert (t["first_year"], t["after"], t["census"]) == (2015, 26, "2021-03-31")
    assert context.trusts_claim(context.sites())["verdict"].label == verdicts.SUPPORTED


def test_visit_is_dated_the_year_before_it_was_reported():
    # Pulse cover feature (2022): the visit "last year ... in November"; MiP, 4 March 2022: "revealed yesterday"
    s = context.sites()
    assert context.event_years(s, context.RWT, "dhsc_visits") == [(2021, "press")]
    assert context.event_years(s, context.RWT, "dhsc_visits_reported") == [(2022, "press")]
    v = context.visit_claim(s, "context-pulse-dhsc-visit")["verdict"]
    assert v.label == verdicts.PARTLY and "not in 2022" in v.reason


def test_named_places_each_have_a_site():
    assert context.places_shown(context.sites()) == {p: True for p in ("Somerset", "Wolverhampton", "Northumberland", "North Wales")}
    assert verdicts.named_places({"A": True, "B": False}, "x").label == verdicts.PARTLY
    assert verdicts.named_places({"A": False}, "x").label == verdicts.NOT_SUPPORTED


def test_workload_growth_recomputed_from_the_csv():
    import csv

    rows = {r["month"]: int(r["appointments"]) for r in csv.DictReader((ROOT / "data" / "workforce_appointments_monthly.csv").open())}
    same_release = (rows["2018-11"] + rows["2018-12"]) / (rows["2017-11"] + rows["2017-12"]) - 1
    from vertint import workforce

    w = context.workload_claim(workforce.load_appointments(), "context-nihr-growing-workload")
    assert f"{same_release:+.1%}" in w["reproduced"]["value"]
    assert w["as_of"]["date"] == "2019-12"
    assert w["verdict"].label == verdicts.PARTLY  # the full-year comparison crosses a coverage change


def test_practices_usually_separate_against_the_payments_file():
    # helper's independent count of the 2020-21 payments file: 6,580 practices open at 31 March 2021 with patients
    import csv

    rows = [r for r in csv.DictReader((ROOT / "data" / "practice_payments.csv").open()) if r["year"] == "2020-21"]
    open_ = [r for r in rows if float(r["registered_patients"] or 0) > 0 and not (r["close_date"] and r["close_date"] <= "2021-03-31")]
    assert len(open_) == 6580
    s = context.sites()
    from vertint import data

    claim = context.separate_claim(s, data.load("practice_payments"))
    assert claim["reproduced"]["value"] == round((1 - 85 / 6580) * 100, 1)
    assert claim["verdict"].label == verdicts.SUPPORTED

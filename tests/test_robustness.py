"""The robustness grid (issue 13): declared choices are validated, the grid enumerates or samples
them as declared, rubric overrides are scoped, the summary and label follow the rubric's rule, and
the parallel executor gives the serial result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from vertint import robustness as rb
from vertint import rubric, verdicts

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- declared choices


def _root_with(tmp_path: Path, chapter: str, claims_doc: dict) -> Path:
    """A copy of the files load_choices reads, with one choices file replaced."""
    for d in ("claims", "rubric"):
        shutil.copytree(ROOT / d, tmp_path / d)
    shutil.copy2(ROOT / "runs.yml", tmp_path / "runs.yml")
    for nb in yaml.safe_load((ROOT / "runs.yml").read_text())["notebooks"].values():
        (tmp_path / nb["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / nb["path"], tmp_path / nb["path"])
    (tmp_path / "rubric" / "choices" / f"{chapter}.yml").write_text(yaml.safe_dump({"claims": claims_doc}), encoding="utf-8")
    return tmp_path


GOOD = {"workforce-fte-fallen": {"choices": {"measure": {
    "label": "Count", "values": ["fte", "headcount"], "default": "fte", "param": "workforce.measure", "why": "x"}}}}


def test_every_choices_file_loads_and_names_real_claims():
    declared = rb.load_choices(ROOT)
    assert declared, "no choices declared"
    from vertint import claims

    reg = claims.registry(ROOT)
    for cid, cc in declared.items():
        assert reg[cid]["chapter"] == cc.chapter
        assert cc.choices or cc.note, cid


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["workforce-fte-fallen"]["choices"]["measure"].update(default="heads"), "default 'heads' is not one of the values"),
    (lambda d: d["workforce-fte-fallen"]["choices"]["measure"].update(param="workforce.nope"), "is not a parameter of notebook 'workforce'"),
    (lambda d: d["workforce-fte-fallen"]["choices"]["measure"].update(values=["fte", "headcount", "bodies"]), "value 'bodies' is not allowed"),
    (lambda d: d["workforce-fte-fallen"]["choices"]["measure"].update(values=["fte"]), "at least two"),
    (lambda d: d["workforce-fte-fallen"]["choices"]["measure"].pop("why"), "lacks why"),
    (lambda d: d.update({"workforce-no-such-claim": {"choices": {}}}), "not in claims/*.yml"),
    (lambda d: d.update({"admissions-pvalues": {"note": "x", "choices": {}}}), "belongs to chapter 'admissions'"),
    (lambda d: d["workforce-fte-fallen"].update(choices={}), "say why in 'note'"),
    (lambda d: d["workforce-fte-fallen"].update(max_specs=1), "max_specs must be an integer of at least 2"),
    (lambda d: d["workforce-fte-fallen"]["choices"].update(partly={"label": "p", "values": [0.5, 2.0], "default": 0.5,
                                                                      "rubric": "rounds_to.partly_units", "why": "x"}),
     "differs from the rubric's rounds_to.partly_units"),
    (lambda d: d["workforce-fte-fallen"]["choices"].update(Bad={"label": "p", "values": [1, 2], "default": 1, "why": "x"}),
     "lower_snake_case"),
])
def test_bad_choices_are_refused_naming_file_claim_and_choice(tmp_path, mutate, message):
    doc = json.loads(json.dumps(GOOD))
    mutate(doc)
    root = _root_with(tmp_path, "workforce", doc)
    with pytest.raises(rb.RobustnessError) as exc:
        rb.load_choices(root)
    assert "rubric/choices/workforce.yml" in str(exc.value)
    assert message in str(exc.value)


def test_default_must_match_runs_yml(tmp_path):
    doc = json.loads(json.dumps(GOOD))
    doc["workforce-fte-fallen"]["choices"]["measure"]["default"] = "headcount"
    with pytest.raises(rb.RobustnessError, match="differs from runs.yml's workforce.measure default 'fte'"):
        rb.load_choices(_root_with(tmp_path, "workforce", doc))


# --------------------------------------------------------------------------- specifications


def _cc(sizes, max_specs=None, seed=0):
    choices = tuple(rb.Choice(f"c{i}", f"C{i}", tuple(range(n)), 0, "why") for i, n in enumerate(sizes))
    return rb.ClaimChoices("x-y", "x", choices, max_specs, seed)


def test_full_grid_is_the_product_in_declared_order():
    specs = rb.specifications(_cc([2, 3]))
    assert len(specs) == 6
    assert specs[0] == {"c0": 0, "c1": 0} and specs[-1] == {"c0": 1, "c1": 2}
    assert len({json.dumps(s, sort_keys=True) for s in specs}) == 6


def test_sample_is_seeded_has_the_declared_size_and_keeps_the_default():
    cc = _cc([4, 5, 6], max_specs=20, seed=7)
    a, b = rb.specifications(cc), rb.specifications(cc)
    assert a == b and len(a) == 20
    assert {"c0": 0, "c1": 0, "c2": 0} in a
    assert len({json.dumps(s, sort_keys=True) for s in a}) == 20
    other = rb.specifications(_cc([4, 5, 6], max_specs=20, seed=8))
    assert other != a


# --------------------------------------------------------------------------- rubric overrides


def test_overriding_is_scoped_and_refuses_undeclared_parameters():
    before = rubric.param("rounds_to", "partly_units")
    with rubric.overriding({"rounds_to.partly_units": before + 2}):
        assert rubric.param("rounds_to", "partly_units") == before + 2
        # the verdict rules read it: 2.4 units away is partly supported only under the wider band
        assert verdicts.rounds_to(100, 124, 10).label == verdicts.PARTLY
    assert rubric.param("rounds_to", "partly_units") == before
    assert verdicts.rounds_to(100, 124, 10).label == verdicts.NOT_SUPPORTED
    with pytest.raises(rubric.RubricError, match="no parameter 'nope'"):
        with rubric.overriding({"rounds_to.nope": 1}):
            pass


# --------------------------------------------------------------------------- summary and label


def _grid(verdict_by_spec: list[tuple[dict, str]], choices) -> dict:
    return {"choices": choices, "size": len(verdict_by_spec), "sampled": False, "note": "", "seed": 0,
            "specs": [{"choice": c, "value": 1.0 if v != verdicts.NOT_REPRODUCIBLE else None, "verdict": v, "rule": "x"}
                      for c, v in verdict_by_spec]}


CHOICES = [{"name": "a", "label": "A", "values": [0, 1], "default": 0, "labels": ["a0", "a1"], "why": "", "param": None, "rubric": None},
           {"name": "b", "label": "B", "values": [0, 1], "default": 0, "labels": ["b0", "b1"], "why": "", "param": None, "rubric": None}]
S, N, X = verdicts.SUPPORTED, verdicts.NOT_SUPPORTED, verdicts.NOT_REPRODUCIBLE


def test_summary_counts_shares_flips_and_leaves_undecidable_specs_out_of_the_share():
    g = _grid([({"a": 0, "b": 0}, S), ({"a": 0, "b": 1}, X), ({"a": 1, "b": 0}, N), ({"a": 1, "b": 1}, S)], CHOICES)
    s = rb.summarise(g)
    assert s["n_specs"] == 4 and s["n_decided"] == 3
    assert s["default_verdict"] == S and s["default_share"] == pytest.approx(2 / 3, abs=1e-6)
    assert s["shares"] == {S: 0.5, N: 0.25, X: 0.25}
    assert [(f["choice"], f["value"], f["verdict"]) for f in s["flips"]] == [("a", 1, N)]
    assert [(f["choice"], f["value"]) for f in s["undecided"]] == [("b", 1)]
    assert s["label"] == rb.FRAGILE  # 2/3 < 3/4


def test_label_follows_the_rubric_threshold():
    share = float(rubric.param("robustness", "robust_share"))
    assert rb.label(share, 10) == rb.ROBUST
    assert rb.label(share - 1e-9, 10) == rb.FRAGILE
    assert rb.label(1.0, 1) == rb.SINGLE
    with rubric.overriding({"robustness.robust_share": 0.5}):
        assert rb.label(0.6, 10) == rb.ROBUST


def test_combination_only_when_no_single_change_flips():
    g = _grid([({"a": 0, "b": 0}, S), ({"a": 0, "b": 1}, S), ({"a": 1, "b": 0}, S), ({"a": 1, "b": 1}, N)], CHOICES)
    s = rb.summarise(g)
    assert s["flips"] == [] and s["combination_only"] and s["label"] == rb.ROBUST


def test_annotate_marks_claims_without_a_grid():
    recs = [{"id": "x-a", "verdict": X, "chapter": "x"}, {"id": "x-b", "verdict": S, "chapter": "x"}]
    rb.annotate(recs, {})
    assert recs[0]["robustness"]["label"] == rb.NO_GRID and "no public data" in recs[0]["robustness"]["why"]
    assert "no analytic choices" in recs[1]["robustness"]["why"]
    problems = rb.check_coverage(recs, {})
    assert problems == ["x-b: data-decided (supported) but no choices in rubric/choices/x.yml"]


# --------------------------------------------------------------------------- the real grid


class _Counting(rb.SerialExecutor):
    """One process, counting the batches it is asked to compute."""

    def __init__(self):
        self.calls: list[int] = []

    def map(self, fn, items):
        self.calls.append(len(items))
        return super().map(fn, items)


@pytest.fixture(scope="module")
def serial_grid(tmp_path_factory):
    """The workforce grid computed once in one process (cache bypassed), into a cache folder of its
    own; shared by the executor and cache tests below: (grid, cache folder, batches computed)."""
    cache = tmp_path_factory.mktemp("grid")
    counting = _Counting()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rb, "cache_dir", lambda root=None: cache)
        grid = rb.compute(["workforce"], executor=counting, force=True)["workforce"]
    return grid, cache, counting.calls


def test_local_executor_gives_the_serial_result(serial_grid, tmp_path, monkeypatch):
    """Two worker processes and one process agree, spec by spec (workforce grid, cache bypassed)."""
    serial, _, _ = serial_grid
    monkeypatch.setattr(rb, "cache_dir", lambda root=None: tmp_path / "b")
    parallel = rb.compute(["workforce"], executor=rb.LocalExecutor(2), force=True)["workforce"]
    assert serial == parallel
    assert list((tmp_path / "b").glob("workforce-*.json"))


def test_grid_is_cached_by_content_hash(serial_grid, monkeypatch):
    first, cache, calls = serial_grid
    assert len(calls) == 1 and list(cache.glob("workforce-*.json"))  # computed once, and written
    monkeypatch.setattr(rb, "cache_dir", lambda root=None: cache)
    counting = _Counting()
    second = rb.compute(["workforce"], executor=counting)
    assert counting.calls == [] and second["workforce"] == first


def test_a_failing_spec_function_is_named_with_its_specification(monkeypatch):
    cc = rb.load_choices()["workforce-fte-fallen"]
    rb.spec_functions(["workforce"])

    def broken(c):
        raise KeyError("boom")

    monkeypatch.setitem(rb._FUNCS, "workforce-fte-fallen", broken)
    with pytest.raises(rb.RobustnessError, match=r"claim 'workforce-fte-fallen', specification \{.*\}: the spec function failed: KeyError"):
        rb.evaluate("workforce-fte-fallen", cc.default, cc)


def test_panel_data_is_compact_and_complete(serial_grid, monkeypatch):
    monkeypatch.setattr(rb, "cache_dir", lambda root=None: serial_grid[1])  # the grid computed above
    g = rb.claim_grid("workforce-fte-fallen")
    d = rb.panel_data("workforce-fte-fallen", g)
    assert len(d["rows"]) == len(g["specs"]) and len(d["ch"]) == len(g["choices"])
    # decided specifications first, sorted by value; the default's indices decode to the default
    decided = [r for r in d["rows"] if r[0] != 3]
    assert len(decided) == d["nd"] == rb.summarise(g)["n_decided"]
    assert [r[1] for r in decided] == sorted(r[1] for r in decided)
    assert all(r[1] is None for r in d["rows"][len(decided):])
    codes = {r[2] for r in d["rows"]}
    assert len(codes) == len(g["specs"])  # one distinct code per specification
    default_code = "".join(rb._B36[c["d"]] for c in d["ch"])
    assert default_code in codes
    assert len(json.dumps(d, separators=(",", ":"))) < 25 * len(g["specs"]) + 3000


def test_panel_html_carries_the_descriptor_and_a_text_fallback(serial_grid, monkeypatch):
    monkeypatch.setattr(rb, "cache_dir", lambda root=None: serial_grid[1])  # the grid computed above
    html = rb.panel("workforce-fte-fallen")._repr_html_()
    assert 'id="robustness-workforce-fte-fallen"' in html and "vertintRobustness(" in html
    assert "<table" in html and "aria-describedby" in html
    # the fallback table is the shared chart table (charts.data_table): scoped headers, one row per
    # distinct verdict and value, counting every specification
    g = rb.claim_grid("workforce-fte-fallen")
    t = rb.table(g)
    assert list(t.columns) == ["Verdict", "Reproduced value", "Specifications"]
    assert t["Specifications"].sum() == len(g["specs"]) and not t.duplicated(["Verdict", "Reproduced value"]).any()
    assert [rb.VERDICT_ORDER.index(v) for v in t["Verdict"]] == sorted(rb.VERDICT_ORDER.index(v) for v in t["Verdict"])
    assert '<details class="vertint-data">' in html and '<th scope="col">Verdict</th>' in html
    assert '<th scope="col" class="num">Specifications</th>' in html
    assert html.count("<tr>") == len(t) + 1

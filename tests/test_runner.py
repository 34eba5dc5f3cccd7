"""Unit tests of the runner: run matrix, parameter contracts, overrides, hashing, normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vertint import runner
from vertint.runner import Param, RunError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runs():
    return runner.load_matrix(ROOT)


def test_run_matrix_agrees_with_toc_and_notebooks(runs):
    runner.check_contracts(runs, ROOT)  # raises on any drift


def test_every_parameter_is_documented_typed_and_commented(runs, tmp_path):
    import papermill as pm

    for name, run in runs.items():
        src = tmp_path / f"{name}.ipynb"
        runner._write_notebook(runner.read_source(run.source), src)
        inferred = pm.inspect_notebook(str(src))
        assert set(inferred) == set(run.params), name
        for pname, p in run.params.items():
            assert p.help.strip(), f"{name}.{pname} has no help text in runs.yml"
            assert inferred[pname]["help"].strip(), f"{name}.{pname} has no comment in the parameters cell"
            assert inferred[pname]["inferred_type_name"] not in ("None",), f"{name}.{pname} is not typed"


def test_parse_values():
    p = Param("n", "int", 10, min=1, max=100)
    assert runner.parse_value("nb", p, "42") == 42
    with pytest.raises(RunError, match=r"^notebook 'nb', parameter 'n': expected int, got 'x'$"):
        runner.parse_value("nb", p, "x")
    with pytest.raises(RunError, match=r"^notebook 'nb', parameter 'n': 101 is out of range \[1, 100\]$"):
        runner.parse_value("nb", p, "101")
    b = Param("flag", "bool", False)
    assert runner.parse_value("nb", b, "true") is True
    assert runner.parse_value("nb", b, "0") is False
    c = Param("m", "str", "fte", choices=["fte", "headcount"])
    with pytest.raises(RunError, match=r"'hc' is not one of fte, headcount"):
        runner.parse_value("nb", c, "hc")
    lst = Param("studies", "list", ["a"], choices=["a", "b"])
    assert runner.parse_value("nb", lst, "a,b") == ["a", "b"]
    with pytest.raises(RunError, match=r"'c' is not one of a, b"):
        runner.parse_value("nb", lst, "a,c")
    f = Param("x", "float", 0.5, min=0.0, max=1.0)
    assert runner.parse_value("nb", f, "0.25") == 0.25
    with pytest.raises(RunError, match="out of range"):
        runner.parse_value("nb", f, "-0.1")


def test_override_syntax_is_checked(runs):
    with pytest.raises(RunError, match=r"expected NOTEBOOK.PARAMETER=VALUE"):
        runner.apply_overrides(runs, ["smoke=true"])
    applied = runner.apply_overrides(runs, ["context.smoke=true"])
    assert applied == {"context": {"smoke": True}}
    assert runs["context"].values["smoke"] is True


def test_variant_slug_is_stable():
    assert runner.variant_slug({"workforce": {"measure": "headcount", "include_trainees": True}}) == \
        "workforce.include_trainees=true+workforce.measure=headcount"


def test_run_hash_changes_with_parameters(runs):
    run = runs["context"]
    h1 = runner.run_hash(run, ROOT)
    run.values["smoke"] = not run.values["smoke"]
    assert runner.run_hash(run, ROOT) != h1


def test_normalise_strips_volatile_metadata():
    nb = {
        "metadata": {"papermill": {"start_time": "2026-01-01", "input_path": "/abs/path"}},
        "cells": [
            {"cell_type": "code", "id": "a1b2c3", "metadata": {"tags": ["injected-parameters"], "papermill": {"duration": 1.2},
                                                                 "execution": {"iopub.status.busy": "t"}},
             "outputs": [{"output_type": "stream", "name": "stdout",
                          "text": "Date:                Mon, 23 Nov 2026\nTime:                21:59:01\n<obj at 0x7f3a2b1c9d0>"}]},
            {"cell_type": "code", "id": "x", "metadata": {}, "outputs": [
                {"output_type": "display_data", "metadata": {}, "data": {"text/html": '<div id="altair-viz-0123456789abcdef0123456789abcdef">'}}]},
        ],
    }
    out = runner.normalise(nb, {"smoke": False})
    assert out["metadata"] == {"vertint": {"parameters": {"smoke": False}}}
    first = out["cells"][0]
    assert first["id"] == "injected-parameters"
    assert "papermill" not in first["metadata"] and "execution" not in first["metadata"]
    assert first["outputs"][0]["text"] == "Date:                (date removed)\nTime:                (time removed)\n<obj>"
    assert out["cells"][1]["outputs"][0]["data"]["text/html"] == '<div id="altair-viz-normalised">'


def test_notebook_parameters_reads_literals(tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                     "source": "a: int = 3  # three\nb = 'x'\nc: list = ['p', 'q']\n"}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    assert runner.notebook_parameters(path) == {"a": 3, "b": "x", "c": ["p", "q"]}
    nb["cells"][0]["source"] = "a = 1 + len('x')"
    path.write_text(json.dumps(nb))
    with pytest.raises(RunError, match="must be a literal"):
        runner.notebook_parameters(path)


def test_swap_replaces_directory_atomically(tmp_path):
    final = tmp_path / "html"
    final.mkdir()
    (final / "old.txt").write_text("old")
    new = tmp_path / "new"
    new.mkdir()
    (new / "index.html").write_text("new")
    runner.swap(new, final)
    assert (final / "index.html").read_text() == "new"
    assert not (final / "old.txt").exists()
    assert not new.exists()


def test_list_items_are_typed_before_any_kernel_starts():
    p = Param("counts", "list", [], min=0, max=100, item_type="int")
    assert runner.parse_value("nb", p, "26,15,11,9") == [26, 15, 11, 9]
    with pytest.raises(RunError, match=r"^notebook 'nb', parameter 'counts': expected a comma-separated list of int, got '26,x'$"):
        runner.parse_value("nb", p, "26,x")
    with pytest.raises(RunError, match=r"items of \[26, 150\] must lie in \[0, 100\]"):
        runner.parse_value("nb", p, "26,150")


def test_non_finite_floats_are_refused():
    ranged = Param("alpha", "float", 0.05, min=0.001, max=0.2)
    for text in ("nan", "NaN", "inf", "-inf"):
        value = float(text)
        with pytest.raises(RunError, match=rf"^notebook 'nb', parameter 'alpha': {value!r} is out of range \[0.001, 0.2\]$"):
            runner.parse_value("nb", ranged, text)
    free = Param("x", "float", 0.5)
    with pytest.raises(RunError, match=r"^notebook 'nb', parameter 'x': expected a finite float, got nan$"):
        runner.parse_value("nb", free, "nan")
    items = Param("xs", "list", [], item_type="float")
    with pytest.raises(RunError, match=r"items of \[1.0, inf\] must be finite numbers"):
        runner.parse_value("nb", items, "1,inf")


def test_month_parameters_are_checked_against_their_pattern(runs):
    months = [(nb, p) for nb, run in runs.items() for p in run.params.values() if "YYYY-MM" in p.help]
    assert months, "no month parameters in runs.yml"
    for nb, p in months:
        assert p.pattern, f"{nb}.{p.name} is a month but declares no pattern in runs.yml"
        assert runner.parse_value(nb, p, "2019-12") == "2019-12"
        for bad in ("2019-13", "2019-1", "19-01", "2019-01-01", "Sept 2019"):
            with pytest.raises(RunError, match=rf"^notebook '{nb}', parameter '{p.name}': '{bad}' does not match the pattern "):
                runner.parse_value(nb, p, bad)


def _matrix(tmp_path, param: str) -> Path:
    (tmp_path / "runs.yml").write_text(f"notebooks:\n  nb:\n    path: n.ipynb\n    parameters:\n      {param}\n")
    return tmp_path


@pytest.mark.parametrize("param, message", [
    ("m: {type: str, default: '2019-01', pattern: '^(20'}",
     r"^runs.yml: nb.m: pattern '\^\(20' is not a valid regular expression: "),
    ("m: {type: int, default: 1, pattern: '^1$'}", r"^runs.yml: nb.m: a pattern applies only to str parameters"),
    ("m: {type: str, default: '2019-1', pattern: '^20[0-9]{2}-[0-9]{2}$'}",
     r"^notebook 'nb', parameter 'm': '2019-1' does not match the pattern \^20\[0-9\]\{2\}-\[0-9\]\{2\}\$$"),
    ("m: {type: str, default: a, patern: x}", r"^runs.yml: nb.m: unknown key 'patern' \(allowed: type, default, "),
    ("m: {type: float, default: .nan, min: 0, max: 1}", r"^notebook 'nb', parameter 'm': nan is out of range \[0, 1\]$"),
    ("m: 3", r"^runs.yml: nb.m: expected a mapping"),
])
def test_run_matrix_declarations_are_checked(tmp_path, param, message):
    with pytest.raises(RunError, match=message):
        runner.load_matrix(_matrix(tmp_path, param))


def test_build_lock_refuses_a_second_holder_and_frees_itself(tmp_path):
    import os

    with runner.build_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
        with pytest.raises(runner.BuildLocked, match=rf"^another build is running \(pid {os.getpid()}, started "
                                                     r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\); wait for it or remove "
                                                     r"_build/\.lock if it is stale$"):
            with runner.build_lock(tmp_path):
                pass
    # released on exit; a leftover file naming a dead process does not block either
    (tmp_path / "_build" / ".lock").write_text('{"pid": 999999999, "started": "2000-01-01 00:00:00"}\n')
    with runner.build_lock(tmp_path):
        pass


def test_runs_loaded_from_a_tree_read_their_sources_there(tmp_path, monkeypatch):
    """A run knows the tree whose runs.yml declared it, whatever VERTINT_ROOT says later (run_hash of
    a copy, as test_scaffold re-keys one, must hash the copy's notebooks)."""
    import shutil

    shutil.copy2(ROOT / "runs.yml", tmp_path / "runs.yml")
    runs = runner.load_matrix(tmp_path)
    monkeypatch.setenv("VERTINT_ROOT", str(ROOT))
    assert runs["context"].source == tmp_path / "notebooks" / "context.md"
    assert runner.load_matrix()["context"].source == ROOT / "notebooks" / "context.md"

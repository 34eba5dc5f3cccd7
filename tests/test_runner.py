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


def test_every_parameter_is_documented_typed_and_commented(runs):
    import papermill as pm

    for name, run in runs.items():
        inferred = pm.inspect_notebook(str(run.source))
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

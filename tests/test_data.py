"""The data manifest is validated on every test run: provenance, hashes and schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vertint import data

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_matches_the_manifest():
    names = data.validate_all()
    listed = {r["path"] for r in data.manifest()["resources"]}
    on_disk = {p.name for p in (ROOT / "data").glob("*.csv")}
    assert on_disk == listed, f"CSV files not in the manifest: {on_disk - listed}; listed but missing: {listed - on_disk}"
    assert len(names) == len(listed)


def test_every_resource_states_its_provenance():
    for res in data.manifest()["resources"]:
        data.check_provenance(res)
        assert res["licenses"][0].get("name"), res["name"]
        assert str(res["vintage"]).strip(), res["name"]


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A throwaway data package with one resource, to exercise each failure on its own."""
    (tmp_path / "data").mkdir()
    csv = tmp_path / "data" / "t.csv"
    csv.write_text("date,measure,value\n2015-09-30,fte,29364\n2024-09-30,fte,27966\n")
    man = {
        "name": "t",
        "resources": [{
            "name": "t", "title": "test", "path": "t.csv", "hash": "sha256:" + data.sha256(csv),
            "publisher": "p", "vintage": "v", "licenses": [{"name": "OGL-UK-3.0"}],
            "sources": [{"title": "s", "path": "https://example.org/s"}],
            "schema": {"fields": [{"name": "date", "type": "date"},
                                  {"name": "measure", "type": "string", "constraints": {"enum": ["fte", "headcount"]}},
                                  {"name": "value", "type": "number"}]},
        }],
    }
    (tmp_path / "data" / "datapackage.yaml").write_text(yaml.safe_dump(man))
    monkeypatch.setenv("VERTINT_ROOT", str(tmp_path))

    def rewrite(text: str, update_hash: bool = True):
        csv.write_text(text)
        if update_hash:
            man["resources"][0]["hash"] = "sha256:" + data.sha256(csv)
            (tmp_path / "data" / "datapackage.yaml").write_text(yaml.safe_dump(man))

    return csv, man, rewrite


def test_tiny_package_loads_typed(tiny):
    frame = data.load("t")
    assert list(frame["value"]) == [29364.0, 27966.0]
    assert str(frame["date"].dtype).startswith("datetime64")


def test_wrong_enum_label_names_row_and_column(tiny):
    _, _, rewrite = tiny
    rewrite("date,measure,value\n2015-09-30,fte,29364\n2024-09-30,wte,27966\n")
    with pytest.raises(data.DataError, match=r"^data/t.csv: row 3, column 'measure': constraint-error: .*\"wte\""):
        data.load("t")


def test_missing_file(tiny):
    csv, _, _ = tiny
    csv.unlink()
    with pytest.raises(data.DataError, match=r"^data/t.csv: file listed in data/datapackage.yaml is missing$"):
        data.load("t")


def test_extra_and_reordered_columns(tiny):
    _, _, rewrite = tiny
    rewrite("date,measure,value,extra\n2015-09-30,fte,29364,1\n")
    with pytest.raises(data.DataError, match=r"^data/t.csv: unexpected column 'extra'"):
        data.load("t")
    rewrite("measure,date,value\nfte,2015-09-30,29364\n")
    with pytest.raises(data.DataError, match=r"^data/t.csv: columns out of order"):
        data.load("t")


def test_missing_provenance(tiny, tmp_path):
    _, man, _ = tiny
    del man["resources"][0]["publisher"]
    (tmp_path / "data" / "datapackage.yaml").write_text(yaml.safe_dump(man))
    with pytest.raises(data.DataError, match=r"resource 't' lacks publisher"):
        data.load("t")


def test_unknown_resource(tiny):
    with pytest.raises(data.DataError, match=r"no resource named 'nope' \(known: t\)"):
        data.load("nope")


def _schema_tiny(man):
    return man["resources"][0]["schema"]


@pytest.mark.parametrize("text, column", [
    ("date,measure,value\n2015-09-30,fte,29364\n2024-09-30,wte,27966\n", "measure"),  # enum
    ("date,measure,value\n2015-09-30,fte,29364\n2024-09-31,fte,27966\n", "date"),  # no such day
    ("date,measure,value\n2015-09-30,fte,29364\n2024-09-30,fte,many\n", "value"),  # not a number
    ("date,measure,value\n2015-09-30,fte,29364\n2024-09-30,fte\n", None),  # missing cell
    ("date,measure,value\n2015-09-30,fte,29364\n2024-09-30,fte,1,2\n", None),  # extra cell
    ("date,measure,value\n2015-09-30,fte,29364\n\n2024-09-30,fte,1\n", None),  # blank row
])
def test_fast_check_never_passes_a_bad_file_and_frictionless_names_it(tiny, text, column):
    csv, man, rewrite = tiny
    rewrite(text)
    assert data._surely_valid(_schema_tiny(man), csv) is False
    with pytest.raises(data.DataError, match=r"^data/t.csv: " + (rf"row \d+, column '{column}'" if column else "")):
        data.load("t")


def test_fast_check_passes_good_files_and_the_large_practice_tables(tiny):
    csv, man, _ = tiny
    assert data._surely_valid(_schema_tiny(man), csv) is True
    man["resources"][0]["schema"]["fields"][2]["constraints"] = {"minimum": 30000}
    assert data._surely_valid(_schema_tiny(man), csv) is False  # 29364 < 30000
    man["resources"][0]["schema"]["fields"][2]["constraints"] = {"maxLength": 3}  # not decided here
    assert data._surely_valid(_schema_tiny(man), csv) is False


def test_fast_check_engages_on_the_practice_tables(monkeypatch):
    """The practice tables (tens of thousands of rows) pass the vectorised check, so validating them
    does not fall back to frictionless's row-by-row check (which took most of the chapter's time)."""
    for name in ("practice_payments", "practice_workforce", "practice_qof"):
        res = data.resource(name)
        assert data._surely_valid(res["schema"], ROOT / "data" / res["path"]), name


def test_resource_reads_the_manifest_of_the_root_it_is_given(tmp_path):
    """run_hash and grid_hash hash a given tree's inputs (test_scaffold re-keys a copy's caches with
    them), so a resource's entry comes from that tree's manifest, not the project's."""
    from conftest import data_root

    root = data_root(tmp_path / "r", ["prop99_covariates"])
    other = next(r["name"] for r in data.manifest()["resources"] if r["name"] != "prop99_covariates")
    assert data.resource(other)["name"] == other  # in the project's manifest
    with pytest.raises(data.DataError, match=rf"no resource named '{other}' \(known: prop99_covariates\)"):
        data.resource(other, root)
    assert data.resource("prop99_covariates", root) == data.resource("prop99_covariates")

"""Hostile inputs: each must stop the build with one clear message naming the file, column,
notebook or parameter, exit non-zero, and leave the last good site exactly as it was."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import tree_digest, vertint


@contextlib.contextmanager
def restored(*paths: Path):
    """Put files back exactly as they were after the test mutates them."""
    saved = {p: p.read_bytes() for p in paths}
    try:
        yield
    finally:
        for p, content in saved.items():
            p.write_bytes(content)


def _numeric_resource(root: Path) -> dict:
    man = yaml.safe_load((root / "data" / "datapackage.yaml").read_text())
    for res in man["resources"]:
        if any(f.get("type") in ("number", "integer") for f in res["schema"]["fields"]):
            return res
    pytest.skip("no data resource with a numeric column yet")


def _set_hash(root: Path, res: dict) -> None:
    """Update the manifest hash for ``res`` (as someone would who edits data on purpose)."""
    man_path = root / "data" / "datapackage.yaml"
    text = man_path.read_text()
    new = hashlib.sha256((root / "data" / res["path"]).read_bytes()).hexdigest()
    text = text.replace(res["hash"].split(":", 1)[1], new)
    man_path.write_text(text)


def _assert_refused(proc, message: str, site_before: dict, root: Path):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[0] == f"error: {message}" or f"error: {message}" in proc.stderr, proc.stderr
    assert tree_digest(root / "_build" / "html") == site_before, "the last good site was changed"


@pytest.fixture
def site(book_copy):
    return book_copy, tree_digest(book_copy / "_build" / "html")


def test_hash_mismatch_is_refused(site):
    root, before = site
    res = _numeric_resource(root)
    path = root / "data" / res["path"]
    with restored(path):
        path.write_bytes(path.read_bytes() + b"\n")
        proc = vertint(root, "book")
    expected = hashlib.sha256(path.read_bytes() + b"\n").hexdigest()
    manifest = res["hash"].split(":", 1)[1]
    _assert_refused(
        proc,
        f"data/{res['path']}: sha256 mismatch: manifest says {manifest[:12]}…, file is {expected[:12]}…; "
        "the file was changed without updating data/datapackage.yaml (refresh data deliberately with 'vertint data refresh')",
        before, root,
    )


def test_corrupt_csv_is_refused(site):
    root, before = site
    res = _numeric_resource(root)
    path = root / "data" / res["path"]
    man = root / "data" / "datapackage.yaml"
    field = next(f for f in res["schema"]["fields"] if f.get("type") in ("number", "integer"))
    col = [f["name"] for f in res["schema"]["fields"]].index(field["name"])
    with restored(path, man):
        lines = path.read_text().splitlines()
        cells = lines[1].split(",")
        cells[col] = "not-a-number"
        lines[1] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n")
        _set_hash(root, res)
        proc = vertint(root, "book")
    assert proc.returncode == 1
    first = proc.stderr.strip().splitlines()[0]
    assert re.fullmatch(
        rf"error: data/{re.escape(res['path'])}: row 2, column '{field['name']}': type-error: Type error in the cell \"not-a-number\" .*",
        first,
    ), first
    assert tree_digest(root / "_build" / "html") == before


def test_missing_column_is_refused(site):
    root, before = site
    res = _numeric_resource(root)
    path = root / "data" / res["path"]
    man = root / "data" / "datapackage.yaml"
    fields = [f["name"] for f in res["schema"]["fields"]]
    with restored(path, man):
        lines = path.read_text().splitlines()
        lines[0] = lines[0].replace(fields[-1], fields[-1] + "_renamed")
        path.write_text("\n".join(lines) + "\n")
        _set_hash(root, res)
        proc = vertint(root, "book")
    _assert_refused(
        proc,
        f"data/{res['path']}: missing column {fields[-1]!r} (expected columns: {', '.join(fields)})",
        before, root,
    )


def test_unknown_parameter_is_refused(site):
    root, before = site
    runs = yaml.safe_load((root / "runs.yml").read_text())["notebooks"]
    declared = ", ".join(runs["context"]["parameters"])
    proc = vertint(root, "book", "-p", "context.no_such_thing=1")
    _assert_refused(
        proc,
        f"notebook 'context' (notebooks/context.ipynb) has no parameter 'no_such_thing' (declared: {declared})",
        before, root,
    )
    assert not (root / "_build" / "variants").exists() or not any((root / "_build" / "variants").iterdir())


def test_ill_typed_parameter_is_refused(site):
    root, before = site
    proc = vertint(root, "book", "-p", "context.smoke=maybe")
    _assert_refused(proc, "notebook 'context', parameter 'smoke': expected bool, got 'maybe'", before, root)


def test_out_of_range_parameter_is_refused(site):
    root, before = site
    runs = yaml.safe_load((root / "runs.yml").read_text())["notebooks"]
    for nb, spec in runs.items():
        for name, p in spec["parameters"].items():
            if p.get("max") is not None and p["type"] in ("int", "float"):
                value = p["max"] + 1
                proc = vertint(root, "book", "-p", f"{nb}.{name}={value}")
                _assert_refused(
                    proc,
                    f"notebook {nb!r}, parameter {name!r}: {value!r} is out of range [{p.get('min')}, {p['max']}]",
                    before, root,
                )
                return
    pytest.skip("no parameter with a declared range yet")


def test_notebook_that_raises_names_notebook_and_cell(site):
    root, before = site
    path = root / "notebooks" / "context.ipynb"
    with restored(path):
        nb = json.loads(path.read_text())
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "boom", "metadata": {},
                            "outputs": [], "source": "raise ValueError('deliberate failure for the test')"})
        path.write_text(json.dumps(nb, indent=1))
        proc = vertint(root, "book")
    assert proc.returncode == 1
    index = len(nb["cells"])  # 1-based number of the appended cell
    assert f"error: notebooks/context.ipynb failed in cell {index}: ValueError: deliberate failure for the test" in proc.stderr
    assert "Traceback" in proc.stderr or "raise ValueError" in proc.stderr
    assert "The previous site at" in proc.stderr and "was left untouched" in proc.stderr
    assert tree_digest(root / "_build" / "html") == before


def test_unknown_notebook_in_override_is_refused(site):
    root, before = site
    proc = vertint(root, "book", "-p", "nonesuch.x=1")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: override 'nonesuch.x=1': no notebook 'nonesuch' in runs.yml (known: ")
    assert tree_digest(root / "_build" / "html") == before

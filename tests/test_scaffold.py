"""The recipe in CONTRIBUTING.md, walked on a throwaway chapter: `vertint new-chapter` writes a
chapter with the book's anatomy, and the book builds with it, its claim in the ledger."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import vertint
from test_anatomy import check_anatomy

from vertint.runner import read_source
from vertint.scaffold import ScaffoldError, new_chapter


def test_new_chapter_builds_with_its_claim(book_copy, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(book_copy, root, symlinks=True, ignore=shutil.ignore_patterns(".venv", ".pytest_cache", "__pycache__"))
    env = {"PYTHONPATH": str(root / "src")}  # kernels import the copy's package, with the new module
    proc = vertint(root, "new-chapter", "throwaway", "--title", "A throwaway chapter: the recipe", extra_env=env)
    assert proc.returncode == 0, proc.stderr
    check_anatomy(read_source(root / "notebooks" / "throwaway.md"), "throwaway")
    proc = vertint(root, "book", extra_env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (root / "_build" / "html" / "notebooks" / "throwaway.html").read_text(encoding="utf-8")
    assert "A throwaway chapter: the recipe" in page and "throwaway-example" in page
    records = {r["id"]: r for r in json.loads((root / "_build" / "claims.json").read_text())}
    assert records["throwaway-example"]["verdict"] == "not reproducible from public data"
    again = vertint(root, "new-chapter", "throwaway", "--title", "Again", extra_env=env)
    assert again.returncode == 1
    assert again.stderr.strip() == ("error: chapter 'throwaway' exists already: notebooks/throwaway.md, "
                                    "src/vertint/throwaway.py, claims/throwaway.yml, runs.yml entry 'throwaway'")


@pytest.mark.parametrize("name", ["Bad", "1x", "a", "has-dash"])
def test_new_chapter_refuses_bad_names(tmp_path, name):
    with pytest.raises(ScaffoldError, match=r"^chapter name .*: use lower-case letters"):
        new_chapter(name, "T", root=tmp_path)

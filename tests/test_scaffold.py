"""The recipe in CONTRIBUTING.md, walked on a throwaway chapter: `vertint new-chapter` writes a
chapter with the book's anatomy, and the book builds with it, its claim in the ledger.

A new module in ``src/vertint`` changes every chapter's cache key (the key hashes the whole
package), so the build would execute every chapter again, a cold build of its own. The other
chapters do not import the new module, so their executed notebooks and robustness grids from
``book_copy`` are filed under their new keys first (:func:`rekey_caches`): the build executes the
new chapter only, then stages and renders the whole book with it. The steps run in the background as
soon as the book is built (:func:`scaffold_steps`, started by conftest); the test reads their results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, after_book, vertint
from test_anatomy import check_anatomy

from vertint.runner import load_matrix, read_source
from vertint.scaffold import ScaffoldError, new_chapter


def rekey_caches(root: Path, new: str) -> list[str]:
    """File the executed notebooks and robustness grids of every chapter but ``new`` under the cache
    keys that the tree at ``root`` now gives them; return the chapters re-keyed."""
    from vertint import robustness
    from vertint.runner import load_matrix, run_hash

    build = root / "_build"
    old = json.loads((build / "state.json").read_text(encoding="utf-8"))["notebooks"]
    runs = load_matrix(root)
    done = []
    for name, digest in old.items():
        if name == new:
            continue
        src = build / "cache" / f"{name}-{digest}.ipynb"
        dest = build / "cache" / f"{name}-{run_hash(runs[name], root)[:20]}.ipynb"
        assert src.is_file() and src != dest, (src, dest)  # the new module must have changed the key
        shutil.copy2(src, dest)
        done.append(name)
    for f in sorted((build / "cache" / "robustness").glob("*.json")):
        chapter = f.stem.rsplit("-", 1)[0]
        grid = json.loads(f.read_text(encoding="utf-8"))
        grid["hash"] = robustness.grid_hash(chapter, root)
        (f.parent / f"{chapter}-{grid['hash']}.json").write_text(
            json.dumps(grid, sort_keys=True, separators=(",", ":"), default=str), encoding="utf-8")
    return done


TITLE = "A throwaway chapter: the recipe"


def scaffold_steps() -> list[tuple]:
    """The recipe's steps, for a background job in a copy of the built book (conftest starts it as
    soon as the book is built): ``vertint new-chapter``, the re-keying of the other chapters' caches,
    ``vertint book``, and ``new-chapter`` again."""
    def env(root: Path) -> dict:
        return {"PYTHONPATH": str(root / "src")}  # kernels import the copy's package, with the new module

    return [
        ("new", lambda root: vertint(root, "new-chapter", "throwaway", "--title", TITLE, extra_env=env(root))),
        ("rekey", lambda root: rekey_caches(root, "throwaway")),
        ("book", lambda root: vertint(root, "book", extra_env=env(root))),
        ("again", lambda root: vertint(root, "new-chapter", "throwaway", "--title", "Again", extra_env=env(root))),
    ]


def test_new_chapter_builds_with_its_claim(book_copy):
    job = after_book("scaffold")
    root, (new, _), (rekeyed, _), (book, _), (again, _) = job["root"], *(job["results"][k] for k in ("new", "rekey", "book", "again"))
    assert new.returncode == 0, new.stderr
    assert sorted(rekeyed) == sorted(n for n in load_matrix(ROOT) if n != "throwaway")
    check_anatomy(read_source(root / "notebooks" / "throwaway.md"), "throwaway")
    assert book.returncode == 0, book.stdout + book.stderr
    assert "(1 notebook(s) executed" in book.stderr, book.stderr  # the new chapter; the others from the cache
    page = (root / "_build" / "html" / "notebooks" / "throwaway.html").read_text(encoding="utf-8")
    assert TITLE in page and "throwaway-example" in page
    records = {r["id"]: r for r in json.loads((root / "_build" / "claims.json").read_text())}
    assert records["throwaway-example"]["verdict"] == "not reproducible from public data"
    assert again.returncode == 1
    assert again.stderr.strip() == ("error: chapter 'throwaway' exists already: notebooks/throwaway.md, "
                                    "src/vertint/throwaway.py, claims/throwaway.yml, runs.yml entry 'throwaway'")


@pytest.mark.parametrize("name", ["Bad", "1x", "a", "has-dash"])
def test_new_chapter_refuses_bad_names(tmp_path, name):
    with pytest.raises(ScaffoldError, match=r"^chapter name .*: use lower-case letters"):
        new_chapter(name, "T", root=tmp_path)

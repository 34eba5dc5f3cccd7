"""Numbered releases (``vertint release``) and the What-changed page (:mod:`vertint.release`).

The end-to-end tests work in a throw-away git repository made from a copy of this one: a "build"
is a claims.json and state.json written as the runner writes them (no kernels run), so each test
takes seconds. A data revision (one file's bytes and manifest hash) with one claim's verdict moved
must give a change list naming exactly that claim and that file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from vertint import release as rel

ROOT = Path(__file__).resolve().parents[1]
COPY = shutil.ignore_patterns(".git", ".venv", "_build", "releases", ".pytest_cache", "__pycache__", "*.egg-info",
                              ".ipynb_checkpoints")


# --------------------------------------------------------------------------- helpers


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A committed copy of the project in its own git repository (made once per module)."""
    root = tmp_path_factory.mktemp("template") / "repo"
    shutil.copytree(ROOT, root, ignore=COPY, symlinks=True)
    env = {**os.environ, **GIT_ENV}
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "fixture")):
        subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, check=True)
    return root


@pytest.fixture
def repo(template, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the template repository, with VERTINT_ROOT pointing at it."""
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    for key, val in GIT_ENV.items():
        monkeypatch.setenv(key, val)
    monkeypatch.setenv("VERTINT_ROOT", str(root))
    return root


def _records(root: Path, flip: str | None = None) -> list[dict]:
    """Two claim records per chapter of runs.yml, judged under the tree's rubric; ``flip``: the id
    whose verdict is 'not supported' instead of 'supported'."""
    from vertint import rubric
    from vertint.runner import load_matrix

    out = []
    for chapter in load_matrix(root):
        for i in (1, 2):
            cid = f"{chapter}-claim-{i}"
            out.append({
                "id": cid, "chapter": chapter, "section": f"sec-{cid}",
                "verdict": "not supported" if cid == flip else "supported",
                "certainty": {"level": "low", "reason": "fixture"},
                "robustness": {"label": "robust", "why": "fixture"},
                "reproduced": {"value": i, "unit": "things"},
                "rubric_hash": rubric.rubric_hash(root),
            })
    return out


def _build(root: Path, records: list[dict], variant: str | None = None, params: dict | None = None) -> None:
    """Write _build/claims.json and _build/state.json as runner.build does for the current tree."""
    from vertint.runner import load_matrix, run_hash, site_hash

    runs = load_matrix(root)
    hashes = {name: run_hash(run, root)[:20] for name, run in runs.items()}
    state = {"site_hash": site_hash(runs, hashes, variant), "notebooks": hashes, "variant": variant,
             "parameters": params or {n: r.values for n, r in runs.items()}}
    (root / "_build").mkdir(exist_ok=True)
    (root / "_build" / "claims.json").write_text(json.dumps(records, indent=2), encoding="utf-8")
    (root / "_build" / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")


def _cli(*args: str):
    from vertint.cli import app

    return CliRunner().invoke(app, list(args))


def _revise_data(root: Path, resource: str) -> str:
    """Append a copy of the last row of a data file and update its manifest hash; return its path."""
    from vertint import data

    man_path = root / "data" / "datapackage.yaml"
    man = yaml.safe_load(man_path.read_text(encoding="utf-8"))
    res = next(r for r in man["resources"] if r["name"] == resource)
    path = root / "data" / res["path"]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines) + lines[-1], encoding="utf-8")
    text = man_path.read_text(encoding="utf-8")
    old = str(res["hash"])
    assert text.count(old) == 1
    man_path.write_text(text.replace(old, "sha256:" + data.sha256(path)), encoding="utf-8")
    return f"data/{res['path']}"


def _chapter_reading(root: Path, only: bool = True) -> tuple[str, str]:
    """A chapter and a data resource that only this chapter reads."""
    from vertint.runner import load_matrix

    runs = load_matrix(root)
    for name, run in runs.items():
        for res in run.data:
            if not only or all(res not in other.data for o, other in runs.items() if o != name):
                return name, res
    raise AssertionError("no chapter reads a data file of its own")


# --------------------------------------------------------------------------- end to end


def test_data_revision_flips_exactly_the_expected_verdict(repo):
    res = _cli("release", "0.1.0", "--date", "2026-11-29", "--notes", "first")
    assert res.exit_code == 1 and "_build/claims.json: not found" in res.output  # no build yet

    _build(repo, _records(repo))
    res = _cli("release", "0.1.0", "--date", "2026-11-29", "--notes", "first")
    assert res.exit_code == 0, res.output
    first = json.loads((repo / "releases" / "0.1.0.json").read_text(encoding="utf-8"))
    assert first["commit"] == _git(repo, "rev-parse", "HEAD")
    assert first["version"] == "0.1.0" and first["date"] == "2026-11-29" and first["notes"] == "first"
    from vertint import data, rubric

    assert first["rubric_hash"] == rubric.rubric_hash(repo)
    assert first["manifest_hash"] == data.sha256(repo / "data" / "datapackage.yaml")
    assert first["rubric_change"]["date"]  # the changelog entry naming the hash
    claim = first["claims"][0]
    assert set(claim) == {"id", "chapter", "verdict", "certainty", "robustness", "reproduced", "data"}
    assert claim["certainty"] == "low" and claim["robustness"] == "robust" and claim["reproduced"]["value"] == 1
    from vertint.runner import load_matrix

    reads = load_matrix(repo)[claim["chapter"]].data
    assert len(claim["data"]) == len(reads)
    for f, h in claim["data"].items():
        assert data.sha256(repo / f) == h
    _git(repo, "add", "releases")
    _git(repo, "commit", "-q", "-m", "release 0.1.0")
    assert rel.footer_label(repo) == "Release 0.1.0 (2026-11-29)"  # the release-file commit is still the release

    # a data revision: one file only this chapter reads; one of its claims changes verdict
    chapter, resource = _chapter_reading(repo)
    changed_file = _revise_data(repo, resource)
    _git(repo, "commit", "-q", "-am", "data revision")
    assert rel.footer_label(repo) == "Unreleased, after 0.1.0"
    flipped = f"{chapter}-claim-1"
    _build(repo, _records(repo, flip=flipped))
    res = _cli("release", "0.2.0", "--date", "2026-12-01")
    assert res.exit_code == 0, res.output
    assert "1 verdict(s) changed, 0 claim(s) added, 0 removed" in res.output
    assert "1 verdict changed, 0 claims added, 0 removed" in rel.changes_markdown(rel.load_releases(repo))
    second = json.loads((repo / "releases" / "0.2.0.json").read_text(encoding="utf-8"))

    diff = rel.compare(first, second)
    assert [c["id"] for c in diff["changed"]] == [flipped]
    assert diff["added"] == [] and diff["removed"] == []
    change = diff["changed"][0]
    assert change["changed"] == {"fidelity": ("supported", "not supported")}
    assert [f["file"] for f in change["cause"]["data"]] == [changed_file]
    assert change["cause"]["rubric"] is None and change["cause"]["code"] is None

    page = rel.changes_markdown(rel.load_releases(repo))
    assert page.index("## Release 0.2.0 (2026-12-01)") < page.index("## Release 0.1.0 (2026-11-29)")
    section = page.split("## Release 0.1.0")[0]
    ids = {c["id"] for c in second["claims"]}
    assert [i for i in ids if i in section] == [flipped]
    files = {f for c in second["claims"] for f in c["data"]}
    assert [f for f in files if f in section] == [changed_file]
    assert section.count("| ") and "first" in page.split("## Release 0.1.0")[1]


def test_refuses_a_build_that_is_not_the_working_tree(repo):
    records = _records(repo)
    _build(repo, records)
    # a commit after the build: the build is stale
    (repo / "book" / "glossary.md").write_text((repo / "book" / "glossary.md").read_text() + "\nMore.\n")
    res = _cli("release", "0.1.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "uncommitted changes in book/glossary.md" in res.output
    _git(repo, "commit", "-q", "-am", "edit")
    res = _cli("release", "0.1.0", "--date", "2026-11-29")
    assert res.exit_code == 1
    assert "built from another commit or other sources than the working tree" in res.output
    assert not (repo / "releases").exists()


def test_refuses_a_variant_or_non_default_build(repo):
    from vertint.runner import load_matrix

    _build(repo, _records(repo), variant="workforce.measure=headcount")
    res = _cli("release", "0.1.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "variant build 'workforce.measure=headcount'" in res.output
    assert "never released" in res.output

    params = {n: dict(r.values) for n, r in load_matrix(repo).items()}
    params["workforce"]["measure"] = "headcount"
    _build(repo, _records(repo), params=params)
    res = _cli("release", "0.1.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "workforce.measure='headcount' (default 'fte')" in res.output
    assert not (repo / "releases").exists()


def test_refuses_a_build_judged_under_another_rubric(repo):
    records = _records(repo)
    for r in records:
        r["rubric_hash"] = "0123456789abcdef"
    _build(repo, records)
    res = _cli("release", "0.1.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "judged under rubric 0123456789abcdef but rubric/rubric.yml now hashes to" in res.output


def test_refuses_missing_or_broken_state(repo):
    _build(repo, _records(repo))
    (repo / "_build" / "state.json").unlink()
    res = _cli("release", "0.1.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "_build/state.json: not found" in res.output
    (repo / "_build" / "claims.json").write_text("[{", encoding="utf-8")
    res = _cli("release", "0.1.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "_build/claims.json: not valid JSON" in res.output


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0-rc1", "1.0.0.0", "one", ""])
def test_refuses_malformed_versions(repo, version):
    _build(repo, _records(repo))
    res = _cli("release", version, "--date", "2026-11-29")
    assert res.exit_code == 1
    assert f"VERSION: {version!r} is not a semantic version MAJOR.MINOR.PATCH" in res.output


@pytest.mark.parametrize("version", ["0.2.0", "0.1.9", "0.0.1"])
def test_refuses_versions_not_greater_than_the_last(repo, version):
    _build(repo, _records(repo))
    assert _cli("release", "0.2.0", "--date", "2026-11-29").exit_code == 0
    before = sorted(p.name for p in (repo / "releases").iterdir())
    res = _cli("release", version, "--date", "2026-11-30")
    assert res.exit_code == 1
    assert f"VERSION: {version} is not greater than the last release, 0.2.0 (releases/0.2.0.json)" in res.output
    assert sorted(p.name for p in (repo / "releases").iterdir()) == before


def test_refuses_bad_dates_and_dry_run_writes_nothing(repo):
    _build(repo, _records(repo))
    res = _cli("release", "0.1.0", "--date", "2026-13-01")
    assert res.exit_code == 1 and "--date: '2026-13-01' is not a valid date" in res.output
    res = _cli("release", "0.1.0", "--date", "29/11/2026")
    assert res.exit_code == 1 and "is not a date YYYY-MM-DD" in res.output
    res = _cli("release", "0.1.0", "--date", "2026-11-29", "--dry-run")
    assert res.exit_code == 0 and "would write releases/0.1.0.json" in res.output
    assert not (repo / "releases").exists()
    assert _cli("release", "0.1.0", "--date", "2026-11-29").exit_code == 0
    res = _cli("release", "0.2.0", "--date", "2026-11-28")
    assert res.exit_code == 1 and "--date: 2026-11-28 is before the last release's date (0.1.0, 2026-11-29)" in res.output


def test_a_malformed_release_file_is_named(repo):
    (repo / "releases").mkdir()
    (repo / "releases" / "0.1.0.json").write_text(json.dumps({"version": "0.1.1"}), encoding="utf-8")
    res = _cli("release", "0.2.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "releases/0.1.0.json: missing field(s) date, commit" in res.output
    doc = {k: "x" for k in rel.REQUIRED} | {"version": "0.1.1", "date": "2026-11-29", "claims": []}
    (repo / "releases" / "0.1.0.json").write_text(json.dumps(doc), encoding="utf-8")
    res = _cli("release", "0.2.0", "--date", "2026-11-29")
    assert res.exit_code == 1 and "releases/0.1.0.json: field 'version' is '0.1.1'; the file must be named 0.1.1.json" in res.output


# --------------------------------------------------------------------------- the change list (no git)


def _doc(version: str, claims: dict[str, tuple[str, dict]], rubric: str = "r1", commit: str = "c" * 40,
         change: dict | None = None) -> dict:
    return {"version": version, "date": "2026-11-29", "notes": "", "commit": commit, "content": "x",
            "manifest_hash": "m", "rubric_hash": rubric, "rubric_change": change,
            "claims": [{"id": cid, "chapter": "ch", "verdict": v, "certainty": "low", "data": d}
                       for cid, (v, d) in claims.items()]}


def test_causes_rubric_code_and_claims_added_or_removed():
    files = {"data/a.csv": "aa", "data/b.csv": "bb"}
    old = _doc("0.1.0", {"x": ("supported", files), "y": ("supported", files), "gone": ("supported", files)})
    # rubric changed: the changelog entry that names the new hash is the cause
    new = _doc("0.2.0", {"x": ("partly supported", files), "y": ("supported", files), "new": ("supported", files)},
               rubric="r2", change={"date": "2026-12-01", "change": "tolerance widened"})
    diff = rel.compare(old, new)
    assert [c["id"] for c in diff["changed"]] == ["x"] and diff["added"] == ["new"] and diff["removed"] == ["gone"]
    cause = diff["changed"][0]["cause"]
    assert cause["data"] == [] and cause["code"] is None and cause["rubric"]["after"] == "r2"
    text = rel.changes_markdown([old, new], sections={"x": "sec-x"})
    assert "its changelog entry of 2026-12-01 in `rubric/rubric.yml`: tolerance widened" in text
    assert text.count("tolerance widened") == 1 and "rubric changed (`r1` to `r2`; changelog entry above)" in text
    assert "{ref}`x <sec-x>`" in text and "Claims added: `new` (supported)." in text
    assert "Claims removed: `gone`." in text
    # neither data nor rubric: the commit range
    new2 = _doc("0.2.0", {"x": ("partly supported", files), "y": ("supported", files), "gone": ("supported", files)},
                commit="d" * 40)
    cause = rel.compare(old, new2)["changed"][0]["cause"]
    assert cause["code"] == {"before": "c" * 40, "after": "d" * 40}
    assert f"commits `{'c' * 12}`..`{'d' * 12}`" in rel.changes_markdown([old, new2])
    # a certainty change is a verdict change too; a reproduced value alone is not
    new3 = json.loads(json.dumps(old))
    new3["version"] = "0.2.0"
    new3["claims"][1]["certainty"] = "moderate"
    new3["claims"][2]["reproduced"] = {"value": 3}
    assert [(c["id"], c["changed"]) for c in rel.compare(old, new3)["changed"]] == [("y", {"certainty": ("low", "moderate")})]


def test_no_release_says_so_plainly(tmp_path):
    assert rel.load_releases(tmp_path) == []
    assert rel.changes_markdown([]).startswith("No release has been made yet")


def test_changes_page_is_generated_in_the_staged_copy(repo, tmp_path):
    stage = tmp_path / "stage"
    shutil.copytree(repo / "book", stage / "book")
    records = _records(repo)
    rel.write_changes(stage, records, None, repo)
    body = (stage / "book" / "changes.md").read_text(encoding="utf-8")
    assert rel.CHANGES_MARKER not in body and "No release has been made yet" in body
    assert rel.footer_label(repo) == "Unreleased (no release yet)"
    # after a release, a later build shows its unreleased changes first
    _build(repo, records)
    assert _cli("release", "0.1.0", "--date", "2026-11-29").exit_code == 0
    _git(repo, "add", "releases")
    _git(repo, "commit", "-q", "-m", "release")
    shutil.rmtree(stage)
    shutil.copytree(repo / "book", stage / "book")
    rel.write_changes(stage, records, None, repo)
    body = (stage / "book" / "changes.md").read_text(encoding="utf-8")
    assert "## Release 0.1.0 (2026-11-29)" in body and "Unreleased (this build)" not in body
    _git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    (repo / "book" / "intro.md").write_text((repo / "book" / "intro.md").read_text() + "\nMore.\n")
    _git(repo, "commit", "-q", "-am", "later")
    shutil.rmtree(stage)
    shutil.copytree(repo / "book", stage / "book")
    rel.write_changes(stage, _records(repo, flip="workforce-claim-2"), None, repo)
    body = (stage / "book" / "changes.md").read_text(encoding="utf-8")
    assert body.index("## Unreleased (this build)") < body.index("## Release 0.1.0")
    assert "{ref}`workforce-claim-2 <sec-workforce-claim-2>`" in body
    assert rel.footer_label(repo) == "Unreleased, after 0.1.0"
    # a page without its marker is an error naming the page
    (stage / "book" / "changes.md").write_text("# What changed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="changes.md: marker <!-- vertint:changes --> not found"):
        rel.write_changes(stage, records, None, repo)


def test_toc_lists_the_page_under_reference():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    part = next(p for p in toc["parts"] if p["caption"] == "Reference")
    assert {"file": "book/changes"} in part["chapters"]
    assert rel.CHANGES_MARKER in (ROOT / "book" / "changes.md").read_text(encoding="utf-8")

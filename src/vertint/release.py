"""Numbered releases of the living review, and the *What changed* page.

``vertint release VERSION`` (:func:`make`) records the default book as it was last built, in
``releases/VERSION.json``: the version (``MAJOR.MINOR.PATCH``, greater than the last), the date,
the git commit, a fingerprint of the committed content (``content``: the tree without
``releases/``, so the commit that adds the release file is still "the release"), the data-manifest
and rubric hashes, the rubric changelog entry naming that hash, and per claim its fidelity
verdict, certainty level, robustness label, reproduced value and the sha256 of each data file its
chapter reads (``runs.yml`` ``data`` and ``data/datapackage.yaml``). It refuses a build that is
missing, unfinished, a variant, run with other parameters, judged under another rubric, or made
from another commit or other sources than the working tree.

At build time the runner calls :func:`write_changes`, which replaces the marker in the staged
``book/changes.md`` with the history (newest first): each verdict that changed against the
previous release and why (a data file it reads, the rubric, or else the code in a commit range),
and the claims added or removed; and :func:`footer_label` for the page footer.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import subprocess
from pathlib import Path

from . import VertintError, paths

CHANGES_MARKER = "<!-- vertint:changes -->"
SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
REQUIRED = ("version", "date", "commit", "content", "manifest_hash", "rubric_hash", "claims")
#: the judgements whose change is listed ("verdicts"): record field -> label on the page
JUDGEMENTS = (("verdict", "fidelity"), ("certainty", "certainty"))
#: what a release may not differ in from its commit; untracked files count only under these
BUILD_INPUTS = ("_config.yml", "_toc.yml", "runs.yml", "requirements.txt", "book/", "notebooks/", "src/",
                "data/", "rubric/", "claims/", "assets/")


class ReleaseError(VertintError):
    pass


# --------------------------------------------------------------------------- versions and files


def parse_version(text: str, where: str = "version") -> tuple[int, int, int]:
    m = SEMVER.fullmatch(str(text))
    if not m:
        raise ReleaseError(f"{where}: {text!r} is not a semantic version MAJOR.MINOR.PATCH (e.g. 0.1.0, "
                           "whole numbers without leading zeros)")
    return tuple(int(g) for g in m.groups())  # type: ignore[return-value]


def parse_date(text: str, where: str = "--date") -> str:
    if not DATE.fullmatch(str(text)):
        raise ReleaseError(f"{where}: {text!r} is not a date YYYY-MM-DD")
    try:
        _dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ReleaseError(f"{where}: {text!r} is not a valid date ({exc})") from None
    return text


def releases_dir(root: Path | None = None) -> Path:
    return (root or paths.root()) / "releases"


def load_releases(root: Path | None = None) -> list[dict]:
    """Every ``releases/*.json``, checked, oldest version first."""
    folder = releases_dir(root)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        where = f"releases/{path.name}"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ReleaseError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise ReleaseError(f"{where}: expected a JSON object")
        missing = [k for k in REQUIRED if k not in doc]
        if missing:
            raise ReleaseError(f"{where}: missing field(s) {', '.join(missing)}")
        parse_version(doc["version"], f"{where}: field 'version'")
        if doc["version"] != path.stem:
            raise ReleaseError(f"{where}: field 'version' is {doc['version']!r}; the file must be named {doc['version']}.json")
        parse_date(str(doc["date"]), f"{where}: field 'date'")
        if not isinstance(doc["claims"], list) or not all(isinstance(c, dict) and "id" in c and "verdict" in c
                                                          for c in doc["claims"]):
            raise ReleaseError(f"{where}: field 'claims' must be a list of objects with 'id' and 'verdict'")
        out.append(doc)
    return sorted(out, key=lambda d: parse_version(d["version"]))


# --------------------------------------------------------------------------- git


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "--no-optional-locks", *args], cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_commit(root: Path | None = None) -> str | None:
    out = _git(root or paths.root(), "rev-parse", "HEAD")
    return out.strip() if out else None


def content_id(root: Path | None = None) -> str | None:
    """sha256 of the committed tree at HEAD without ``releases/``: the same for the released commit
    and for the commit that only adds its release file. Needs no history (works in shallow clones)."""
    import hashlib

    out = _git(root or paths.root(), "ls-tree", "-r", "HEAD")
    if out is None:
        return None
    lines = [ln for ln in out.splitlines() if not ln.split("\t", 1)[-1].startswith("releases/")]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def dirty_paths(root: Path | None = None) -> list[str] | None:
    """Uncommitted changes outside ``releases/`` (tracked files anywhere, untracked files among the
    build's inputs); None when there is no git repository."""
    out = _git(root or paths.root(), "status", "--porcelain=v1", "--untracked-files=all", "--no-renames", ".")
    if out is None:
        return None
    found = []
    for line in out.splitlines():
        code, path = line[:2], line[3:].strip().strip('"')
        if path.startswith("releases/"):
            continue
        if code == "??" and not path.startswith(BUILD_INPUTS):
            continue
        found.append(path)
    return sorted(found)


# --------------------------------------------------------------------------- the build to release


def check_build(root: Path | None = None) -> list[dict]:
    """The default book's claim records, if ``_build/claims.json`` is the finished, default build of
    exactly the working tree; otherwise :class:`ReleaseError` saying why."""
    from . import rubric
    from .runner import load_matrix, run_hash, site_hash

    root = root or paths.root()
    cpath, spath = root / "_build" / "claims.json", root / "_build" / "state.json"
    if not cpath.exists():
        raise ReleaseError("_build/claims.json: not found; build the default book first ('make book' or 'vertint book')")
    try:
        records = json.loads(cpath.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReleaseError(f"_build/claims.json: not valid JSON ({exc}); rebuild with 'make book'") from None
    if not isinstance(records, list) or not records or not all(
            isinstance(r, dict) and {"id", "chapter", "verdict", "rubric_hash"} <= set(r) for r in records):
        raise ReleaseError("_build/claims.json: expected a non-empty list of claim records "
                           "(id, chapter, verdict, rubric_hash, ...); rebuild with 'make book'")
    if not spath.exists():
        raise ReleaseError("_build/state.json: not found, so the build that wrote _build/claims.json cannot be "
                           "checked; rebuild with 'make book'")
    try:
        state = json.loads(spath.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReleaseError(f"_build/state.json: not valid JSON ({exc}); rebuild with 'make book'") from None
    if not isinstance(state, dict):
        raise ReleaseError("_build/state.json: expected a JSON object; rebuild with 'make book'")
    if state.get("variant"):
        raise ReleaseError(f"_build/state.json: this is the variant build {state['variant']!r}; a variant is never "
                           "released: build the default book ('make book') and release that")
    runs = load_matrix(root)
    defaults = json.loads(json.dumps({n: r.values for n, r in runs.items()}))
    built = state.get("parameters")
    if built != defaults:
        built = built if isinstance(built, dict) else {}
        diff = [f"{nb}.{k}={(built.get(nb) or {}).get(k)!r} (default {v!r})"
                for nb, vals in defaults.items() for k, v in vals.items() if (built.get(nb) or {}).get(k) != v]
        diff += [f"{nb} (not in runs.yml)" for nb in built if nb not in defaults]
        raise ReleaseError("_build/state.json: the book was built with parameters other than runs.yml's defaults ("
                           + ("; ".join(diff) or "unreadable") + "); build the default book ('make book') and release that")
    current = rubric.rubric_hash(root)
    used = sorted({str(r["rubric_hash"]) for r in records})
    if used != [current]:
        raise ReleaseError(f"_build/claims.json: judged under rubric {', '.join(used)} but rubric/rubric.yml now hashes "
                           f"to {current}; rebuild with 'make book'")
    dirty = dirty_paths(root)
    if dirty is None:
        raise ReleaseError(f"{root}: not a git repository (or git is missing); a release names a commit")
    if dirty:
        shown = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
        raise ReleaseError(f"uncommitted changes in {shown}; commit them (a release names a commit), rebuild "
                           "with 'make book', then release")
    hashes = {name: run_hash(run, root)[:20] for name, run in runs.items()}
    if state.get("site_hash") != site_hash(runs, hashes, None):
        stale = sorted(n for n in hashes if (state.get("notebooks") or {}).get(n) != hashes[n])
        why = (f"notebook(s) {', '.join(stale)} were executed from other inputs" if stale
               else "the pages, configuration or commit differ")
        raise ReleaseError(f"_build/claims.json was built from another commit or other sources than the working tree "
                           f"(HEAD {(git_commit(root) or '?')[:12]}: {why}); rebuild with 'make book', then release")
    return records


def snapshot(records: list[dict], root: Path | None = None, *, version: str, date: str, notes: str = "",
             commit: str | None = None, content: str | None = None) -> dict:
    """A release document for these claim records and the working tree's manifest and rubric."""
    from . import data, rubric
    from .runner import load_matrix

    root = root or paths.root()
    runs = load_matrix(root)
    resources = {r.get("name"): r for r in data.manifest(root).get("resources", [])}
    reads: dict[str, dict[str, str]] = {}
    for name, run in runs.items():
        files = {}
        for res_name in run.data:
            res = resources.get(res_name)
            if res is None:
                raise ReleaseError(f"runs.yml: {name}: data {res_name!r} is not a resource in data/datapackage.yaml")
            files[f"data/{res['path']}"] = str(res.get("hash", "")).split(":", 1)[-1]
        reads[name] = dict(sorted(files.items()))
    claims = []
    for r in records:
        if r["chapter"] not in reads:
            raise ReleaseError(f"claim {r['id']!r}: chapter {r['chapter']!r} is not a notebook in runs.yml")
        entry = {"id": r["id"], "chapter": r["chapter"], "verdict": r["verdict"],
                 "certainty": (r.get("certainty") or {}).get("level")}
        label = (r.get("robustness") or {}).get("label")
        if label:
            entry["robustness"] = label
        entry["reproduced"] = r.get("reproduced")
        entry["data"] = reads[r["chapter"]]
        claims.append(entry)
    rhash = rubric.rubric_hash(root)
    named = [e for e in (rubric.load(root).get("changelog") or []) if str(e.get("hash")) == rhash]
    return {
        "version": version,
        "date": date,
        "notes": notes,
        "commit": commit,
        "content": content,
        "manifest_hash": data.sha256(root / "data" / "datapackage.yaml"),
        "rubric_hash": rhash,
        "rubric_change": ({"date": str(named[-1]["date"]), "change": " ".join(str(named[-1]["change"]).split())}
                          if named else None),
        "claims": claims,
    }


def make(version: str, date: str | None = None, notes: str = "", root: Path | None = None,
         dry_run: bool = False) -> tuple[Path, dict, dict | None]:
    """Check and write ``releases/VERSION.json``; return its path, the document and the comparison
    with the previous release (None for the first)."""
    root = root or paths.root()
    new_v = parse_version(version, "VERSION")
    date = parse_date(date) if date is not None else _dt.date.today().isoformat()
    previous = load_releases(root)
    if previous:
        last = previous[-1]
        if new_v <= parse_version(last["version"]):
            raise ReleaseError(f"VERSION: {version} is not greater than the last release, {last['version']} "
                               f"(releases/{last['version']}.json)")
        if date < str(last["date"]):
            raise ReleaseError(f"--date: {date} is before the last release's date ({last['version']}, {last['date']})")
    records = check_build(root)
    doc = snapshot(records, root, version=version, date=date, notes=" ".join(notes.split()),
                   commit=git_commit(root), content=content_id(root))
    path = releases_dir(root) / f"{version}.json"
    if not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return path, doc, compare(previous[-1], doc) if previous else None


# --------------------------------------------------------------------------- what changed


def compare(old: dict, new: dict) -> dict:
    """Claims whose verdict (fidelity or certainty) changed from ``old`` to ``new``, each with its
    cause, and the claims added and removed."""
    before = {c["id"]: c for c in old["claims"]}
    after = {c["id"]: c for c in new["claims"]}
    changed = []
    for cid, c in after.items():
        if cid not in before:
            continue
        moved = {label: (before[cid].get(key), c.get(key)) for key, label in JUDGEMENTS
                 if before[cid].get(key) != c.get(key)}
        if moved:
            changed.append({"id": cid, "changed": moved, "cause": cause(before[cid], c, old, new)})
    return {"changed": changed,
            "added": [cid for cid in after if cid not in before],
            "removed": [cid for cid in before if cid not in after]}


def cause(old_claim: dict, new_claim: dict, old: dict, new: dict) -> dict:
    """Why a claim's verdict may have moved: the data files its chapter reads whose hash changed (or
    that it began or stopped reading), the rubric if its hash changed, or else the code between
    the two commits."""
    od, nd = old_claim.get("data") or {}, new_claim.get("data") or {}
    files = [{"file": f, "before": od.get(f), "after": nd.get(f)} for f in sorted(set(od) | set(nd))
             if od.get(f) != nd.get(f)]
    rubric = None
    if old.get("rubric_hash") != new.get("rubric_hash"):
        rubric = {"before": old.get("rubric_hash"), "after": new.get("rubric_hash"), "entry": new.get("rubric_change")}
    code = None if files or rubric else {"before": old.get("commit"), "after": new.get("commit")}
    return {"data": files, "rubric": rubric, "code": code}


def _short(h) -> str:
    return f"`{str(h)[:12]}`" if h else "(none)"


def cause_text(c: dict) -> str:
    parts = []
    for f in c["data"]:
        if f["before"] is None:
            parts.append(f"now reads `{f['file']}` (sha256 {_short(f['after'])})")
        elif f["after"] is None:
            parts.append(f"no longer reads `{f['file']}`")
        else:
            parts.append(f"data file `{f['file']}` changed (sha256 {_short(f['before'])} to {_short(f['after'])})")
    if c["rubric"]:
        parts.append(f"rubric changed ({_short(c['rubric']['before'])} to {_short(c['rubric']['after'])}; "
                     "changelog entry above)")
    if c["code"]:
        parts.append(f"no data file it reads and not the rubric: code or text in commits "
                     f"{_short(c['code']['before'])}..{_short(c['code']['after'])}")
    return "; ".join(parts)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _claim_ref(cid: str, sections: dict[str, str]) -> str:
    return f"{{ref}}`{cid} <{sections[cid]}>`" if cid in sections else f"`{cid}`"


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(doc: dict) -> str:
    counts: dict[str, int] = {}
    for c in doc["claims"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))


def _section(doc: dict, prev: dict | None, sections: dict[str, str], heading: str, intro: str) -> list[str]:
    out = [f"## {heading}", "", intro, ""]
    if doc.get("notes"):
        out += [_cell(doc["notes"]), ""]
    if prev is None:
        out += [f"The first release: {len(doc['claims'])} claims ({_counts(doc)}).", ""]
        return out
    diff = compare(prev, doc)
    out += [f"Against {prev['version']} ({prev['date']}): {_n(len(diff['changed']), 'verdict')} changed, "
            f"{_n(len(diff['added']), 'claim')} added, {len(diff['removed'])} removed.", ""]
    if prev.get("rubric_hash") != doc.get("rubric_hash"):
        entry = doc.get("rubric_change")
        out += [f"The rubric changed ({_short(prev.get('rubric_hash'))} to {_short(doc.get('rubric_hash'))}); "
                + (f"its changelog entry of {entry['date']} in `rubric/rubric.yml`: {_cell(entry['change'])}"
                   if entry else "no changelog entry in `rubric/rubric.yml` names the new hash."), ""]
    if diff["changed"]:
        out += ["| Claim | What changed | Cause |", "|---|---|---|"]
        for ch in diff["changed"]:
            what = "; ".join(f"{label}: {_cell(a) if a else '(none)'} to **{_cell(b) if b else '(none)'}**"
                             for label, (a, b) in ch["changed"].items())
            out.append(f"| {_claim_ref(ch['id'], sections)} | {what} | {cause_text(ch['cause'])} |")
        out.append("")
    verdict = {c["id"]: c["verdict"] for c in doc["claims"]}
    if diff["added"]:
        out += ["Claims added: " + ", ".join(f"{_claim_ref(c, sections)} ({verdict[c]})" for c in diff["added"]) + ".", ""]
    if diff["removed"]:
        out += ["Claims removed: " + ", ".join(f"`{c}`" for c in diff["removed"]) + ".", ""]
    return out


def changes_markdown(releases: list[dict], current: dict | None = None, sections: dict[str, str] | None = None) -> str:
    """The history, newest first. ``current``: this build as an unreleased snapshot (shown first,
    against the last release), or None when the build is a release or a variant."""
    sections = sections or {}
    if not releases:
        return ("No release has been made yet: this book has no numbered version, so there is nothing to "
                "compare against. The first release will be recorded with `vertint release 0.1.0`.\n")
    out: list[str] = []
    if current is not None:
        out += _section(current, releases[-1], sections, "Unreleased (this build)",
                        f"This build (commit {_short(current.get('commit'))}) is not a release; it is compared with "
                        f"the last release.")
    for i in range(len(releases) - 1, -1, -1):
        doc = releases[i]
        out += _section(doc, releases[i - 1] if i else None, sections, f"Release {doc['version']} ({doc['date']})",
                        f"Commit {_short(doc['commit'])}, data manifest {_short(doc['manifest_hash'])}, "
                        f"rubric `{doc['rubric_hash']}`.")
    return "\n".join(out)


def current_release(root: Path | None = None, releases: list[dict] | None = None) -> dict | None:
    """The release whose content is the committed tree at HEAD (with no uncommitted build inputs)."""
    root = root or paths.root()
    releases = load_releases(root) if releases is None else releases
    content = content_id(root)
    if not content or dirty_paths(root):
        return None
    for doc in reversed(releases):
        if doc.get("content") == content:
            return doc
    return None


def footer_label(root: Path | None = None) -> str:
    """'Release X.Y.Z (date)' when the build's commit is a release's, else 'Unreleased, after X.Y.Z'."""
    releases = load_releases(root)
    doc = current_release(root, releases)
    if doc is not None:
        return f"Release {doc['version']} ({doc['date']})"
    return f"Unreleased, after {releases[-1]['version']}" if releases else "Unreleased (no release yet)"


def write_changes(stage_dir: Path, records: list[dict], variant: str | None, root: Path | None = None) -> None:
    """Replace the marker in the staged ``book/changes.md`` with :func:`changes_markdown`."""
    root = root or paths.root()
    page = stage_dir / "book" / "changes.md"
    if not page.exists():
        return
    body = page.read_text(encoding="utf-8")
    if CHANGES_MARKER not in body:
        raise ValueError(f"{page.name}: marker {CHANGES_MARKER} not found")
    releases = load_releases(root)
    current = None
    if releases and not variant and current_release(root, releases) is None:
        current = snapshot(records, root, version="unreleased", date="", commit=git_commit(root),
                           content=content_id(root))
    sections = {r["id"]: r["section"] for r in records if r.get("section")}
    page.write_text(body.replace(CHANGES_MARKER, changes_markdown(releases, current, sections)), encoding="utf-8")

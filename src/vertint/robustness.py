"""How robust is each verdict? The declared choices, the grid of specifications, and its summary.

A *specification* is one combination of the analytic choices a reasonable analyst could make for a
claim (FTE or heads, which vintage, which benchmark, which threshold...). The choices and their
allowed values are declared as data in ``rubric/choices/<chapter>.yml``, before results, like the
rubric. Each data-decided claim has a *spec function* (registered with :func:`spec` in
``vertint.specs.<chapter>``) that takes one specification (a dict of choice values) and returns
the reproduced value and the verdict the claim's rubric rule gives under it. A choice that names a
rubric parameter (``rubric: rounds_to.partly_units``) is applied by this module around the call
(:func:`vertint.rubric.overriding`); a choice that names a chapter parameter (``param:
workforce.measure``) must declare the same default as ``runs.yml``, so the grid's default
specification is the book's.

The build evaluates every specification in-process (no papermill run per specification), in
parallel through one small interface, :class:`Executor`: :class:`LocalExecutor` runs the chunks
on a local process pool (two workers by default). A grid that outgrows one machine needs only
another ``Executor`` whose ``map`` sends the same picklable chunks elsewhere; with
``dask.distributed``, for instance::

    class DaskExecutor:
        def __init__(self, client):
            self.client = client
        def map(self, fn, items):
            return self.client.gather(self.client.map(fn, items, pure=False))

Nothing else changes: chunks are ``(claim_id, [spec, ...])`` tuples and results are plain lists.
Grids are cached per chapter under ``_build/cache/robustness/`` by a content hash of everything
they depend on (package code, rubric and choices, claims registry, the chapter's data files,
pinned requirements), like the executed notebooks.

:func:`summarise` turns a claim's grid into the ledger's fields: the number of specifications, the
share giving each verdict, the default specification's verdict, the single choices that flip it,
and the label of the rubric's ``robustness`` rule. :func:`panel` draws the page's robustness panel
(a specification curve with its decision matrix, and a *what if* explorer bound to Vega-Lite
parameters) from the same cached grid: it ships a compact descriptor (:func:`panel_data`) from
which ``assets/robustness.js`` builds the Vega-Lite spec in the browser.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import yaml

from . import VertintError, paths, rubric, yaml_problem
from .verdicts import NOT_REPRODUCIBLE, NOT_SUPPORTED, PARTLY, SUPPORTED, VERDICTS, Verdict

ROBUST = "robust"
FRAGILE = "fragile"
SINGLE = "single specification"
NO_GRID = "not applicable"
LABELS = (ROBUST, FRAGILE, SINGLE, NO_GRID)
#: chapters whose spec functions live in ``vertint.specs.<chapter>``
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SCALAR = (str, int, float, bool)


class RobustnessError(VertintError):
    pass


# --------------------------------------------------------------------------- declared choices


@dataclass(frozen=True)
class Choice:
    name: str
    label: str
    values: tuple
    default: Any
    why: str
    param: str | None = None  # "chapter.parameter" in runs.yml
    rubric: str | None = None  # "rule.parameter" in rubric/rubric.yml
    labels: tuple = ()  # display text per value (defaults to the values)

    def text(self, value) -> str:
        i = self.values.index(value)
        return str(self.labels[i]) if self.labels else _show(value)


@dataclass(frozen=True)
class ClaimChoices:
    claim_id: str
    chapter: str
    choices: tuple[Choice, ...]
    max_specs: int | None = None
    seed: int = 0
    note: str = ""
    file: str = ""

    @property
    def default(self) -> dict:
        return {c.name: c.default for c in self.choices}

    def size(self) -> int:
        return math.prod(len(c.values) for c in self.choices) if self.choices else 1


def _show(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def choices_dir(root: Path | None = None) -> Path:
    return (root or paths.root()) / "rubric" / "choices"


def _fail(rel: str, where: str, msg: str):
    raise RobustnessError(f"{rel}: {where}: {msg}")


def load_choices(root: Path | None = None) -> dict[str, ClaimChoices]:
    """Every claim's declared choices, validated against the claims registry, ``runs.yml`` and the
    rubric. The error names the file, claim and choice."""
    from . import claims as claims_mod
    from .runner import load_matrix

    root = root or paths.root()
    files = [*sorted(choices_dir(root).glob("*.yml")), root / "runs.yml", rubric.path(root),
             *sorted((root / "claims").glob("*.yml"))]
    key = (str(root), tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists()))
    if key in _CHOICES_CACHE:
        return dict(_CHOICES_CACHE[key])
    reg = claims_mod.registry(root)
    runs = load_matrix(root)
    out: dict[str, ClaimChoices] = {}
    for file in sorted(choices_dir(root).glob("*.yml")):
        rel = str(file.relative_to(root))
        chapter = file.stem
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RobustnessError(f"{rel}: not valid YAML: {yaml_problem(exc)}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("claims"), dict):
            _fail(rel, "top level", "expected a mapping with a 'claims' mapping (claim id -> declared choices)")
        for cid, spec in doc["claims"].items():
            where = f"claim {cid!r}"
            if cid not in reg:
                _fail(rel, where, "not in claims/*.yml")
            if reg[cid]["chapter"] != chapter:
                _fail(rel, where, f"belongs to chapter {reg[cid]['chapter']!r}, not {chapter!r} (move it to rubric/choices/{reg[cid]['chapter']}.yml)")
            if cid in out:
                _fail(rel, where, "declared twice")
            if not isinstance(spec, dict):
                _fail(rel, where, "expected a mapping with 'choices' (and optionally max_specs, seed, note)")
            unknown = set(spec) - {"choices", "max_specs", "seed", "note"}
            if unknown:
                _fail(rel, where, f"unknown key(s) {', '.join(sorted(unknown))}")
            raw = spec.get("choices") or {}
            if not isinstance(raw, dict):
                _fail(rel, where, "'choices' must be a mapping of choice name -> {values, default, label, why}")
            if not raw and not str(spec.get("note", "")).strip():
                _fail(rel, where, "no choices declared: say why in 'note' (a claim with no defensible alternative)")
            parsed = tuple(_parse_choice(rel, cid, name, c, runs, chapter) for name, c in raw.items())
            max_specs = spec.get("max_specs")
            if max_specs is not None and (not isinstance(max_specs, int) or isinstance(max_specs, bool) or max_specs < 2):
                _fail(rel, where, f"max_specs must be an integer of at least 2, got {max_specs!r}")
            seed = spec.get("seed", 0)
            if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
                _fail(rel, where, f"seed must be a non-negative integer, got {seed!r}")
            out[cid] = ClaimChoices(cid, chapter, parsed, max_specs, seed, str(spec.get("note", "")).strip(), rel)
    _CHOICES_CACHE.clear()
    _CHOICES_CACHE[key] = out
    return dict(out)


_CHOICES_CACHE: dict[tuple, dict] = {}


def _parse_choice(rel: str, cid: str, name, c, runs, chapter) -> Choice:
    where = f"claim {cid!r}, choice {name!r}"
    if not isinstance(name, str) or not _NAME.match(name):
        _fail(rel, where, "choice names are lower_snake_case")
    if not isinstance(c, dict):
        _fail(rel, where, "expected a mapping with values, default, label and why")
    missing = [k for k in ("values", "default", "label", "why") if k not in c]
    if missing:
        _fail(rel, where, f"lacks {', '.join(missing)}")
    unknown = set(c) - {"values", "default", "label", "why", "param", "rubric", "labels"}
    if unknown:
        _fail(rel, where, f"unknown key(s) {', '.join(sorted(unknown))}")
    values = c["values"]
    if not isinstance(values, list) or len(values) < 2 or not all(isinstance(v, _SCALAR) for v in values):
        _fail(rel, where, "values must be a list of at least two numbers, strings or booleans")
    if len({json.dumps(v) for v in values}) != len(values):
        _fail(rel, where, "values repeat")
    if c["default"] not in values or not any(type(v) is type(c["default"]) and v == c["default"] for v in values):
        _fail(rel, where, f"default {c['default']!r} is not one of the values {values!r}")
    labels = c.get("labels") or []
    if labels and (not isinstance(labels, list) or len(labels) != len(values)):
        _fail(rel, where, "labels, when given, need one text per value")
    if c.get("param") and c.get("rubric"):
        _fail(rel, where, "a choice is either a chapter parameter or a rubric parameter, not both")
    if c.get("param"):
        nb, _, pname = str(c["param"]).partition(".")
        if nb != chapter or nb not in runs or pname not in runs[nb].params:
            _fail(rel, where, f"param {c['param']!r} is not a parameter of notebook {chapter!r} in runs.yml")
        p = runs[nb].params[pname]
        if p.default != c["default"]:
            _fail(rel, where, f"default {c['default']!r} differs from runs.yml's {c['param']} default {p.default!r}")
        from .runner import RunError, check_value

        for v in values:
            try:
                check_value(nb, p, v)
            except RunError as exc:
                _fail(rel, where, f"value {v!r} is not allowed: {exc}")
    if c.get("rubric"):
        rule, _, pname = str(c["rubric"]).partition(".")
        try:
            current = rubric.param(rule, pname)
        except rubric.RubricError as exc:
            _fail(rel, where, str(exc))
        if current != c["default"]:
            _fail(rel, where, f"default {c['default']!r} differs from the rubric's {c['rubric']} = {current!r}")
    if not str(c["why"]).strip() or not str(c["label"]).strip():
        _fail(rel, where, "label and why must say something")
    return Choice(name, str(c["label"]).strip(), tuple(values), c["default"], " ".join(str(c["why"]).split()),
                  c.get("param"), c.get("rubric"), tuple(str(x) for x in labels))


def specifications(cc: ClaimChoices) -> list[dict]:
    """Every combination of the declared values, in declared order; or, where there are more than
    ``max_specs``, a seeded sample of that many that always includes the default specification."""
    if not cc.choices:
        return [{}]
    names = [c.name for c in cc.choices]
    total = cc.size()
    if cc.max_specs is None or total <= cc.max_specs:
        return [dict(zip(names, combo)) for combo in itertools.product(*(c.values for c in cc.choices))]
    import numpy as np

    rng = np.random.default_rng(cc.seed)
    sizes = [len(c.values) for c in cc.choices]
    default_idx = int(np.ravel_multi_index(tuple(c.values.index(c.default) for c in cc.choices), sizes))
    others = np.setdiff1d(np.arange(total), [default_idx])
    picked = np.sort(np.concatenate([[default_idx], rng.choice(others, size=cc.max_specs - 1, replace=False)]))
    out = []
    for flat in picked:
        idx = np.unravel_index(int(flat), sizes)
        out.append({c.name: c.values[int(i)] for c, i in zip(cc.choices, idx)})
    return out


# --------------------------------------------------------------------------- spec functions


@dataclass(frozen=True)
class Outcome:
    """What one specification gives: the reproduced value (a number, or text) and the verdict."""

    value: Any
    verdict: Verdict


_FUNCS: dict[str, Callable[[dict], Outcome]] = {}


def spec(claim_id: str):
    """Register ``fn(choice: dict) -> Outcome`` as the spec function of ``claim_id``."""
    def deco(fn):
        if claim_id in _FUNCS and _FUNCS[claim_id] is not fn:
            raise RobustnessError(f"two spec functions for claim {claim_id!r}")
        _FUNCS[claim_id] = fn
        return fn
    return deco


def spec_functions(chapters: list[str] | None = None) -> dict[str, Callable]:
    """The registered spec functions (importing ``vertint.specs.<chapter>`` for each chapter that
    has a choices file)."""
    for chapter in chapters if chapters is not None else [f.stem for f in sorted(choices_dir().glob("*.yml"))]:
        try:
            importlib.import_module(f"vertint.specs.{chapter}")
        except ModuleNotFoundError as exc:
            if exc.name != f"vertint.specs.{chapter}":
                raise
    return dict(_FUNCS)


def evaluate(claim_id: str, choice: dict, cc: ClaimChoices | None = None) -> dict:
    """One specification of one claim: ``{"value", "verdict", "rule"}``."""
    cc = cc or load_choices()[claim_id]
    fn = spec_functions([cc.chapter]).get(claim_id)
    if fn is None:
        raise RobustnessError(f"claim {claim_id!r} declares choices in {cc.file} but has no spec function "
                              f"(@robustness.spec in vertint/specs/{cc.chapter}.py)")
    overrides = {c.rubric: choice[c.name] for c in cc.choices if c.rubric}
    try:
        with rubric.overriding(overrides):
            out = fn(dict(choice))
    except VertintError:
        raise
    except Exception as exc:  # a spec function's bug, named with the specification that hit it
        raise RobustnessError(f"claim {claim_id!r}, specification {choice!r}: the spec function failed: "
                              f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(out, Outcome) or not isinstance(out.verdict, Verdict):
        raise RobustnessError(f"spec function of {claim_id!r} must return robustness.Outcome(value, verdict)")
    value = None if out.verdict.label == NOT_REPRODUCIBLE else out.value  # no figure, whatever the function returned
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return {"value": value, "verdict": out.verdict.label, "rule": out.verdict.rule}


def _run_chunk(task: tuple) -> list[dict]:
    """Worker entry point (picklable): evaluate a list of specifications of one claim."""
    root, claim_id, specs = task
    if root:
        os.environ["VERTINT_ROOT"] = root
    cc = load_choices()[claim_id]
    return [evaluate(claim_id, s, cc) for s in specs]


# --------------------------------------------------------------------------- executors


class Executor(Protocol):
    """The seam: ``map(fn, items)`` returns ``[fn(item) for item in items]`` in order."""

    def map(self, fn: Callable, items: list) -> list: ...


class SerialExecutor:
    def map(self, fn, items):
        return [fn(i) for i in items]


class LocalExecutor:
    """A local process pool (``workers`` processes; two on the book's machine)."""

    def __init__(self, workers: int = 2):
        self.workers = max(1, int(workers))

    def map(self, fn, items):
        if self.workers == 1 or len(items) <= 1:
            return SerialExecutor().map(fn, items)
        import multiprocessing

        ctx = multiprocessing.get_context("fork")  # workers inherit imported modules: no re-import per task
        with concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=ctx) as pool:
            return list(pool.map(fn, items))


# --------------------------------------------------------------------------- the grid, cached


def grid_hash(chapter: str, root: Path | None = None) -> str:
    """Content hash of everything a chapter's grid depends on."""
    from . import data
    from .runner import _hash_files, load_matrix, package_files

    root = root or paths.root()
    h = hashlib.sha256(b"robustness-grid-1\0" + chapter.encode())
    files = [root / "requirements.txt", *package_files(root), *sorted((root / "claims").glob("*.yml")),
             *sorted((root / "rubric").rglob("*.yml"))]
    runs = load_matrix(root)
    for name in (runs[chapter].data if chapter in runs else []):
        res = data.resource(name, root)
        files.append(root / "data" / res["path"])
        h.update(json.dumps(res, sort_keys=True, default=str).encode())
    _hash_files(h, [f for f in files if f.exists()], root)
    return h.hexdigest()[:20]


def cache_dir(root: Path | None = None) -> Path:
    return (root or paths.root()) / "_build" / "cache" / "robustness"


CHUNK = 64  # specifications per task: large enough to amortise a worker's data loading


def compute(chapters: list[str] | None = None, executor: Executor | None = None, force: bool = False) -> dict[str, dict]:
    """The grids of ``chapters`` (default: every chapter with a choices file), from the cache where
    the inputs are unchanged, else computed through ``executor`` (default: two local workers)."""
    root = paths.root()
    declared = load_choices(root)
    chapters = sorted({cc.chapter for cc in declared.values()}) if chapters is None else chapters
    out: dict[str, dict] = {}
    todo: list[tuple[str, str]] = []
    for chapter in chapters:
        digest = grid_hash(chapter, root)
        f = cache_dir(root) / f"{chapter}-{digest}.json"
        if not force and f.exists():
            out[chapter] = json.loads(f.read_text(encoding="utf-8"))
        else:
            todo.append((chapter, digest))
    if todo:
        funcs = spec_functions([chapter for chapter, _ in todo])  # imports the chapters' modules: only when computing
        tasks, owners = [], []
        plans: dict[str, dict] = {}
        for chapter, digest in todo:
            plans[chapter] = {}
            for cid, cc in declared.items():
                if cc.chapter != chapter:
                    continue
                if cid not in funcs:
                    raise RobustnessError(f"claim {cid!r} declares choices in {cc.file} but has no spec function "
                                          f"(@robustness.spec in vertint/specs/{chapter}.py)")
                specs = specifications(cc)
                plans[chapter][cid] = specs
                for i in range(0, len(specs), CHUNK):
                    tasks.append((str(root), cid, specs[i:i + CHUNK]))
                    owners.append(cid)
        # validate and load the chapters' data once here: forked workers inherit the parsed frames
        from . import data
        from .runner import load_matrix

        runs = load_matrix(root)
        for chapter, _ in todo:
            for name in (runs[chapter].data if chapter in runs else []):
                data.load(name)
        results = (executor or LocalExecutor()).map(_run_chunk, tasks)
        by_claim: dict[str, list] = {}
        for cid, res in zip(owners, results):
            by_claim.setdefault(cid, []).extend(res)
        cache_dir(root).mkdir(parents=True, exist_ok=True)
        for chapter, digest in todo:
            grid = {"chapter": chapter, "hash": digest, "claims": {}}
            for cid, specs in plans[chapter].items():
                cc = declared[cid]
                grid["claims"][cid] = {
                    "choices": [{"name": c.name, "label": c.label, "values": list(c.values), "default": c.default,
                                 "why": c.why, "param": c.param, "rubric": c.rubric,
                                 "labels": [c.text(v) for v in c.values]} for c in cc.choices],
                    "note": cc.note, "sampled": cc.max_specs is not None and cc.size() > cc.max_specs,
                    "size": cc.size(), "seed": cc.seed,
                    "specs": [{"choice": s, **r} for s, r in zip(specs, by_claim[cid])],
                }
            for old in cache_dir(root).glob(f"{chapter}-*.json"):
                old.unlink(missing_ok=True)
            tmp = cache_dir(root) / f"{chapter}-{digest}.json.tmp"
            tmp.write_text(json.dumps(grid, sort_keys=True, separators=(",", ":"), default=str), encoding="utf-8")
            os.replace(tmp, cache_dir(root) / f"{chapter}-{digest}.json")
            out[chapter] = grid
    return out


def claim_grid(claim_id: str) -> dict:
    """One claim's grid (computed, through the cache, for its whole chapter)."""
    declared = load_choices()
    if claim_id not in declared:
        raise RobustnessError(f"claim {claim_id!r} declares no choices in rubric/choices/")
    chapter = declared[claim_id].chapter
    return compute([chapter])[chapter]["claims"][claim_id]


# --------------------------------------------------------------------------- summary and label


def label(default_share: float, n_specs: int) -> str:
    """The rubric's ``robustness`` rule."""
    if n_specs <= 1:
        return SINGLE
    return ROBUST if default_share >= float(rubric.param("robustness", "robust_share")) else FRAGILE


def _is_default(s: dict, choices: list[dict]) -> bool:
    return all(s["choice"][c["name"]] == c["default"] and type(s["choice"][c["name"]]) is type(c["default"]) for c in choices)


def summarise(g: dict) -> dict:
    """The ledger's robustness fields for one claim's grid. Shares are of all specifications;
    ``default_share`` (which decides the label) is of the specifications the data decide."""
    specs, choices = g["specs"], g["choices"]
    default = next(s for s in specs if _is_default(s, choices))
    n = len(specs)
    decided = [s for s in specs if s["verdict"] != NOT_REPRODUCIBLE]
    shares = {v: sum(s["verdict"] == v for s in specs) / n for v in VERDICTS if any(s["verdict"] == v for s in specs)}
    flips, undecided = [], []
    for c in choices:
        for v, text in zip(c["values"], c["labels"]):
            if v == c["default"]:
                continue
            one = dict(default["choice"], **{c["name"]: v})
            match = [s for s in specs if s["choice"] == one]
            if not match or match[0]["verdict"] == default["verdict"]:
                continue
            item = {"choice": c["name"], "label": c["label"], "value": v, "text": text, "verdict": match[0]["verdict"]}
            (undecided if match[0]["verdict"] == NOT_REPRODUCIBLE else flips).append(item)
    agree = sum(s["verdict"] == default["verdict"] for s in decided)
    share = agree / len(decided) if decided else 0.0
    if default["verdict"] == NOT_REPRODUCIBLE:
        lab = NO_GRID
    else:
        lab = label(share, len(decided))
    return {
        "n_specs": n, "n_decided": len(decided), "size": g["size"], "sampled": g["sampled"],
        "shares": {k: round(v, 6) for k, v in shares.items()},
        "default_verdict": default["verdict"], "default_value": default["value"], "default_share": round(share, 6),
        "flips": flips, "undecided": undecided,
        "combination_only": bool(len(decided) - agree and not flips),
        "choices": [c["name"] for c in choices],
        "label": lab,
    }


def annotate(records: list[dict], grids: dict[str, dict]) -> list[dict]:
    """Add ``robustness`` to each record: the summary of its grid, or ``not applicable`` (with the
    reason) for a claim no data decide."""
    by_claim = {cid: g for grid in grids.values() for cid, g in grid["claims"].items()}
    for rec in records:
        if rec["id"] in by_claim:
            rec["robustness"] = summarise(by_claim[rec["id"]])
        elif rec["verdict"] == NOT_REPRODUCIBLE:
            rec["robustness"] = {"label": NO_GRID, "why": "no public data decide this claim, so there is no verdict to vary"}
        else:
            rec["robustness"] = {"label": NO_GRID, "why": "no analytic choices are declared for this claim in rubric/choices/"}
    return records


def check_coverage(records: list[dict], grids: dict[str, dict]) -> list[str]:
    """Problems that make the robustness columns untrustworthy: a data-decided claim without a grid,
    or a grid whose default specification disagrees with the verdict the chapter emitted."""
    by_claim = {cid: g for grid in grids.values() for cid, g in grid["claims"].items()}
    problems = []
    for rec in records:
        g = by_claim.get(rec["id"])
        if g is None:
            if rec["verdict"] != NOT_REPRODUCIBLE:
                problems.append(f"{rec['id']}: data-decided ({rec['verdict']}) but no choices in rubric/choices/{rec['chapter']}.yml")
            continue
        s = summarise(g)
        if s["default_verdict"] != rec["verdict"]:
            problems.append(f"{rec['id']}: the grid's default specification gives {s['default_verdict']!r}, "
                            f"the chapter emitted {rec['verdict']!r}")
    return problems


# --------------------------------------------------------------------------- the page's panel

VERDICT_ORDER = (SUPPORTED, PARTLY, NOT_SUPPORTED, NOT_REPRODUCIBLE)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _verdict_colours() -> list[str]:
    from . import charts

    return [charts.GREEN, charts.GOLD, charts.ORANGE, charts.GREY]


def _compact(v):
    if isinstance(v, float):
        return float(f"{v:.6g}")
    return v


_CFG_SENT: list[bool] = []


def _config_once() -> dict | None:
    """The house chart config, in the first panel a kernel draws only (``robustness.js`` keeps it
    for the page's later panels, which run after it in document order)."""
    from . import charts

    if _CFG_SENT:
        return None
    _CFG_SENT.append(True)
    return charts._theme()["config"]


def panel_data(claim_id: str, g: dict) -> dict:
    """The compact descriptor from which ``assets/robustness.js`` builds the panel's Vega-Lite spec
    in the page: the grid's rows in curve order (verdict index, value, one base-36 digit per choice),
    the choices' labels and defaults, titles, the verdict colours and the house chart config."""
    from . import charts

    choices, specs = g["choices"], g["specs"]
    s = summarise(g)
    decided = [x for x in specs if x["verdict"] != NOT_REPRODUCIBLE]
    numeric = bool(decided) and all(isinstance(x["value"], (int, float)) and not isinstance(x["value"], bool) for x in decided)
    # decided specifications first, by value (or verdict), then those the data cannot decide
    order = sorted(range(len(specs)), key=lambda i: (
        specs[i]["verdict"] == NOT_REPRODUCIBLE, (specs[i]["value"] if numeric and specs[i]["value"] is not None else 0),
        VERDICT_ORDER.index(specs[i]["verdict"]), i))
    if any(len(c["values"]) > 36 for c in choices):
        raise RobustnessError(f"claim {claim_id!r}: a choice with more than 36 values cannot be drawn in the panel")
    rows = []
    for i in order:
        sp = specs[i]
        code = "".join(_B36[c["values"].index(sp["choice"][c["name"]])] for c in choices)
        value = None if sp["value"] is None else (_compact(sp["value"]) if numeric else str(sp["value"]))
        rows.append([VERDICT_ORDER.index(sp["verdict"]), value, code])
    cfg = _config_once()
    return {
        "id": claim_id, "n": f"{s['n_specs']:,}", "q": numeric, "nd": s["n_decided"],
        # colours and config travel with the page's first panel only (robustness.js keeps them)
        "col": _verdict_colours() if cfg else None, "cfg": cfg,
        "ch": [{"l": c["label"], "o": c["labels"], "d": c["values"].index(c["default"])} for c in choices],
        "rows": rows,
    }


def headline(s: dict) -> str:
    """The panel's one-line summary."""
    if s["label"] == NO_GRID:
        return f"({s['n_specs']:,} specifications; the default one is not decided by public data)"
    return (f"(the default verdict, {s['default_verdict']}, in {s['default_share']:.0%} of the {s['n_decided']:,} "
            f"specifications the data decide, of {s['n_specs']:,} declared)")


def details(s: dict) -> str:
    """What the panel's headline leaves out: the choices that flip the verdict, and those under
    which the data cannot decide it (the chart's description, with the headline)."""
    flips = "; ".join(f"{f['label']}: {f['text']} gives {f['verdict']}" for f in s["flips"]) or (
        "no single change of choice gives another verdict" + ("; some combinations do" if s["combination_only"] else ""))
    text = flips[0].upper() + flips[1:] + "."
    if s["undecided"]:
        text += " Not decidable from public data under: " + "; ".join(f"{f['label']}: {f['text']}" for f in s["undecided"]) + "."
    return text


def table(g: dict):
    """The grid as a table (the chart's text fallback, drawn by :func:`vertint.charts.data_table`
    like every chart's): one row per distinct verdict and value, with how many specifications give it."""
    import pandas as pd

    counts: dict[tuple, int] = {}
    for sp in g["specs"]:
        key = (sp["verdict"], _show(_compact(sp["value"])) if sp["value"] is not None else "no figure")
        counts[key] = counts.get(key, 0) + 1
    rows = sorted(counts.items(), key=lambda kv: (VERDICT_ORDER.index(kv[0][0]), kv[0][1]))
    return pd.DataFrame({"Verdict": [v for (v, _), _ in rows], "Reproduced value": [val for (_, val), _ in rows],
                         "Specifications": pd.Series([n for _, n in rows], dtype="int64")})


class _Panel:
    def __init__(self, html_text: str):
        self.html = html_text

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return "<robustness panel>"


def panel(claim_id: str):
    """Show the robustness panel of ``claim_id`` (call as the last line of a ``remove-input`` cell
    right after the claim's ``emit``): a summary line, the specification curve with its decision
    matrix and *what if* dropdowns, the declared choices, and a table fallback."""
    import html as _h

    from . import charts

    g = claim_grid(claim_id)
    s = summarise(g)
    chapter = load_choices()[claim_id].chapter  # the file the choices are declared in (not the id's prefix: ids outlive moves)
    if not g["choices"]:  # a single specification: say so and why, nothing to draw
        return _Panel(f'<details class="robustness-panel" id="robustness-{_h.escape(claim_id)}"><summary>How robust is '
                      f'this verdict? <span class="rbadge r-{s["label"].replace(" ", "-")}">{_h.escape(s["label"])}</span>'
                      f'</summary><p>{_h.escape(g["note"])}</p></details>')
    div = f"rob-{claim_id}"  # short: the page repeats it several times per panel
    payload = json.dumps(panel_data(claim_id, g), sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    figure = (f'<div class="vertint-figure"><div id="{div}" class="vertint-chart" role="img" '
              f'aria-label="Robustness of {claim_id}" aria-describedby="{div}-h {div}-d"></div>'
              f'<script>vertintRobustness("#{div}", {payload});</script></div>')
    choice_items = "".join(
        f"<li><strong>{_h.escape(c['label'])}</strong> ({len(c['values'])} values, listed in the dropdown; default "
        f"{_h.escape(c['labels'][c['values'].index(c['default'])])}"
        f"{'; chapter parameter <code>' + _h.escape(c['param']) + '</code>' if c['param'] else ''}"
        f"{'; rubric parameter <code>' + _h.escape(c['rubric']) + '</code>' if c['rubric'] else ''}): {_h.escape(c['why'])}</li>"
        for c in g["choices"])
    note = f"<p>{_h.escape(g['note'])}</p>" if g["note"] else ""
    body = (f'<details class="robustness-panel" id="robustness-{_h.escape(claim_id)}">'
            f'<summary>How robust is this verdict? <span class="rbadge r-{s["label"].replace(" ", "-")}">{_h.escape(s["label"])}</span> '
            f'<span id="{div}-h">{_h.escape(headline(s))}</span></summary><p id="{div}-d">{_h.escape(details(s))}</p>{note}'
            f'{figure if g["choices"] else ""}'
            f'<p>The declared choices (<code>rubric/choices/{_h.escape(chapter)}.yml</code>):</p><ul>{choice_items}</ul>'
            f'{charts.data_table(table(g), div)}</details>')
    return _Panel(body)

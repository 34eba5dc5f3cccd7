"""The declared rubric (``rubric/rubric.yml``): verdict definitions, rules and their parameters.

Verdict functions read every threshold from here (:func:`param`); nothing else in the package or
the prose types one. :func:`rubric_hash` hashes the rubric without its changelog, and every claim
record carries that hash. The newest changelog entry must name the current hash (checked by
:func:`check_changelog`, which the tests and ``vertint validate`` call), so a rule cannot change
without a dated entry saying what changed and why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from functools import lru_cache
from pathlib import Path

import yaml

from . import VertintError, paths

PARAM_FIELDS = ("value", "unit", "label", "reason", "reference")


class RubricError(VertintError):
    pass


def path(root: Path | None = None) -> Path:
    return (root or paths.root()) / "rubric" / "rubric.yml"


@lru_cache(maxsize=4)
def _load(file: str, mtime: float) -> dict:
    doc = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise RubricError(f"{file}: not a mapping")
    for key in ("verdicts", "rules", "certainty", "changelog"):
        if key not in doc:
            raise RubricError(f"{file}: missing section {key!r}")
    for rule, spec in doc["rules"].items():
        if "description" not in spec:
            raise RubricError(f"{file}: rule {rule!r} has no description")
        for name, p in (spec.get("parameters") or {}).items():
            missing = [f for f in PARAM_FIELDS if f not in p]
            if missing:
                raise RubricError(f"{file}: rules.{rule}.parameters.{name} lacks {', '.join(missing)}")
    return doc


def load(root: Path | None = None) -> dict:
    p = path(root)
    if not p.exists():
        raise RubricError(f"{p}: the rubric file is missing")
    return _load(str(p), p.stat().st_mtime)


def rubric_hash(root: Path | None = None) -> str:
    """sha256 of the rubric without its changelog (canonical JSON), first 16 hex digits."""
    doc = {k: v for k, v in load(root).items() if k != "changelog"}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


#: values of ``rule.param`` in force inside :func:`overriding` (the robustness grid only)
_OVERRIDES: dict[str, object] = {}


@contextlib.contextmanager
def overriding(values: dict[str, object]):
    """Evaluate with some rule parameters set to other declared values (``{"rounds_to.partly_units":
    1.5}``): how the robustness grid (:mod:`vertint.robustness`) asks what a verdict would be under
    another reasonable threshold. Each name must be a declared parameter; the rubric file and its
    hash are untouched, and the previous values come back on exit."""
    for key in values:
        rule, _, name = key.partition(".")
        param(rule, name)  # raises if undeclared
    saved = dict(_OVERRIDES)
    _OVERRIDES.update(values)
    try:
        yield
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)


def param(rule: str, name: str, root: Path | None = None):
    """The value of ``rules.<rule>.parameters.<name>`` (or its value inside :func:`overriding`)."""
    if f"{rule}.{name}" in _OVERRIDES:
        return _OVERRIDES[f"{rule}.{name}"]
    rules = load(root)["rules"]
    if rule not in rules:
        raise RubricError(f"rubric/rubric.yml: no rule {rule!r}")
    params = rules[rule].get("parameters") or {}
    if name not in params:
        raise RubricError(f"rubric/rubric.yml: rule {rule!r} has no parameter {name!r}")
    return params[name]["value"]


def timing_param(name: str, root: Path | None = None):
    params = load(root)["timing"].get("parameters") or {}
    if name not in params:
        raise RubricError(f"rubric/rubric.yml: timing has no parameter {name!r}")
    return params[name]["value"]


def rule_names(root: Path | None = None) -> list[str]:
    return list(load(root)["rules"])


def check_changelog(root: Path | None = None) -> None:
    """The newest changelog entry must name the current hash, with a date and a change."""
    log = load(root)["changelog"] or []
    if not log:
        raise RubricError("rubric/rubric.yml: the changelog is empty")
    for entry in log:
        missing = [k for k in ("date", "hash", "change") if not entry.get(k)]
        if missing:
            raise RubricError(f"rubric/rubric.yml: changelog entry lacks {', '.join(missing)}")
    dates = [str(e["date"]) for e in log]
    if dates != sorted(dates):
        raise RubricError("rubric/rubric.yml: changelog entries must be in date order, oldest first")
    current = rubric_hash(root)
    if str(log[-1]["hash"]) != current:
        raise RubricError(
            f"rubric/rubric.yml changed (hash {current}) without a changelog entry: add one at the end with "
            f"date, hash: {current} and what changed and why")

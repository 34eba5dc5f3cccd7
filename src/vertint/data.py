"""The vendored data: a Frictionless Data Package manifest (``data/datapackage.yaml``).

Each resource records its provenance (source URL, publisher, release/vintage, licence) and the
sha256 of the file. :func:`load` refuses a file whose hash or schema does not match the manifest,
with a message naming the file, the row and the column.
"""

from __future__ import annotations

import copy
import hashlib
import json
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from . import VertintError, paths, yaml_problem

#: Provenance every resource must state, beyond its schema.
REQUIRED_PROVENANCE = ("title", "path", "hash", "publisher", "vintage", "sources", "licenses", "schema")


class DataError(VertintError):
    """A vendored data file is missing, altered or does not match its schema."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=8)
def _parse_manifest(text: str, where: str) -> dict:
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise DataError(f"{where}: not valid YAML: {yaml_problem(exc)}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        raise DataError(f"{where}: expected a mapping with a list of 'resources'")
    return doc


def manifest(root: Path | None = None) -> dict:
    """The manifest as a plain dict (no validation). Parsed once per content."""
    path = (root / "data" / "datapackage.yaml") if root else paths.manifest_path()
    if not path.exists():
        raise DataError(f"{path}: data manifest not found")
    return copy.deepcopy(_parse_manifest(path.read_text(encoding="utf-8"), "data/datapackage.yaml"))


def resource(name: str, root: Path | None = None) -> dict:
    """One resource's entry (a copy: callers may change it), from the manifest of ``root`` (default:
    the project's)."""
    path = (root / "data" / "datapackage.yaml") if root else paths.manifest_path()
    if not path.exists():
        raise DataError(f"{path}: data manifest not found")
    resources = _parse_manifest(path.read_text(encoding="utf-8"), "data/datapackage.yaml").get("resources", [])
    for res in resources:
        if res.get("name") == name:
            return copy.deepcopy(res)
    known = ", ".join(r.get("name", "?") for r in resources)
    raise DataError(f"data/datapackage.yaml: no resource named {name!r} (known: {known})")


def manifest_hash() -> str:
    """sha256 of the manifest file: a short fingerprint of the exact data the book was built from."""
    return sha256(paths.manifest_path())


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(paths.root()))
    except ValueError:
        return str(path)


def check_provenance(res: dict) -> None:
    name = res.get("name", "?")
    missing = [key for key in REQUIRED_PROVENANCE if not res.get(key)]
    if missing:
        raise DataError(f"data/datapackage.yaml: resource {name!r} lacks {', '.join(missing)}")
    for src in res["sources"]:
        if not str(src.get("path", "")).startswith(("http://", "https://")):
            raise DataError(f"data/datapackage.yaml: resource {name!r} has a source without a URL")
    if not str(res["hash"]).startswith("sha256:"):
        raise DataError(f"data/datapackage.yaml: resource {name!r}: hash must be 'sha256:<hex>'")


def validate(name: str, schema: bool = True) -> Path:
    """Validate one resource (provenance, hash and, unless ``schema=False``, its schema); return
    its path. Raises :class:`DataError`."""
    res = resource(name)
    check_provenance(res)
    path = paths.data_dir() / res["path"]
    rel = _rel(path)
    if not path.exists():
        raise DataError(f"{rel}: file listed in data/datapackage.yaml is missing")
    expected = str(res["hash"]).split(":", 1)[1]
    actual = sha256(path)
    if actual != expected:
        raise DataError(
            f"{rel}: sha256 mismatch: manifest says {expected[:12]}…, file is {actual[:12]}…; "
            "the file was changed without updating data/datapackage.yaml "
            "(refresh data deliberately with 'vertint data refresh')"
        )
    if schema:
        key = (name, actual, json.dumps(res, sort_keys=True, default=str))
        if key not in _SCHEMA_OK:
            _validate_schema(res, path, rel)
            _SCHEMA_OK.add(key)
    return path


#: (resource, file sha256, manifest entry) already schema-validated in this process
_SCHEMA_OK: set[tuple[str, str, str]] = set()


def _validate_schema(res: dict, path: Path, rel: str) -> None:
    from frictionless import Resource

    fields = [f["name"] for f in res["schema"]["fields"]]
    header = path.read_text(encoding="utf-8").splitlines()[0:1]
    if not header:
        raise DataError(f"{rel}: file is empty")
    found = [h.strip().strip('"') for h in header[0].split(",")]
    missing = [f for f in fields if f not in found]
    extra = [f for f in found if f not in fields]
    if missing:
        raise DataError(f"{rel}: missing column {missing[0]!r} (expected columns: {', '.join(fields)})")
    if extra:
        raise DataError(f"{rel}: unexpected column {extra[0]!r} (expected columns: {', '.join(fields)})")
    if found != fields:
        raise DataError(f"{rel}: columns out of order: {', '.join(found)} (expected {', '.join(fields)})")
    if _surely_valid(res["schema"], path):
        return
    descriptor = {
        "name": res["name"],
        "path": path.name,
        "format": "csv",
        "encoding": "utf-8",
        "schema": res["schema"],
    }
    report = Resource(descriptor, basepath=str(path.parent)).validate(limit_errors=5)
    if not report.valid:
        errors = [e for task in report.tasks for e in task.errors] or list(report.errors)
        first = errors[0]
        where = []
        if getattr(first, "row_number", None):
            where.append(f"row {first.row_number}")
        if getattr(first, "field_name", None):
            where.append(f"column {first.field_name!r}")
        loc = (", ".join(where) + ": ") if where else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DataError(f"{rel}: {loc}{first.type}: {first.message}{more}")


#: what :func:`_surely_valid` can decide; a schema using anything else goes to frictionless
_FAST_TYPES = {"string", "integer", "number", "date", "boolean"}
_FAST_FIELD_KEYS = {"name", "type", "description", "title", "constraints"}
_FAST_CONSTRAINTS = {"required", "pattern", "enum", "minimum", "maximum", "unique"}
_INT = r"[+-]?[0-9]+"
_NUM = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_BOOL = {"true", "True", "TRUE", "1", "false", "False", "FALSE", "0"}


def _surely_valid(schema: dict, path: Path) -> bool:
    """A vectorised check (pandas) that is never laxer than frictionless: True only if every row has
    the header's number of cells, every cell parses strictly as its field's type (``""`` is the
    missing value) and every constraint holds. Anything it cannot decide, or any doubt, returns
    False and the file goes to frictionless, which then names the row and column. It makes the
    validation of the large practice tables take a second instead of tens of seconds; a file that
    passes here passes frictionless too (tests/test_data.py checks both on good and bad files)."""
    import re

    if set(schema) - {"fields", "primaryKey"}:
        return False
    fields = schema["fields"]
    for f in fields:
        cons = f.get("constraints") or {}
        if set(f) - _FAST_FIELD_KEYS or f.get("type", "string") not in _FAST_TYPES or set(cons) - _FAST_CONSTRAINTS:
            return False
        if "enum" in cons and f.get("type", "string") != "string":
            return False
        if ("minimum" in cons or "maximum" in cons) and f.get("type") not in ("integer", "number"):
            return False
    import csv
    import io

    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    if "\r" in raw:
        return False  # CR line ends: frictionless decides
    rows = list(csv.reader(io.StringIO(raw)))
    if not rows or any(len(r) != len(fields) for r in rows):
        return False  # a blank row, or a row with missing or extra cells
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=str) if len(rows) > 1 else pd.DataFrame(columns=rows[0])
    if list(frame.columns) != [f["name"] for f in fields]:
        return False
    for f in fields:
        col = frame[f["name"]]
        if col.isna().any():
            return False
        kind, cons = f.get("type", "string"), f.get("constraints") or {}
        present = col[col != ""]
        if cons.get("required") and len(present) != len(col):
            return False
        if kind == "integer":
            if not present.str.fullmatch(_INT).all():
                return False
            values = present.astype("int64")
        elif kind == "number":
            if not present.str.fullmatch(_NUM).all():
                return False
            values = present.astype(float)
        elif kind == "date":
            if not present.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").all():
                return False
            if pd.to_datetime(present, format="%Y-%m-%d", errors="coerce").isna().any():
                return False
            values = present
        elif kind == "boolean":
            if not present.isin(_BOOL).all():
                return False
            values = present.isin({"true", "True", "TRUE", "1"})
        else:
            values = present
        if "pattern" in cons and not present.map(re.compile(cons["pattern"]).fullmatch).notna().all():
            return False
        if "enum" in cons and not present.isin([str(v) for v in cons["enum"]]).all():
            return False
        if "minimum" in cons and (values < cons["minimum"]).any():
            return False
        if "maximum" in cons and (values > cons["maximum"]).any():
            return False
        if cons.get("unique") and values.duplicated().any():
            return False
    key = schema.get("primaryKey")
    if key:
        key = [key] if isinstance(key, str) else list(key)
        if (frame[key] == "").any().any() or frame.duplicated(subset=key).any():
            return False
    return True


def validate_all(schema: bool = True) -> list[str]:
    """Validate every resource in the manifest; return their names."""
    names = [r.get("name") for r in manifest().get("resources", [])]
    for name in names:
        validate(name, schema=schema)
    return names


_PANDAS_TYPES = {"integer": "Int64", "number": "float64", "string": "string", "boolean": "boolean"}


@lru_cache(maxsize=None)
def _load_cached(name: str, digest: str) -> pd.DataFrame:
    res = resource(name)
    path = paths.data_dir() / res["path"]
    dtypes, dates = {}, []
    for field in res["schema"]["fields"]:
        kind = field.get("type", "string")
        if kind in ("date", "datetime"):
            dates.append(field["name"])
        elif kind in _PANDAS_TYPES:
            dtypes[field["name"]] = _PANDAS_TYPES[kind]
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=True, na_values=[""])
    for col in dates:
        frame[col] = pd.to_datetime(frame[col])
    return frame


def load(name: str) -> pd.DataFrame:
    """A validated copy of resource ``name`` as a DataFrame, typed from its schema."""
    path = validate(name)
    return _load_cached(name, sha256(path)).copy()

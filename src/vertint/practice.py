"""Practice-level tables: reduce large raw NHS files to small vendored tables in ``data/``.

The raw files (NHS Payments to General Practice, QOF achievement, a practice x year workforce
panel) are tens of megabytes and are not committed. This module reads them from a directory
(argument, or the environment variable ``VERTINT_PRACTICE_DIR``), keeps the columns a chapter
needs and writes, deterministically (sorted rows, fixed number formats, ``\\n`` line ends):

- ``data/practice_payments.csv``: one row per practice and financial year;
- ``data/practice_names.csv``: names of practices, PCNs and CCGs / sub-ICB locations, one row per
  run of consecutive years with the same name (names are kept out of the yearly table to keep it small);
- ``data/practice_qof.csv``: QOF points achieved and available;
- ``data/practice_workforce.csv``: GP and admin staff, patients and deprivation from the mirror's panel.

Which raw column feeds which tidy column, year by year, is data (``data/practice_columns.yml``),
not code. A raw file missing a listed column is refused with a :class:`PracticeDataError` naming the
file and the column. :func:`build` rebuilds the tables, validates them against their schemas in
``data/datapackage.yaml``, writes them and updates their ``hash`` lines and the sha256 of each raw
file the manifest lists under ``raw_files``.

Fetching (``vertint data practice --fetch``): :func:`fetch_and_build` downloads every raw file the
mapping lists from the source its ``raw_files`` entry records (an explicit ``url:`` if the entry has
one, else the mirror repository at the pinned commit, ``https://raw.githubusercontent.com/<mirror>/
<commit>/<path>``; ``--base URL`` swaps the scheme and host, for tests) into a temporary directory
and checks each file's sha256 against the manifest. A file whose sha256 differs is a new or altered
release: it is refused, naming the file and both hashes, unless ``accept_new`` (``--accept-new-release``)
is given, in which case the tables are rebuilt from it and its new sha256 recorded. The downloads
then go through the same reduction, schema validation and atomic write as ``--raw``. Any failure (no
network, an HTTP error, a changed hash, a missing column, a schema violation) raises
:class:`PracticeDataError` with one line and leaves ``data/`` untouched.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import http.client
import io
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import yaml

from . import data, paths
from .data import DataError

ENV_VAR = "VERTINT_PRACTICE_DIR"
SPEC_FILE = "practice_columns.yml"
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of spreadsheet date serials (1900 system)


class PracticeDataError(DataError):
    """A raw practice file or the column mapping cannot be reduced; nothing was written."""


# --------------------------------------------------------------------------- the mapping (data)


@dataclass(frozen=True)
class RawFile:
    """One raw file: its name, financial year (unless a column gives it), date format and mapping."""

    name: str
    year: str | None
    dates: str | None
    columns: dict[str, str]


@dataclass(frozen=True)
class TableSpec:
    name: str
    path: str
    key: list[str]
    fields: dict[str, str]
    files: list[RawFile]


@dataclass(frozen=True)
class RunsSpec:
    name: str
    path: str
    source: str
    entities: dict[str, list[str]]


@dataclass(frozen=True)
class Spec:
    missing: frozenset[str]
    tables: dict[str, TableSpec]
    runs: dict[str, RunsSpec]

    def resources(self) -> list[str]:
        return sorted([*self.tables, *self.runs])

    def path_of(self, resource: str) -> str:
        return (self.tables.get(resource) or self.runs[resource]).path


def _spec_error(where: str, msg: str) -> PracticeDataError:
    return PracticeDataError(f"{where}: {msg}")


def load_spec(path: Path) -> Spec:
    """Read and check the column mapping (unknown formats, tidy names or sources are refused)."""
    where = _rel(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _spec_error(where, "column mapping not found") from None
    except yaml.YAMLError as exc:
        raise _spec_error(where, f"not valid YAML: {' '.join(str(exc).split())}") from None
    tables, runs = {}, {}
    try:
        for name, body in (doc.get("tables") or {}).items():
            if "runs_of" in body:
                runs[name] = RunsSpec(name, body["path"], body["runs_of"], dict(body["entities"]))
            else:
                tables[name] = _table_spec(name, body, where)
        spec = Spec(frozenset(str(m) for m in doc.get("missing", [])), tables, runs)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise _spec_error(where, f"malformed column mapping ({type(exc).__name__}: {exc})") from None
    _check_runs(spec, where)
    return spec


def _table_spec(name: str, body: dict, where: str) -> TableSpec:
    fields = dict(body["fields"])
    unknown = sorted(set(fields.values()) - set(FORMATS))
    if unknown:
        raise _spec_error(where, f"table {name!r}: unknown format {unknown[0]!r} (known: {', '.join(FORMATS)})")
    files = [RawFile(str(f["file"]), None if f.get("year") is None else str(f["year"]), f.get("dates"),
                     {str(k): str(v) for k, v in f["columns"].items()}) for f in body["files"]]
    for f in files:
        if (f.year is None) == ("year" not in f.columns):
            raise _spec_error(where, f"{f.name}: give the year either as `year:` or as a mapped column, not both or neither")
    return TableSpec(name, body["path"], list(body["key"]), fields, files)


def _check_runs(spec: Spec, where: str) -> None:
    """Every mapped tidy column is an output field or a name a runs table reads."""
    for runs in spec.runs.values():
        if runs.source not in spec.tables:
            raise _spec_error(where, f"table {runs.name!r}: runs_of names no table {runs.source!r}")
    for table in spec.tables.values():
        known = set(table.fields) | {col for r in spec.runs.values() if r.source == table.name
                                     for col in _flatten(r.entities.values())}
        for f in table.files:
            extra = sorted(set(f.columns) - known - {"year"})
            if extra:
                raise _spec_error(where, f"{f.name}: tidy column {extra[0]!r} is not a field of {table.name!r}")


def _flatten(lists) -> list[str]:
    return [x for xs in lists for x in xs]


# --------------------------------------------------------------------------- formats


def _number(value: str) -> Decimal:
    """The decimal number a cell spells (thousands separators allowed), exactly, without binary floats."""
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a number: {value!r}")
    return number


def _rounded(dp: int):
    """Round half up to ``dp`` decimals; drop trailing zeros (``4114.00`` -> ``4114``)."""
    step = Decimal(1).scaleb(-dp)

    def fmt(value: str, raw: RawFile) -> str:
        text = f"{_number(value).quantize(step, rounding=ROUND_HALF_UP):f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return fmt


def _date(value: str, raw: RawFile) -> str:
    if not raw.dates:
        raise ValueError(f"a date but no `dates:` format is given for {raw.name} in the column mapping")
    if raw.dates == "excel":
        days = _number(value)
        if days != int(days):
            raise ValueError(f"not a whole day serial: {value!r}")
        return (EXCEL_EPOCH + timedelta(days=int(days))).isoformat()
    try:
        return datetime.strptime(value, raw.dates).date().isoformat()
    except ValueError:
        raise ValueError(f"not a date in format {raw.dates!r}: {value!r}") from None


def _fy_end(value: str, raw: RawFile) -> str:
    if not re.fullmatch(r"20\d\d", value):
        raise ValueError(f"not a financial year end (yyyy): {value!r}")
    end = int(value)
    return f"{end - 1}-{end % 100:02d}"


FORMATS = {
    "text": lambda v, raw: " ".join(v.split()),
    "code": lambda v, raw: v.strip().upper(),
    "name": lambda v, raw: " ".join(v.split()).upper(),
    "upper": lambda v, raw: v.strip().upper(),
    "title": lambda v, raw: v.strip().capitalize(),
    "date": _date,
    "n0": _rounded(0),
    "n1": _rounded(1),
    "n2": _rounded(2),
    "fy_end": _fy_end,
}


# --------------------------------------------------------------------------- reading and reducing


def raw_dir(raw: str | Path | None = None) -> Path:
    """The raw directory: ``raw`` if given, else ``$VERTINT_PRACTICE_DIR``."""
    chosen = raw or os.environ.get(ENV_VAR)
    if not chosen:
        raise PracticeDataError(f"no raw directory: pass --raw DIR or set {ENV_VAR}")
    path = Path(chosen)
    if not path.is_dir():
        raise PracticeDataError(f"{path}: raw directory not found")
    return path


def _norm(header: str) -> str:
    return " ".join(header.split())


def _columns(header: list[str], raw: RawFile) -> dict[str, int]:
    """Index of each mapped column; a missing one is refused, naming the file and the column."""
    index = {_norm(h).lstrip("\ufeff"): i for i, h in enumerate(header)}
    found = {}
    for tidy, wanted in raw.columns.items():
        if _norm(wanted) not in index:
            unused = [h for h in index if h not in {_norm(w) for w in raw.columns.values()}]
            near = _closest(_norm(wanted), unused)
            hint = f"; closest is {near!r} (renamed? update data/{SPEC_FILE})" if near else ""
            raise PracticeDataError(f"{raw.name}: missing column {wanted!r} (for {tidy}){hint}")
        found[tidy] = index[_norm(wanted)]
    return found


def _closest(wanted: str, candidates: list[str]) -> str | None:
    """The candidate most like ``wanted``, ignoring case, if any is close."""
    lowered = {c.lower(): c for c in candidates}
    near = difflib.get_close_matches(wanted.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[near[0]] if near else None


def read_raw(path: Path, raw: RawFile, fields: dict[str, str], missing: frozenset[str]) -> list[dict[str, str]]:
    """The rows of one raw file as {tidy column: formatted text}; missing cells become blank."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PracticeDataError(f"{raw.name}: raw file not found in {path.parent}") from None
    except UnicodeDecodeError as exc:
        raise PracticeDataError(f"{raw.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise PracticeDataError(f"{raw.name}: empty file")
    cols = _columns(header, raw)
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        row = {"year": raw.year} if raw.year else {}
        for tidy, i in cols.items():
            value = cells[i].strip() if i < len(cells) else ""
            row[tidy] = "" if value in missing else _format(value, fields.get(tidy, "name"), raw, reader.line_num, tidy)
        rows.append(row)
    return rows


def _format(value: str, fmt: str, raw: RawFile, line: int, tidy: str) -> str:
    try:
        return FORMATS[fmt](value, raw)
    except ValueError as exc:
        raise PracticeDataError(f"{raw.name}: line {line}, column {raw.columns[tidy]!r}: {exc}") from None


def reduce_table(table: TableSpec, directory: Path, missing: frozenset[str]) -> list[dict[str, str]]:
    """All rows of a table's raw files, sorted by key; a blank or repeated key is refused."""
    rows, seen = [], {}
    for raw in table.files:
        for row in read_raw(directory / raw.name, raw, table.fields, missing):
            key = tuple(row.get(k, "") for k in table.key)
            if not all(key):
                raise PracticeDataError(f"{raw.name}: a row has no {'/'.join(table.key)} ({dict(zip(table.key, key))})")
            if key in seen:
                raise PracticeDataError(f"{raw.name}: {dict(zip(table.key, key))} appears twice (also in {seen[key]})")
            seen[key] = raw.name
            rows.append(row)
    return sorted(rows, key=lambda r: tuple(r[k] for k in table.key))


def name_runs(rows: list[dict[str, str]], entities: dict[str, list[str]]) -> list[dict[str, str]]:
    """Names as runs: one row per (entity, code, name) and stretch of consecutive years present.

    Years are consecutive when adjacent in the sorted list of years the rows cover; a code seen with
    two names in one year gets two overlapping rows."""
    years = sorted({r["year"] for r in rows})
    order = {y: i for i, y in enumerate(years)}
    out = []
    for entity, (code_col, name_col) in sorted(entities.items()):
        seen: dict[tuple[str, str], set[str]] = {}
        for r in rows:
            if r.get(code_col):
                seen.setdefault((r[code_col], r.get(name_col, "")), set()).add(r["year"])
        for (code, name), present in seen.items():
            for first, last in _stretches(sorted(present, key=order.get), order):
                out.append({"entity": entity, "code": code, "name": name, "first_year": first, "last_year": last})
    return sorted(out, key=lambda r: (r["entity"], r["code"], r["first_year"], r["name"]))


def _stretches(present: list[str], order: dict[str, int]) -> list[tuple[str, str]]:
    runs: list[list[str]] = []
    for year in present:
        if runs and order[year] == order[runs[-1][-1]] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return [(r[0], r[-1]) for r in runs]


NAME_FIELDS = ["entity", "code", "name", "first_year", "last_year"]


def render(fields: list[str], rows: list[dict[str, str]]) -> str:
    """CSV text with a fixed dialect: header, minimal quoting, ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([[r.get(f, "") for f in fields] for r in rows])
    return buf.getvalue()


@dataclass
class Built:
    """The rendered tables and what they were built from."""

    texts: dict[str, str] = field(default_factory=dict)       # resource -> CSV text
    rows_by_year: dict[str, dict[str, int]] = field(default_factory=dict)
    raw_hashes: dict[str, str] = field(default_factory=dict)  # raw file -> sha256


def reduce_all(spec: Spec, directory: Path) -> Built:
    """Read every raw file the mapping lists and render every table (nothing is written)."""
    built = Built()
    full: dict[str, list[dict[str, str]]] = {}
    for name, table in spec.tables.items():
        full[name] = reduce_table(table, directory, spec.missing)
        built.texts[name] = render(list(table.fields), full[name])
        built.rows_by_year[name] = _count_years(full[name])
        for raw in table.files:
            built.raw_hashes[raw.name] = data.sha256(directory / raw.name)
    for name, runs in spec.runs.items():
        built.texts[name] = render(NAME_FIELDS, name_runs(full[runs.source], runs.entities))
        built.rows_by_year[name] = {}
    return built


def _count_years(rows: list[dict[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["year"]] = counts.get(r["year"], 0) + 1
    return dict(sorted(counts.items()))


# --------------------------------------------------------------------------- writing


def set_raw_hash(text: str, raw_file: str, digest: str) -> str:
    """Set ``sha256`` in every ``raw_files`` entry of the manifest whose ``file`` is ``raw_file``
    (``sha256`` must follow ``file``, in flow ``{file: …, sha256: …}`` or block style)."""
    pattern = re.compile(r"(\bfile:\s*['\"]?" + re.escape(raw_file) + r"['\"]?\s*,?\s*sha256:\s*['\"]?)[0-9a-f]{64}")
    new, n = pattern.subn(lambda m: m.group(1) + digest, text)
    if not n:
        raise PracticeDataError(f"data/datapackage.yaml: no raw_files entry {{file: {raw_file}, sha256: …}}")
    return new


@dataclass(frozen=True)
class TableResult:
    """One rebuilt table: its rows, size and sha256 before (blank if new) and after."""

    resource: str
    path: str
    rows: int
    size: int
    old_hash: str
    new_hash: str
    rows_by_year: dict[str, int]

    @property
    def changed(self) -> bool:
        return self.old_hash != self.new_hash


@dataclass
class Report:
    """What a build found and did."""

    tables: list[TableResult]
    raw: list[tuple[str, str, str]]  # raw file, sha256 recorded in the manifest, actual sha256
    written: bool = False
    fetched: list[RawSource] = field(default_factory=list)  # with --fetch: where each raw file came from

    @property
    def changed(self) -> bool:
        return any(t.changed for t in self.tables) or any(old != new for _, old, new in self.raw)

    def lines(self) -> list[str]:
        new_raw = {name for name, old, new in self.raw if old != new}
        out = [f"fetched {s.file} from {s.url}: sha256 " + ("differs (new release accepted)" if s.file in new_raw else "as recorded")
               for s in self.fetched]
        for t in self.tables:
            state = ("rebuilt" if self.written else "would change") if t.changed else "unchanged"
            years = ", ".join(f"{y}: {n:,}" for y, n in t.rows_by_year.items())
            out.append(f"data/{t.path}: {state}, {t.rows:,} rows, {t.size / 1e6:.2f} MB" + (f" ({years})" if years else ""))
        for name, old, new in self.raw:
            if old != new:
                out.append(f"raw {name}: sha256 {old[:12] or 'none'}… -> {new[:12]}… (check its mirror/commit in raw_files)")
        out.append(f"total {sum(t.size for t in self.tables) / 1e6:.2f} MB in {len(self.tables)} tables")
        return out


def _recorded_raw_hashes(man: dict) -> dict[str, str]:
    out = {}
    for res in man.get("resources", []):
        for entry in res.get("raw_files") or []:
            out[str(entry.get("file"))] = str(entry.get("sha256", ""))
    return out


def _validate(resources: dict[str, dict], texts: dict[str, str], paths_of: dict[str, str]) -> None:
    """Check each rendered table against its manifest schema before anything is written."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in texts.items():
            scratch = Path(tmp) / paths_of[name]
            scratch.write_text(text, encoding="utf-8")
            try:
                data._validate_schema(resources[name], scratch, f"data/{paths_of[name]} (rebuilt)")
            except DataError as exc:
                raise PracticeDataError(f"{exc}; nothing was written") from None


def build(raw: str | Path | None = None, root: Path | None = None, check: bool = False) -> Report:
    """Rebuild the practice tables from the raw files; unless ``check``, write them and update the
    manifest (table hashes and raw-file sha256). Raises :class:`PracticeDataError` before writing
    anything if a raw file, the mapping or a schema check fails."""
    root = root or paths.root()
    spec = load_spec(root / "data" / SPEC_FILE)
    return _build(spec, raw_dir(raw), root, check)


def _build(spec: Spec, directory: Path, root: Path, check: bool, fetched: list[RawSource] | None = None) -> Report:
    built = reduce_all(spec, directory)
    man_path = root / "data" / "datapackage.yaml"
    resources = {r["name"]: r for r in data.manifest(root).get("resources", [])}
    absent = [n for n in spec.resources() if n not in resources]
    if absent:
        raise PracticeDataError(f"data/datapackage.yaml: no resource {absent[0]!r}; add its entry before building it")
    paths_of = {n: spec.path_of(n) for n in spec.resources()}
    recorded = _recorded_raw_hashes(data.manifest(root))
    tables = []
    for name in spec.resources():
        target, blob = root / "data" / paths_of[name], built.texts[name].encode("utf-8")
        tables.append(TableResult(name, paths_of[name], blob.count(b"\n") - 1, len(blob),
                                  data.sha256(target) if target.exists() else "", hashlib.sha256(blob).hexdigest(),
                                  built.rows_by_year[name]))
    report = Report(tables, [(f, recorded.get(f, ""), h) for f, h in sorted(built.raw_hashes.items())],
                    fetched=list(fetched or []))
    if check or not report.changed:
        return report
    _validate(resources, {t.resource: built.texts[t.resource] for t in tables if t.changed}, paths_of)
    _write(root, man_path, report, built)
    report.written = True
    return report


# --------------------------------------------------------------------------- fetching


DEFAULT_BASE = "https://raw.githubusercontent.com"  # where a raw_files entry's mirror/commit/path lives
USER_AGENT = "vertint-data-practice/0.1 (+reproducible evidence review)"
ACCEPT_FLAG = "--accept-new-release"


@dataclass(frozen=True)
class RawSource:
    """Where one raw file is downloaded from and the sha256 the manifest records for it."""

    file: str
    url: str
    sha256: str


def recorded_url(entry: dict) -> str:
    """The URL a ``raw_files`` entry records: its ``url``, else its mirror repository at the pinned
    commit on raw.githubusercontent.com (``path`` percent-encoded)."""
    if entry.get("url"):
        return str(entry["url"])
    missing = [k for k in ("mirror", "commit", "path") if not entry.get(k)]
    if missing:
        raise PracticeDataError(f"data/datapackage.yaml: raw_files entry {entry.get('file')!r} has no url "
                                f"and no {', '.join(missing)}: nowhere to download it from")
    path = urllib.parse.quote(str(entry["path"]).lstrip("/"))
    return f"{DEFAULT_BASE}/{entry['mirror']}/{entry['commit']}/{path}"


def with_base(url: str, base: str | None) -> str:
    """``url`` with its scheme and host replaced by ``base`` (which may add a path prefix)."""
    if not base:
        return url
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PracticeDataError(f"--base: not an http(s) URL: {base!r}")
    rest = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + rest.path, rest.query, ""))


def raw_sources(spec: Spec, man: dict, base: str | None = None) -> list[RawSource]:
    """The source of every raw file the mapping lists, from the ``raw_files`` entries of the
    mapping's resources (a file listed under several must be recorded the same way each time)."""
    entries: dict[str, RawSource] = {}
    for res in man.get("resources", []):
        if res.get("name") not in spec.resources():
            continue
        for entry in res.get("raw_files") or []:
            name = str(entry.get("file"))
            digest = str(entry.get("sha256", ""))
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise PracticeDataError(f"data/datapackage.yaml: raw_files entry {name!r} of {res.get('name')!r}: "
                                        f"sha256 is not 64 hex digits: {digest!r}")
            source = RawSource(name, recorded_url(entry), digest)
            if entries.setdefault(name, source) != source:
                raise PracticeDataError(f"data/datapackage.yaml: raw_files entries for {name!r} disagree "
                                        f"(resource {res.get('name')!r}): record one source and sha256")
    out = []
    for name in sorted({f.name for t in spec.tables.values() for f in t.files}):
        if name not in entries:
            raise PracticeDataError(f"data/datapackage.yaml: no raw_files entry for {name} (listed in data/{SPEC_FILE}); "
                                    "record its source and sha256 before fetching it")
        src = entries[name]
        out.append(RawSource(src.file, with_base(src.url, base), src.sha256))
    return out


def download(url: str, dest: Path, timeout: float = 60.0) -> str:
    """Stream ``url`` into ``dest``; return its sha256. Any failure is one line naming the URL or host."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digest, size = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as fh:
            for block in iter(lambda: resp.read(1 << 16), b""):
                digest.update(block)
                fh.write(block)
                size += len(block)
            # read(n) returns b"" on a dropped connection instead of raising: compare with the header
            declared = resp.headers.get("Content-Length")
            if declared and declared.strip().isdigit() and int(declared) > size:
                raise http.client.IncompleteRead(b"", int(declared) - size)
    except urllib.error.HTTPError as exc:
        raise PracticeDataError(f"{dest.name}: {url}: HTTP {exc.code} {exc.reason}; nothing was written") from None
    except http.client.IncompleteRead as exc:
        raise PracticeDataError(f"{dest.name}: {url}: download cut short ({size:,} bytes read, "
                                f"{exc.expected:,} more expected); nothing was written") from None
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        reason = " ".join(str(getattr(exc, "reason", None) or exc).split()) or type(exc).__name__
        host = urllib.parse.urlsplit(url).netloc
        raise PracticeDataError(f"cannot download {dest.name} from {host} ({reason}): no network, or the site is down; "
                                "'vertint data practice --fetch' needs the internet; nothing was written") from None
    except OSError as exc:
        raise PracticeDataError(f"{dest.name}: cannot save the download from {url} ({exc}); nothing was written") from None
    return digest.hexdigest()


def fetch_and_build(base: str | None = None, root: Path | None = None, check: bool = False,
                    accept_new: bool = False, timeout: float = 60.0) -> Report:
    """Download the raw files the mapping lists (see the module docstring), verify their sha256
    against the manifest, then rebuild as :func:`build` does from a temporary directory. A changed
    sha256 is refused unless ``accept_new``. Raises :class:`PracticeDataError` before writing anything."""
    root = root or paths.root()
    spec = load_spec(root / "data" / SPEC_FILE)
    sources = raw_sources(spec, data.manifest(root), base)
    with tempfile.TemporaryDirectory(prefix="vertint-practice-") as tmp:
        changed = []
        for src in sources:
            actual = download(src.url, Path(tmp) / src.file, timeout)
            if actual != src.sha256:
                changed.append(f"{src.file} from {src.url} (recorded {src.sha256[:12]}…, downloaded {actual[:12]}…)")
        if changed and not accept_new:
            raise PracticeDataError(
                f"sha256 differs from data/datapackage.yaml: {'; '.join(changed)}. A new or altered release: "
                f"check it, then rerun with {ACCEPT_FLAG} to rebuild from it and record its sha256; nothing was written")
        try:
            return _build(spec, Path(tmp), root, check, fetched=sources)
        except PracticeDataError as exc:
            raise PracticeDataError(f"{exc} (downloaded files; nothing was written)") from None


def _write(root: Path, man_path: Path, report: Report, built: Built) -> None:
    """Write changed tables and the manifest, each through a temporary file and a rename."""
    man_text = man_path.read_text(encoding="utf-8")
    changed = [t for t in report.tables if t.changed]
    for t in changed:
        man_text = _set_table_hash(man_text, t.resource, t.new_hash)
    for raw_name, old, new in report.raw:
        if old != new:
            man_text = set_raw_hash(man_text, raw_name, new)
    staged = []
    for t in changed:
        target = root / "data" / t.path
        tmp = target.with_suffix(target.suffix + f".tmp{os.getpid()}")
        tmp.write_text(built.texts[t.resource], encoding="utf-8", newline="")
        staged.append((tmp, target))
    tmp_man = man_path.with_suffix(f".yaml.tmp{os.getpid()}")
    tmp_man.write_text(man_text, encoding="utf-8")
    for tmp, target in staged:
        os.replace(tmp, target)
    os.replace(tmp_man, man_path)


def _set_table_hash(text: str, resource: str, digest: str) -> str:
    from .refresh import RefreshError, set_manifest_hash

    try:
        return set_manifest_hash(text, resource, digest)
    except RefreshError as exc:
        raise PracticeDataError(str(exc)) from None


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(paths.root()))
    except ValueError:
        return str(path)

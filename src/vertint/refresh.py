"""``vertint data refresh``: fetch the current NHS Digital / NHS England files and rebuild the
workforce chapter's vendored tables.

For each publication it reads the series page, follows the newest monthly release, finds the data
file by name, downloads it and turns it into rows of the project's own tables:

- Appointments in General Practice: the ``Appointments_GP_Daily`` CSV zip, summed by month
  (COUNT_OF_APPOINTMENTS; coverage files skipped) -> ``data/workforce_appointments_monthly.csv``;
- Patients Registered at a GP Practice: ``gp-reg-pat-prac-all`` (csv or zip), summed over practices
  -> one national total in ``data/workforce_registered_patients.csv``;
- General Practice Workforce: the practice-level detailed CSV (zip or csv), FTE summed over
  practices -> rows of vintage ``practice-csv-sum`` in ``data/workforce_gp_datapoints.csv``. Practice
  files leave out fully estimated records, so these sums are never compared with national figures.

Nothing is written until every download and parse has succeeded; then each changed table is
validated against its schema, written, and its ``hash:`` line in ``data/datapackage.yaml`` updated.
With no network the command stops with a clear message and changes nothing. The report lists what
was added or changed. Refresh deliberately, in its own commit.
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import VertintError, data, paths

DEFAULT_BASE = "https://digital.nhs.uk"
SERIES = "/data-and-information/publications/statistical"
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
USER_AGENT = "vertint-data-refresh/0.1 (+reproducible evidence review)"


class RefreshError(VertintError):
    """The refresh could not complete; no file was changed."""


@dataclass(frozen=True)
class Publication:
    key: str
    resource: str
    series_path: str
    file_pattern: str  # regex on the href of the data file in the release page

    def series_url(self, base: str) -> str:
        return base.rstrip("/") + self.series_path


PUBLICATIONS = {
    "appointments": Publication("appointments", "workforce_appointments_monthly",
                                f"{SERIES}/appointments-in-general-practice",
                                r"Appointments_GP_Daily[^\"'/]*\.zip"),
    "patients": Publication("patients", "workforce_registered_patients",
                            f"{SERIES}/patients-registered-at-a-gp-practice",
                            r"gp-reg-pat-prac-all[^\"'/]*\.(?:csv|zip)"),
    "workforce": Publication("workforce", "workforce_gp_datapoints",
                             f"{SERIES}/general-and-personal-medical-services",
                             r"[^\"'/]*Practice(?:%20|[ _-])*Level(?:%20|[ _-])*(?:Detailed|CSV)[^\"'/]*\.(?:csv|zip)"),
}


@dataclass
class Change:
    resource: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    old_hash: str = ""
    new_hash: str = ""
    source: str = ""

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed)

    def note(self, key: str, old: str | None, new: int) -> bool:
        """Record one row as added, changed or unchanged; return True if it is unchanged."""
        if old is None:
            self.added.append(f"{key}: {new:,}")
        elif int(old) != new:
            self.changed.append(f"{key}: {int(old):,} -> {new:,}")
        else:
            self.unchanged += 1
            return True
        return False


# --------------------------------------------------------------------------- fetching


def fetch(url: str, timeout: float = 30.0) -> bytes:
    """GET ``url``; :class:`RefreshError` with a plain message on any network failure."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise RefreshError(f"{url}: HTTP {exc.code} {exc.reason}; nothing was changed") from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        host = urllib.parse.urlsplit(url).netloc
        raise RefreshError(
            f"cannot reach {host} ({reason}): no network, or the site is down. "
            "'vertint data refresh' needs the internet; the vendored data were left unchanged"
        ) from None


def latest_release(series_html: str, series_url: str) -> tuple[str, str]:
    """The newest ``<month>-<year>`` release linked from a series page: (url, 'YYYY-MM')."""
    path = urllib.parse.urlsplit(series_url).path.rstrip("/")
    found = {}
    for href in re.findall(r'href="([^"]+)"', series_html):
        full = urllib.parse.urljoin(series_url, href)
        m = re.search(re.escape(path) + r"/(?:[a-z0-9-]*?-)?(" + "|".join(MONTHS) + r")-(20\d\d)(?:[/#?].*)?$",
                      urllib.parse.urlsplit(full).path + "")
        if m:
            month = f"{m.group(2)}-{MONTHS.index(m.group(1)) + 1:02d}"
            found.setdefault(month, full.split("#")[0])
    if not found:
        raise RefreshError(f"{series_url}: no monthly release linked from the series page (has the page changed?)")
    month = max(found)
    return found[month], month


def find_file(release_html: str, release_url: str, pattern: str) -> str:
    for href in re.findall(r'href="([^"]+)"', release_html):
        if re.search(pattern, href.split("/")[-1], flags=re.I):
            return urllib.parse.urljoin(release_url, href)
    raise RefreshError(f"{release_url}: no file matching {pattern!r} (has the release changed format?)")


def _csv_members(blob: bytes, name: str) -> list[tuple[str, str]]:
    """(member name, text) of every CSV in a zip, or the file itself if it is a CSV."""
    if blob[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            return [(m, zf.read(m).decode("utf-8-sig")) for m in sorted(zf.namelist()) if m.lower().endswith(".csv")]
    return [(name, blob.decode("utf-8-sig"))]


def _rows(text: str, where: str, need: list[list[str]]) -> tuple[list[dict], list[str]]:
    """Rows with upper-cased keys; ``need`` lists alternatives for each required column."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().upper() for h in (reader.fieldnames or [])]
    cols = []
    for alts in need:
        hit = next((a for a in alts if a in header), None)
        if hit is None:
            raise RefreshError(f"{where}: missing column {alts[0]!r} (found: {', '.join(header)})")
        cols.append(hit)
    rows = [{k.strip().upper(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    return rows, cols


def _month_of(text: str, where: str) -> str:
    for fmt in ("%d%b%Y", "%d-%b-%y", "%d-%b-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d%b%y"):
        try:
            return datetime.strptime(text.strip().title(), fmt).strftime("%Y-%m")
        except ValueError:
            continue
    raise RefreshError(f"{where}: unreadable date {text!r}")


def _number(text: str, where: str) -> float:
    try:
        return float(text.replace(",", "")) if text not in ("", "NA", "-") else 0.0
    except ValueError:
        raise RefreshError(f"{where}: not a number: {text!r}") from None


# --------------------------------------------------------------------------- parsing


def parse_appointments(blob: bytes, name: str) -> dict[str, int]:
    totals: dict[str, float] = {}
    members = [(m, t) for m, t in _csv_members(blob, name) if "COVERAGE" not in m.upper()]
    if not members:
        raise RefreshError(f"{name}: no appointments CSV inside")
    for member, text in members:
        where = f"{name}:{member}"
        rows, (date_col, count_col) = _rows(text, where, [["APPOINTMENT_DATE", "APPT_DATE"], ["COUNT_OF_APPOINTMENTS", "COUNT"]])
        for r in rows:
            month = _month_of(r[date_col], where)
            totals[month] = totals.get(month, 0.0) + _number(r[count_col], where)
    return {m: int(round(v)) for m, v in sorted(totals.items())}


def parse_patients(blob: bytes, name: str) -> tuple[str, int]:
    total, months = 0.0, set()
    for member, text in _csv_members(blob, name):
        where = f"{name}:{member}"
        rows, (date_col, n_col) = _rows(text, where, [["EXTRACT_DATE"], ["NUMBER_OF_PATIENTS", "TOTAL_ALL"]])
        for r in rows:
            if r.get("SEX", "ALL").upper() != "ALL" or r.get("AGE", "ALL").upper() != "ALL":
                continue
            months.add(_month_of(r[date_col], where))
            total += _number(r[n_col], where)
    if len(months) != 1:
        raise RefreshError(f"{name}: expected one extract date, found {sorted(months) or 'none'}")
    return months.pop(), int(round(total))


def parse_workforce(blob: bytes, name: str) -> dict[str, float]:
    sums = {"fte_fully_qualified": 0.0, "fte_fully_qualified_permanent": 0.0}
    for member, text in _csv_members(blob, name):
        where = f"{name}:{member}"
        rows, (fq, perm) = _rows(text, where, [["TOTAL_GP_EXTG_FTE"], ["TOTAL_GP_EXTGL_FTE"]])
        for r in rows:
            sums["fte_fully_qualified"] += _number(r[fq], where)
            sums["fte_fully_qualified_permanent"] += _number(r[perm], where)
    return {k: round(v, 1) for k, v in sums.items()}


# --------------------------------------------------------------------------- merging


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_text(fields: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def merge_appointments(rows: list[dict], totals: dict[str, int], release_month: str) -> tuple[list[dict], Change]:
    ch = Change("workforce_appointments_monthly")
    by = {r["month"]: dict(r) for r in rows}
    last = max(totals) if totals else None
    for month, value in totals.items():
        new = {"month": month, "appointments": str(value), "basis": "excl-covid-vaccinations",
               "release": f"agp-{release_month}", "coverage": "all-current-suppliers",
               "first_published": "true" if month == last else "false"}
        old = by.get(month)
        ch.note(month, old and old["appointments"], value)
        by[month] = new
    return [by[m] for m in sorted(by)], ch


def merge_patients(rows: list[dict], month: str, total: int, url: str) -> tuple[list[dict], Change]:
    ch = Change("workforce_registered_patients")
    by = {r["date"]: dict(r) for r in rows}
    label = f"{MONTHS[int(month[5:]) - 1].title()} {month[:4]}"
    new = {"date": month, "patients": str(total), "precision": "exact",
           "source_system": "PDS" if month >= "2024-04" else "NHAIS", "how_obtained": "derived",
           "note": "sum of practice totals in gp-reg-pat-prac-all (vertint data refresh)",
           "source_title": f"NHS England, Patients registered at a GP practice, {label}", "source_url": url}
    old = by.get(month)
    if ch.note(month, old and old["patients"], total):
        new = old
    by[month] = new
    return [by[d] for d in sorted(by)], ch


def merge_workforce(rows: list[dict], month: str, sums: dict[str, float], url: str) -> tuple[list[dict], Change]:
    ch = Change("workforce_gp_datapoints")
    out = [dict(r) for r in rows]
    label = f"{MONTHS[int(month[5:]) - 1].title()} {month[:4]}"
    column = {"fte_fully_qualified": "TOTAL_GP_EXTG_FTE", "fte_fully_qualified_permanent": "TOTAL_GP_EXTGL_FTE"}
    for measure, value in sums.items():
        text = f"{value:g}"
        new = {"date": month, "measure": measure, "unit": "FTE", "value": text, "vintage": "practice-csv-sum",
               "how_obtained": "derived",
               "derivation": f"sum over practices of {column[measure]} (practice files exclude fully estimated records)",
               "source_title": f"NHS Digital, General Practice Workforce, {label}, practice-level CSV", "source_url": url}
        idx = next((i for i, r in enumerate(out) if (r["date"], r["measure"], r["vintage"]) == (month, measure, "practice-csv-sum")), None)
        if idx is None:
            out.append(new)
            ch.added.append(f"{month} {measure}: {value:,.1f}")
        elif out[idx]["value"] != text:
            ch.changed.append(f"{month} {measure}: {out[idx]['value']} -> {text}")
            out[idx] = new
        else:
            ch.unchanged += 1
    return out, ch


# --------------------------------------------------------------------------- manifest


def set_manifest_hash(text: str, resource: str, digest: str) -> str:
    """Replace the ``hash:`` line of one resource in the manifest text (comments and layout kept)."""
    lines = text.splitlines(keepends=True)
    head = re.compile(r"^(\s*)- name: ['\"]?" + re.escape(resource) + r"['\"]?\s*$")
    for i, line in enumerate(lines):
        m = head.match(line)
        if not m:
            continue
        indent = m.group(1)
        for j in range(i + 1, len(lines)):
            if re.match(re.escape(indent) + r"- ", lines[j]) or (lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) < len(indent)):
                break
            hm = re.match(r"^(\s+hash: )['\"]?sha256:[0-9a-f]{64}['\"]?(\s*)$", lines[j].rstrip("\n"))
            if hm and len(hm.group(1)) - len(hm.group(1).lstrip()) == len(indent) + 2:
                lines[j] = f"{hm.group(1)}sha256:{digest}\n"
                return "".join(lines)
        break
    raise RefreshError(f"data/datapackage.yaml: could not find the hash line of resource {resource!r}")


# --------------------------------------------------------------------------- the command


@dataclass
class Report:
    changes: list[Change]
    written: bool

    def lines(self) -> list[str]:
        out = []
        for c in self.changes:
            state = "changed" if c.any else "unchanged"
            out.append(f"{c.resource}: {state} ({len(c.added)} added, {len(c.changed)} revised, {c.unchanged} unchanged) from {c.source}")
            out += [f"  + {a}" for a in c.added] + [f"  ~ {x}" for x in c.changed]
            if c.any and self.written:
                out.append(f"  sha256 {c.old_hash[:12]}… -> {c.new_hash[:12]}… (data/datapackage.yaml updated)")
        if not any(c.any for c in self.changes):
            out.append("Nothing changed.")
        elif not self.written:
            out.append("Dry run: nothing was written.")
        return out


def refresh(base_url: str = DEFAULT_BASE, only: list[str] | None = None, dry_run: bool = False,
            root: Path | None = None, timeout: float = 30.0) -> Report:
    """Download, parse, merge, validate and (unless ``dry_run``) write. Raises :class:`RefreshError`
    before writing anything if a download or parse fails."""
    root = root or paths.root()
    keys = only or list(PUBLICATIONS)
    unknown = [k for k in keys if k not in PUBLICATIONS]
    if unknown:
        raise RefreshError(f"unknown publication {unknown[0]!r} (known: {', '.join(PUBLICATIONS)})")
    man = data.manifest(root)
    res = {r["name"]: r for r in man.get("resources", [])}
    # 1. fetch and parse everything first
    fetched = {}
    for key in keys:
        pub = PUBLICATIONS[key]
        series_url = pub.series_url(base_url)
        release_url, release_month = latest_release(fetch(series_url, timeout).decode("utf-8", "replace"), series_url)
        file_url = find_file(fetch(release_url, timeout).decode("utf-8", "replace"), release_url, pub.file_pattern)
        blob = fetch(file_url, timeout)
        name = urllib.parse.unquote(file_url.rsplit("/", 1)[-1])
        if key == "appointments":
            fetched[key] = (release_month, file_url, parse_appointments(blob, name))
        elif key == "patients":
            fetched[key] = (release_month, file_url, parse_patients(blob, name))
        else:
            fetched[key] = (release_month, file_url, parse_workforce(blob, name))
    # 2. merge in memory
    new_texts: dict[str, tuple[Path, str, Change]] = {}
    for key, (release_month, url, parsed) in fetched.items():
        pub = PUBLICATIONS[key]
        path = root / "data" / res[pub.resource]["path"]
        fields, rows = _read(path)
        if key == "appointments":
            merged, ch = merge_appointments(rows, parsed, release_month)
        elif key == "patients":
            merged, ch = merge_patients(rows, parsed[0], parsed[1], url)
        else:
            merged, ch = merge_workforce(rows, release_month, parsed, url)
        ch.source = url
        ch.old_hash = data.sha256(path)
        new_texts[pub.resource] = (path, _write_text(fields, merged), ch)
    changes = [c for _, _, c in new_texts.values()]
    if dry_run or not any(c.any for c in changes):
        return Report(changes, False)
    # 3. validate each new table against its schema in a scratch copy, then write
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, text, ch) in new_texts.items():
            if not ch.any:
                continue
            scratch = Path(tmp) / path.name
            scratch.write_text(text, encoding="utf-8")
            try:
                data._validate_schema(res[name], scratch, f"data/{path.name} (refreshed)")
            except data.DataError as exc:
                raise RefreshError(f"{exc}; nothing was changed") from None
    man_path = root / "data" / "datapackage.yaml"
    man_text = man_path.read_text(encoding="utf-8")
    staged = []
    for name, (path, text, ch) in new_texts.items():
        if ch.any:
            tmp_path = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
            tmp_path.write_text(text, encoding="utf-8")
            ch.new_hash = data.sha256(tmp_path)
            staged.append((tmp_path, path))
            try:
                man_text = set_manifest_hash(man_text, name, ch.new_hash)
            except RefreshError:
                for t, _ in staged:
                    t.unlink(missing_ok=True)
                raise
    tmp_man = man_path.with_suffix(f".yaml.tmp{os.getpid()}")
    tmp_man.write_text(man_text, encoding="utf-8")
    for tmp_path, path in staged:
        os.replace(tmp_path, path)
    os.replace(tmp_man, man_path)
    return Report(changes, True)

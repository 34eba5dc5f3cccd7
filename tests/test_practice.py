"""The practice-level tables (vertint.practice, ``vertint data practice``).

Three kinds of test:
- the reduction on tiny synthetic raw files written in tmp_path, with the expected tables typed out
  by hand (rounding half up, blanks for missing cells, ISO dates from spreadsheet serials and
  dd/mm/yyyy, names upper-cased, runs of years), plus refusals (renamed or missing column, bad number,
  repeated key, unknown tidy column, no raw directory) and determinism;
- the vendored tables against facts from the research dossier (always run);
- the vendored tables against the raw files read directly with pandas, independently of the column
  mapping (skipped unless VERTINT_PRACTICE_DIR points at the raw files);
- ``--fetch``: the synthetic raw files (committed in tests/fixtures/practice_fetch) served by a local
  http.server on 127.0.0.1 at the paths the manifest records, downloaded, checked against the
  manifest's sha256 and reduced; and the refusals (changed sha256 without --accept-new-release,
  renamed column, HTTP error, no network), each leaving data/ byte for byte as it was.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import random
import re
import shutil
import socket
import threading
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
from conftest import can_unshare, data_root, vertint

from vertint import data, practice

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ["practice_payments", "practice_names", "practice_qof", "practice_workforce"]
YEARLY = ["practice_payments", "practice_qof", "practice_workforce"]

# --------------------------------------------------------------------------- synthetic raw files

SPEC = """
missing: ["", "-", ":", "NA", "UNKNOWN", "Unknown", "MISSING", "Unknown or no PCN"]
tables:
  practice_payments:
    path: practice_payments.csv
    key: [year, practice_code]
    fields: {year: text, practice_code: code, ccg_code: code, pcn_code: code, contract_type: upper,
             dispensing: title, rurality: title, close_date: date, registered_patients: n2,
             weighted_patients: n0, total_payments: n0}
    files:
      - file: payments_19-20.csv
        year: "2019-20"
        dates: excel
        columns: {practice_code: Practice Code, practice_name: Practice Name, ccg_code: CCG Code,
                  ccg_name: CCG Name, pcn_code: PCN Code, pcn_name: PCN Name, contract_type: Contract Type,
                  dispensing: Dispensing Practice, rurality: Practice Rurality, close_date: Practice Close Date,
                  registered_patients: Average number of registered patients1,
                  weighted_patients: Average number of weighted patients1,
                  total_payments: Total NHS Payments to General Practice}
      - file: payments_20-21.csv
        year: "2020-21"
        dates: "%d/%m/%Y"
        columns: {practice_code: Practice Code, practice_name: Practice Name, ccg_code: CCG Code,
                  ccg_name: CCG NAME, pcn_code: PCN Code, pcn_name: PCN Name, contract_type: Contract Type,
                  dispensing: Dispensing Practice, rurality: Practice Rurality, close_date: Practice Close Date,
                  registered_patients: Number of Registered Patients (Last Known Figure),
                  weighted_patients: Number of Weighted Patients (Last Known Figure),
                  total_payments: Total NHS Payments to General Practice}
  practice_names:
    path: practice_names.csv
    runs_of: practice_payments
    entities: {practice: [practice_code, practice_name], pcn: [pcn_code, pcn_name], ccg: [ccg_code, ccg_name]}
  practice_qof:
    path: practice_qof.csv
    key: [year, practice_code]
    fields: {year: text, practice_code: code, qof_points: n2, qof_points_available: n2}
    files:
      - file: qof_2019-20.csv
        year: "2019-20"
        columns: {practice_code: Practice code, qof_points: Achievement score (559 max),
                  qof_points_available: Total points for indicators where register exists. (Max QOF points available)}
  practice_workforce:
    path: practice_workforce.csv
    key: [year, practice_code]
    fields: {year: fy_end, practice_code: code, total_patients: n1, gp_fte: n2, gp_hc: n0, admin_fte: n2,
             imd_score: n2, imd_quintile: n0}
    files:
      - file: workforce_practice_year.heec.csv
        columns: {practice_code: Practice.Code, year: Year, total_patients: TOTAL_PATIENTS, gp_fte: TOTAL_GP_EXTGL_FTE,
                  gp_hc: TOTAL_GP_EXTGL_HC, admin_fte: TOTAL_ADMIN_FTE, imd_score: IMD, imd_quintile: IMD_quintile}
"""

# A byte-order mark, an unused column, unsorted rows, "Unknown"-style cells, spreadsheet day serials.
PAY_1920 = (
    "\ufeffRegion,CCG Code,CCG Name,PCN Code,PCN Name,Practice Code,Practice Name,Practice Close Date,"
    "Contract Type,Dispensing Practice,Practice Rurality,Average number of registered patients1,"
    "Average number of weighted patients1,Total NHS Payments to General Practice\n"
    "X,06A,NHS Wolverhampton CCG,U20454,WOLVERHAMPTON RWT PCN,M92007,DR SIDHU & PARTNERS,,GMS,No,Urban,6828.25,7001.4,812345.675\n"
    "X,06A,NHS Wolverhampton CCG,U20454,WOLVERHAMPTON RWT PCN,M92002,PARKES & PARTNERS,43921,GMS,NO,URBAN,8255,8100.5,1000000.5\n"
    "X,06A,NHS Wolverhampton CCG,Unknown or no PCN,Unknown or no PCN,M92099,Closed  practice,-,UNKNOWN,Unknown,MISSING,0,0,-217\n"
)
# A header split over two lines and names whose case or spacing changed; dd/mm/yyyy dates.
PAY_2021 = (
    "NHS England (Region) code,CCG Code,CCG NAME,PCN Code,PCN Name,Practice Code,Practice Name,Practice Open Date,"
    "Practice Close Date,Contract Type,Dispensing Practice,Practice Rurality,"
    "\"Number of Registered Patients\n(Last Known Figure)\",Number of Weighted Patients (Last Known Figure),"
    "Total NHS Payments to General Practice\n"
    "Y60,06A,NHS WOLVERHAMPTON CCG,U20454,WOLVERHAMPTON RWT PCN,M92002,Alfred Squire Road Surgery,01/04/2000, ,GMS,No,Urban,8230.5,8000.25,1100000.004\n"
    "Y60,06A,NHS WOLVERHAMPTON CCG,U20454,WOLVERHAMPTON RWT PCN,M92007,Dr Sidhu  &  Partners,01/10/1985,31/03/2021,pms,yes,rural,6937,7100.75,900000\n"
)
QOF_1920 = (
    "CCG ODS code (practice parent),PCN ODS code,Practice code,Practice name,List size,Achievement score (559 max),"
    "Total points for indicators where register exists. (Max QOF points available)\n"
    "06A,U20454,M92007,X,6800,530.456,559.00\n"
    "06A,U20454,M92002,Y,8200,:,:\n"
)
WORKFORCE = (
    '"Practice.Code","Year","TOTAL_PATIENTS","TOTAL_GP_EXTGL_HC","TOTAL_GP_EXTGL_FTE","TOTAL_ADMIN_FTE","IMD","IMD_quintile"\n'
    '"M92007","2021",6912.33333333333,5,4.1,9.2,31.31711076,4\n'
    '"M92002","2021",8230,NA,NA,7.5,27.80398,3\n'
    '"M92002","2020",8255,6,5.25,7,27.80398,3\n'
)
RAW = {"payments_19-20.csv": PAY_1920, "payments_20-21.csv": PAY_2021, "qof_2019-20.csv": QOF_1920,
       "workforce_practice_year.heec.csv": WORKFORCE}

EXPECTED = {
    "practice_payments": (
        "year,practice_code,ccg_code,pcn_code,contract_type,dispensing,rurality,close_date,registered_patients,weighted_patients,total_payments\n"
        "2019-20,M92002,06A,U20454,GMS,No,Urban,2020-03-31,8255,8101,1000001\n"
        "2019-20,M92007,06A,U20454,GMS,No,Urban,,6828.25,7001,812346\n"
        "2019-20,M92099,06A,,,,,,0,0,-217\n"
        "2020-21,M92002,06A,U20454,GMS,No,Urban,,8230.5,8000,1100000\n"
        "2020-21,M92007,06A,U20454,PMS,Yes,Rural,2021-03-31,6937,7101,900000\n"
    ),
    "practice_names": (
        "entity,code,name,first_year,last_year\n"
        "ccg,06A,NHS WOLVERHAMPTON CCG,2019-20,2020-21\n"
        "pcn,U20454,WOLVERHAMPTON RWT PCN,2019-20,2020-21\n"
        "practice,M92002,PARKES & PARTNERS,2019-20,2019-20\n"
        "practice,M92002,ALFRED SQUIRE ROAD SURGERY,2020-21,2020-21\n"
        "practice,M92007,DR SIDHU & PARTNERS,2019-20,2020-21\n"
        "practice,M92099,CLOSED PRACTICE,2019-20,2019-20\n"
    ),
    "practice_qof": (
        "year,practice_code,qof_points,qof_points_available\n"
        "2019-20,M92002,,\n"
        "2019-20,M92007,530.46,559\n"
    ),
    "practice_workforce": (
        "year,practice_code,total_patients,gp_fte,gp_hc,admin_fte,imd_score,imd_quintile\n"
        "2019-20,M92002,8255,5.25,6,7,27.8,3\n"
        "2020-21,M92002,8230,,,7.5,27.8,3\n"
        "2020-21,M92007,6912.3,4.1,5,9.2,31.32,4\n"
    ),
}


def _write_raw(directory: Path, files: dict[str, str] = RAW) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8", newline="")
    return directory


@pytest.fixture
def raw(tmp_path) -> Path:
    return _write_raw(tmp_path / "raw")


@pytest.fixture
def spec(tmp_path) -> practice.Spec:
    path = tmp_path / "practice_columns.yml"
    path.write_text(SPEC, encoding="utf-8")
    return practice.load_spec(path)


def _reduce(spec, raw) -> dict[str, str]:
    return practice.reduce_all(spec, raw).texts


# --------------------------------------------------------------------------- the reduction


def test_reduction_gives_the_tables_worked_out_by_hand(spec, raw):
    texts = _reduce(spec, raw)
    assert sorted(texts) == sorted(EXPECTED)
    for name, expected in EXPECTED.items():
        assert texts[name] == expected, name


def test_rows_per_year_are_reported(spec, raw):
    built = practice.reduce_all(spec, raw)
    assert built.rows_by_year["practice_payments"] == {"2019-20": 3, "2020-21": 2}
    assert built.rows_by_year["practice_workforce"] == {"2019-20": 1, "2020-21": 2}
    assert built.raw_hashes["qof_2019-20.csv"] == hashlib.sha256(QOF_1920.encode()).hexdigest()


def test_renamed_column_is_refused_naming_file_and_column(spec, raw):
    (raw / "payments_20-21.csv").write_text(PAY_2021.replace(",Practice Code,", ",Practice code (ODS),", 1), encoding="utf-8")
    with pytest.raises(practice.PracticeDataError,
                       match=r"^payments_20-21\.csv: missing column 'Practice Code' \(for practice_code\); "
                             r"closest is 'Practice code \(ODS\)'"):
        _reduce(spec, raw)


def test_missing_column_is_refused_naming_file_and_column(spec, raw):
    text = QOF_1920.replace(",Achievement score (559 max)", ",Score")
    (raw / "qof_2019-20.csv").write_text(text, encoding="utf-8")
    with pytest.raises(practice.PracticeDataError, match=r"^qof_2019-20\.csv: missing column 'Achievement score \(559 max\)' \(for qof_points\)"):
        _reduce(spec, raw)


def test_missing_raw_file_is_refused(spec, raw):
    (raw / "payments_19-20.csv").unlink()
    with pytest.raises(practice.PracticeDataError, match=r"^payments_19-20\.csv: raw file not found in "):
        _reduce(spec, raw)


def test_value_that_is_not_a_number_is_refused_with_file_line_and_column(spec, raw):
    (raw / "qof_2019-20.csv").write_text(QOF_1920.replace("530.456", "530.4x"), encoding="utf-8")
    with pytest.raises(practice.PracticeDataError,
                       match=r"^qof_2019-20\.csv: line 2, column 'Achievement score \(559 max\)': not a number: '530.4x'$"):
        _reduce(spec, raw)


def test_unreadable_date_is_refused(spec, raw):
    (raw / "payments_20-21.csv").write_text(PAY_2021.replace("31/03/2021", "2021-03-31"), encoding="utf-8")
    with pytest.raises(practice.PracticeDataError, match=r"^payments_20-21\.csv: line 4, column 'Practice Close Date': not a date"):
        _reduce(spec, raw)


def test_repeated_practice_and_year_is_refused(spec, raw):
    line = PAY_2021.splitlines(keepends=True)[-1]
    (raw / "payments_20-21.csv").write_text(PAY_2021 + line, encoding="utf-8")
    with pytest.raises(practice.PracticeDataError, match=r"^payments_20-21\.csv: .*'M92007'.* appears twice"):
        _reduce(spec, raw)


def test_unknown_tidy_column_in_the_mapping_is_refused(tmp_path):
    path = tmp_path / "practice_columns.yml"
    path.write_text(SPEC.replace("qof_points: Achievement", "qof_pionts: Achievement"), encoding="utf-8")
    with pytest.raises(practice.PracticeDataError, match=r"qof_2019-20\.csv: tidy column 'qof_pionts' is not a field of 'practice_qof'"):
        practice.load_spec(path)


def test_raw_directory_comes_from_the_argument_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(practice.ENV_VAR, raising=False)
    with pytest.raises(practice.PracticeDataError, match=r"no raw directory: pass --raw DIR or set VERTINT_PRACTICE_DIR"):
        practice.raw_dir()
    monkeypatch.setenv(practice.ENV_VAR, str(tmp_path))
    assert practice.raw_dir() == tmp_path
    (tmp_path / "arg").mkdir()
    assert practice.raw_dir(tmp_path / "arg") == tmp_path / "arg"  # the argument wins
    with pytest.raises(practice.PracticeDataError, match=r"raw directory not found"):
        practice.raw_dir(tmp_path / "nonesuch")


def test_name_runs_break_on_a_gap_and_on_a_new_name():
    rows = [{"year": y, "practice_code": "A00001", "practice_name": n}
            for y, n in [("2016-17", "X"), ("2017-18", "X"), ("2019-20", "X"), ("2020-21", "Y")]]
    rows.append({"year": "2018-19", "practice_code": "B00001", "practice_name": "Z"})  # 2018-19 exists
    runs = practice.name_runs(rows, {"practice": ["practice_code", "practice_name"]})
    got = [(r["code"], r["name"], r["first_year"], r["last_year"]) for r in runs]
    assert got == [("A00001", "X", "2016-17", "2017-18"), ("A00001", "X", "2019-20", "2019-20"),
                   ("A00001", "Y", "2020-21", "2020-21"), ("B00001", "Z", "2018-19", "2018-19")]


def test_output_is_deterministic_and_independent_of_raw_row_order(spec, raw, tmp_path):
    first = _reduce(spec, raw)
    assert _reduce(spec, raw) == first
    shuffled = {}
    for name, text in RAW.items():
        head, *rows = text.splitlines(keepends=True)
        if name == "payments_20-21.csv":  # the header spans two lines
            head, rows = head + rows[0], rows[1:]
        random.Random(7).shuffle(rows)
        shuffled[name] = head + "".join(rows)
    assert _reduce(spec, _write_raw(tmp_path / "shuffled", shuffled)) == first


# --------------------------------------------------------------------------- build: files and manifest


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A project root holding the practice resources, their manifest entries and the synthetic mapping."""
    r = data_root(tmp_path / "root", RESOURCES)
    (r / "data" / practice.SPEC_FILE).write_text(SPEC, encoding="utf-8")
    monkeypatch.setenv("VERTINT_ROOT", str(r))
    return r


def test_build_writes_tables_and_manifest_hashes_then_finds_nothing_to_do(root, raw):
    report = practice.build(raw, root=root)
    assert report.written
    man = data.manifest(root)
    res = {r["name"]: r for r in man["resources"]}
    for name in RESOURCES:
        path = root / "data" / res[name]["path"]
        assert path.read_text(encoding="utf-8") == EXPECTED[name]
        assert res[name]["hash"] == "sha256:" + data.sha256(path)
        data.validate(name)
    recorded = {e["file"]: e["sha256"] for n in ("practice_payments", "practice_names") for e in res[n]["raw_files"]
                if e["file"] == "payments_19-20.csv"}
    assert recorded == {"payments_19-20.csv": data.sha256(raw / "payments_19-20.csv")}
    before = {p.name: p.read_bytes() for p in (root / "data").iterdir()}
    again = practice.build(raw, root=root)
    assert not again.changed and not again.written
    assert {p.name: p.read_bytes() for p in (root / "data").iterdir()} == before


def test_build_refuses_before_writing_anything(root, raw):
    before = {p.name: p.read_bytes() for p in (root / "data").iterdir()}
    (raw / "payments_19-20.csv").write_text(PAY_1920.replace("CCG Code", "CCG"), encoding="utf-8")
    with pytest.raises(practice.PracticeDataError, match=r"^payments_19-20\.csv: missing column 'CCG Code'"):
        practice.build(raw, root=root)
    assert {p.name: p.read_bytes() for p in (root / "data").iterdir()} == before


def test_cli_check_fails_on_stale_tables_and_passes_after_a_rebuild(root, raw):
    stale = vertint(root, "data", "practice", "--raw", str(raw), "--check")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "differ from a rebuild" in stale.stderr and "would change" in stale.stdout
    done = vertint(root, "data", "practice", "--raw", str(raw))
    assert done.returncode == 0, done.stderr
    assert "data/practice_payments.csv: rebuilt, 5 rows" in done.stdout
    check = vertint(root, "data", "practice", "--raw", str(raw), "--check")
    assert check.returncode == 0, check.stderr
    missing = vertint(root, "data", "practice")  # neither --raw nor VERTINT_PRACTICE_DIR
    if not os.environ.get(practice.ENV_VAR):
        assert missing.returncode == 1 and "no raw directory" in missing.stderr


# --------------------------------------------------------------------------- --fetch (local server)

FETCH_FIX = ROOT / "tests" / "fixtures" / "practice_fetch"


def _snapshot(r: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((r / "data").iterdir())}


def _served_paths(r: Path) -> dict[str, str]:
    """raw file -> the URL path its raw_files entry records (``/<mirror>/<commit>/<path>``), unquoted."""
    spec = practice.load_spec(r / "data" / practice.SPEC_FILE)
    return {s.file: urllib.parse.unquote(urllib.parse.urlsplit(s.url).path)
            for s in practice.raw_sources(spec, data.manifest(r))}


def _record(r: Path, files: dict[str, bytes]) -> None:
    """Record the sha256 of ``files`` in the root's manifest, as if they were the current release."""
    man = r / "data" / "datapackage.yaml"
    text = man.read_text(encoding="utf-8")
    for name, blob in files.items():
        text = practice.set_raw_hash(text, name, hashlib.sha256(blob).hexdigest())
    man.write_text(text, encoding="utf-8")


class _Site(http.server.SimpleHTTPRequestHandler):
    """Serves a directory; answers 500 for any path in ``server.fail``."""

    def do_GET(self):
        if urllib.parse.unquote(self.path) in getattr(self.server, "fail", ()):
            self.send_error(500, "Internal Server Error")
            return
        if urllib.parse.unquote(self.path) in getattr(self.server, "truncate", ()):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"Practice Code,")  # then the connection drops
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path, root):
    """The fixture files served on 127.0.0.1 where the manifest says each raw file lives; yields
    (base URL, served file by raw name, the server). The root's manifest records the fixtures' sha256."""
    served = {}
    for name, path in _served_paths(root).items():
        dest = tmp_path / "site" / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(FETCH_FIX / name, dest)
        served[name] = dest
    _record(root, {n: (FETCH_FIX / n).read_bytes() for n in served})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Site, directory=str(tmp_path / "site")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served, httpd
    httpd.shutdown()
    httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fetch_fixtures_are_the_synthetic_raw_files():
    assert sorted(p.name for p in FETCH_FIX.glob("*.csv")) == sorted(RAW)
    for name, text in RAW.items():
        assert (FETCH_FIX / name).read_bytes() == text.encode("utf-8"), name


def test_fetch_downloads_checks_hashes_and_rebuilds_then_finds_nothing_to_do(site, root):
    base, served, _ = site
    recorded = _snapshot(root)["datapackage.yaml"]
    report = practice.fetch_and_build(base=base, root=root, timeout=5)
    assert report.written
    res = {r["name"]: r for r in data.manifest(root)["resources"]}
    for name in RESOURCES:
        assert (root / "data" / res[name]["path"]).read_text(encoding="utf-8") == EXPECTED[name], name
        data.validate(name)
    raw_hashes = {e["file"]: e["sha256"] for n in RESOURCES for e in res[n].get("raw_files") or [] if e["file"] in served}
    assert raw_hashes == {n: hashlib.sha256(RAW[n].encode()).hexdigest() for n in served}  # as recorded
    text = "\n".join(report.lines())
    qof_url = f"{base}/HFAnalyticsLab/gp_dashboard/b4f50ac93a0807224dd15b73aa44b563fec85c3e/data/qof/QOF%202019-20.csv"
    assert f"fetched qof_2019-20.csv from {qof_url}: sha256 as recorded" in text
    assert "data/practice_payments.csv: rebuilt, 5 rows" in text and "raw " not in text
    # only the table hash lines changed in the manifest
    old, new = recorded.decode().splitlines(), (root / "data" / "datapackage.yaml").read_text(encoding="utf-8").splitlines()
    assert len(old) == len(new) and all(a == b or b.lstrip().startswith("hash: sha256:") for a, b in zip(old, new))
    after = _snapshot(root)
    again = practice.fetch_and_build(base=base, root=root, timeout=5)
    assert not again.changed and not again.written
    assert _snapshot(root) == after
    check = vertint(root, "data", "practice", "--fetch", "--base", base, "--check", "--timeout", "5")
    assert check.returncode == 0, check.stderr
    assert "data/practice_qof.csv: unchanged" in check.stdout


def test_fetch_refuses_a_changed_sha256_unless_the_new_release_is_accepted(site, root):
    base, served, _ = site
    new_qof = QOF_1920 + "06A,U20454,M92099,Z,100,12.5,500\n"  # a new release of one file
    served["qof_2019-20.csv"].write_text(new_qof, encoding="utf-8", newline="")
    before = _snapshot(root)
    with pytest.raises(practice.PracticeDataError) as err:
        practice.fetch_and_build(base=base, root=root, timeout=5)
    msg = str(err.value)
    assert msg.startswith("sha256 differs from data/datapackage.yaml: qof_2019-20.csv from http://127.0.0.1:")
    assert "--accept-new-release" in msg and msg.endswith("nothing was written") and "\n" not in msg
    assert "payments_19-20.csv" not in msg  # unchanged files are not reported
    assert _snapshot(root) == before
    cli = vertint(root, "data", "practice", "--fetch", "--base", base, "--timeout", "5")
    assert cli.returncode == 1 and cli.stderr.startswith("error: sha256 differs") and cli.stderr.count("\n") == 1, cli.stderr
    assert _snapshot(root) == before
    # accepted: rebuilt from the new file, and its sha256 recorded in every raw_files entry naming it
    accepted = vertint(root, "data", "practice", "--fetch", "--base", base, "--accept-new-release", "--timeout", "5")
    assert accepted.returncode == 0, accepted.stderr
    assert "fetched qof_2019-20.csv from" in accepted.stdout and "differs (new release accepted)" in accepted.stdout
    assert (root / "data" / "practice_qof.csv").read_text(encoding="utf-8") == EXPECTED["practice_qof"] + "2019-20,M92099,12.5,500\n"
    assert [e["sha256"] for e in data.manifest(root)["resources"] for e in e.get("raw_files") or [] if e["file"] == "qof_2019-20.csv"] \
        == [hashlib.sha256(new_qof.encode()).hexdigest()]
    for name in RESOURCES:
        data.validate(name)
    again = vertint(root, "data", "practice", "--fetch", "--base", base, "--check", "--timeout", "5")
    assert again.returncode == 0, again.stderr  # the new release is now the recorded one


def test_fetch_refuses_a_renamed_column_naming_file_and_column(site, root):
    base, served, _ = site
    served["payments_20-21.csv"].write_text(PAY_2021.replace(",Practice Code,", ",Practice code (ODS),", 1), encoding="utf-8")
    before = _snapshot(root)
    with pytest.raises(practice.PracticeDataError,
                       match=r"^payments_20-21\.csv: missing column 'Practice Code' \(for practice_code\); "
                             r"closest is 'Practice code \(ODS\)'.*nothing was written"):
        practice.fetch_and_build(base=base, root=root, accept_new=True, timeout=5)
    assert _snapshot(root) == before
    cli = vertint(root, "data", "practice", "--fetch", "--base", base, "--accept-new-release", "--timeout", "5")
    assert cli.returncode == 1 and "payments_20-21.csv: missing column 'Practice Code'" in cli.stderr
    assert _snapshot(root) == before


@pytest.mark.parametrize("how", ["500", "404"])
def test_fetch_server_error_leaves_data_untouched(site, root, how):
    base, served, httpd = site
    last = max(served)  # the last in order: the others download fine first
    if how == "500":
        httpd.fail = {_served_paths(root)[last]}
    else:
        served[last].unlink()
    before = _snapshot(root)
    with pytest.raises(practice.PracticeDataError, match=rf"^{re.escape(last)}: http://127\.0\.0\.1:\d+/.*: HTTP {how} .*; nothing was written$"):
        practice.fetch_and_build(base=base, root=root, accept_new=True, timeout=5)
    assert _snapshot(root) == before


def test_fetch_cut_short_is_refused_even_when_a_new_release_is_accepted(site, root):
    base, _, httpd = site
    httpd.truncate = {_served_paths(root)["qof_2019-20.csv"]}
    before = _snapshot(root)
    with pytest.raises(practice.PracticeDataError,
                       match=r"^qof_2019-20\.csv: http://127\.0\.0\.1:\d+/.*QOF%202019-20\.csv: download cut short "
                             r"\(14 bytes read, 986 more expected\); nothing was written$"):
        practice.fetch_and_build(base=base, root=root, accept_new=True, timeout=5)
    assert _snapshot(root) == before


def test_fetch_without_network_fails_in_one_line_and_leaves_data_untouched(root):
    before = _snapshot(root)
    port = _closed_port()
    with pytest.raises(practice.PracticeDataError) as err:
        practice.fetch_and_build(base=f"http://127.0.0.1:{port}", root=root, timeout=2)
    msg = str(err.value)
    assert msg.startswith(f"cannot download payments_19-20.csv from 127.0.0.1:{port} (") and "no network" in msg and "\n" not in msg
    assert _snapshot(root) == before
    cli = vertint(root, "data", "practice", "--fetch", "--base", f"http://127.0.0.1:{port}", "--timeout", "2")
    assert cli.returncode == 1 and cli.stderr.startswith("error: cannot download") and cli.stderr.count("\n") == 1, cli.stderr
    assert _snapshot(root) == before


def test_fetch_from_the_recorded_urls_offline_fails_cleanly(root):
    """No --base: the real recorded URLs, in a network namespace with no network."""
    ok, why = can_unshare()
    if not ok:
        pytest.skip(why)
    before = _snapshot(root)
    cli = vertint(root, "data", "practice", "--fetch", "--timeout", "5", offline=True)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert cli.stderr.startswith("error: cannot download payments_19-20.csv from raw.githubusercontent.com (")
    assert cli.stderr.count("\n") == 1 and "nothing was written" in cli.stderr
    assert _snapshot(root) == before


def test_recorded_url_and_base():
    entry = {"file": "qof_2019-20.csv", "mirror": "HFAnalyticsLab/gp_dashboard", "commit": "b4f50ac", "path": "data/qof/QOF 2019-20.csv"}
    url = practice.recorded_url(entry)
    assert url == "https://raw.githubusercontent.com/HFAnalyticsLab/gp_dashboard/b4f50ac/data/qof/QOF%202019-20.csv"
    assert practice.recorded_url({**entry, "url": "https://files.digital.nhs.uk/AB/qof.csv"}) == "https://files.digital.nhs.uk/AB/qof.csv"
    with pytest.raises(practice.PracticeDataError, match=r"raw_files entry 'x.csv' has no url and no commit, path"):
        practice.recorded_url({"file": "x.csv", "mirror": "a/b"})
    assert practice.with_base(url, None) == url
    assert practice.with_base(url, "http://127.0.0.1:8000/") == "http://127.0.0.1:8000/HFAnalyticsLab/gp_dashboard/b4f50ac/data/qof/QOF%202019-20.csv"
    assert practice.with_base("https://h/x?y=1", "http://127.0.0.1:1/pre") == "http://127.0.0.1:1/pre/x?y=1"
    with pytest.raises(practice.PracticeDataError, match=r"^--base: not an http\(s\) URL: 'ftp://x'$"):
        practice.with_base(url, "ftp://x")


def test_raw_sources_need_one_entry_per_mapped_file(root):
    spec = practice.load_spec(root / "data" / practice.SPEC_FILE)
    man = data.manifest(root)
    assert [s.file for s in practice.raw_sources(spec, man)] == sorted(RAW)
    qof = next(r for r in man["resources"] if r["name"] == "practice_qof")
    qof["raw_files"] = [e for e in qof["raw_files"] if e["file"] != "qof_2019-20.csv"]
    with pytest.raises(practice.PracticeDataError, match=r"no raw_files entry for qof_2019-20\.csv \(listed in data/practice_columns\.yml\)"):
        practice.raw_sources(spec, man)
    man = data.manifest(root)
    names = next(r for r in man["resources"] if r["name"] == "practice_names")
    entry = next(e for e in names["raw_files"] if e["file"] == "payments_19-20.csv")
    entry["commit"] = "0" * 40  # recorded differently from practice_payments
    with pytest.raises(practice.PracticeDataError, match=r"raw_files entries for 'payments_19-20\.csv' disagree"):
        practice.raw_sources(spec, man)
    man = data.manifest(root)
    man["resources"][0]["raw_files"][0]["sha256"] = "abc"
    with pytest.raises(practice.PracticeDataError, match=r"sha256 is not 64 hex digits: 'abc'"):
        practice.raw_sources(spec, man)


def test_cli_fetch_options_are_checked(root, raw):
    from typer.testing import CliRunner

    from vertint.cli import app

    before = _snapshot(root)
    cases = [(["--fetch", "--raw", str(raw)], "--raw and --fetch exclude each other"),
             (["--raw", str(raw), "--base", "http://127.0.0.1:1"], "--base only applies with --fetch"),
             (["--raw", str(raw), "--accept-new-release"], "--accept-new-release only applies with --fetch"),
             (["--fetch", "--base", "file:///etc"], "--base: not an http(s) URL: 'file:///etc'")]
    for args, message in cases:
        res = CliRunner().invoke(app, ["data", "practice", *args])
        assert res.exit_code == 1 and message in res.output, (args, res.output)
    assert _snapshot(root) == before


# --------------------------------------------------------------------------- the vendored tables


@pytest.fixture(scope="module")
def vendored() -> dict[str, pd.DataFrame]:
    return {n: data.load(n) for n in RESOURCES}


def test_vendored_tables_are_small_and_keyed_by_year_and_practice(vendored):
    sizes = [(ROOT / "data" / data.resource(n)["path"]).stat().st_size for n in RESOURCES]
    assert sum(sizes) < 10_000_000
    for name in YEARLY:
        df = vendored[name]
        assert not df.duplicated(["year", "practice_code"]).any(), name
        assert list(df.sort_values(["year", "practice_code"]).index) == list(df.index), name


def _in_rwt_pcn(vendored, year: str) -> pd.DataFrame:
    names, pay = vendored["practice_names"], vendored["practice_payments"]
    rwt = names[(names.entity == "pcn") & names.name.str.contains("RWT", na=False)
                & (names.first_year <= year) & (names.last_year >= year)]
    return pay[(pay.year == year) & pay.pcn_code.isin(rwt.code)]


def _code_of(vendored, name_part: str) -> str:
    names = vendored["practice_names"]
    hits = names[(names.entity == "practice") & names.name.str.contains(name_part, na=False)
                 & names.code.str.startswith("M92")]  # Wolverhampton practice codes
    assert hits.code.nunique() == 1, hits
    return hits.code.iloc[0]


def test_practices_the_dossier_names_as_trust_run_are_in_the_rwt_pcn(vendored):
    """studies.md: the pilot (HSJ 2016) took on Alfred Squire Road and Lea Road; Penn Manor was the
    trust's eighth practice (HSJ). All three are in the PCN whose name contains "RWT" from 2019-20."""
    for year in ("2019-20", "2020-21", "2021-22", "2022-23"):
        members = set(_in_rwt_pcn(vendored, year).practice_code)
        for practice_name in ("ALFRED SQUIRE ROAD", "LEA ROAD", "PENN MANOR"):
            assert _code_of(vendored, practice_name) in members, (year, practice_name)


def test_mgs_medical_practice_named_as_a_pilot_practice_is_not_in_the_rwt_pcn(vendored):
    """studies.md names MGS Medical Practice among the three pilot practices (HSJ 2016); the payments
    files put it in another PCN in every PCN year: a disagreement the chapter must report."""
    code = _code_of(vendored, "MGS MEDICAL PRACTICE")
    for year in ("2019-20", "2020-21", "2021-22", "2022-23"):
        assert code not in set(_in_rwt_pcn(vendored, year).practice_code), year


# --------------------------------------------------------------------------- against the raw files

RAW_DIR = os.environ.get(practice.ENV_VAR)
needs_raw = pytest.mark.skipif(not RAW_DIR or not Path(RAW_DIR, "SHA256SUMS").exists(),
                               reason=f"{practice.ENV_VAR} is not set to the raw practice files (with SHA256SUMS)")


def _raw(name: str) -> pd.DataFrame:
    return pd.read_csv(Path(RAW_DIR) / name, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _col(df: pd.DataFrame, pattern: str) -> str:
    """The one column whose name matches ``pattern`` (found independently of the column mapping)."""
    hits = [c for c in df.columns if re.search(pattern, " ".join(c.split()), flags=re.IGNORECASE)]
    assert len(hits) == 1, (pattern, hits)
    return hits[0]


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.strip().replace({":": None, "NA": None, "": None}), errors="raise")


def _raw_files(prefix: str) -> list[str]:
    return sorted(f for f in (Path(RAW_DIR) / "SHA256SUMS").read_text().split() if f.startswith(prefix))


def _fy(name: str) -> str:
    m = re.search(r"(20)?(\d\d)-(\d\d)", name)
    return f"20{m.group(2)}-{m.group(3)}"


@needs_raw
def test_vendored_tables_are_exactly_a_rebuild_of_the_raw_files():
    report = practice.build(RAW_DIR, check=True)
    assert not report.changed, "\n".join(report.lines())


@needs_raw
def test_raw_file_hashes_match_the_dossier_and_the_manifest():
    sums = dict(reversed(line.split()) for line in (Path(RAW_DIR) / "SHA256SUMS").read_text().splitlines() if line.strip())
    recorded = {e["file"]: e["sha256"] for n in RESOURCES for e in data.resource(n)["raw_files"]}
    assert set(recorded) == set(sums)
    for name, digest in sums.items():
        assert recorded[name] == digest == data.sha256(Path(RAW_DIR) / name), name


@needs_raw
def test_payments_rows_patients_and_totals_per_year_match_the_raw_files(vendored):
    pay = vendored["practice_payments"]
    files = _raw_files("payments_")
    assert len(files) == 9
    for name in files:
        df, mine = _raw(name), pay[pay.year == _fy(name)]
        assert len(mine) == len(df), name
        reg = _num(df[_col(df, r"^(average )?numbers? of registered patients")])
        tot = _num(df[_col(df, r"^total nhs payments to general practice$")])
        assert mine.registered_patients.sum() == pytest.approx(reg.sum(), abs=0.005 * len(df)), name  # 2 dp
        assert abs(mine.total_payments.sum() - tot.sum()) <= 0.5 * len(df), name
        assert set(mine.practice_code) == set(df[_col(df, r"^practice code$")].str.strip()), name


@needs_raw
def test_qof_rows_and_points_per_year_match_the_raw_files(vendored):
    qof = vendored["practice_qof"]
    for name in _raw_files("qof_"):
        df, mine = _raw(name), qof[qof.year == _fy(name)]
        assert len(mine) == len(df), name
        points = _num(df[_col(df, r"^achievement score")])
        assert mine.qof_points.sum() == pytest.approx(points.sum(), abs=0.005 * len(df)), name


@needs_raw
def test_workforce_rows_fte_and_patients_per_year_match_the_raw_panel(vendored):
    wf, df = vendored["practice_workforce"], _raw("workforce_practice_year.heec.csv")
    for year, group in df.groupby("Year"):
        mine = wf[wf.year == f"{int(year) - 1}-{int(year) % 100:02d}"]
        assert len(mine) == len(group), year
        assert mine.gp_fte.sum() == pytest.approx(_num(group.TOTAL_GP_EXTGL_FTE).sum(), abs=1e-6), year
        assert mine.total_patients.sum() == pytest.approx(_num(group.TOTAL_PATIENTS).sum(), abs=0.05 * len(group)), year


@needs_raw
def test_rwt_pcn_members_and_list_sizes_match_the_raw_files(vendored):
    """The practices in the PCN whose name contains "RWT", read straight from each payments file."""
    for name in _raw_files("payments_"):
        df = _raw(name)
        if "PCN Name" not in df.columns:
            continue
        rwt = df[df["PCN Name"].str.contains("RWT")]
        mine = _in_rwt_pcn(vendored, _fy(name))
        assert set(mine.practice_code) == set(rwt["Practice Code"]), name
        reg = _num(rwt[_col(rwt, r"^(average )?numbers? of registered patients")])
        assert mine.registered_patients.sum() == pytest.approx(reg.sum(), abs=0.005 * len(rwt)), name

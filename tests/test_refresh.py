"""``vertint data refresh`` against a local http.server on 127.0.0.1 serving tiny fixture files in
the published formats (tests/fixtures/workforce/refresh)."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import pytest
from conftest import data_root

from vertint import data, refresh
from vertint import workforce as wf

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "workforce" / "refresh"
STAT = "data-and-information/publications/statistical"
RESOURCES = ["workforce_gp_datapoints", "workforce_appointments_monthly", "workforce_registered_patients",
             "workforce_published_figures"]


def _site(dest: Path, fix: Path = FIX) -> Path:
    """The served tree: series pages, release pages, and the data files (zipped where real ones are)."""
    pages = {
        f"{STAT}/appointments-in-general-practice": "appointments_series.html",
        f"{STAT}/appointments-in-general-practice/february-2024": "appointments_release.html",
        f"{STAT}/patients-registered-at-a-gp-practice": "patients_series.html",
        f"{STAT}/patients-registered-at-a-gp-practice/january-2026": "patients_release.html",
        f"{STAT}/general-and-personal-medical-services": "workforce_series.html",
        f"{STAT}/general-and-personal-medical-services/31-august-2025": "workforce_release.html",
    }
    for path, fixture in pages.items():
        (dest / path).mkdir(parents=True, exist_ok=True)
        shutil.copy2(fix / fixture, dest / path / "index.html")
    files = dest / "files"
    files.mkdir()
    with zipfile.ZipFile(files / "Appointments_GP_Daily_CSV_Feb_24.zip", "w") as zf:
        zf.write(fix / "appointments_SUB_ICB_A.csv", "SUB_ICB_LOCATION_CSV_FEB_24_A.csv")
        zf.write(fix / "appointments_SUB_ICB_B.csv", "SUB_ICB_LOCATION_CSV_FEB_24_B.csv")
        zf.write(fix / "appointments_COVERAGE.csv", "APPOINTMENTS_GP_COVERAGE.csv")
    shutil.copy2(fix / "gp-reg-pat-prac-all.csv", files / "gp-reg-pat-prac-all.csv")
    with zipfile.ZipFile(files / "General Practice August 2025 Practice Level CSV.zip", "w") as zf:
        zf.write(fix / "workforce_practice_level_detailed.csv", "GPW_Practice_Level_Detailed_August_2025.csv")
    return dest


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    site = _site(tmp_path / "site")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", site
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A project root holding this chapter's data files and manifest entries."""
    r = data_root(tmp_path / "root", RESOURCES, header="# manifest comment kept by refresh\n")
    monkeypatch.setenv("VERTINT_ROOT", str(r))
    return r


def _snapshot(r: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((r / "data").iterdir())}


def test_refresh_rebuilds_tables_and_manifest(server, root):
    base, _ = server
    before = _snapshot(root)
    report = refresh.refresh(base_url=base, root=root, timeout=5)
    assert report.written
    by = {c.resource: c for c in report.changes}
    appts = by["workforce_appointments_monthly"]
    assert appts.added == ["2024-02: 30,500,000"]
    assert appts.changed == ["2024-01: 32,409,039 -> 32,509,039"]  # 20,000,000 + 409,039 + 12,100,000
    assert by["workforce_registered_patients"].added == ["2026-01: 34,450"]  # 4,123 + 19,456 + 10,871
    assert by["workforce_gp_datapoints"].added == ["2025-08 fte_fully_qualified: 16.1", "2025-08 fte_fully_qualified_permanent: 15.6"]
    after = _snapshot(root)
    assert after["workforce_published_figures.csv"] == before["workforce_published_figures.csv"]
    assert after["datapackage.yaml"].startswith(b"# manifest comment kept by refresh\n")
    for name in RESOURCES:  # hashes in the manifest match the new files; schemas pass
        data.validate(name)
    a = wf.load_appointments().set_index("month")
    assert a.loc["2024-02", "appointments"] == 30_500_000 and a.loc["2024-02", "release"] == "agp-2024-02"
    assert bool(a.loc["2024-02", "first_published"]) and not bool(a.loc["2024-01", "first_published"])
    assert a.loc["2023-12", "release"] == "agp-2024-01"  # months not in the new release are kept
    gp = wf.load_gp()
    assert wf.point(gp, "fte_fully_qualified", "2025-08", "practice-csv-sum").value == 16.1
    assert wf.point(gp, "fte_fully_qualified", "2024-09").value == 27966  # current vintage untouched
    with pytest.raises(wf.VintageError):
        wf.compare(wf.point(gp, "fte_fully_qualified", "2024-09"), wf.point(gp, "fte_fully_qualified", "2025-08", "practice-csv-sum"))
    text = "\n".join(report.lines())
    assert "workforce_appointments_monthly: changed (1 added, 1 revised" in text and "data/datapackage.yaml updated" in text
    # a second run finds nothing new and writes nothing
    again = refresh.refresh(base_url=base, root=root, timeout=5)
    assert not again.written and again.lines()[-1] == "Nothing changed."
    assert _snapshot(root) == after


def test_dry_run_writes_nothing(server, root):
    base, _ = server
    before = _snapshot(root)
    report = refresh.refresh(base_url=base, root=root, dry_run=True, only=["appointments"], timeout=5)
    assert [c.resource for c in report.changes] == ["workforce_appointments_monthly"]
    assert report.lines()[-1] == "Dry run: nothing was written."
    assert _snapshot(root) == before


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_fails_clearly_and_changes_nothing(root):
    before = _snapshot(root)
    with pytest.raises(refresh.RefreshError) as err:
        refresh.refresh(base_url=f"http://127.0.0.1:{_closed_port()}", root=root, timeout=2)
    msg = str(err.value)
    assert msg.startswith("cannot reach 127.0.0.1:") and "left unchanged" in msg
    assert _snapshot(root) == before


def test_a_changed_format_is_refused_before_writing(tmp_path, root):
    fix = tmp_path / "fix"
    shutil.copytree(FIX, fix)
    bad = fix / "appointments_SUB_ICB_B.csv"
    bad.write_text(bad.read_text(encoding="utf-8").replace("COUNT_OF_APPOINTMENTS", "APPOINTMENTS"), encoding="utf-8")
    site = _site(tmp_path / "site2", fix)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        before = _snapshot(root)
        with pytest.raises(refresh.RefreshError, match="SUB_ICB_LOCATION_CSV_FEB_24_B.csv: missing column 'COUNT_OF_APPOINTMENTS'"):
            refresh.refresh(base_url=f"http://127.0.0.1:{httpd.server_address[1]}", root=root, timeout=5)
        assert _snapshot(root) == before
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_release_and_file_discovery():
    html = '<a href="/x/appointments/january-2024">a</a><a href="/x/appointments/march-2024#top">b</a><a href="/x/other/may-2025">c</a>'
    url, month = refresh.latest_release(html, "https://example.org/x/appointments")
    assert (url, month) == ("https://example.org/x/appointments/march-2024", "2024-03")
    html = '<a href="/x/gpw/31-july-2025">a</a><a href="/x/gpw/30-june-2025">b</a>'
    assert refresh.latest_release(html, "https://example.org/x/gpw")[1] == "2025-07"
    with pytest.raises(refresh.RefreshError, match="no monthly release"):
        refresh.latest_release("<p>moved</p>", "https://example.org/x/gpw")
    page = '<a href="https://files.digital.nhs.uk/AB/12/gp-reg-pat-prac-all.zip">z</a>'
    assert refresh.find_file(page, "https://example.org/r", refresh.PUBLICATIONS["patients"].file_pattern).endswith("gp-reg-pat-prac-all.zip")


def test_manifest_hash_line_is_replaced_for_one_resource_only():
    text = ("resources:\n  - name: a\n    title: A\n    hash: sha256:" + "0" * 64 + "\n"
            "  - name: b\n    hash: sha256:" + "1" * 64 + "\n")
    out = refresh.set_manifest_hash(text, "b", "f" * 64)
    assert out.count("f" * 64) == 1 and "0" * 64 in out and "1" * 64 not in out
    with pytest.raises(refresh.RefreshError, match="resource 'c'"):
        refresh.set_manifest_hash(text, "c", "f" * 64)


def test_cli_command(server, root):
    from typer.testing import CliRunner

    from vertint.cli import app

    base, _ = server
    res = CliRunner().invoke(app, ["data", "refresh", "--base-url", base, "--only", "patients", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "workforce_registered_patients: changed (1 added" in res.output
    res = CliRunner().invoke(app, ["data", "refresh", "--base-url", f"http://127.0.0.1:{_closed_port()}", "--timeout", "2"])
    assert res.exit_code == 1

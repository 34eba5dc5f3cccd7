"""Hostile inputs: a catalogue. Each case breaks one thing in a copy of a built book (a data file,
the manifest, the claims, the run matrix, a notebook, a page, a command-line parameter, a running
build), runs ``vertint book``, and checks that the build

* exits 1,
* says what is wrong in one line, ``error: <message>``, naming the file, column, notebook or parameter
  (a notebook that raises adds its traceback below that line),
* leaves the last good site byte-identical (``_build/html``, ``claims.json``, the executed-notebook cache).

Most refusals come before any kernel starts. Those cases call the command line's entry point (the
typer app behind ``vertint``) in this process, with stderr captured and its exit code read from
``SystemExit``, which saves starting Python and importing the package for each; the cases in
:data:`SUBPROCESS` (a data file, a parameter, a crashing notebook, a running build) run the
installed ``vertint`` script in a subprocess, so that path stays covered. To add a case, add a
row to CASES: an id, a setup (what to break; it must put things back), the arguments, and the
expected message as a regular expression (``lit()`` for a literal one).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

import pytest
from conftest import tree_digest, vertint

pytestmark = pytest.mark.build

MONTH = "^20[0-9]{2}-(0[1-9]|1[0-2])$"  # runs.yml's pattern for YYYY-MM parameters
APPTS = "data/workforce_appointments_monthly.csv"  # header: month,appointments,basis,release,coverage,first_published
APPTS_COLUMNS = "month, appointments, basis, release, coverage, first_published"
CRASH = "raise RuntimeError('simulated crash mid-run')"


@contextlib.contextmanager
def restored(*paths: Path):
    """Put files back exactly as they were (even deleted ones) after a case mutates them."""
    saved = {p: p.read_bytes() for p in paths}
    try:
        yield
    finally:
        for p, content in saved.items():
            p.write_bytes(content)


# --------------------------------------------------------------------------- what a case can break

Setup = Callable[[Path], ContextManager]


def nothing(root: Path) -> ContextManager:
    return contextlib.nullcontext()


def edit(rel: str, change: Callable[[str], str], rehash: bool = False) -> Setup:
    """Rewrite one file with ``change``; with ``rehash``, also update its sha256 in the manifest, as
    someone would who edits data on purpose (so that the schema check, not the hash, must catch it)."""

    @contextlib.contextmanager
    def setup(root: Path):
        path, manifest = root / rel, root / "data" / "datapackage.yaml"
        with restored(path, manifest):
            old_text = path.read_text(encoding="utf-8")
            new_text = change(old_text)
            assert new_text != old_text, f"the case's edit of {rel} changed nothing"
            path.write_text(new_text, encoding="utf-8")
            if rehash:
                old, new = (hashlib.sha256(t.encode()).hexdigest() for t in (old_text, new_text))
                text = manifest.read_text(encoding="utf-8")
                assert old in text, f"{rel}: hash not in the manifest"
                manifest.write_text(text.replace(old, new), encoding="utf-8")
            yield

    return setup


def delete(rel: str) -> Setup:
    @contextlib.contextmanager
    def setup(root: Path):
        with restored(root / rel):
            (root / rel).unlink()
            yield

    return setup


def edit_notebook(rel: str, change: Callable[[dict], None]) -> Setup:
    """Change a chapter's source notebook (MyST markdown) through its notebook form, as an editor would."""
    from vertint.runner import read_source, write_source

    @contextlib.contextmanager
    def setup(root: Path):
        path = root / rel
        with restored(path):
            nb = read_source(path)
            change(nb)
            write_source(nb, path)
            yield

    return setup


def holding_the_build_lock(root: Path) -> ContextManager:
    """Another build is running: this process holds _build/.lock, as that build would."""
    from vertint.runner import build_lock

    return build_lock(root)


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert text.count(old) >= count, f"{old!r} not found"
        return text.replace(old, new, count)

    return change


def csv_cell(row: int, column: str, value: str) -> Callable[[str], str]:
    """Set one cell (row numbered as in the error messages: the header is row 1)."""
    def change(text: str) -> str:
        lines = text.splitlines()
        col = lines[0].split(",").index(column)
        cells = lines[row - 1].split(",")
        cells[col] = value
        lines[row - 1] = ",".join(cells)
        return "\n".join(lines) + "\n"

    return change


def append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


def set_parameter_default(name: str, value: str) -> Callable[[dict], None]:
    def change(nb: dict) -> None:
        cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
        src = "".join(cell["source"])
        new = re.sub(rf"^({name}\s*(?::\s*\w+)?\s*=\s*)[^#\n]+?(\s*(#|$))", rf"\g<1>{value}\g<2>", src, count=1, flags=re.M)
        assert new != src, f"parameter {name} not found"
        cell["source"] = new

    return change


def parameters_cell_append(line: str) -> Callable[[dict], None]:
    def change(nb: dict) -> None:
        cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
        cell["source"] = "".join(cell["source"]).rstrip("\n") + "\n" + line + "\n"

    return change


def insert_cell(index: int, source: str) -> Callable[[dict], None]:
    def change(nb: dict) -> None:
        nb["cells"].insert(index, {"cell_type": "code", "execution_count": None, "id": "simulated-crash",
                                   "metadata": {}, "outputs": [], "source": source})

    return change


def lit(text: str) -> str:
    return re.escape(text)


# --------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup
    args: tuple[str, ...]
    message: str  # regular expression for the text after "error: " on the first error line
    one_line: bool = True  # False: lines of detail (a notebook's traceback) may follow


HASH = "[0-9a-f]{12}…"

CASES = [
    # ---- bad files
    Case("data-hash-mismatch", edit(APPTS, append("2024-02,1,excl-covid-vaccinations,agp-2024-01,all-current-suppliers,false\n")), (),
         lit(f"{APPTS}: sha256 mismatch: manifest says ") + HASH + ", file is " + HASH
         + lit("; the file was changed without updating data/datapackage.yaml (refresh data deliberately with 'vertint data refresh')")),
    Case("data-missing-column", edit(APPTS, replace("month,appointments,", "month,appts,"), rehash=True), (),
         lit(f"{APPTS}: missing column 'appointments' (expected columns: {APPTS_COLUMNS})")),
    Case("data-wrong-type", edit(APPTS, csv_cell(2, "appointments", "many"), rehash=True), (),
         lit(f"{APPTS}: row 2, column 'appointments': type-error: Type error in the cell \"many\" in row \"2\" and field "
             "\"appointments\" at position \"2\": type is \"integer/default\"")),
    Case("data-blank-required", edit(APPTS, csv_cell(3, "basis", ""), rehash=True), (),
         lit(f"{APPTS}: row 3, column 'basis': constraint-error: The cell \"\" in row at position \"3\" and field \"basis\" "
             "at position \"3\" does not conform to a constraint: constraint \"required\" is \"True\"")),
    Case("data-file-missing", delete(APPTS), (),
         lit(f"{APPTS}: file listed in data/datapackage.yaml is missing")),
    Case("manifest-malformed-yaml", edit("data/datapackage.yaml", replace("resources:\n", "resources: [\n")), (),
         lit("data/datapackage.yaml: not valid YAML: line ") + r"\d+, column \d+: .+"),
    Case("claims-malformed-yaml", edit("claims/valencia.yml", append("- id: [valencia-unclosed\n")), (),
         lit("claims/valencia.yml: not valid YAML: line ") + r"\d+" + lit(", column 1: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)")),
    Case("claims-record-incomplete", edit("claims/valencia.yml", append("- {id: valencia-extra, chapter: valencia}\n")), (),
         lit("claims/valencia.yml: claim 'valencia-extra' lacks claim, source, published, section, made")),
    Case("runs-yml-bad-type", edit("runs.yml", replace("alpha: {type: float,", "alpha: {type: float64,")), (),
         lit("runs.yml: valencia.alpha: type must be one of str, int, float, bool, list")),
    Case("runs-yml-entry-without-path", edit("runs.yml", replace("    path: notebooks/valencia.md\n", "")), (),
         lit("runs.yml: valencia: expected a mapping with a 'path' (and title, data, parameters)")),
    Case("runs-yml-unknown-data", edit("runs.yml", replace("data: [valencia_indicator_counts,", "data: [valencia_nonesuch, valencia_indicator_counts,")), (),
         lit("data/datapackage.yaml: no resource named 'valencia_nonesuch' (known: ") + ".+"),
    Case("notebook-default-disagrees", edit_notebook("notebooks/valencia.md", set_parameter_default("alpha", "0.1")), (),
         lit("notebooks/valencia.md: parameter 'alpha' defaults to 0.1 in the notebook but 0.05 in runs.yml")),
    Case("notebook-parameter-undeclared", edit("runs.yml", replace("      smoke: {type: bool, default: false, help: \"Fast run for tests (no effect: this chapter",
                                                                    "      extra: {type: int, default: 1, help: \"x\"}\n      smoke: {type: bool, default: false, help: \"Fast run for tests (no effect: this chapter")), (),
         lit("notebooks/valencia.md: parameters cell declares ['alpha', 'cost_adjustment', 'indicator_correlation', 'indicator_counts', 'indicator_level', 'smoke', 'tie_handling'], "
             "runs.yml declares ['alpha', 'cost_adjustment', 'extra', 'indicator_correlation', 'indicator_counts', 'indicator_level', 'smoke', 'tie_handling']")),
    Case("notebook-missing", delete("notebooks/valencia.md"), (),
         lit("runs.yml: valencia: notebooks/valencia.md does not exist")),
    Case("notebook-parameters-cell-syntax-error", edit_notebook("notebooks/valencia.md", parameters_cell_append("alpha: float = (0.05")), (),
         lit("valencia.md: the parameters cell is not valid Python: '(' was never closed (line ") + r"\d+" + lit(")")),
    Case("toc-malformed-yaml", edit("_toc.yml", append("parts: [\n")), (),
         lit("_toc.yml: not valid YAML: line ") + r"\d+" + lit(", column 1: expected the node content, but found '<stream end>' (while parsing a flow node)")),
    Case("page-marker-missing", edit("book/claims_ledger.md", replace("<!-- vertint:ledger -->", "")), (),
         lit("generating the book's pages: claims_ledger.md: marker <!-- vertint:ledger --> not found")),
    # ---- bad parameters
    Case("param-unknown-notebook", nothing, ("-p", "nonesuch.x=1"),
         lit("override 'nonesuch.x=1': no notebook 'nonesuch' in runs.yml (known: context, models, workforce, admissions, valencia, rwt)")),
    Case("param-unknown", nothing, ("-p", "context.no_such_thing=1"),
         lit("notebook 'context' (notebooks/context.md) has no parameter 'no_such_thing' "
             "(declared: smoke, wolverhampton_reference, symphony_measure)")),
    Case("param-without-equals", nothing, ("-p", "workforce.measure"),
         lit("override 'workforce.measure': expected NOTEBOOK.PARAMETER=VALUE, e.g. workforce.measure=headcount")),
    Case("param-nan", nothing, ("-p", "valencia.alpha=nan"),
         lit("notebook 'valencia', parameter 'alpha': nan is out of range [0.001, 0.2]")),
    Case("param-inf", nothing, ("-p", "admissions.true_effect=inf"),
         lit("notebook 'admissions', parameter 'true_effect': inf is out of range [0.0, 0.5]")),
    Case("param-out-of-range", nothing, ("-p", "admissions.n_practices=31"),
         lit("notebook 'admissions', parameter 'n_practices': 31 is out of range [2, 30]")),
    Case("param-bad-choice", nothing, ("-p", "workforce.measure=heads"),
         lit("notebook 'workforce', parameter 'measure': 'heads' is not one of fte, headcount")),
    Case("param-bad-month", nothing, ("-p", "workforce.baseline=2015-13"),
         lit(f"notebook 'workforce', parameter 'baseline': '2015-13' does not match the pattern {MONTH} (e.g. '2015-09')")),
    Case("param-month-not-padded", nothing, ("-p", "workforce.record_month=2022-9"),
         lit(f"notebook 'workforce', parameter 'record_month': '2022-9' does not match the pattern {MONTH} (e.g. '2022-10')")),
    Case("param-bad-bool", nothing, ("-p", "context.smoke=maybe"),
         lit("notebook 'context', parameter 'smoke': expected bool, got 'maybe'")),
    Case("param-bad-int", nothing, ("-p", "workforce.loss_year=twenty"),
         lit("notebook 'workforce', parameter 'loss_year': expected int, got 'twenty'")),
    Case("param-bad-list-item", nothing, ("-p", "valencia.indicator_counts=26,15,x,9"),
         lit("notebook 'valencia', parameter 'indicator_counts': expected a comma-separated list of int, got '26,15,x,9'")),
    Case("variant-name-unsafe", nothing, ("--variant", "../elsewhere"),
         lit("variant name '../elsewhere': use letters, digits and _.,=+- only")),
    # ---- an interrupted build: a chapter raises after its first cells ran (the only case that starts a kernel)
    Case("notebook-raises-mid-run", edit_notebook("notebooks/valencia.md", insert_cell(9, CRASH)), (),
         lit("notebooks/valencia.md failed in cell 10: RuntimeError: simulated crash mid-run"), one_line=False),
    # ---- a build already running
    Case("concurrent-build", holding_the_build_lock, (),
         lit(f"another build is running (pid {os.getpid()}, started ") + r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
         + lit("); wait for it or remove _build/.lock if it is stale")),
]


# --------------------------------------------------------------------------- the test


def _last_good(root: Path) -> dict:
    build = root / "_build"
    return {
        "html": tree_digest(build / "html"),
        "claims.json": (build / "claims.json").read_bytes(),
        "state.json": (build / "state.json").read_bytes(),
        "cache": sorted(p.name for p in (build / "cache").iterdir()),
        "variants": sorted(p.name for p in (build / "variants").iterdir()) if (build / "variants").exists() else [],
    }


#: cases run through the installed ``vertint`` script in a subprocess; the rest call the CLI in-process
SUBPROCESS = {"data-hash-mismatch", "param-nan", "notebook-raises-mid-run", "concurrent-build"}


def vertint_in_process(root: Path, *args: str) -> subprocess.CompletedProcess:
    """``vertint ARGS`` through the command line's entry point in this process (VERTINT_ROOT=root),
    as a CompletedProcess: the exit code from SystemExit, stdout and stderr captured."""
    from vertint.cli import app

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in ("VERTINT_ROOT", "COLUMNS")}
    os.environ.update(VERTINT_ROOT=str(root), COLUMNS="200")
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                app(args=list(args), prog_name="vertint", standalone_mode=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(["vertint", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def site(book_copy):
    """The built copy and a fingerprint of its last good site, shared by every case."""
    return book_copy, _last_good(book_copy)


def test_catalogue_is_large_and_unique():
    ids = [c.id for c in CASES]
    assert len(ids) >= 20 and len(set(ids)) == len(ids)
    assert SUBPROCESS <= set(ids)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_input_is_refused(site, case: Case):
    root, before = site
    run = vertint if case.id in SUBPROCESS else vertint_in_process
    with case.setup(root):
        proc = run(root, "book", *case.args)
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors, f"no 'error: ' line in stderr:\n{proc.stderr}"
    assert re.fullmatch(case.message, errors[0].removeprefix("error: ")), f"\n  got: {errors[0]}\n want: error: {case.message}"
    if case.one_line:
        assert proc.stderr.strip() == errors[0], f"more than one line:\n{proc.stderr}"
    else:
        assert "Traceback" in proc.stderr or CRASH in proc.stderr
        assert f"The previous site at {root / '_build' / 'html'} was left untouched." in proc.stderr
    assert _last_good(root) == before, "the last good site was changed"


def test_stale_lock_from_a_dead_build_does_not_block(site):
    """flock, not the file, is the lock: a leftover _build/.lock naming a dead process is ignored."""
    root, before = site
    lock = root / "_build" / ".lock"
    lock.write_text('{"pid": 999999999, "started": "2000-01-01 00:00:00"}\n')
    proc = vertint(root, "book")
    assert proc.returncode == 0, proc.stderr
    assert "Up to date" in proc.stderr
    assert _last_good(root) == before

"""Shared fixtures. Build tests work in a copy of the repository (``VERTINT_ROOT``), so they never
touch the developer's own ``_build``."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VERTINT = BIN / "vertint"
IGNORE = shutil.ignore_patterns(".venv", "_build", ".pytest_cache", "__pycache__", "*.egg-info", ".ipynb_checkpoints")


def copy_repo(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=IGNORE, symlinks=True)
    return dest


def _command(root: Path, args: tuple[str, ...], offline: bool = False, extra_env: dict | None = None) -> tuple[list[str], dict]:
    """The ``vertint`` command line for ``root`` (in a network namespace of its own if ``offline``)
    and its environment."""
    env = dict(os.environ, VERTINT_ROOT=str(root), PYTHONHASHSEED="0", COLUMNS="200", **(extra_env or {}))
    cmd = [str(VERTINT), *args]
    if offline:
        inner = " ".join(_q(c) for c in cmd)
        cmd = ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {inner}"]
    return cmd, env


def vertint(root: Path, *args: str, offline: bool = False, timeout: int = 900, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    cmd, env = _command(root, args, offline, extra_env)
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def _q(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def can_unshare() -> tuple[bool, str]:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False, "unshare or ip not installed"
    proc = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True)
    if proc.returncode != 0:
        return False, f"unshare -n not permitted here: {proc.stderr.strip()}"
    return True, ""


def data_root(dest: Path, names: list[str], header: str = "") -> Path:
    """A minimal project root holding only the named data resources and their manifest entries."""
    import yaml

    from vertint import data

    (dest / "data").mkdir(parents=True)
    (dest / "runs.yml").write_text("notebooks: {}\n", encoding="utf-8")
    man = data.manifest()
    man["resources"] = [r for r in man["resources"] if r["name"] in names]
    for r in man["resources"]:
        shutil.copy2(ROOT / "data" / r["path"], dest / "data" / r["path"])
    text = header + yaml.safe_dump(man, sort_keys=False, width=1000)
    (dest / "data" / "datapackage.yaml").write_text(text, encoding="utf-8")
    return dest


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path``, by relative path."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def pytest_collection_modifyitems(items):
    """Any test that uses the built book is a build test (``make test-fast`` leaves them out), and
    the build tests run last, so that the quick tests run while the book builds in the background
    (:func:`pytest_collection_finish`)."""
    for item in items:
        if "book_copy" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.build)
    items.sort(key=lambda item: item.get_closest_marker("build") is not None)  # stable: file order kept


# --------------------------------------------------------------------------- the unit tests' notebook runs

#: The chapter notebooks the unit tests execute, declared by their modules as ``NOTEBOOK_RUNS =
#: {key: (chapter, parameters)}`` and run one after another in a background thread from the start of
#: the session (each with papermill in a process of its own), so that they use the core the quick
#: tests leave idle; a test reads one with :func:`notebook_run`.
_RUNS: dict[str, dict] = {}


def _papermill(chapter: str, params: dict, directory: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """``chapter``'s source notebook executed with papermill (cwd notebooks/) with ``params``: the
    process (its stderr says why it failed) and the executed notebook."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{chapter}-run.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(source_as_ipynb(chapter, directory)), str(out), "-y", json.dumps(params),
           "--cwd", str(ROOT / "notebooks"), "--log-level", "ERROR"]
    with subprocess.Popen(cmd, cwd=ROOT / "notebooks", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _RUNNING.append(proc)
        try:
            stdout, stderr = proc.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        finally:
            _RUNNING.remove(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), out


#: The notebook run under way, killed if the session ends first (and then no other starts).
_RUNNING: list[subprocess.Popen] = []
_ENDED = threading.Event()


def _start_notebook_runs(session) -> None:
    import tempfile
    wanted: dict[str, tuple[str, dict]] = {}
    for module in dict.fromkeys(item.module for item in session.items if getattr(item, "module", None)):
        wanted.update(getattr(module, "NOTEBOOK_RUNS", {}))
    if not wanted:
        return
    base = Path(tempfile.mkdtemp(prefix="vertint-runs-"))
    _RUNS.update({key: {"done": threading.Event(), "base": base} for key in wanted})

    def run():
        for key, (chapter, params) in wanted.items():
            if _ENDED.is_set():
                return
            try:
                _RUNS[key]["result"] = _papermill(chapter, params, base / key)
            except BaseException as exc:  # noqa: BLE001 - handed to the test that reads this run
                _RUNS[key]["error"] = exc
            _RUNS[key]["done"].set()

    threading.Thread(target=run, daemon=True).start()


def notebook_run(key: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run ``key`` of the calling module's ``NOTEBOOK_RUNS`` (waiting for it): the papermill
    process and the executed notebook."""
    if key not in _RUNS:
        raise KeyError(f"notebook run {key!r}: not declared in the NOTEBOOK_RUNS of a test module collected in this session")
    run = _RUNS[key]
    run["done"].wait()
    if "error" in run:
        raise run["error"]
    return run["result"]


def notebook_claims(key: str) -> dict[str, dict]:
    """The claim records that run ``key`` emitted, by id (the run must have succeeded)."""
    import json

    from vertint import claims

    proc, out = notebook_run(key)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {r["id"]: r for r in claims.collect(json.loads(out.read_text(encoding="utf-8")))}


# --------------------------------------------------------------------------- the two cold builds

#: The two cold builds the build tests need, started in the background as soon as the selected
#: tests are known: ``first`` is the book the build tests use (``book_copy``), ``second`` a clean
#: build of the same tree in another folder, with the network cut where the machine allows, for the
#: determinism check. They run while the quick tests do (a 2-core machine is mostly idle then).
_BUILDS: dict[str, dict] = {}


def _start_build(name: str, base: Path, offline: bool, nice: int = 0) -> dict:
    root = copy_repo(base / name / "repo")
    log = base / name / "build.log"
    cmd, env = _command(root, ("book",), offline)
    if nice and shutil.which("nice"):
        cmd = ["nice", "-n", str(nice), *cmd]
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    return {"root": root, "proc": proc, "log": log, "offline": offline}


def pytest_collection_finish(session):
    _start_notebook_runs(session)
    if not any(item.get_closest_marker("build") for item in session.items):
        return
    if os.environ.get("VERTINT_TEST_BOOK") and not os.environ.get("CI"):
        return
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="vertint-builds-"))
    offline, why = can_unshare()
    _BUILDS["first"] = _start_build("first", base, offline=False)
    # the second build yields the processor to the first and to the tests (:func:`background_priority`):
    # the work that needs the built book waits for the first only, and one test at the end for the second
    _BUILDS["second"] = _start_build("second", base, offline=offline, nice=10)
    _BUILDS["second"]["why"] = why
    _BUILDS["base"] = {"root": base}
    _BUILDS["watch"] = threading.Thread(target=_when_built, args=(base,), daemon=True)
    _BUILDS["watch"].start()


def _when_built(base: Path) -> None:
    """In the background: once the first build is done, digest its site, start the work that needs
    it (:func:`_start_after_book`) and walk it in the browser (:func:`walk_site`), so that all of it
    runs while the last quick tests do."""
    root, proc = finished_build("first")
    if proc.returncode != 0 or not (root / "_build" / "html" / "index.html").exists():
        return
    BUILT_DIGEST.update(tree_digest(root / "_build" / "html"))
    _start_after_book(root, base / "after-book")
    if Path(CHROMIUM).exists():
        def walk():
            background_priority()
            try:
                _WALK["result"] = walk_site(root / "_build" / "html", root / "_build" / "screenshots")
            except Exception:  # noqa: BLE001 - the site_survey fixture walks again and so reports it
                pass

        _WALK["thread"] = threading.Thread(target=walk, daemon=True)
        _WALK["thread"].start()


def background_priority(nice: int = 10) -> None:
    """Lower the calling thread's priority, and so that of the processes it starts (on Linux a
    thread has its own nice value, and a child inherits it): the work begun in the background for
    the build tests yields the processor to the tests running now, which would otherwise wait for it
    at the end with one core idle."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):  # not Linux: the order of the work stays right, only slower
        pass


def pytest_sessionfinish(session):
    for name in ("first", "second"):
        if name in _BUILDS and _BUILDS[name]["proc"].poll() is None:
            _BUILDS[name]["proc"].kill()
            _BUILDS[name]["proc"].wait()
    if "base" in _BUILDS:
        shutil.rmtree(_BUILDS["base"]["root"], ignore_errors=True)
    _ENDED.set()
    for proc in list(_RUNNING):
        proc.kill()
    for run in _RUNS.values():
        shutil.rmtree(run["base"], ignore_errors=True)


def finished_build(name: str, timeout: int = 1800) -> tuple[Path, subprocess.CompletedProcess]:
    """Wait for background build ``name`` and return (its root, a CompletedProcess with its log)."""
    b = _BUILDS[name]
    try:
        b["proc"].wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        b["proc"].kill()
        b["proc"].wait()
    text = b["log"].read_text(encoding="utf-8", errors="replace")
    return b["root"], subprocess.CompletedProcess(b["proc"].args, b["proc"].returncode, text, "")


def second_build(base: Path) -> dict:
    """The second clean build (determinism): its root, process result, whether the network was cut
    and, if not, why. Started now, under ``base``, if the session did not start it (a reused
    ``VERTINT_TEST_BOOK``)."""
    if "second" not in _BUILDS:
        offline, why = can_unshare()
        _BUILDS["second"] = dict(_start_build("second", base, offline=offline), why=why)
    root, proc = finished_build("second")
    return {"root": root, "proc": proc, "offline": _BUILDS["second"]["offline"], "why": _BUILDS["second"].get("why", "")}


@pytest.fixture(scope="session")
def book_copy(tmp_path_factory) -> Path:
    """A copy of the repository with a cold, default build of the book (started in the background
    when the session began). For quick local iteration, ``VERTINT_TEST_BOOK=/path/to/built/copy``
    reuses an earlier copy (CI never sets it)."""
    if os.environ.get("VERTINT_TEST_BOOK") and not os.environ.get("CI"):
        root = Path(os.environ["VERTINT_TEST_BOOK"])
    else:
        if "first" not in _BUILDS:  # selected in a way the collection hook did not foresee
            _BUILDS["first"] = _start_build("first", tmp_path_factory.mktemp("book"), offline=False)
        root, proc = finished_build("first")
        assert proc.returncode == 0, f"build failed:\n{proc.stdout}"
        assert (root / "_build" / "html" / "index.html").exists()
    if "watch" in _BUILDS:
        _BUILDS["watch"].join()
    if not BUILT_DIGEST:
        BUILT_DIGEST.update(tree_digest(root / "_build" / "html"))
    _start_after_book(root, tmp_path_factory.mktemp("after-book"))
    return root


# --------------------------------------------------------------------------- work that needs the book

#: Work the build tests need that starts from the built book, begun in the background as soon as it
#: is built, each in a copy of it (so the tests that read ``book_copy`` see it as built): the
#: whole-book PDF, read back (``pdf``), the variant builds (``variants``, :func:`variant_build`)
#: and the new-chapter recipe (``scaffold``, test_scaffold.py). They run while the browser walk and
#: the last quick tests do; each is a list of steps run one after another in a thread.
_AFTER: dict[str, dict] = {}

#: The variant of issue 3's check (test_build.py); test_robustness_build.py adds the grid's own.
ISSUE3_VARIANT = ("-p", "workforce.measure=headcount", "-p", "workforce.include_trainees=true")

Step = tuple  # (key, function of the job's root): its result is stored under the key


def calls(*args_list: tuple[str, ...], timeout: int = 1800) -> list[Step]:
    """Steps that run ``vertint *args`` in the job's root, each keyed by its arguments."""
    return [(args, lambda root, args=args: vertint(root, *args, timeout=timeout)) for args in args_list]


def _job(root: Path, steps: list[Step], copy_from: Path, skip: tuple[str, ...] = (), digest: bool = False) -> dict:
    """Copy ``copy_from`` to ``root`` (less the folders named in ``skip``; now, before any test can
    change it), then run ``steps`` there in a thread: each step's (result, seconds) by key; with
    ``digest``, the site and claims as they were before the first step. An error ends the job;
    :func:`after_book` raises it."""
    shutil.copytree(copy_from, root, symlinks=True, ignore=shutil.ignore_patterns("screenshots", ".work", *skip))
    job = {"root": root, "results": {}, "before": {}, "error": None}

    def run():
        background_priority()
        try:
            if digest:
                job["before"] = {"html": tree_digest(root / "_build" / "html"), "claims": (root / "_build" / "claims.json").read_bytes()}
            for key, step in steps:
                started = time.monotonic()
                job["results"][key] = (step(root), time.monotonic() - started)
        except BaseException as exc:  # noqa: BLE001 - handed to the test that waits for the job
            job["error"] = exc

    job["thread"] = threading.Thread(target=run, daemon=True)
    job["thread"].start()
    return job


def _start_after_book(book: Path, base: Path) -> None:
    if _AFTER:
        return
    from test_robustness_build import grid_variant_args
    from test_scaffold import scaffold_steps

    variants = [("book", *ISSUE3_VARIANT)] + [("book", *a) for a in grid_variant_args(book)]
    _AFTER["variants"] = _job(base / "variants" / "repo", calls(*variants), book, digest=True)
    _AFTER["scaffold"] = _job(base / "scaffold" / "repo", scaffold_steps(), book, skip=("__pycache__", ".pytest_cache"))
    if Path(CHROMIUM).exists():
        from test_pdf import read_back

        _AFTER["pdf"] = _job(base / "pdf" / "repo", calls(("pdf",)) + [("read", read_back)], book, skip=("cache",))


def after_book(name: str) -> dict:
    """Wait for background job ``name`` (``pdf``, ``variants`` or ``scaffold``): its root, the digest
    of its site and claims before it ran, and each step's (result, seconds) by key."""
    job = _AFTER[name]
    job["thread"].join()
    if job["error"] is not None:
        raise job["error"]
    return job


def variant_build(*args: str) -> tuple[Path, subprocess.CompletedProcess]:
    """``vertint book *args`` in the variants' copy of the built book (begun in the background when
    the book was built, or run now if it was not one of those)."""
    job = after_book("variants")
    key = ("book", *args)
    if key not in job["results"]:
        job["results"][key] = (vertint(job["root"], *key), 0.0)
    return job["root"], job["results"][key][0]


#: Digest of ``book_copy``'s site as first built (before any test touched its folder).
BUILT_DIGEST: dict[str, str] = {}


def source_as_ipynb(name: str, directory: Path) -> Path:
    """A chapter's MyST source converted to .ipynb in ``directory`` (papermill reads only .ipynb)."""
    import json as _json

    from vertint.runner import read_source

    out = directory / f"{name}-source.ipynb"
    out.write_text(_json.dumps(read_source(ROOT / "notebooks" / f"{name}.md")), encoding="utf-8")
    return out


def source_cells(name: str) -> list[dict]:
    """A chapter's source notebook cells (from its MyST markdown)."""
    from vertint.runner import read_source

    return read_source(ROOT / "notebooks" / f"{name}.md")["cells"]


# --------------------------------------------------------------------------- the built site in a browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def need_browser():
    """Skip (or, on CI, fail) when Debian's chromium is missing: never download a browser."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is not installed (.ci/run installs it)")
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")


def serve(html: Path):
    """Serve ``html`` on 127.0.0.1 (an ephemeral port) from a daemon thread; returns (base URL, server)."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def handle(self):
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):  # the browser moved on mid-download
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def site_pages(html: Path) -> list[str]:
    """Every page of a built site, relative to its root."""
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html") if "_static" not in p.parts)


@pytest.fixture(scope="session")
def site(book_copy):
    """The book that ``book_copy`` built, served on 127.0.0.1: (base URL, html folder)."""
    need_browser()
    html = book_copy / "_build" / "html"
    base, server = serve(html)
    yield base, html
    server.shutdown()


#: The browser walk over the built book, when the background watcher made it.
_WALK: dict = {}


def walk_site(html: Path, shots: Path):
    """Every page of the site in ``html`` in each of :data:`sitecheck.PASSES` (one shared walk, two
    tabs at a time): results by (pass name, page), the passes by name, and the pages."""
    import sitecheck

    base, server = serve(html)
    try:
        pages = site_pages(html)
        results = sitecheck.survey(base, pages, sitecheck.PASSES, shots=shots)
    finally:
        server.shutdown()
    return results, {p.name: p for p in sitecheck.PASSES}, pages


@pytest.fixture(scope="session")
def site_survey(site, book_copy):
    """:func:`walk_site` over the book ``book_copy`` built (made in the background as soon as it was
    built, or now)."""
    if "thread" in _WALK:
        _WALK["thread"].join()
    if "result" in _WALK:
        return _WALK["result"]
    return walk_site(book_copy / "_build" / "html", book_copy / "_build" / "screenshots")

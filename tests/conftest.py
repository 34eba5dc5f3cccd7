"""Shared fixtures. Build tests work in a copy of the repository (``VERTINT_ROOT``), so they never
touch the developer's own ``_build``."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
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


# --------------------------------------------------------------------------- the two cold builds

#: The two cold builds the build tests need, started in the background as soon as the selected
#: tests are known: ``first`` is the book the build tests use (``book_copy``), ``second`` a clean
#: build of the same tree in another folder, with the network cut where the machine allows, for the
#: determinism check. They run while the quick tests do (a 2-core machine is mostly idle then).
_BUILDS: dict[str, dict] = {}


def _start_build(name: str, base: Path, offline: bool) -> dict:
    root = copy_repo(base / name / "repo")
    log = base / name / "build.log"
    cmd, env = _command(root, ("book",), offline)
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    return {"root": root, "proc": proc, "log": log, "offline": offline}


def pytest_collection_finish(session):
    if not any(item.get_closest_marker("build") for item in session.items):
        return
    if os.environ.get("VERTINT_TEST_BOOK") and not os.environ.get("CI"):
        return
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="vertint-builds-"))
    offline, why = can_unshare()
    _BUILDS["first"] = _start_build("first", base, offline=False)
    _BUILDS["second"] = _start_build("second", base, offline=offline)
    _BUILDS["second"]["why"] = why
    _BUILDS["base"] = {"root": base}
    import threading

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
        try:
            _WALK["result"] = walk_site(root / "_build" / "html", root / "_build" / "screenshots")
        except Exception:  # noqa: BLE001 - the site_survey fixture walks again and so reports it
            pass


def pytest_sessionfinish(session):
    for name in ("first", "second"):
        if name in _BUILDS and _BUILDS[name]["proc"].poll() is None:
            _BUILDS[name]["proc"].kill()
            _BUILDS[name]["proc"].wait()
    if "base" in _BUILDS:
        shutil.rmtree(_BUILDS["base"]["root"], ignore_errors=True)


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
#: whole-book PDF and the variant builds (:func:`variant_build`). They run while the browser walk
#: does; each is a list of ``vertint`` calls run one after another in a thread.
_AFTER: dict[str, dict] = {}

#: The variant of issue 3's check (test_build.py); test_robustness_build.py adds the grid's own.
ISSUE3_VARIANT = ("-p", "workforce.measure=headcount", "-p", "workforce.include_trainees=true")


def _job(root: Path, calls: list[tuple[str, ...]], timeout: int = 1800) -> dict:
    import threading

    job = {"root": root, "results": {}, "before": {}}

    def run():
        job["before"] = {"html": tree_digest(root / "_build" / "html"), "claims": (root / "_build" / "claims.json").read_bytes()}
        for args in calls:
            started = time.monotonic()
            job["results"][args] = (vertint(root, *args, timeout=timeout), time.monotonic() - started)

    job["thread"] = threading.Thread(target=run, daemon=True)
    job["thread"].start()
    return job


def _start_after_book(book: Path, base: Path) -> None:
    if _AFTER:
        return
    ignore = shutil.ignore_patterns("screenshots", ".work")
    if Path(CHROMIUM).exists():
        pdf_root = base / "pdf" / "repo"
        shutil.copytree(book, pdf_root, symlinks=True, ignore=shutil.ignore_patterns("cache", "screenshots", ".work"))
        _AFTER["pdf"] = _job(pdf_root, [("pdf",)])
    var_root = base / "variants" / "repo"
    shutil.copytree(book, var_root, symlinks=True, ignore=ignore)
    from test_robustness_build import grid_variant_args

    _AFTER["variants"] = _job(var_root, [("book", *ISSUE3_VARIANT)] + [("book", *a) for a in grid_variant_args(book)])


def after_book(name: str) -> dict:
    """Wait for background job ``name`` (``pdf`` or ``variants``): its root, the digest of its site
    and claims before it ran, and each call's (CompletedProcess, seconds)."""
    job = _AFTER[name]
    job["thread"].join()
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
    import threading
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
    if "result" in _WALK:
        return _WALK["result"]
    return walk_site(book_copy / "_build" / "html", book_copy / "_build" / "screenshots")

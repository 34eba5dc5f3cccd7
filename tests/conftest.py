"""Shared fixtures. Build tests work in a copy of the repository (``VERTINT_ROOT``), so they never
touch the developer's own ``_build``."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VERTINT = BIN / "vertint"
IGNORE = shutil.ignore_patterns(".venv", "_build", ".pytest_cache", "__pycache__", "*.egg-info", ".ipynb_checkpoints")


def copy_repo(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=IGNORE, symlinks=True)
    return dest


def vertint(root: Path, *args: str, offline: bool = False, timeout: int = 900, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, VERTINT_ROOT=str(root), PYTHONHASHSEED="0", COLUMNS="200", **(extra_env or {}))
    cmd = [str(VERTINT), *args]
    if offline:
        inner = " ".join(_q(c) for c in cmd)
        cmd = ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {inner}"]
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
    """Any test that uses the built book is a build test (``make test-fast`` leaves them out)."""
    for item in items:
        if "book_copy" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.build)


@pytest.fixture(scope="session")
def book_copy(tmp_path_factory) -> Path:
    """A copy of the repository with a cold, default build of the book. For quick local iteration,
    ``VERTINT_TEST_BOOK=/path/to/built/copy`` reuses an earlier copy (CI never sets it)."""
    if os.environ.get("VERTINT_TEST_BOOK") and not os.environ.get("CI"):
        return Path(os.environ["VERTINT_TEST_BOOK"])
    root = copy_repo(tmp_path_factory.mktemp("book") / "repo")
    proc = vertint(root, "book")
    assert proc.returncode == 0, f"build failed:\n{proc.stdout}\n{proc.stderr}"
    assert (root / "_build" / "html" / "index.html").exists()
    return root


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

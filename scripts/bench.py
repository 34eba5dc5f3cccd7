"""Performance benchmark for the closing notes (not a test: timings depend on the machine).

Measures, in a fresh copy of the repository with the venv already present:
  cold        `vertint book` with an empty _build (every notebook executed, book rendered)
  render-only `vertint book --render-only --force` (same executed notebooks, render again)
  no-change   `vertint book` again with nothing changed
and the size of every page (the shared vega bundle excluded). Goals: cold <= 3x render-only;
no-change <= 10% of cold; each page <= 300 KB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERTINT = Path(sys.executable).with_name("vertint")


def timed(root: Path, *args: str) -> float:
    env = dict(os.environ, VERTINT_ROOT=str(root))
    t0 = time.monotonic()
    proc = subprocess.run([str(VERTINT), "book", *args], cwd=root, env=env, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stderr}")
    return dt


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(".venv", "_build", "__pycache__", ".pytest_cache"))
        cold = timed(root)
        render = timed(root, "--render-only", "--force")
        nochange = timed(root)
        html = root / "_build" / "html"
        pages = {str(p.relative_to(html)): p.stat().st_size for p in html.rglob("*.html") if "_static" not in p.parts}
        bundle = sum(p.stat().st_size for p in html.glob("_static/vega-bundle.js"))
    result = {
        "cold_s": round(cold, 1),
        "render_only_s": round(render, 1),
        "no_change_s": round(nochange, 2),
        "cold_over_render": round(cold / render, 2),
        "no_change_over_cold": round(nochange / cold, 3),
        "largest_page_kb": round(max(pages.values()) / 1024, 1),
        "largest_page": max(pages, key=pages.get),
        "vega_bundle_kb": round(bundle / 1024, 1),
        "goals_met": {
            "cold<=3x_render": cold <= 3 * render,
            "no_change<=10%_cold": nochange <= 0.1 * cold,
            "pages<=300KB": max(pages.values()) <= 300 * 1024,
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

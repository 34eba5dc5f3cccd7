"""Benchmark of the robustness grid (issue 13) for the closing notes; not a test.

Computes every chapter's grid cold (cache bypassed) on 1 and on 2 local workers, then warm (from the
content-hash cache), and prints wall-clock seconds, the number of specifications per chapter and the
size of each chapter's encoded panels. Goal: the whole grid cold in under 60 s on 2 cores.

    .venv/bin/python scripts/bench_grid.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from vertint import robustness as rb


def _cold(workers: int) -> None:
    """One cold computation in this (fresh) process, into a private cache; prints the seconds."""
    declared = rb.load_choices()
    chapters = sorted({cc.chapter for cc in declared.values()})
    with tempfile.TemporaryDirectory() as tmp:
        rb.cache_dir = lambda root=None, _t=Path(tmp): _t  # noqa: E731 - a private cache for the run
        t0 = time.monotonic()
        rb.compute(chapters, executor=rb.LocalExecutor(workers), force=True)
        print(time.monotonic() - t0)


def main() -> None:
    import subprocess
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--cold":
        return _cold(int(sys.argv[2]))
    for workers in (2, 1):  # each in a fresh interpreter: no data or validation cached from a previous run
        out = subprocess.run([sys.executable, __file__, "--cold", str(workers)], capture_output=True, text=True, check=True)
        print(f"{'cold, ' + str(workers) + ' worker(s)':>20}: {float(out.stdout.split()[-1]):6.1f} s (fresh process, imports excluded)")
    declared = rb.load_choices()
    chapters = sorted({cc.chapter for cc in declared.values()})
    grids = rb.compute(chapters)
    t0 = time.monotonic()
    rb.compute(chapters)
    print(f"{'warm (cache)':>20}: {time.monotonic() - t0:6.1f} s")
    total = 0
    for chapter in chapters:
        claims = grids[chapter]["claims"]
        n = sum(len(g["specs"]) for g in claims.values())
        total += n
        size = sum(len(rb.panel(cid)._repr_html_().encode()) for cid in claims)
        print(f"{chapter:>12}: {len(claims):3d} claims, {n:5,d} specifications, panels {size / 1024:6.1f} KB")
    print(f"{'all':>12}: {len(declared):3d} claims, {total:5,d} specifications")


if __name__ == "__main__":
    main()

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


def main() -> None:
    declared = rb.load_choices()
    chapters = sorted({cc.chapter for cc in declared.values()})
    with tempfile.TemporaryDirectory() as tmp:
        rb.cache_dir = lambda root=None, _t=Path(tmp): _t  # noqa: E731 - a private cache for the run
        timings = {}
        for workers in (1, 2):
            t0 = time.monotonic()
            grids = rb.compute(chapters, executor=rb.LocalExecutor(workers), force=True)
            timings[f"cold, {workers} worker(s)"] = time.monotonic() - t0
        t0 = time.monotonic()
        rb.compute(chapters)
        timings["warm (cache)"] = time.monotonic() - t0
    for k, v in timings.items():
        print(f"{k:>20}: {v:6.1f} s")
    total = 0
    for chapter in chapters:
        claims = grids[chapter]["claims"]
        n = sum(len(g["specs"]) for g in claims.values())
        total += n
        size = sum(len(json.dumps(rb.panel_spec(cid, g)[0], separators=(",", ":"))) for cid, g in claims.items() if g["choices"])
        print(f"{chapter:>12}: {len(claims):3d} claims, {n:5,d} specifications, panels {size / 1024:6.1f} KB")
    print(f"{'all':>12}: {len(declared):3d} claims, {total:5,d} specifications")


if __name__ == "__main__":
    main()

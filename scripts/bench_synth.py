"""Benchmark the Wolverhampton power simulation (vertint.synth.simulate).

Usage: .venv/bin/python scripts/bench_synth.py [N_SIMS ...]

Times the default power grid (9 effect sizes, 0-20%, placebo-in-space inference) at the chapter's
default number of simulated studies (from runs.yml) and at any other counts given, best of
three runs each, and prints one line per count. Budget: the default grid must finish in under
20 s on 2 cores.
"""

from __future__ import annotations

import os
import sys
import time

import yaml

from vertint import paths, synth

BUDGET_S = 20.0


def main(argv: list[str]) -> int:
    runs = yaml.safe_load((paths.root() / "runs.yml").read_text(encoding="utf-8"))
    p = runs["notebooks"]["admissions"]["parameters"]
    default = int(p["n_sims"]["default"])
    counts = [default] + [int(a) for a in argv] if argv else [default, 1000]
    cal = synth.Calibration(patients=67402, effect_per_100=-0.11, relative_reduction=0.13)
    kw = {k: p[k]["default"] for k in ("n_practices", "n_donors", "pre_months", "post_months", "seed")}
    print(f"cores available: {os.cpu_count()}; grid: 9 effects 0-20%; "
          f"{kw['n_practices']} practices, {kw['n_donors']} donors, {kw['pre_months']}+{kw['post_months']} months")
    worst_default = 0.0
    for n in counts:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            synth.simulate(cal, n_sims=n, **kw)
            times.append(time.perf_counter() - t)
        best = min(times)
        if n == default:
            worst_default = max(worst_default, best)
        print(f"n_sims={n:>5}: best {best:6.2f} s, mean {sum(times) / 3:6.2f} s "
              f"({n * (kw['n_practices'] + kw['n_donors']):,} synthetic-control fits, reused across the 9 effects)")
    ok = worst_default < BUDGET_S
    print(f"default grid (n_sims={default}): {'OK' if ok else 'OVER BUDGET'} (budget {BUDGET_S:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Benchmark the size check of the Wolverhampton simulation (vertint.synth.size_check).

Usage: .venv/bin/python scripts/bench_size.py [N_SIMS]

Runs the check the admissions chapter runs by default: the noise calibrated to the standard error
implied by Yu et al.'s interval, then N_SIMS simulated studies with no effect (default: the
chapter's n_size_sims from runs.yml, at least 2,000), each tested with the permutation test over
all practices and with the earlier donors-only placebo test, in two worker processes. Prints the
wall time, the machine's cores and load, and the sizes with Monte Carlo standard errors.

Budget: under 60 s on 2 cores; size of the permutation test within 5 ± 1.5%. Exit status 1 if
either fails.
"""

from __future__ import annotations

import json
import os
import sys
import time

import yaml

from vertint import paths, synth

BUDGET_S = 60.0
SIZE_BAND = (0.035, 0.065)


def main(argv: list[str]) -> int:
    runs = yaml.safe_load((paths.root() / "runs.yml").read_text(encoding="utf-8"))
    p = runs["notebooks"]["admissions"]["parameters"]
    n = int(argv[0]) if argv else max(2000, int(p["n_size_sims"]["default"]))
    kw = {k: p[k]["default"] for k in ("n_practices", "n_donors", "pre_months", "post_months")}
    cal = synth.Calibration(patients=67402, effect_per_100=-0.11, relative_reduction=0.13,
                            se_per_100=(-0.045 + 0.18) / (2 * 1.959963984540054))
    t0 = time.perf_counter()
    res = synth.size_check(cal, n_sims=n, seed=int(p["seed"]["default"]), workers=2, **kw)
    wall = time.perf_counter() - t0
    ok_time, ok_size = wall < BUDGET_S, SIZE_BAND[0] <= res["size"] <= SIZE_BAND[1]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(json.dumps({
        "cores": os.cpu_count(), "load_1min_before_end": round(load, 2), "n_sims": res["n_sims"],
        "wall_s": round(wall, 1), "budget_s": BUDGET_S,
        "size_permutation": f"{100 * res['size']:.2f}% (MC SE {100 * res['size_mc_se']:.2f})",
        "size_placebo_donors_only": f"{100 * res['size_placebo_donors']:.2f}% (MC SE {100 * res['size_placebo_donors_mc_se']:.2f})",
        "null_sd_over_published_se": round(res["null_sd"] / res["target_se"], 3),
        "goals_met": {"time<60s": ok_time, "size_within_5±1.5%": ok_size},
    }, indent=2))
    return 0 if ok_time and ok_size else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

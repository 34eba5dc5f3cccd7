"""Benchmark the Wolverhampton simulation (vertint.synth).

Usage: .venv/bin/python scripts/bench_synth.py [N_SIMS ...]
       .venv/bin/python scripts/bench_synth.py --chapter [smoke|full ...]

Default mode: times the default power grid (9 effect sizes, 0-20%, placebo-in-space inference) at
the chapter's default number of simulated studies (from runs.yml) and at any other counts given,
best of three runs each, and prints one line per count. Budget: the default grid must finish in
under 20 s on 2 cores.

``--chapter``: times everything the admissions chapter simulates (:func:`vertint.synth.chapter_simulation`:
the noise calibration, power curve and scenarios, the sensitivity runs and the size check) with the
chapter's defaults from runs.yml, in smoke mode (as the tests run it) and in full mode (as the book
does), once each. Prints wall time and CPU time (this process and its worker processes) with the
load average before and after: on a shared machine the CPU time is the steadier figure. Budget: the
full run under 75 s wall on 2 otherwise idle cores.
"""

from __future__ import annotations

import os
import resource
import sys
import time

import yaml

from vertint import paths, synth

BUDGET_S = 20.0
CHAPTER_BUDGET_S = 75.0


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def chapter(modes: list[str]) -> int:
    """The chapter's simulation cell, timed (the same calls, parameters and smoke settings)."""
    from vertint import admissions as adm

    runs = yaml.safe_load((paths.root() / "runs.yml").read_text(encoding="utf-8"))
    p = {k: v["default"] for k, v in runs["notebooks"]["admissions"]["parameters"].items()}
    est, rep = adm.estimates(), adm.reported()
    yu = adm.yu_rederivation(est, rep)
    a = yu["admissions"]
    national = 1 - float(adm.row(est, "saunders2024", "emergency_admissions")["estimate"])
    cal = synth.Calibration(patients=int(rep["yu_patients"]), effect_per_100=a["estimate"],
                            relative_reduction=yu["relative_reduction_press"], se_per_100=a["se"])
    kw = {k: p[k] for k in ("n_practices", "n_donors", "pre_months", "post_months", "true_effect", "seed")}
    ok = True
    for mode in modes or ["smoke", "full"]:
        smoke = mode == "smoke"
        assume = synth.Assumptions(calibration_sims=200) if smoke else synth.Assumptions()
        load0 = os.getloadavg()[0]
        t, c = time.perf_counter(), _cpu()
        synth.chapter_simulation(cal, national, yu["relative_reduction_press"], **kw,
                                 n_sims=20 if smoke else p["n_sims"], n_size_sims=200 if smoke else p["n_size_sims"],
                                 sensitivity_rho=p["sensitivity_rho"], sensitivity_se_factor=p["sensitivity_se_factor"],
                                 assume=assume)
        wall, cpu = time.perf_counter() - t, _cpu() - c
        print(f"chapter simulation, {mode}: wall {wall:6.1f} s, CPU {cpu:6.1f} s "
              f"(load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after; {os.cpu_count()} cores)")
        if not smoke and wall >= CHAPTER_BUDGET_S:
            ok = False
            print(f"  over the budget of {CHAPTER_BUDGET_S:.0f} s (meaningful on 2 otherwise idle cores only)")
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--chapter":
        return chapter(argv[1:])
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

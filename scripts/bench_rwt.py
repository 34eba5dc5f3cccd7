"""Benchmark of the Royal Wolverhampton chapter (not a test: timings depend on the machine).

Executes notebooks/rwt.md with papermill at its run-matrix defaults, each run in a fresh kernel
(cold: nothing cached in memory; the chapter keeps no disk cache), the way `vertint book` does,
and prints every run's wall-clock seconds and the kernel's CPU seconds (user + system of the
finished child processes: steadier than wall time on a shared machine), with their medians.
Goal (issue 12): under 60 s on 2 cores.

    python scripts/bench_rwt.py [RUNS] [NOTEBOOK.PARAM=VALUE ...]
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from vertint import paths, runner


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv and argv[0].isdigit() else 3
    overrides = [a for a in argv if "=" in a]
    matrix = runner.load_matrix()
    runner.apply_overrides(matrix, overrides)
    params = dict(matrix["rwt"].values)
    src_md = matrix["rwt"].source
    seconds, cpu = [], []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "rwt.src.ipynb"
        runner._write_notebook(runner.read_source(src_md), src)
        for i in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            res = runner._execute(str(src), str(Path(tmp) / f"rwt-{i}.ipynb"), params, str(src_md.parent),
                                  str(paths.root()))
            if not res["ok"]:
                sys.exit(f"run {i + 1} failed: {res['error']}\n{res.get('traceback', '')}")
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds.append(round(res["seconds"], 1))
            cpu.append(round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1))
            print(f"run {i + 1}: {seconds[-1]} s wall, {cpu[-1]} s CPU", flush=True)
    print(json.dumps({"notebook": "rwt", "params": params, "runs_s": seconds, "median_s": statistics.median(seconds),
                      "cpu_s": cpu, "median_cpu_s": statistics.median(cpu)}))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Wall time of ``ringgeo figures`` (the standard set of notebooks/runs.yaml).

Runs the whole batch with 1 job, then with 2 jobs, each into a fresh temporary
output and build folder, and prints the wall time of each and the slowest runs.

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_figures.py [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(jobs: int) -> float:
    """Run ``ringgeo figures --jobs N`` in a subprocess (as a user would); return seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "ringgeo.cli", "figures", "--jobs", str(jobs),
               "--no-progress", "--output-dir", f"{tmp}/output", "--build-dir", f"{tmp}/build"]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=os.environ)
        seconds = time.perf_counter() - start
        if done.returncode:
            sys.exit(f"ringgeo figures --jobs {jobs} failed:\n{done.stderr.strip()}")
        runs = [line for line in done.stdout.splitlines() if line.startswith("ran ")]
        files = len(list(Path(tmp, "output").iterdir()))
    print(f"jobs={jobs}: {seconds:6.1f} s wall for {len(runs)} notebooks, {files} output files")
    for line in sorted(runs, key=lambda ln: float(ln.rsplit("(", 1)[1].split()[0]))[-3:]:
        print(f"    {line}")
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    print(f"ringgeo figures, standard set ({ROOT / 'notebooks' / 'runs.yaml'}), "
          f"{os.cpu_count()} CPUs")
    times = {jobs: bench(jobs) for jobs in args.jobs}
    if 1 in times:
        for jobs, seconds in times.items():
            if jobs != 1:
                print(f"speed-up with {jobs} jobs: {times[1] / seconds:.2f}x")


if __name__ == "__main__":
    main()

"""Wall time of ``ringgeo figures`` against the papermill floor, cold and warm cache.

In one run, times the standard set (notebooks/runs.yaml) and the same runner on
an empty parameterized notebook (a tagged ``parameters`` cell and nothing else)
run as many times with the same ``--jobs``; prints both and their ratio, first
with an empty parsed-data cache (cold: the batch builds it) and then with the
cache it left (warm), then with the cache switched off, and last with kernels
started as new processes instead of forked (``RINGGEO_FORK_KERNELS=0``). Each
``ringgeo figures`` runs in a subprocess, as a user would, into fresh temporary
output and cache folders (the data still comes from ``RINGGEO_DATA_DIR`` or the
download cache); the standard set's build folder is kept from one run to the
next, as a checkout keeps ``build/``.

    RINGGEO_DATA_DIR=../shared/data python benchmarks/bench_figures.py [--jobs 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
BATCH = ROOT / "notebooks" / "runs.yaml"


def _figures(batch: Path, jobs: int, env: dict, tmp: Path,
             build: Path | None = None) -> tuple[float, list[str]]:
    """Run ``ringgeo figures`` on a batch in a subprocess; return seconds and the 'ran' lines.

    ``build``: the build folder, kept between runs as a checkout keeps ``build/`` (the
    runner starts the runs that took longest last time first); else a fresh one.
    """
    out = Path(tempfile.mkdtemp(dir=tmp))
    cmd = [sys.executable, "-m", "ringgeo.cli", "figures", "--batch", str(batch),
           "--jobs", str(jobs), "--no-progress", "--output-dir", str(out / "output"),
           "--build-dir", str(build or out / "build")]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"ringgeo figures --batch {batch} --jobs {jobs} failed:\n{done.stderr.strip()}")
    shutil.rmtree(out)
    return seconds, [line for line in done.stdout.splitlines() if line.startswith("ran ")]


def _empty_batch(tmp: Path, runs: int) -> Path:
    """A batch of ``runs`` runs of a notebook holding only a tagged parameters cell."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("output_name = 'empty'")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp / "empty.ipynb")
    batch = tmp / "empty.yaml"
    batch.write_text(yaml.safe_dump({"runs": [
        {"name": f"empty{i}", "notebook": "empty.ipynb", "parameters": {"output_name": f"e{i}"}}
        for i in range(runs)]}))
    return batch


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1,
                        help="warm-cache measurements to take (the best is shown)")
    args = parser.parse_args(argv)
    runs = len(yaml.safe_load(BATCH.read_text())["runs"])
    print(f"ringgeo figures: {runs} standard runs ({BATCH}), --jobs {args.jobs}, "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        empty = _empty_batch(tmp, runs)
        env = {**os.environ, "RINGGEO_CACHE_DIR": str(tmp / "cache")}
        if not os.environ.get("RINGGEO_DATA_DIR"):  # downloads stay in the user's cache
            env["RINGGEO_DATA_DIR"] = str(_download_folder())
        env.pop("RINGGEO_PARSED_CACHE", None)
        floor, _ = _figures(empty, args.jobs, env, tmp)
        build = tmp / "build"  # the standard set's, kept from run to run as in a checkout
        cold, _ = _figures(BATCH, args.jobs, env, tmp, build)
        warm_times, warm_floor, lines = [], [], []
        for _ in range(args.repeat):
            warm_floor.append(_figures(empty, args.jobs, env, tmp)[0])
            seconds, lines = _figures(BATCH, args.jobs, env, tmp, build)
            warm_times.append(seconds)
        off_env = {**env, "RINGGEO_PARSED_CACHE": "0"}
        off, _ = _figures(BATCH, args.jobs, off_env, tmp, build)
        # kernels started as new processes, as papermill alone does (warm cache)
        new_env = {**env, "RINGGEO_FORK_KERNELS": "0"}
        floor_new, _ = _figures(empty, args.jobs, new_env, tmp)
        warm_new, _ = _figures(BATCH, args.jobs, new_env, tmp, build)
    warm, floor_w = min(warm_times), min(warm_floor)
    print(f"empty-notebook floor:      {floor:6.1f} s (cold run)   {floor_w:6.1f} s (warm run)")
    print(f"standard set, cold cache:  {cold:6.1f} s   ratio {cold / floor:.2f}")
    print(f"standard set, warm cache:  {warm:6.1f} s   ratio {warm / floor_w:.2f}")
    print(f"standard set, cache off:   {off:6.1f} s   ratio {off / floor_w:.2f} "
          f"(RINGGEO_PARSED_CACHE=0)")
    print(f"new kernel processes (RINGGEO_FORK_KERNELS=0): floor {floor_new:.1f} s, standard "
          f"set {warm_new:.1f} s (warm cache), ratio {warm_new / floor_new:.2f}")
    print("slowest warm runs:")
    for line in sorted(lines, key=lambda ln: float(ln.rsplit("(", 1)[1].split()[0]))[-3:]:
        print(f"    {line}")


def _download_folder() -> Path:
    import ringgeo

    paths = ringgeo.data.fetch_all()
    return next(iter(paths.values())).parent


if __name__ == "__main__":
    main()

"""Benchmark: what an input-uncertainty study costs, and where the time goes.

Runs ``run_sim.py uncertainty`` as a whole process (start-up, both stages, tables, report),
then reads the study's folders for the split:

* the draws: replications run, wall time, wall seconds per replication;
* the one-at-a-time stage: the same;
* what remains (start-up, choosing the inputs, tables, the report);

and measures the lean SimPy M/M/c loop in the same run, so that a figure can be compared
across days (the machine's speed moves by up to 2x). From the wall seconds per replication it
projects the default study (128 draws x 4 replications x 4 weeks x the four forms, plus
the default one-at-a-time stage) and a Sobol' study (Saltelli N = 64 over every declared
input, 2 replications, 4 weeks): the cost is linear in the replications run.

Usage: python bench/bench_uncertainty.py [--draws N] [--replications R] [--weeks W]
       [--workers K] [--one-at-a-time K] [--design sobol|saltelli]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_model import bare_mmc  # noqa: E402

DEFAULT_INPUTS = 30  # the inputs groningen_base.yaml declares
DEFAULT_ONE_AT_A_TIME = 6  # inputs the default study runs one at a time
FORMS = 4


def _stage(folder: Path) -> tuple[int, float]:
    """Replications and wall seconds of one stage (from meta.json's creation time to the
    last replication file written)."""
    meta = json.loads((folder / "meta.json").read_text())
    start = dt.datetime.fromisoformat(meta["created"]).timestamp()
    files = list((folder / "replications").glob("*.json"))
    end = max(p.stat().st_mtime for p in files)
    return len(files), end - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=16)
    p.add_argument("--replications", type=int, default=4)
    p.add_argument("--weeks", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--one-at-a-time", type=int, default=6)
    p.add_argument("--design", default="sobol")
    args = p.parse_args()

    cpu, events = bare_mmc(200_000)
    print(f"bare SimPy M/M/c loop: {200_000 / cpu:,.0f} customers per CPU-second")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "run_sim.py", "uncertainty",
            "--draws", str(args.draws), "--replications", str(args.replications),
            "--weeks", str(args.weeks), "--workers", str(args.workers),
            "--one-at-a-time", str(args.one_at_a_time), "--design", args.design,
            "--out", tmp, "--no-progress",
        ]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        (folder,) = [f for f in Path(tmp).iterdir() if f.is_dir()]
        n1, w1 = _stage(folder)
        second = [f for f in folder.iterdir() if f.name.endswith("_one_at_a_time")]
        n2, w2 = _stage(second[0]) if second else (0, 0.0)
    per_rep = (w1 + w2) / (n1 + n2)
    print(
        f"uncertainty study: {args.draws} draws ({args.design}), {args.replications} "
        f"replications, {args.weeks} weeks, {args.workers} workers"
    )
    print(f"  whole process                     {wall:8.1f} s wall")
    print(f"  the draws                         {w1:8.1f} s wall, {n1:6d} replications")
    print(f"  one at a time                     {w2:8.1f} s wall, {n2:6d} replications")
    print(f"  the rest (start, tables, report)  {wall - w1 - w2:8.1f} s wall")
    print(f"  wall seconds per replication      {per_rep:8.3f}")
    # a replication simulates its weeks plus a 7-day warm-up and a 1-day drain
    week_scale = (4 * 7 + 8) / (args.weeks * 7 + 8)
    default_reps = 128 * 4 * FORMS + (DEFAULT_ONE_AT_A_TIME * 5 + 1) * FORMS * 4
    saltelli_reps = 64 * (DEFAULT_INPUTS + 2) * FORMS * 2
    # the rest grows with the draws too (building and checking them, tables): projected
    # in proportion to the replications, which overstates its constant start-up part
    rest_per_rep = (wall - w1 - w2) / (n1 + n2)
    print("projection at this machine's speed today (linear in replications, 4 weeks):")
    for label, reps in (
        (f"default study, {default_reps:,} replications  ", default_reps),
        (f"Saltelli N = 64, {saltelli_reps:,} replications", saltelli_reps),
    ):
        minutes = reps * (per_rep * week_scale + rest_per_rep) / 60
        print(f"  {label} {minutes:6.1f} min wall")
    print("(measure a study itself with its own options, e.g. --design saltelli --draws 64")
    print(" --replications 2 --one-at-a-time 0: the whole-process line is then the answer)")


if __name__ == "__main__":
    main()

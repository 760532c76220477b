"""Benchmark: speed and scale of year-long runs.

Prints, for this machine:

1. one 52-week replication of each Groningen form: requests per CPU-second, SimPy events
   per CPU-second and the cost per event relative to a bare SimPy M/M/c loop measured in
   the same process (the headline ratio);
2. peak memory (resident set) of a separate process running one 52-week replication,
   without and with writing the per-request records;
3. CPU cost per simulated request as the horizon grows (4, 13, 52 weeks) and as the
   population grows (0.5x, 1x, 4x Groningen, 13 weeks, staff and vehicles scaled with it):
   flat means linear total cost;
4. parallel efficiency of replications over all cores: sequential CPU time / (cores x wall);
5. a study on a loopback dask cluster (one worker, one per core) next to the local pool;
6. the end-to-end figure: after-hours requests per CPU-second of the whole process
   ``run_sim.py compare --replications 8 --weeks 13 --workers 1`` (start-up, the four
   forms, KPIs, files and report included) over the lean SimPy loop's customers per
   CPU-second measured in this process.

Usage: python bench/bench_scale.py [--quick] [--only-end-to-end]
(--quick: shorter horizons, for a smoke run)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_model import bare_mmc  # noqa: E402

from sim.experiments.executors import LocalExecutor  # noqa: E402
from sim.experiments.replicate import replicate, run_replication  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

FORMS = ("separate", "colocated", "central")


STAFFING = (
    "mka.call_takers", "gp_post.triagists", "gp_post.consult_gps", "gp_post.visit_cars",
    "coordination.agents", "ambulances.on_duty",
    "teams.district_nurse.staff", "teams.mental_health.staff",
)  # fmt: skip


def scenario(form: str, weeks: int, population_factor: float = 1.0):
    """A Groningen form; a larger or smaller region gets proportionally more or fewer staff
    and vehicles, so that the load per server, and hence the dynamics, stay the same."""
    path = ROOT / "scenarios" / f"groningen_{form}.yaml"
    overrides = [f"run.weeks={weeks}"]
    if population_factor != 1.0:
        base = load_scenario(path)
        overrides.append(f"region.population={int(base.region.population * population_factor)}")
        data = base.model_dump()
        tables = list(STAFFING)
        if data["geography"] is not None:  # the fleet is the posts' vehicles
            tables += [f"geography.posts.{post}.vehicles" for post in data["geography"]["posts"]]
        for dotted in tables:
            table = data
            for part in dotted.split("."):
                table = table[part] if table is not None else None
            for day_part, n in (table or {}).items():
                overrides.append(
                    f"{dotted}.{day_part}={max(1, round(n * population_factor)) if n else 0}"
                )
    return load_scenario(path, overrides)


def timed(sc, replication: int = 0) -> tuple[float, int, int]:
    start = time.process_time()
    res = run_replication(sc, replication)
    return time.process_time() - start, res.records.n_events, len(res.records.requests["id"])


def peak_rss_mb(weeks: int, save_records: bool) -> float:
    """Peak resident memory of a fresh process running one replication: the child's own
    high-water mark (``VmHWM``), read by the child itself. The children's ``ru_maxrss`` is
    no measure of it: at ``exec`` Linux keeps the high-water mark of the forking process's
    memory, so a child of a large parent reports the parent's size."""
    code = textwrap.dedent(
        f"""
        import sys, tempfile
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from sim.experiments.replicate import replicate
        from sim.scenario import load_scenario
        path = {str(ROOT / "scenarios" / "groningen_separate.yaml")!r}
        sc = load_scenario(path, ["run.weeks={weeks}"])
        out = Path(tempfile.mkdtemp()) / "requests.csv.gz" if {save_records!r} else None
        replicate(sc, 0, sc.run.seed, None if out is None else str(out))
        status = Path("/proc/self/status").read_text().splitlines()
        print([line.split()[1] for line in status if line.startswith("VmHWM:")][0])
        """
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short horizons (smoke run)")
    parser.add_argument("--only-end-to-end", action="store_true", help="only section 6")
    args = parser.parse_args()
    if args.only_end_to_end:
        end_to_end(args.quick)
        return 0
    year = 8 if args.quick else 52
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, Python {sys.version.split()[0]}")

    bare = [bare_mmc(200_000, seed=s) for s in (1, 2, 3)]
    bare_per_event = statistics.median(c / e for c, e in bare)
    print(
        f"\n1. one {year}-week replication per form "
        f"(bare SimPy M/M/c: {1e6 * bare_per_event:.3f} us per event)"
    )
    print(
        f"   {'form':<10}{'requests':>10}{'events':>11}{'CPU s':>8}{'req/CPU-s':>11}"
        f"{'events/CPU-s':>14}{'x bare':>8}"
    )
    for form in FORMS:
        cpu, events, requests = timed(scenario(form, year))
        ratio = (cpu / events) / bare_per_event
        print(
            f"   {form:<10}{requests:>10,d}{events:>11,d}{cpu:>8.2f}{requests / cpu:>11,.0f}"
            f"{events / cpu:>14,.0f}{ratio:>8.2f}"
        )

    print(f"\n2. peak resident memory of one {year}-week replication (separate form)")
    print(f"   without records  {peak_rss_mb(year, False):8.0f} MB")
    print(f"   with records     {peak_rss_mb(year, True):8.0f} MB")

    print("\n3. CPU microseconds per simulated request (separate form)")
    for weeks in (2, 4, 8) if args.quick else (4, 13, 52):
        cpu, _, requests = timed(scenario("separate", weeks))
        print(f"   {weeks:>3} weeks, 1x population   {1e6 * cpu / requests:8.1f}")
    for factor in (0.5, 1.0, 4.0):
        cpu, _, requests = timed(scenario("separate", 4 if args.quick else 13, factor))
        print(
            f"   {4 if args.quick else 13:>3} weeks, {factor:g}x population "
            f"{1e6 * cpu / requests:8.1f}"
        )

    n = 2 * cores if args.quick else 4 * cores
    sc = scenario("separate", 4)
    jobs = [(sc, r, sc.run.seed, None) for r in range(n)]
    wall0 = time.perf_counter()
    for _ in LocalExecutor(1).run(replicate, jobs):
        pass
    seq_wall = time.perf_counter() - wall0
    wall0 = time.perf_counter()
    for _ in LocalExecutor(cores).run(replicate, jobs):
        pass
    par_wall = time.perf_counter() - wall0
    print(
        f"\n4. {n} replications of 4 weeks: sequential {seq_wall:.1f} s wall, "
        f"on {cores} cores {par_wall:.1f} s wall"
    )
    print(
        f"   speed-up {seq_wall / par_wall:.2f}x, "
        f"parallel efficiency {seq_wall / (cores * par_wall):.0%}"
    )
    dask_scaling(16 if args.quick else 64, cores)
    end_to_end(args.quick)
    return 0


def end_to_end(quick: bool) -> None:
    """After-hours requests per CPU-second of a whole ``compare`` process, over the lean
    loop's customers per CPU-second (both measured now, on this machine): five rounds
    (one with --quick), each a compare process with the lean loop run twice just before
    and twice just after it (the machine's speed drifts within a minute); the figure is
    the median of the rounds' ratios."""
    import csv
    import tempfile

    reps, weeks = (2, 2) if quick else (8, 13)
    rounds = 1 if quick else 5
    print(
        f"\n6. end to end: compare of the four forms, {reps} replications of {weeks} weeks, "
        f"one worker ({rounds} round(s))"
    )
    ratios = []
    for k in range(rounds):
        out = Path(tempfile.mkdtemp())
        command = [sys.executable, str(ROOT / "run_sim.py"), "compare"]
        command += ["--replications", str(reps), "--weeks", str(weeks), "--workers", "1"]
        command += ["--no-progress", "--out", str(out)]
        bare = [bare_mmc(100_000, seed=10 * k + s) for s in (1, 2)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        bare += [bare_mmc(100_000, seed=10 * k + s) for s in (3, 4)]
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        (folder,) = list(out.iterdir())
        with (folder / "kpis_by_replication.csv").open() as fh:
            requests = sum(float(row["requests.per_week"]) * weeks for row in csv.DictReader(fh))
        customers_per_cpu = statistics.median(100_000 / c for c, _ in bare)
        ratios.append(requests / cpu / customers_per_cpu)
        print(
            f"   round {k + 1}: {requests:,.0f} after-hours requests in {cpu:.1f} CPU s "
            f"({wall:.1f} s wall): {requests / cpu:,.0f} per CPU-second; lean SimPy loop "
            f"{customers_per_cpu:,.0f} customers per CPU-second; ratio {ratios[-1]:.2f}"
        )
    print(
        f"   end-to-end ratio {statistics.median(ratios):.2f} (median of {rounds}; "
        f"issue 12's target: 0.7)"
    )


def dask_scaling(n: int, cores: int) -> None:
    """Throughput of an n-replication study (2 weeks each) on a loopback dask cluster with
    one worker and with one worker per core, next to the local process pool."""
    try:
        from sim.experiments.executors import DaskExecutor
    except ImportError:
        print("\n5. dask: not installed (pip install -e '.[dask]')")
        return
    sc = scenario("separate", 2)
    jobs = [(sc, r, sc.run.seed, None) for r in range(n)]
    walls = {}
    for workers in (1, cores):
        for kind in ("local pool", "dask"):
            executor = LocalExecutor(workers) if kind == "local pool" else None
            if executor is None:
                executor = DaskExecutor("local", workers)
                list(executor.run(replicate, jobs[:workers]))  # start the workers' imports
            start = time.perf_counter()
            for _ in executor.run(replicate, jobs):
                pass
            walls[kind, workers] = time.perf_counter() - start
            executor.close()
    print(f"\n5. {n} replications of 2 weeks (wall seconds; replications per second)")
    for (kind, workers), wall in walls.items():
        print(f"   {kind:<11} {workers} worker(s) {wall:7.1f} s {n / wall:8.2f}/s")
    print(
        f"   dask, {cores} workers against 1: {walls['dask', 1] / walls['dask', cores]:.2f}x; "
        f"dask's overhead against the local pool on {cores} workers: "
        f"{walls['dask', cores] / walls['local pool', cores] - 1:+.0%}"
    )


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the model's speed per SimPy event next to a bare SimPy M/M/c loop.

Runs one replication of a scenario (default: groningen_separate over 4 weeks) several times
and a bare SimPy M/M/c queue (Resource, exponential arrivals and services) in the same
process, and prints medians of:

* simulated requests per CPU-second and SimPy events per CPU-second;
* customers per CPU-second of the lean loop, and the **per-request ratio**: the model's
  requests per CPU-second over the loop's customers per CPU-second, paired by repeat (the
  headline figure: 1.0 would make a simulated request as cheap as one bare customer).
  Each repeat runs one model replication and, right after it, the lean loop for a similar
  CPU time (25,000 customers), so that the two sides of a pair share the machine's moment
  (a shared machine's speed drifts within a minute);
* SimPy events per request and per customer;
* CPU microseconds per SimPy event for both, and their ratio;
* peak memory: the process's peak resident size, and the peak of Python allocations
  during one replication (tracemalloc, measured in a separate untimed run).

Usage: python bench/bench_model.py [--scenario FILE] [--weeks N] [--repeats K]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.experiments.replicate import run_replication  # noqa: E402
from sim.model import _core  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402


def bare_mmc(
    n_customers: int, servers: int = 5, rho: float = 0.8, seed: int = 1
) -> tuple[float, int]:
    """CPU seconds and SimPy events of a textbook M/M/c model with simpy.Resource."""
    rng = np.random.default_rng(seed)
    mu = 1.0 / 6.0
    lam = rho * servers * mu
    inter = rng.exponential(1.0 / lam, n_customers).tolist()
    service = rng.exponential(1.0 / mu, n_customers).tolist()
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)

    def customer(i: int):
        with desk.request() as req:
            yield req
            yield env.timeout(service[i])

    def source():
        for i in range(n_customers):
            yield env.timeout(inter[i])
            env.process(customer(i))

    env.process(source())
    start = time.process_time()
    env.run()
    cpu = time.process_time() - start
    return cpu, next(env._eid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario", type=Path, default=ROOT / "scenarios" / "groningen_separate.yaml"
    )
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    sc = load_scenario(args.scenario, (f"run.weeks={args.weeks}",))
    run_replication(sc, 0)  # warm-up: imports, caches

    n_customers = 25_000  # per repeat: about the CPU time of one 4-week replication
    model_cpu, bare, model_events, requests = [], [], 0, 0
    for rep in range(args.repeats):
        start = time.process_time()
        res = run_replication(sc, rep)
        cpu = time.process_time() - start
        model_events = res.records.n_events
        requests = len(res.records.requests["id"])
        del res
        model_cpu.append((cpu, model_events, requests))
        bare.append(bare_mmc(n_customers, seed=rep + 1))  # right after: the same moment

    per_event_model = [c / e for c, e, _ in model_cpu]
    req_per_cpu = [r / c for c, _, r in model_cpu]
    ev_per_cpu = [e / c for c, e, _ in model_cpu]

    per_event_bare = [c / e for c, e in bare]
    customers_per_cpu = [n_customers / c for c, _ in bare]
    per_request_ratio = [m / b for m, b in zip(req_per_cpu, customers_per_cpu, strict=True)]

    tracemalloc.start()
    run_replication(sc, 0)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    med = statistics.median
    print(
        f"scenario: {sc.name}, {args.weeks} weeks + {sc.run.warmup_days:g} days warm-up, "
        f"{args.repeats} repeats (medians)"
    )
    print(f"  build of the simulation core: {_core.BUILD}")
    print(f"  requests simulated per replication   {requests:>12,d}")
    print(f"  SimPy events per replication         {model_events:>12,d}")
    print(f"  CPU seconds per replication          {med(c for c, _, _ in model_cpu):>12.3f}")
    print(f"  requests per CPU-second              {med(req_per_cpu):>12,.0f}")
    print(f"  SimPy events per CPU-second          {med(ev_per_cpu):>12,.0f}")
    print(f"  SimPy events per request             {model_events / requests:>12.2f}")
    print(f"  CPU microseconds per event, model    {1e6 * med(per_event_model):>12.3f}")
    print(f"bare SimPy M/M/c loop (Resource, {n_customers:,d} customers a repeat, rho 0.8)")
    print(f"  customers per CPU-second             {med(customers_per_cpu):>12,.0f}")
    print(f"  SimPy events per customer            {bare[0][1] / n_customers:>12.2f}")
    print(f"  SimPy events per CPU-second          {med(e / c for c, e in bare):>12,.0f}")
    print(f"  CPU microseconds per event, bare     {1e6 * med(per_event_bare):>12.3f}")
    ratio = med(m / b for m, b in zip(per_event_model, per_event_bare, strict=True))
    print(
        f"per-request ratio, model requests / bare customers per CPU-second "
        f"{med(per_request_ratio):.2f}"
    )
    print(f"cost per event, model / bare loop      {ratio:>12.2f}x")
    print(f"peak Python allocations, one replication {traced_peak / 2**20:>10.1f} MB")
    print(f"peak resident memory of this process     {peak_rss_mb:>10.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

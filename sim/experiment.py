"""Experiments: replications, paired comparison on common random numbers, precision rule.

A replication is a pure function of (scenario, replication number, base seed), so the same
numbers come out whether replications run one after another or in a process pool, in any
order. Every scenario of a comparison runs on the same replication numbers and seed, so
paired differences cancel the noise the scenarios share (the same callers, needs and task
draws). Intervals are t-based (scipy.stats) over replications.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sim.kpis import Kpi, KpiContext, pool_names, registry
from sim.model import World
from sim.records import DESK_INDEX
from sim.scenario import Scenario

CONFIDENCE = 0.95

# fixed histogram bins, so replications add up
ANSWER_EDGES = np.arange(0.0, 20.0 + 1e-9, 0.25)
CARE_RATIO_EDGES = np.arange(0.0, 3.0 + 1e-9, 0.05)
A1_EDGES = np.arange(0.0, 40.0 + 1e-9, 0.5)


@dataclass(frozen=True)
class Task:
    scenario_index: int
    replication: int


def replicate(sc: Scenario, replication: int, base_seed: int, requests_path: str | None = None) -> dict[str, Any]:
    """Run one replication and return its KPIs and the aggregates the report plots."""
    from sim.kpis import compute_kpis

    world = World(sc, replication, base_seed)
    records = world.run()
    tl = world.timeline
    kpis = compute_kpis(sc, tl, records)
    ctx = KpiContext(sc, tl, records)
    out: dict[str, Any] = {
        "replication": replication,
        "kpis": kpis,
        "n_events": records.n_events,
        "n_requests": int(len(records.requests["id"])),
        "hist": _histograms(sc, ctx),
        "profiles": _profiles(sc, ctx),
    }
    if requests_path is not None:
        from pathlib import Path

        from sim.output import write_call_records, write_request_records, write_ride_records

        path = Path(requests_path)
        write_request_records(path, sc, records.requests, ctx.reported)
        write_call_records(path.with_name(path.name.replace("requests", "calls", 1)), records.calls)
        write_ride_records(path.with_name(path.name.replace("requests", "rides", 1)), records.rides)
    return out


def _histograms(sc: Scenario, ctx: KpiContext) -> dict[str, list[float]]:
    c = ctx.rec.calls
    out: dict[str, list[float]] = {}
    public = ctx.call_reported & ctx.call_public
    for desk in sc.active_desks():
        m = public & (c["desk"] == DESK_INDEX[desk]) & ~np.isnan(ctx.call_wait)
        w = np.minimum(ctx.call_wait[m], ANSWER_EDGES[-1] - 1e-9)
        out[f"answer.{desk}"] = np.histogram(w, ANSWER_EDGES)[0].astype(float).tolist()
    for urgency in dict.fromkeys(n.urgency for n in sc.needs.values()):
        m = ctx.reported & (ctx.urgency == urgency)
        ratio = ctx.time_to_care[m] / ctx.target[m]
        reached = ratio[~np.isnan(ratio)]
        h = np.histogram(np.minimum(reached, CARE_RATIO_EDGES[-1] - 1e-9), CARE_RATIO_EDGES)[0]
        out[f"care.{urgency}"] = h.astype(float).tolist() + [float(np.isnan(ratio).sum())]
    rides = ctx.rec.rides
    a1 = ctx.ride_reported & (rides["priority"] == 0)
    resp = (rides["on_scene_min"] - rides["call_taken_min"])[a1]
    out["a1_response"] = np.histogram(np.minimum(resp, A1_EDGES[-1] - 1e-9), A1_EDGES)[0].astype(float).tolist()
    return out


def _profiles(sc: Scenario, ctx: KpiContext) -> dict[str, list[float]]:
    """Sums by hour of week (after warm-up): busy and on-duty minutes per pool; answer
    waits and answered calls per desk."""
    tl = ctx.tl
    hours = np.arange(tl.n_hours)
    lo = int(tl.warmup_end_min // 60)
    hi = int(math.ceil(tl.arrivals_end_min / 60))
    window = (hours >= lo) & (hours < hi)
    how = tl.hour_of_week
    out: dict[str, list[float]] = {}
    for name in pool_names(sc):
        busy, present = ctx.pool_areas[name]
        out[f"busy.{name}"] = np.bincount(how[window], weights=busy[window], minlength=168).tolist()
        out[f"present.{name}"] = np.bincount(how[window], weights=present[window], minlength=168).tolist()
    c = ctx.rec.calls
    placed_hour = np.minimum((c["placed_min"] // 60).astype(np.int64), tl.n_hours - 1)
    public = ctx.call_reported & ctx.call_public & ~np.isnan(ctx.call_wait)
    for desk in sc.active_desks():
        m = public & (c["desk"] == DESK_INDEX[desk])
        h = how[placed_hour[m]]
        out[f"wait_sum.{desk}"] = np.bincount(h, weights=ctx.call_wait[m], minlength=168).tolist()
        out[f"wait_n.{desk}"] = np.bincount(h, minlength=168).astype(float).tolist()
    return out


# --------------------------------------------------------------------------- executors


class LocalExecutor:
    """Runs replications in this process (workers=1) or in a standard-library process pool."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))

    def run(
        self, fn: Callable[..., dict[str, Any]], jobs: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (job index, result) as jobs finish (in any order)."""
        if self.workers == 1 or len(jobs) <= 1:
            for i, args in enumerate(jobs):
                yield i, fn(*args)
            return
        pool = make_pool(min(self.workers, len(jobs)))
        pending: dict[Future[dict[str, Any]], int] = {}
        queue = list(enumerate(jobs))
        queue.reverse()
        # a few jobs per worker in flight, so an interrupt loses little and results stream
        limit = 2 * self.workers
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    i, args = queue.pop()
                    pending[pool.submit(fn, *args)] = i
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: pending[f]):
                    i = pending.pop(fut)
                    yield i, fut.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


class DaskExecutor:
    """Runs replications on a dask.distributed cluster through the same interface as
    LocalExecutor. ``address`` is a scheduler address (``tcp://host:8786``) or ``local``
    for a LocalCluster of one single-threaded worker process per core on this machine
    (loopback only). Results are identical to local runs: a replication depends only on
    its arguments."""

    def __init__(self, address: str, workers: int | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # the optional extra is not installed
            raise RuntimeError("--scheduler needs the optional extra: pip install -e '.[dask]'") from exc
        self._cluster = None
        if address == "local":
            n = max(1, workers if workers is not None else (os.cpu_count() or 1))
            self._cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or 1)

    def run(
        self, fn: Callable[..., dict[str, Any]], jobs: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        from dask.distributed import as_completed

        futures = {self._client.submit(fn, *args, pure=False): i for i, args in enumerate(jobs)}
        try:
            for fut in as_completed(list(futures)):
                yield futures[fut], fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(scheduler: str | None, workers: int | None) -> LocalExecutor | DaskExecutor:
    return LocalExecutor(workers) if scheduler is None else DaskExecutor(scheduler, workers)


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int
    sd: float

    @property
    def half_width(self) -> float:
        return 0.5 * (self.high - self.low)


def t_interval(values: Iterable[float], confidence: float = CONFIDENCE) -> Interval:
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1, math.nan)
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return Interval(mean, mean, mean, n, 0.0)
    low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=sd / math.sqrt(n))
    return Interval(mean, float(low), float(high), n, sd)


@dataclass(frozen=True)
class PairedDifference:
    interval: Interval
    p_value: float


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> PairedDifference:
    """b - a over the replications where both are defined; two-sided paired t-test."""
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if not (math.isnan(x) or math.isnan(y))]
    d = [y - x for x, y in pairs]
    interval = t_interval(d, confidence)
    if interval.n < 2:
        p = math.nan
    elif interval.sd == 0.0:
        p = 1.0 if interval.mean == 0.0 else 0.0
    else:
        t = interval.mean / (interval.sd / math.sqrt(interval.n))
        p = float(2 * stats.t.sf(abs(t), interval.n - 1))
    return PairedDifference(interval, p)


# --------------------------------------------------------------------------- results


@dataclass
class ScenarioResults:
    scenario: Scenario
    source: str
    replications: dict[int, dict[str, Any]] = field(default_factory=dict)

    def kpi_values(self, name: str, reps: Sequence[int]) -> list[float]:
        out = []
        for r in reps:
            v = self.replications[r]["kpis"].get(name)
            out.append(math.nan if v is None else float(v))
        return out


@dataclass
class Experiment:
    scenarios: list[ScenarioResults]
    base_seed: int
    replications: list[int]

    def kpis(self) -> list[Kpi]:
        """Union of the scenarios' KPI registries, in first-seen order."""
        seen: dict[str, Kpi] = {}
        for s in self.scenarios:
            for k in registry(s.scenario):
                seen.setdefault(k.name, k)
        return list(seen.values())

    def summary_rows(self) -> list[dict[str, Any]]:
        rows = []
        reps = self.replications
        for k in self.kpis():
            for s in self.scenarios:
                if k.name not in s.replications[reps[0]]["kpis"]:
                    continue
                iv = t_interval(s.kpi_values(k.name, reps))
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "unit": k.unit,
                        "scenario": s.scenario.name,
                        "mean": iv.mean,
                        "ci_low": iv.low,
                        "ci_high": iv.high,
                        "sd": iv.sd,
                        "n": iv.n,
                    }
                )
        return rows

    def comparison_rows(self) -> list[dict[str, Any]]:
        rows = []
        if len(self.scenarios) < 2:
            return rows
        reps = self.replications
        base = self.scenarios[0]
        for k in self.kpis():
            if k.name not in base.replications[reps[0]]["kpis"]:
                continue
            a = base.kpi_values(k.name, reps)
            for s in self.scenarios[1:]:
                if k.name not in s.replications[reps[0]]["kpis"]:
                    continue
                b = s.kpi_values(k.name, reps)
                diff = paired_difference(a, b)
                ia, ib = t_interval(a), t_interval(b)
                rows.append(
                    {
                        "kpi": k.name,
                        "label": k.label,
                        "unit": k.unit,
                        "baseline": base.scenario.name,
                        "scenario": s.scenario.name,
                        "baseline_mean": ia.mean,
                        "scenario_mean": ib.mean,
                        "difference": diff.interval.mean,
                        "diff_ci_low": diff.interval.low,
                        "diff_ci_high": diff.interval.high,
                        "p_value": diff.p_value,
                        "n_pairs": diff.interval.n,
                    }
                )
        return rows

    def precision_gap(self, target: float) -> float:
        """Largest relative half-width among headline KPIs and their paired differences
        (a difference's half-width is taken relative to the baseline's mean)."""
        worst = 0.0
        reps = self.replications
        headline = [k for k in self.kpis() if k.headline]
        base = self.scenarios[0]
        for k in headline:
            for s in self.scenarios:
                if k.name not in s.replications[reps[0]]["kpis"]:
                    continue
                iv = t_interval(s.kpi_values(k.name, reps))
                worst = max(worst, _relative(iv.half_width, iv.mean))
                if s is not base and k.name in base.replications[reps[0]]["kpis"]:
                    a = base.kpi_values(k.name, reps)
                    d = paired_difference(a, s.kpi_values(k.name, reps))
                    worst = max(worst, _relative(d.interval.half_width, t_interval(a).mean))
        return worst


def _relative(half_width: float, mean: float) -> float:
    if math.isnan(half_width):
        return math.inf
    if half_width == 0.0:
        return 0.0
    if mean == 0.0 or math.isnan(mean):
        return math.inf
    return abs(half_width / mean)


# --------------------------------------------------------------------------- orchestration


def _ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_pool(workers: int) -> ProcessPoolExecutor:
    # workers ignore Ctrl-C: the main process decides what to keep and stops them
    return ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)

"""The staffing search: the least staff per hour of the week that meets the norms.

Method (Feldman, Mandelbaum, Massey & Whitt, Management Science 54(2), 2008):

1. **Offered-load start.** One run with ample staff (nobody waits) measures, per pool and
   hour of the week, the arrival rate and the offered load (the mean number busy). The
   stationary Erlang-A model of each hour gives a first staffing: the least number whose
   probability of waiting is at most the pool's target ``alpha``.
2. **Iterative staffing algorithm (ISA).** Simulate the whole model with the current
   staffing (every desk at once, with common random numbers: the same replications every
   time); read, per pool and hour, the distribution of the number in the pool seen by
   arriving claims; staff each hour with the least number ``s`` for which
   ``P(in pool >= s) <= alpha``. Repeat until the staffing no longer changes. The
   probability of waiting is then about ``alpha`` in every hour, whatever the load.
3. **Target search.** The norms (urgent and regular answering, abandonment, call-back) are
   not a probability of waiting; for each pool the search finds the largest ``alpha`` whose
   ISA staffing meets every norm of that pool, by bracketing and bisection on a log scale.
   A norm is met when its one-sided bound at the stated confidence (over replications)
   meets it.
4. **Day parts.** A scenario staffs by day part, so each day part gets the largest hourly
   requirement inside it (the least constant number that covers every hour).
5. **Services** (``staffing.services``). With the desks held at the hourly staffing
   found, the same search staffs GP consult GPs, GP cars and the ambulance fleet to the
   care norms: the share of requests of each urgency reached within their need's target.
   Travel and the desks limit what any number of units can reach, so a care norm is
   also met within ``care_tolerance`` of the share unlimited units reach for the same
   callers (the start's run with ample units, paired). A service's claims are few, so
   its ISA never reads a tail lighter than Poisson (``isa_step``), and its target stays
   at most ``MAX_SERVICE_ALPHA``.

Hours a desk is closed get no staff; open hours get at least ``staffing.min_staff``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sim.experiments.statistics import t_interval
from sim.model.calendar import Timeline
from sim.scenario.hourly import HOUR_PARTS, hourly, with_tables
from sim.scenario.schema import Scenario
from sim.staffing.fleet import file_tables, own_table, scaled_fleet
from sim.staffing.measure import (
    MAX_IN_SYSTEM,
    StaffPool,
    front_desk_pools,
    norm_keys,
    service_pools,
    staffed_pools,
    summed,
)
from sim.staffing.shifts import ShiftPlan, cover
from sim.validation.queueing import ErlangA

Staffing = dict[str, np.ndarray]  # pool name -> staff per hour of the week (168)
Counts = list[dict[str, dict[str, np.ndarray]]]  # per replication, per pool, per count

#: The first target (probability of waiting) of every pool, and its bounds.
START_ALPHA = 0.2
MIN_ALPHA, MAX_ALPHA = 1e-3, 0.9
#: A service's patients do not hang up, so a queue that grows is not held back: its target
#: stays at or below this (at most half the requests wait for a free unit), where the ISA
#: settles; above it the staffing swings between a queue that explodes and none at all.
MAX_SERVICE_ALPHA = 0.5
#: The fleet on a map scales the scenario's plan by k = (START_ALPHA / alpha) ** this:
#: 1 at the first target, about 3.8 at the smallest, 0.8 at the largest.
SCALE_POWER = 0.25
#: The search stops when the bracket of every pool is this narrow (ratio of its ends).
BRACKET_RATIO = 1.25
MAX_ISA_ITERATIONS = 6
MAX_TARGET_STEPS = 10
#: Replication numbers of the verification start here (independent of the search's).
VERIFY_FIRST_REPLICATION = 100_000

Runner = Callable[[Scenario, Sequence[int], tuple[StaffPool, ...]], Counts]


@dataclass
class NormResult:
    """One norm of one pool over the open hours: mean over replications, interval, the
    one-sided bound at the search's confidence, the target, and whether it is met."""

    pool: str
    norm: str
    target: float
    mean: float
    low: float
    high: float
    bound: float
    met: bool
    offered_per_week: float
    # care norms: the share unlimited units reach for the same callers, and how the norm
    # was met ("norm", or "near unlimited" when only the tolerance clause held)
    reference: float = math.nan
    how: str = ""


@dataclass
class SearchResult:
    """What the search found: hourly requirement, day-part tables, targets, the steps."""

    scenario: Scenario
    pools: tuple[StaffPool, ...]
    hourly: Staffing
    alpha: dict[str, float]
    tables: dict[str, dict[str, int]]
    offered_load: dict[str, np.ndarray]
    arrivals_per_hour: dict[str, np.ndarray]
    steps: list[dict[str, Any]] = field(default_factory=list)
    norms: list[NormResult] = field(default_factory=list)
    verified: Counts = field(default_factory=list)
    # with shift patterns: each pool's roster of shifts, and its own verification
    shift_plans: dict[str, ShiftPlan] = field(default_factory=dict)
    shift_norms: list[NormResult] = field(default_factory=list)
    shift_verified: Counts = field(default_factory=list)
    # the scenario's own roster, run the same way: does it meet the norms today?
    own_norms: list[NormResult] = field(default_factory=list)


# --------------------------------------------------------------------------- hour by hour


def isa_step(
    hist: np.ndarray,
    alpha: float,
    open_how: np.ndarray,
    min_staff: int,
    poisson_tail: bool = False,
) -> np.ndarray:
    """The ISA's next staffing of one pool: per hour, the least ``s`` with
    ``P(in pool >= s) <= alpha`` under the distribution ``hist`` (168 x n).

    With ``poisson_tail`` (the services) the tail is never taken lighter than a Poisson
    tail of the same mean: a service's claims are few (a few rides an hour) and its
    targets small, so the seen distribution often holds too few claims to show a tail of
    ``alpha``; when nobody waits the number busy is Poisson for Poisson arrivals (the
    infinite-server law), which fills in where the data end."""
    total = hist.sum(axis=1)
    # tail[h, s] = claims that found at least s in the pool
    tail = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]
    if poisson_tail:
        n = np.arange(hist.shape[1])
        mean = np.divide(hist @ n, total, out=np.zeros(168), where=total > 0)
        tail = np.maximum(tail, stats.poisson.sf(n[None, :] - 1, mean[:, None]) * total[:, None])
    ok = tail <= alpha * total[:, None]
    ok = np.concatenate([ok, np.ones((168, 1), dtype=bool)], axis=1)
    s = np.argmax(ok, axis=1)
    s = np.maximum(s, min_staff)
    return np.where(open_how, s, 0).astype(np.int64)


def erlang_a_staffing(
    arrival_rate: float, service_rate: float, abandonment_rate: float, alpha: float, low: int
) -> int:
    """The least number of servers, at least ``low``, whose Erlang-A probability of waiting
    is at most ``alpha`` (rates per minute)."""
    s = max(low, 1)
    while s < MAX_IN_SYSTEM:
        if ErlangA(arrival_rate, service_rate, s, abandonment_rate).p_wait <= alpha:
            return s
        s += 1
    return s


def offered_load(
    counts: Counts, pools: Sequence[StaffPool], weeks_observed: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per pool and hour of the week, from a run where nobody waits: arrivals per minute,
    and the offered load (mean number in the pool seen by arrivals, PASTA)."""
    rates, loads = {}, {}
    n = np.arange(MAX_IN_SYSTEM + 1)
    for p in pools:
        hist = summed(counts, p.pool, "hist")
        arrivals = hist.sum(axis=1)
        minutes = weeks_observed * len(counts) * 60.0
        rates[p.pool] = np.divide(arrivals, minutes, out=np.zeros(168), where=minutes > 0)
        loads[p.pool] = np.divide(hist @ n, arrivals, out=np.zeros(168), where=arrivals > 0)
    return rates, loads


def weeks_observed(sc: Scenario) -> np.ndarray:
    """How many ordinary days' worth of each hour of the week the reporting window holds."""
    tl = Timeline.from_scenario(sc)
    hours = np.arange(tl.n_hours)
    start = hours * 60.0
    inside = (start >= tl.warmup_end_min) & (start < tl.arrivals_end_min) & (tl.day_type == 0)
    return np.bincount(tl.hour_of_week[inside], minlength=168).astype(float)


def seed_staffing(
    sc: Scenario,
    pools: Sequence[StaffPool],
    rates: Mapping[str, np.ndarray],
    loads: Mapping[str, np.ndarray],
    alpha: Mapping[str, float],
) -> Staffing:
    """The Erlang-A staffing of every pool and hour from its offered load."""
    low = sc.staffing.min_staff
    out = {}
    for p in pools:
        theta = SERVICE_PATIENCE_RATE if p.service else _patience_rate(sc, p.desk)
        s = np.zeros(168, dtype=np.int64)
        for h in range(168):
            if not p.open_how[h]:
                continue
            lam, load = rates[p.pool][h], loads[p.pool][h]
            if lam <= 0 or load <= 0:
                s[h] = low
                continue
            # a service's patients do not hang up: start the count at the load
            start = max(low, int(load)) if p.service else low
            s[h] = erlang_a_staffing(lam, lam / load, theta, alpha[p.pool], start)
        out[p.pool] = s
    return out


#: Services have no abandonment; Erlang-A with a patience of a week stands in for Erlang-C.
SERVICE_PATIENCE_RATE = 1.0 / (7 * 24 * 60.0)


def _patience_rate(sc: Scenario, desk: str) -> float:
    patience = sc.triage_of(desk).patience.mean
    return 1.0 / patience if patience > 0 else 1e6


# --------------------------------------------------------------------------- norms


def _share_per_replication(counts: Counts, pool: StaffPool, key: str) -> list[float]:
    """One norm's share over the pool's open hours, in each replication (nan: none offered)."""
    open_how = np.asarray(pool.open_how)
    out = []
    for c in counts:
        n = c[pool.pool][f"{key}_n"][open_how].sum()
        met = c[pool.pool][f"{key}_met"][open_how].sum()
        out.append(float(met / n) if n > 0 else math.nan)
    return out


def evaluate_norms(
    sc: Scenario,
    counts: Counts,
    pools: Sequence[StaffPool],
    weeks: float,
    reference: Mapping[str, Counts] | None = None,
) -> list[NormResult]:
    """Every norm that applies to each pool (a norm applies when the pool had such claims).
    A care norm is also met when its share is at most ``staffing.norms.care_tolerance``
    below the share of ``reference[pool]`` (the same replications with unlimited units of
    that service), paired."""
    confidence = sc.staffing.confidence
    out = []
    for p in pools:
        for key, _, target, at_most in norm_keys(sc, p):
            shares = _share_per_replication(counts, p, key)
            if all(math.isnan(x) for x in shares):
                continue
            two_sided = t_interval(shares, confidence)
            bound = _one_sided(shares, confidence, at_most)
            met = bound <= target + 1e-12 if at_most else bound >= target - 1e-12
            result = NormResult(
                p.pool,
                key,
                target,
                two_sided.mean,
                two_sided.low,
                two_sided.high,
                bound,
                bool(met),
                sum(float(c[p.pool][f"{key}_n"].sum()) for c in counts) / len(counts) / weeks,
                how="norm" if met else "",
            )
            if reference is not None and p.pool in reference:
                unlimited = _share_per_replication(reference[p.pool], p, key)
                _near_unlimited(sc, result, shares, unlimited)
            out.append(result)
    return out


def _one_sided(values: Sequence[float], confidence: float, at_most: bool) -> float:
    """The one-sided bound of the mean at ``confidence`` (upper for a most, else lower);
    the mean itself when there is no spread estimate (one value)."""
    one_sided = t_interval(values, 2.0 * confidence - 1.0)
    bound = one_sided.high if at_most else one_sided.low
    return t_interval(values, confidence).mean if math.isnan(bound) else bound


def _near_unlimited(
    sc: Scenario, result: NormResult, shares: Sequence[float], unlimited: Sequence[float]
) -> None:
    """The care norm's second clause: the paired shortfall from unlimited units is at most
    the tolerance (at the one-sided bound)."""
    result.reference = t_interval(unlimited, sc.staffing.confidence).mean
    pairs = [a - b for a, b in zip(shares, unlimited, strict=True)]
    shortfall = _one_sided(pairs, sc.staffing.confidence, at_most=False)
    if not result.met and shortfall >= -sc.staffing.norms.care_tolerance - 1e-12:
        result.met, result.how = True, "near unlimited"


def pools_meeting_norms(results: Sequence[NormResult]) -> dict[str, bool]:
    """Per pool: whether every norm that applies to it is met."""
    out: dict[str, bool] = {}
    for r in results:
        out[r.pool] = out.get(r.pool, True) and r.met
    return out


# --------------------------------------------------------------------------- the search


class Search:
    """One staffing search of one scenario (see the module). ``runner`` simulates a
    scenario on the given replications with the pools observed and returns their counts."""

    def __init__(
        self,
        sc: Scenario,
        runner: Runner,
        pools: Sequence[StaffPool] | None = None,
        fixed: Mapping[str, np.ndarray] | None = None,
    ):
        self.original = sc
        self.sc = hourly(sc)
        # the pools searched; ``fixed``: the hourly staffing of other pools, held
        self.pools = tuple(front_desk_pools(sc) if pools is None else pools)
        self.fixed = dict(fixed or {})
        self.runner = runner
        # per service: the counts with unlimited units of it (its care norms' reference)
        self.reference: dict[str, Counts] | None = None
        self.reps = list(range(sc.staffing.replications))
        self.weeks_observed = weeks_observed(self.sc)
        self.steps: list[dict[str, Any]] = []

    def scenario_at(self, staffing: Staffing) -> Scenario:
        """The hour-by-hour scenario with the pools staffed as given."""
        everything = {**self.fixed, **staffing}
        tables = {
            p.table: {HOUR_PARTS[h]: int(everything[p.pool][h]) for h in range(168)}
            for p in staffed_pools(self.original)
            if p.pool in everything
        }
        return with_tables(self.sc, file_tables(self.sc, tables))

    def simulate(self, staffing: Staffing) -> Counts:
        """The counts of every replication of the search at this hourly staffing."""
        return self.runner(self.scenario_at(staffing), self.reps, self.pools)

    def ample(self) -> Staffing:
        """Staff nobody waits for: three times the scenario's largest number, plus ten."""
        return {
            p.pool: np.where(np.asarray(p.open_how), ample_number(self.original, p), 0).astype(
                np.int64
            )
            for p in self.pools
        }

    def isa(self, start: Staffing, alpha: Mapping[str, float]) -> tuple[Staffing, Counts]:
        """Iterate the ISA from ``start`` to a staffing it no longer changes (or, when it
        keeps moving, the larger of its last two); the staffing and its counts."""
        low = self.original.staffing.min_staff
        staffing = start
        for _ in range(MAX_ISA_ITERATIONS):
            counts = self.simulate(staffing)
            nxt = {
                p.pool: (
                    self.scaled(alpha[p.pool])
                    if p.scaled
                    else isa_step(
                        summed(counts, p.pool, "hist"),
                        alpha[p.pool],
                        np.asarray(p.open_how),
                        low,
                        poisson_tail=bool(p.service),
                    )
                )
                for p in self.pools
            }
            if all(np.array_equal(nxt[k], staffing[k]) for k in staffing):
                return staffing, counts
            staffing = nxt
        staffing = {k: np.maximum(staffing[k], nxt[k]) for k in staffing}
        return staffing, self.simulate(staffing)

    def step(
        self, staffing: Staffing, alpha: Mapping[str, float]
    ) -> tuple[Staffing, dict[str, bool]]:
        """One ISA run at the targets ``alpha``, with its norms checked and noted."""
        staffing, counts = self.isa(staffing, alpha)
        weeks = self.original.run.weeks
        norms = evaluate_norms(self.sc, counts, self.pools, weeks, self.reference)
        met = pools_meeting_norms(norms)
        self.steps.append(
            {
                "alpha": dict(alpha),
                "staff_hours_per_week": {k: int(v.sum()) for k, v in staffing.items()},
                "met": met,
            }
        )
        return staffing, met

    def start(
        self, alpha: Mapping[str, float]
    ) -> tuple[Staffing, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The offered-load start: Erlang-A staffing at targets ``alpha`` from a run with
        ample staff; also the arrival rates (per minute) and offered loads it measured."""
        ample = self.ample()
        counts = self.simulate(ample)
        if any(p.care for p in self.pools):
            own = self.own()
            self.reference = {
                p.pool: self.simulate({**own, p.pool: ample[p.pool]}) for p in self.pools if p.care
            }
        rates, loads = offered_load(counts, self.pools, self.weeks_observed)
        seed = seed_staffing(self.sc, self.pools, rates, loads, alpha)
        seed.update({p.pool: self.scaled(alpha[p.pool]) for p in self.pools if p.scaled})
        return seed, rates, loads

    def scaled(self, alpha: float) -> np.ndarray:
        """The fleet on a map at target ``alpha``: the plan scaled (``SCALE_POWER``)."""
        return scaled_fleet(self.sc, (START_ALPHA / alpha) ** SCALE_POWER)

    def own(self) -> Staffing:
        """The scenario's own staffing of the pools searched, hour by hour."""
        return {
            p.pool: np.array(
                [own_table(self.sc, p.table)[part] for part in HOUR_PARTS], dtype=np.int64
            )
            for p in self.pools
        }

    def run(self) -> SearchResult:
        """The front desks' search; with ``staffing.services``, then the services' with the
        desks held at the staffing found (see the module)."""
        result = self.target_search()
        if not self.original.staffing.services:
            return result
        services = Search(
            self.original, self.runner, service_pools(self.original), fixed=result.hourly
        )
        more = services.target_search()
        self.pools = (*self.pools, *services.pools)
        self.fixed = {}
        self.steps += services.steps
        return SearchResult(
            scenario=self.original,
            pools=self.pools,
            hourly={**result.hourly, **more.hourly},
            alpha={**result.alpha, **more.alpha},
            tables={**result.tables, **more.tables},
            offered_load={**result.offered_load, **more.offered_load},
            arrivals_per_hour={**result.arrivals_per_hour, **more.arrivals_per_hour},
            steps=self.steps,
        )

    def target_search(self) -> SearchResult:
        """Offered-load start, then the target search with the ISA (see the module)."""
        alpha = {p.pool: START_ALPHA for p in self.pools}
        staffing, rates, loads = self.start(alpha)
        brackets = {
            p.pool: _Bracket(top=MAX_SERVICE_ALPHA if p.service else MAX_ALPHA) for p in self.pools
        }
        for _ in range(MAX_TARGET_STEPS):
            staffing, met = self.step(staffing, alpha)
            for name, bracket in brackets.items():
                bracket.note(alpha[name], met[name])
            if all(b.narrow for b in brackets.values()):
                break
            alpha = {name: b.next() for name, b in brackets.items()}
        # the pools together at their largest feasible targets (desks pass calls to each
        # other, so a target found with the others elsewhere is checked again)
        for _ in range(3):
            alpha = {name: b.best for name, b in brackets.items()}
            staffing, met = self.step(staffing, alpha)
            if all(met.values()):
                break
            for name, ok in met.items():
                if not ok:
                    brackets[name].lower()
        return SearchResult(
            scenario=self.original,
            pools=self.pools,
            hourly=staffing,
            alpha=alpha,
            tables=day_part_tables(self.original, self.pools, staffing),
            offered_load=loads,
            arrivals_per_hour={k: 60.0 * v for k, v in rates.items()},
            steps=self.steps,
        )


def ample_number(sc: Scenario, pool: StaffPool) -> int:
    """Staff nobody waits for: three times the scenario's largest number, plus ten."""
    return 3 * max(own_table(sc, pool.table).values()) + 10


@dataclass
class _Bracket:
    """The largest target known to meet the norms (``ok``) and the smallest known to
    fail (``bad``) of one pool."""

    ok: float | None = None
    bad: float | None = None
    top: float = MAX_ALPHA  # the largest target tried

    def note(self, alpha: float, met: bool) -> None:
        if met and (self.ok is None or alpha > self.ok):
            self.ok = alpha
        if not met and (self.bad is None or alpha < self.bad):
            self.bad = alpha

    @property
    def narrow(self) -> bool:
        """Whether the search of this pool is done."""
        if self.ok is None:
            return self.bad is not None and self.bad <= MIN_ALPHA
        return self.ok >= self.top or (self.bad is not None and self.bad / self.ok < BRACKET_RATIO)

    def next(self) -> float:
        if self.narrow:
            return self.best
        if self.ok is not None and self.bad is not None:
            return math.sqrt(self.ok * self.bad)
        if self.ok is not None:
            return min(self.top, self.ok * 2.5)
        assert self.bad is not None
        return max(MIN_ALPHA, self.bad / 2.5)

    @property
    def best(self) -> float:
        """The target to use: the largest that met the norms (the smallest tried if none)."""
        if self.ok is not None:
            return self.ok
        return MIN_ALPHA if self.bad is None else max(MIN_ALPHA, self.bad / 2.5)

    def lower(self) -> None:
        """The best target failed beside the other pools: try one a step below it."""
        self.bad = self.best
        self.ok = max(MIN_ALPHA, self.bad / 1.5)


def day_part_tables(
    sc: Scenario, pools: Sequence[StaffPool], staffing: Staffing
) -> dict[str, dict[str, int]]:
    """Each pool's hourly requirement as a table by the scenario's day parts: the largest
    requirement of the hours in each day part."""
    part_of_hour = sc.calendar.day_part_of_hour()
    out = {}
    for p in pools:
        table = {part: 0 for part in sc.calendar.day_parts}
        for h, part in enumerate(part_of_hour):
            table[part] = max(table[part], int(staffing[p.pool][h]))
        out[p.table] = table
    return out


def verify(search: Search, result: SearchResult) -> SearchResult:
    """Run the scenario with the day-part tables on replications independent of the
    search's (its own shift rule), and check every norm with its interval; the same for
    the scenario's own roster and, with shift patterns, the roster of shifts (hour by
    hour, level rule). With services staffed, each roster is also run with unlimited units
    of each service in turn (the rest as the roster has them), the reference of that
    service's care norms."""
    original = search.original
    n = original.staffing.verify_replications
    reps = list(range(VERIFY_FIRST_REPLICATION, VERIFY_FIRST_REPLICATION + n))
    weeks = original.run.weeks
    pools = search.pools
    services = [p for p in pools if p.service]

    def check(sc: Scenario) -> tuple[Counts, list[NormResult]]:
        counts = search.runner(sc, reps, pools)
        reference = {}
        for p in services:
            top = ample_number(original, p)
            unlimited = {p.table: {part: top for part in sc.calendar.day_parts}}
            ample = with_tables(sc, file_tables(sc, unlimited))
            reference[p.pool] = search.runner(ample, reps, pools)
        return counts, evaluate_norms(sc, counts, pools, weeks, reference)

    result.own_norms = check(original)[1]
    sc = with_tables(original, file_tables(original, result.tables))
    result.verified, result.norms = check(sc)
    patterns = original.staffing.shifts
    if patterns is not None:
        result.shift_plans = {
            p.pool: cover(result.hourly[p.pool], patterns.starts, patterns.lengths) for p in pools
        }
        on_duty = {name: plan.on_duty for name, plan in result.shift_plans.items()}
        result.shift_verified, result.shift_norms = check(search.scenario_at(on_duty))
    return result

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

Hours a desk is closed get no staff; open hours get at least ``staffing.min_staff``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.statistics import t_interval
from sim.model.calendar import Timeline
from sim.scenario.hourly import HOUR_PARTS, hourly, with_tables
from sim.scenario.schema import Scenario
from sim.staffing.measure import MAX_IN_SYSTEM, NORMS, DeskPool, front_desk_pools, summed
from sim.staffing.shifts import ShiftPlan, cover
from sim.validation.queueing import ErlangA

Staffing = dict[str, np.ndarray]  # pool name -> staff per hour of the week (168)
Counts = list[dict[str, dict[str, np.ndarray]]]  # per replication, per pool, per count

#: The first target (probability of waiting) of every pool, and its bounds.
START_ALPHA = 0.2
MIN_ALPHA, MAX_ALPHA = 1e-3, 0.9
#: The search stops when the bracket of every pool is this narrow (ratio of its ends).
BRACKET_RATIO = 1.25
MAX_ISA_ITERATIONS = 6
MAX_TARGET_STEPS = 10
#: Replication numbers of the verification start here (independent of the search's).
VERIFY_FIRST_REPLICATION = 100_000

Runner = Callable[[Scenario, Sequence[int], tuple[DeskPool, ...]], Counts]


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


@dataclass
class SearchResult:
    """What the search found: hourly requirement, day-part tables, targets, the steps."""

    scenario: Scenario
    pools: tuple[DeskPool, ...]
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


def isa_step(hist: np.ndarray, alpha: float, open_how: np.ndarray, min_staff: int) -> np.ndarray:
    """The ISA's next staffing of one pool: per hour, the least ``s`` with
    ``P(in pool >= s) <= alpha`` under the distribution ``hist`` (168 x n)."""
    total = hist.sum(axis=1)
    # tail[h, s] = claims that found at least s in the pool
    tail = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]
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
    counts: Counts, pools: Sequence[DeskPool], weeks_observed: np.ndarray
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
    pools: Sequence[DeskPool],
    rates: Mapping[str, np.ndarray],
    loads: Mapping[str, np.ndarray],
    alpha: Mapping[str, float],
) -> Staffing:
    """The Erlang-A staffing of every pool and hour from its offered load."""
    low = sc.staffing.min_staff
    out = {}
    for p in pools:
        patience = sc.triage_of(p.desk).patience.mean
        theta = 1.0 / patience if patience > 0 else 1e6
        s = np.zeros(168, dtype=np.int64)
        for h in range(168):
            if not p.open_how[h]:
                continue
            lam, load = rates[p.pool][h], loads[p.pool][h]
            if lam <= 0 or load <= 0:
                s[h] = low
                continue
            s[h] = erlang_a_staffing(lam, lam / load, theta, alpha[p.pool], low)
        out[p.pool] = s
    return out


# --------------------------------------------------------------------------- norms


def _share_per_replication(counts: Counts, pool: DeskPool, key: str) -> list[float]:
    """One norm's share over the pool's open hours, in each replication (nan: none offered)."""
    open_how = np.asarray(pool.open_how)
    out = []
    for c in counts:
        n = c[pool.pool][f"{key}_n"][open_how].sum()
        met = c[pool.pool][f"{key}_met"][open_how].sum()
        out.append(float(met / n) if n > 0 else math.nan)
    return out


def evaluate_norms(
    sc: Scenario, counts: Counts, pools: Sequence[DeskPool], weeks: float
) -> list[NormResult]:
    """Every norm that applies to each pool (a norm applies when the pool had such claims)."""
    norms = sc.staffing.norms
    confidence = sc.staffing.confidence
    targets = {
        "urgent": norms.urgent_answered_share,
        "regular": norms.regular_answered_share,
        "abandoned": norms.abandoned_share_max,
        "callback": norms.callback.share if norms.callback is not None else math.nan,
    }
    out = []
    for p in pools:
        for key, _ in NORMS:
            if math.isnan(targets[key]):
                continue
            shares = _share_per_replication(counts, p, key)
            if all(math.isnan(x) for x in shares):
                continue
            two_sided = t_interval(shares, sc.staffing.confidence)
            one_sided = t_interval(shares, 2.0 * confidence - 1.0)
            at_most = key == "abandoned"
            bound = one_sided.high if at_most else one_sided.low
            if math.isnan(bound):  # one replication, or no spread estimate
                bound = two_sided.mean
            met = bound <= targets[key] + 1e-12 if at_most else bound >= targets[key] - 1e-12
            offered = sum(float(c[p.pool][f"{key}_n"].sum()) for c in counts)
            out.append(
                NormResult(
                    p.pool,
                    key,
                    targets[key],
                    two_sided.mean,
                    two_sided.low,
                    two_sided.high,
                    bound,
                    bool(met),
                    offered / len(counts) / weeks,
                )
            )
    return out


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

    def __init__(self, sc: Scenario, runner: Runner):
        self.original = sc
        self.sc = hourly(sc)
        self.pools = tuple(front_desk_pools(sc))
        self.runner = runner
        self.reps = list(range(sc.staffing.replications))
        self.weeks_observed = weeks_observed(self.sc)
        self.steps: list[dict[str, Any]] = []

    def scenario_at(self, staffing: Staffing) -> Scenario:
        """The hour-by-hour scenario with the pools staffed as given."""
        tables = {
            p.table: {HOUR_PARTS[h]: int(staffing[p.pool][h]) for h in range(168)}
            for p in self.pools
        }
        return with_tables(self.sc, tables)

    def simulate(self, staffing: Staffing) -> Counts:
        """The counts of every replication of the search at this hourly staffing."""
        return self.runner(self.scenario_at(staffing), self.reps, self.pools)

    def ample(self) -> Staffing:
        """Staff nobody waits for: three times the scenario's largest number, plus ten."""
        out = {}
        for p in self.pools:
            table = self.original.staffing_tables()[p.table]
            top = 3 * max(table.values()) + 10
            out[p.pool] = np.where(np.asarray(p.open_how), top, 0).astype(np.int64)
        return out

    def isa(self, start: Staffing, alpha: Mapping[str, float]) -> tuple[Staffing, Counts]:
        """Iterate the ISA from ``start`` to a staffing it no longer changes (or, when it
        keeps moving, the larger of its last two); the staffing and its counts."""
        low = self.original.staffing.min_staff
        staffing = start
        for _ in range(MAX_ISA_ITERATIONS):
            counts = self.simulate(staffing)
            nxt = {
                p.pool: isa_step(
                    summed(counts, p.pool, "hist"),
                    alpha[p.pool],
                    np.asarray(p.open_how),
                    low,
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
        met = pools_meeting_norms(evaluate_norms(self.sc, counts, self.pools, weeks))
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
        counts = self.simulate(self.ample())
        rates, loads = offered_load(counts, self.pools, self.weeks_observed)
        return seed_staffing(self.sc, self.pools, rates, loads, alpha), rates, loads

    def run(self) -> SearchResult:
        """Offered-load start, then the target search with the ISA (see the module)."""
        alpha = {p.pool: START_ALPHA for p in self.pools}
        staffing, rates, loads = self.start(alpha)
        brackets = {p.pool: _Bracket() for p in self.pools}
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


@dataclass
class _Bracket:
    """The largest target known to meet the norms (``ok``) and the smallest known to
    fail (``bad``) of one pool."""

    ok: float | None = None
    bad: float | None = None

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
        return self.ok >= MAX_ALPHA or (self.bad is not None and self.bad / self.ok < BRACKET_RATIO)

    def next(self) -> float:
        if self.narrow:
            return self.best
        if self.ok is not None and self.bad is not None:
            return math.sqrt(self.ok * self.bad)
        if self.ok is not None:
            return min(MAX_ALPHA, self.ok * 2.5)
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
    sc: Scenario, pools: Sequence[DeskPool], staffing: Staffing
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
    hour, level rule)."""
    original = search.original
    n = original.staffing.verify_replications
    reps = list(range(VERIFY_FIRST_REPLICATION, VERIFY_FIRST_REPLICATION + n))
    weeks = original.run.weeks
    own = search.runner(original, reps, search.pools)
    result.own_norms = evaluate_norms(original, own, search.pools, weeks)
    sc = with_tables(original, result.tables)
    result.verified = search.runner(sc, reps, search.pools)
    result.norms = evaluate_norms(sc, result.verified, search.pools, weeks)
    patterns = original.staffing.shifts
    if patterns is not None:
        result.shift_plans = {
            p.pool: cover(result.hourly[p.pool], patterns.starts, patterns.lengths)
            for p in search.pools
        }
        on_duty = {name: plan.on_duty for name, plan in result.shift_plans.items()}
        result.shift_verified = search.runner(search.scenario_at(on_duty), reps, search.pools)
        result.shift_norms = evaluate_norms(sc, result.shift_verified, search.pools, weeks)
    return result

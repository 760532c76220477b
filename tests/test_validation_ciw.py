"""A second opinion from an independent simulator (Ciw) where theory has no closed form:
one desk with an hour-of-week arrival profile, a staffing schedule by day part with a
shift change at every day-part boundary (the outgoing staff finish the call in hand: the
scenario's ``handover`` rule, which is how Ciw's non-pre-emptive schedules work) and
exponential patience.

Both simulators run the same case for R independent replications; for each figure the
difference of their means must lie within the joint 99 % interval
(t-quantile x sqrt(se_ours^2 + se_ciw^2)). The reduced form below runs in CI; the full form
(more replications and weeks) runs with ``pytest -m validation``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from helpers import SCENARIOS
from sim.experiments.executors import LocalExecutor
from sim.experiments.replicate import run_replication
from sim.experiments.statistics import t_interval
from sim.model.calendar import Timeline, staffing_per_hour_of_week
from sim.model.demand import GroupDemand
from sim.scenario import Scenario, load_scenario

ciw = pytest.importorskip("ciw")

CASE = SCENARIOS / "validation" / "time_varying_desk.yaml"


def ours(sc: Scenario, replication: int) -> dict[str, float]:
    kpis = run_replication(sc, replication, sc.run.seed).kpis
    return {
        "abandon": kpis["answer.coordination.abandoned_share"],
        "wait_served": kpis["answer.coordination.mean_min"],
    }


def theirs(sc: Scenario, replication: int) -> dict[str, float]:
    """The same case built directly in Ciw from the scenario's own numbers."""
    tl = Timeline.from_scenario(sc)
    names = list(sc.demand.groups)
    rates = GroupDemand(sc, tl, names.index("calls"), "calls").rate_per_hour[:168] / 60.0
    staff = staffing_per_hour_of_week(sc, sc.coordination.agents)
    numbers, ends, offset = _weekly_shifts(staff, sc.calendar.day_part_of_hour())
    triage = sc.coordination.triage
    network = ciw.create_network(
        arrival_distributions=[
            ciw.dists.PoissonIntervals(
                rates=[float(r) for r in rates],
                endpoints=[(h + 1) * 60.0 for h in range(168)],
                max_sample_date=tl.arrivals_end_min,
            )
        ],
        service_distributions=[
            ciw.dists.Exponential(rate=1.0 / triage.handle_time["default"].mean)
        ],
        number_of_servers=[
            ciw.Schedule(
                numbers_of_servers=numbers, shift_end_dates=ends, preemption=False, offset=offset
            )
        ],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1.0 / triage.patience.mean)],
    )
    ciw.seed(100_000 + replication)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(tl.end_min)
    records = [
        r
        for r in sim.get_all_records()
        if tl.warmup_end_min <= r.arrival_date < tl.arrivals_end_min
    ]
    served = [r.waiting_time for r in records if r.record_type == "service"]
    reneged = sum(1 for r in records if r.record_type == "renege")
    return {"abandon": reneged / len(records), "wait_served": float(np.mean(served))}


def _weekly_shifts(staff: list[int], parts: list[str]) -> tuple[list[int], list[float], float]:
    """Ciw's cyclic schedule for the scenario's shift changes: a new shift at every day-part
    boundary (Ciw starts a fresh shift at each boundary while the outgoing servers finish
    their customer, which is the scenario's ``handover`` rule). The cycle starts at the
    first boundary of the week (Ciw's offset); before it Ciw has no servers, which only
    touches the first hours of the warm-up."""
    boundaries = [h for h in range(168) if parts[h] != parts[h - 1] or staff[h] != staff[h - 1]]
    start = boundaries[0]
    numbers = [staff[b] for b in boundaries]
    ends = [float(((b - start) % 168) * 60) for b in boundaries[1:]] + [168 * 60.0]
    return numbers, ends, start * 60.0


def _agree(replications: int, weeks: int) -> list[tuple[str, float, float, float]]:
    sc = load_scenario(CASE, (f"run.weeks={weeks}",))
    executor = LocalExecutor(2)
    a = dict(executor.run(ours, [(sc, r) for r in range(replications)]))
    b = dict(executor.run(theirs, [(sc, r) for r in range(replications)]))
    out = []
    for key in ("abandon", "wait_served"):
        ia = t_interval([a[r][key] for r in range(replications)])
        ib = t_interval([b[r][key] for r in range(replications)])
        se = math.sqrt((ia.sd**2 + ib.sd**2) / replications)
        bound = stats.t.ppf(0.995, 2 * replications - 2) * se
        out.append((key, ia.mean, ib.mean, bound))
        assert abs(ia.mean - ib.mean) <= bound, (key, ia.mean, ib.mean, bound)
        assert bound < 0.1 * abs(ib.mean), (
            f"the joint interval for {key} is too wide to mean anything"
        )
    return out


def test_ciw_agrees_on_the_time_varying_desk_reduced() -> None:
    _agree(replications=8, weeks=2)


@pytest.mark.validation
def test_ciw_agrees_on_the_time_varying_desk_full() -> None:
    rows = _agree(replications=30, weeks=4)
    for key, mine, other, bound in rows:
        print(
            f"{key}: ours {mine:.4f}, Ciw {other:.4f}, difference {mine - other:+.4f}, "
            f"joint 99 % bound {bound:.4f}"
        )

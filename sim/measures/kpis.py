"""Every KPI, defined once: name, unit, label and formula.

KPIs are computed for requests that arrive in the after-hours window after the warm-up and
before the end of arrivals (the reporting window); utilisation and staff-hours are measured
over the after-hours hours of the same window. Families of KPIs (per desk, per urgency, per
staff group) are defined once as templates and expanded for the scenario at hand, so the
report and the comparison iterate over one registry.

Definitions (docs/MODEL.md gives the words their full meaning):

* time to answer: a public call placed -> a person answers it (112 calls include the
  national 112 desk); within-norm shares count answered-within-norm over all calls offered.
* time to care: request start -> an acceptable professional is with the patient; means and
  P90 over requests that got care, within-target shares over all requests of that urgency.
* misrouted: a public-phone request that reached a wrong door or was mis-triaged to a
  wrong service before its care started; its parts overlap (a request can be both).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.codes import (
    AMBULANCE_A1,
    CALL_HANDOVER,
    CALL_WARM_TRANSFER,
    CHANNEL_112,
    CHANNEL_GP_POST,
    DESK_INDEX,
    OUTCOME_ABANDONED,
    OUTCOME_IN_SYSTEM,
    OUTCOME_NAMES,
    OUTCOME_REFERRAL_GAVE_UP,
    PUBLIC_CALL_KINDS,
    TRIAGE_CORRECT,
    TRIAGE_OVER,
    TRIAGE_UNDER,
)
from sim.measures.monitors import areas_by_hour
from sim.model.calendar import Timeline
from sim.model.records import ReplicationRecords
from sim.scenario.schema import Scenario

NAN = math.nan
A1_NORM_MIN = 15.0


@dataclass(frozen=True)
class Kpi:
    """A key performance indicator: name, unit, label and formula over one replication."""

    name: str
    unit: str
    label: str
    formula: Callable[[KpiContext], float]
    headline: bool = False


class KpiContext:
    """The tables of one replication plus the masks every formula needs."""

    def __init__(self, sc: Scenario, tl: Timeline, rec: ReplicationRecords):
        self.sc = sc
        self.tl = tl
        self.rec = rec
        r = rec.requests
        arrival = r["arrival_min"]
        hour = np.minimum((arrival // 60).astype(np.int64), tl.n_hours - 1)
        self.reported = (
            (arrival >= tl.warmup_end_min) & (arrival < tl.arrivals_end_min) & tl.after_hours[hour]
        )
        self.n_reported = int(self.reported.sum())
        self.weeks = sc.run.weeks
        needs = list(sc.needs.values())
        self.need_urgency = np.array([n.urgency for n in needs], dtype=object)
        self.need_target = np.array([n.target_min for n in needs])
        self.need_gp_type = np.array([n.home_door == "gp_post" for n in needs])
        self.phone = self.reported & np.isin(r["channel"], (CHANNEL_112, CHANNEL_GP_POST))
        self.time_to_care = r["care_min"] - arrival
        self.target = self.need_target[r["need"]] if len(arrival) else np.zeros(0)
        urg = self.need_urgency[r["need"]] if len(arrival) else np.zeros(0, dtype=object)
        self.urgency = urg
        # calls of reported requests
        c = rec.calls
        rep_ids = np.flatnonzero(self.reported)
        in_rep = np.zeros(len(arrival), dtype=bool)
        in_rep[rep_ids] = True
        self.call_reported = in_rep[c["request"]] if len(c["request"]) else np.zeros(0, dtype=bool)
        self.call_public = np.isin(c["kind"], PUBLIC_CALL_KINDS)
        self.call_wait = c["answered_min"] - c["placed_min"]
        rides = rec.rides
        self.ride_reported = (
            in_rep[rides["request"]] if len(rides["request"]) else np.zeros(0, dtype=bool)
        )
        self.ride_gp_type = (
            self.need_gp_type[r["need"][rides["request"]]]
            if len(rides["request"])
            else np.zeros(0, dtype=bool)
        )
        # pool areas over the after-hours hours of the reporting window
        hours = np.arange(tl.n_hours)
        lo = int(tl.warmup_end_min // 60)
        hi = int(math.ceil(tl.arrivals_end_min / 60))
        self.window_hours = (hours >= lo) & (hours < hi) & tl.after_hours
        self.pool_areas = {
            name: areas_by_hour(mon, tl.n_hours) for name, mon in rec.monitors.items()
        }


def _share(num: np.ndarray, den: np.ndarray | None = None) -> float:
    n = int(num.size if den is None else den.sum())
    if n == 0:
        return NAN
    return float(num.sum() / n) if den is None else float((num & den).sum() / n)


def _mean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else NAN


def _p90(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(np.percentile(x, 90)) if x.size else NAN


# --------------------------------------------------------------------------- families


def _answer_kpis(desk: str, sc: Scenario) -> list[Kpi]:
    d = DESK_INDEX[desk]
    norm = sc.triage_of(desk).answer_norm
    label = {"mka": "MKA (112)", "gp_post": "GP post", "coordination": "coordination desk"}[desk]

    def calls(ctx: KpiContext) -> np.ndarray:
        c = ctx.rec.calls
        return ctx.call_reported & ctx.call_public & (c["desk"] == d)

    def mean(ctx: KpiContext) -> float:
        return _mean(ctx.call_wait[calls(ctx)])

    def p90(ctx: KpiContext) -> float:
        return _p90(ctx.call_wait[calls(ctx)])

    def abandon(ctx: KpiContext) -> float:
        m = calls(ctx)
        return _share(ctx.rec.calls["abandoned"][m])

    def within(urgent: bool, limit: float) -> Callable[[KpiContext], float]:
        def f(ctx: KpiContext) -> float:
            m = calls(ctx) & (ctx.rec.calls["urgent"] == urgent)
            w = ctx.call_wait[m]
            return _share(np.nan_to_num(w, nan=np.inf) <= limit + 1e-9)

        return f

    out = [
        Kpi(
            f"answer.{desk}.mean_min", "min", f"Time to answer, {label}: mean", mean, headline=True
        ),
        Kpi(f"answer.{desk}.p90_min", "min", f"Time to answer, {label}: 90th percentile", p90),
        Kpi(
            f"answer.{desk}.abandoned_share",
            "share",
            f"Calls abandoned in the queue, {label}",
            abandon,
        ),
        Kpi(
            f"answer.{desk}.urgent.within_norm_share",
            "share",
            f"Urgent-line calls answered within {norm.urgent_min:g} min, {label} "
            "(of calls offered)",
            within(True, norm.urgent_min),
        ),
    ]
    if desk != "mka":
        out.append(
            Kpi(
                f"answer.{desk}.regular.within_norm_share",
                "share",
                f"Regular-line calls answered within {norm.regular_min:g} min, {label} "
                "(of calls offered)",
                within(False, norm.regular_min),
            )
        )
    return out


def _care_kpis(urgency: str, target: float) -> list[Kpi]:
    def sel(ctx: KpiContext) -> np.ndarray:
        return ctx.reported & (ctx.urgency == urgency)

    def mean(ctx: KpiContext) -> float:
        return _mean(ctx.time_to_care[sel(ctx)])

    def p90(ctx: KpiContext) -> float:
        return _p90(ctx.time_to_care[sel(ctx)])

    def within(ctx: KpiContext) -> float:
        m = sel(ctx)
        ttc = np.nan_to_num(ctx.time_to_care[m], nan=np.inf)
        return _share(ttc <= ctx.target[m] + 1e-9)

    def reached(ctx: KpiContext) -> float:
        return _share(~np.isnan(ctx.time_to_care[sel(ctx)]))

    return [
        Kpi(
            f"care.{urgency}.mean_min",
            "min",
            f"Time to care, {urgency}: mean (requests that got care)",
            mean,
        ),
        Kpi(f"care.{urgency}.p90_min", "min", f"Time to care, {urgency}: 90th percentile", p90),
        Kpi(
            f"care.{urgency}.within_target_share",
            "share",
            f"Time to care within target ({target:g} min), {urgency} (of all {urgency} requests)",
            within,
            headline=urgency in ("A1", "U2"),
        ),
        Kpi(
            f"care.{urgency}.reached_share", "share", f"Requests that got care, {urgency}", reached
        ),
    ]


def _pool_kpis(key: str, pools: list[str], label: str) -> list[Kpi]:
    """Utilisation and hours on duty of one pool, or of several pools taken together."""

    def util(ctx: KpiContext) -> float:
        busy = sum(ctx.pool_areas[p][0][ctx.window_hours].sum() for p in pools)
        present = sum(ctx.pool_areas[p][1][ctx.window_hours].sum() for p in pools)
        return float(busy / present) if present > 0 else NAN

    def hours(ctx: KpiContext) -> float:
        present = sum(ctx.pool_areas[p][1][ctx.window_hours].sum() for p in pools)
        return float(present / 60.0 / ctx.weeks)

    return [
        Kpi(
            f"utilisation.{key}",
            "share",
            f"Utilisation, {label} (after-hours, time-weighted)",
            util,
        ),
        Kpi(
            f"staff_hours.{key}.per_week",
            "hours/week",
            f"Hours on duty, {label} (after-hours)",
            hours,
        ),
    ]


# --------------------------------------------------------------------------- single KPIs


def _requests_per_week(ctx: KpiContext) -> float:
    return ctx.n_reported / ctx.weeks


def _outcome_share(code: int) -> Callable[[KpiContext], float]:
    def f(ctx: KpiContext) -> float:
        return _share(ctx.rec.requests["outcome"][ctx.reported] == code)

    return f


def _misrouted_mask(ctx: KpiContext) -> np.ndarray:
    r = ctx.rec.requests
    return ctx.phone & (r["wrong_door"] | (r["misrouted_triage"] != TRIAGE_CORRECT))


def _count_per_week(mask_fn: Callable[[KpiContext], np.ndarray]) -> Callable[[KpiContext], float]:
    return lambda ctx: float(mask_fn(ctx).sum()) / ctx.weeks


def _share_of_phone(mask_fn: Callable[[KpiContext], np.ndarray]) -> Callable[[KpiContext], float]:
    def f(ctx: KpiContext) -> float:
        n = int(ctx.phone.sum())
        return float((mask_fn(ctx) & ctx.phone).sum() / n) if n else NAN

    return f


def _wrong_door(ctx: KpiContext) -> np.ndarray:
    return ctx.phone & ctx.rec.requests["wrong_door"]


def _over(ctx: KpiContext) -> np.ndarray:
    return ctx.phone & (ctx.rec.requests["misrouted_triage"] == TRIAGE_OVER)


def _under(ctx: KpiContext) -> np.ndarray:
    return ctx.phone & (ctx.rec.requests["misrouted_triage"] == TRIAGE_UNDER)


def _sum_per_week(column: str, offset: int = 0) -> Callable[[KpiContext], float]:
    def f(ctx: KpiContext) -> float:
        v = ctx.rec.requests[column][ctx.reported] - offset
        return float(np.clip(v, 0, None).sum()) / ctx.weeks

    return f


def _abandoned_calls(ctx: KpiContext) -> float:
    m = ctx.call_reported & ctx.call_public & ctx.rec.calls["abandoned"]
    return float(m.sum()) / ctx.weeks


def _handovers(ctx: KpiContext) -> float:
    k = ctx.rec.calls["kind"]
    return (
        float((ctx.call_reported & ((k == CALL_HANDOVER) | (k == CALL_WARM_TRANSFER))).sum())
        / ctx.weeks
    )


def _rides_per_week(ctx: KpiContext) -> float:
    return float(ctx.ride_reported.sum()) / ctx.weeks


def _rides_gp_per_week(ctx: KpiContext) -> float:
    return float((ctx.ride_reported & ctx.ride_gp_type).sum()) / ctx.weeks


def _rides_gp_share(ctx: KpiContext) -> float:
    n = int(ctx.ride_reported.sum())
    return float((ctx.ride_reported & ctx.ride_gp_type).sum() / n) if n else NAN


def _a1_mask(ctx: KpiContext) -> np.ndarray:
    return ctx.ride_reported & (ctx.rec.rides["priority"] == AMBULANCE_A1)


def _a1_response(ctx: KpiContext) -> np.ndarray:
    rides = ctx.rec.rides
    m = _a1_mask(ctx)
    return (rides["on_scene_min"] - rides["call_taken_min"])[m]


def _a1_within(ctx: KpiContext) -> float:
    resp = _a1_response(ctx)
    return float((resp <= A1_NORM_MIN + 1e-9).mean()) if resp.size else NAN


def _a1_p95(ctx: KpiContext) -> float:
    resp = _a1_response(ctx)
    return float(np.percentile(resp, 95)) if resp.size else NAN


def _ed_per_week(ctx: KpiContext) -> float:
    return float((~np.isnan(ctx.rec.requests["ed_arrival_min"][ctx.reported])).sum()) / ctx.weeks


def _in_system(ctx: KpiContext) -> float:
    return float((ctx.rec.requests["outcome"] == OUTCOME_IN_SYSTEM).sum())


def _gave_up(ctx: KpiContext) -> float:
    o = ctx.rec.requests["outcome"][ctx.reported]
    return _share((o == OUTCOME_ABANDONED) | (o == OUTCOME_REFERRAL_GAVE_UP))


#: Requests per week, and misrouted requests with their parts (requests that phoned a desk).
MISROUTING_KPIS: tuple[Kpi, ...] = (
    Kpi(
        "requests.per_week",
        "requests/week",
        "After-hours requests per week",
        _requests_per_week,
    ),
    Kpi(
        "misrouted.share",
        "share",
        "Misrouted requests (wrong door or mis-triaged to a wrong service), of phone requests",
        _share_of_phone(_misrouted_mask),
        headline=True,
    ),
    Kpi(
        "misrouted.per_week",
        "requests/week",
        "Misrouted requests per week",
        _count_per_week(_misrouted_mask),
    ),
    Kpi(
        "misrouted.wrong_door.share",
        "share",
        "Part: reached a wrong door first",
        _share_of_phone(_wrong_door),
    ),
    Kpi(
        "misrouted.over_triage.share",
        "share",
        "Part: over-triaged to a wrong service before care",
        _share_of_phone(_over),
    ),
    Kpi(
        "misrouted.under_triage.share",
        "share",
        "Part: under-triaged to a wrong service before care",
        _share_of_phone(_under),
    ),
)

#: Calls, transfers, giving up, ambulance rides and the emergency department.
FLOW_KPIS: tuple[Kpi, ...] = (
    Kpi(
        "calls.abandoned.per_week",
        "calls/week",
        "Public calls abandoned in a queue per week",
        _abandoned_calls,
    ),
    Kpi(
        "calls.redials.per_week",
        "calls/week",
        "Redials to the same number after hanging up, per week",
        _sum_per_week("n_redials"),
    ),
    Kpi(
        "calls.channel_switches.per_week",
        "calls/week",
        "Calls to the other number (after hanging up or when referred), per week",
        _sum_per_week("n_switches"),
    ),
    Kpi(
        "transfers.per_week",
        "transfers/week",
        "Transfers and referrals between desks per week",
        _sum_per_week("n_transfers"),
    ),
    Kpi(
        "triage.duplicate.per_week",
        "triages/week",
        "Full triages beyond the first per request, per week",
        _sum_per_week("n_triages", 1),
    ),
    Kpi(
        "calls.professional_handover.per_week",
        "calls/week",
        "Handover and warm-transfer calls between desks per week",
        _handovers,
    ),
    Kpi(
        "requests.gave_up.share",
        "share",
        "Requests that gave up without care (hung up for good or did not follow a referral)",
        _gave_up,
    ),
    Kpi("ambulance.rides.per_week", "rides/week", "Ambulance rides per week", _rides_per_week),
    Kpi(
        "ambulance.rides_gp_type.per_week",
        "rides/week",
        "Ambulance rides for GP-type needs per week",
        _rides_gp_per_week,
    ),
    Kpi(
        "ambulance.rides_gp_type.share",
        "share",
        "Share of ambulance rides that were for GP-type needs",
        _rides_gp_share,
        headline=True,
    ),
    Kpi(
        "ambulance.a1_within_15.share",
        "share",
        "A1 rides on scene within 15 min of the call being taken",
        _a1_within,
        headline=True,
    ),
    Kpi(
        "ambulance.a1_response.p95_min",
        "min",
        "A1 response time (call taken to on scene), 95th percentile",
        _a1_p95,
    ),
    Kpi(
        "ed.arrivals.per_week",
        "arrivals/week",
        "Emergency department arrivals per week",
        _ed_per_week,
    ),
    Kpi(
        "requests.in_system_at_end",
        "requests",
        "Requests still in the system at the end of the drain period (all hours)",
        _in_system,
    ),
)


def registry(sc: Scenario) -> list[Kpi]:
    """All KPIs of a scenario, in report order."""
    out: list[Kpi] = list(MISROUTING_KPIS)
    for desk in sc.active_desks():
        out.extend(_answer_kpis(desk, sc))
    seen: dict[str, float] = {}
    for need in sc.needs.values():
        seen.setdefault(need.urgency, need.target_min)
    for urgency, target in seen.items():
        out.extend(_care_kpis(urgency, target))
    out.extend(FLOW_KPIS)
    for code, name in enumerate(OUTCOME_NAMES):
        if name == "in_system":
            continue
        label = f"Outcome share: {name.replace('_', ' ')}"
        out.append(Kpi(f"outcome.{name}.share", "share", label, _outcome_share(code)))
    desks = desk_pool_names(sc)
    out.extend(_pool_kpis("front_desks", desks, "all front-desk staff together"))
    for pool in pool_names(sc):
        out.extend(_pool_kpis(pool, [pool], pool.replace("_", " ")))
    return out


def desk_pool_names(sc: Scenario) -> list[str]:
    """The staff pools of the front desks of the scenario's form."""
    return (
        ["coordination_agents"]
        if sc.organisation == "central"
        else ["mka_call_takers", "gp_post_triagists"]
    )


def pool_names(sc: Scenario) -> list[str]:
    """Every staffed pool of the scenario: front desks, then services."""
    names = desk_pool_names(sc)
    names += ["ambulances", "gp_consult_gps", "gp_visit_cars"]
    names += [f"team_{t}" for t in sc.teams]
    return names


def compute_kpis(ctx: KpiContext) -> dict[str, float]:
    """Every KPI of the scenario for one replication."""
    return {k.name: k.formula(ctx) for k in registry(ctx.sc)}

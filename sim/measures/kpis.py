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
* misrouted, measured by outcome the same way in every form: a request that phoned and
  was never answered, or whose first disposition sent a service other than its need's own
  service (over-triage, under-triage, or another service of the same acuity), or that had
  to call again (redialled or switched number after hanging up, or was referred on). The
  parts are exclusive and add up to the whole, in that order of precedence. Reaching a desk
  that cannot help ("wrong door") is a descriptive count, not a part: a form with one door
  cannot have one by definition.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.codes import (
    AMBULANCE_A1,
    CALL_CALLBACK,
    CALL_HANDOVER,
    CALL_REPEAT,
    CALL_WARM_TRANSFER,
    CHANNEL_112,
    CHANNEL_GP_POST,
    DESK_INDEX,
    DESK_NAMES,
    OUTCOME_ABANDONED,
    OUTCOME_IN_SYSTEM,
    OUTCOME_NAMES,
    OUTCOME_REFERRAL_GAVE_UP,
    OUTCOME_SELF_CARE,
    PUBLIC_CALL_KINDS,
)
from sim.measures.zones import zone_kpi_formulas
from sim.model.calendar import Timeline
from sim.model.records import MonitorTable, ReplicationRecords
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
    #: which way is better for patients or scarce staff ("lower", "higher"), where that is
    #: clear (every headline figure); None where a change is neither good nor bad as such
    better: str | None = None


class KpiContext:
    """The tables of one replication plus the masks every formula needs."""

    def __init__(self, sc: Scenario, tl: Timeline, rec: ReplicationRecords):
        self.sc = sc
        self.tl = tl
        self.rec: ReplicationRecords | RecordRows = rec
        r = rec.requests
        arrival = r["arrival_min"]
        # 32-bit: a year has 8,760 hours (the context's arrays are a large part of a year's peak)
        hour = np.minimum((arrival // 60).astype(np.int32), tl.n_hours - 1)
        self.arrival_hour = hour
        self.reported = (
            (arrival >= tl.warmup_end_min) & (arrival < tl.arrivals_end_min) & tl.after_hours[hour]
        )
        self.n_reported = int(self.reported.sum())
        self.weeks: float = sc.run.weeks
        self._need_tables(sc)
        # people who phone: those resolved by online self-triage never did
        self.phone = (
            self.reported
            & np.isin(r["channel"], (CHANNEL_112, CHANNEL_GP_POST))
            & (r["outcome"] != OUTCOME_SELF_CARE)
        )
        self.time_to_care = r["care_min"] - arrival
        self._urgency_masks: dict[str, np.ndarray] = {}
        self.cache: dict[str, Any] = {}  # figures several KPIs share (what is reported)
        # figures that do not depend on what is reported (shared with narrowed contexts)
        self.cache_all: dict[str, Any] = {}
        in_rep = np.zeros(len(arrival), dtype=bool)
        in_rep[np.flatnonzero(self.reported)] = True
        self._call_tables(in_rep)
        self.routing = _routing(self)
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
        self.window_all = (hours >= lo) & (hours < hi)  # every hour of the reporting weeks
        self.window_hours = self.window_all & tl.after_hours
        self.pool_areas = {
            name: (mon.busy_min, mon.present_min) for name, mon in rec.monitors.items()
        }

    def target_of(self, requests: np.ndarray) -> np.ndarray:
        """The time-to-care target (minutes) of each of the ``requests`` (a mask or rows),
        by its need (held per need: a year's requests would hold 1.5 MB of them)."""
        return self.need_target[self.rec.requests["need"][requests]]

    def of_urgency(self, urgency: str) -> np.ndarray:
        """The requests whose need has this urgency (computed once per replication)."""
        mask = self._urgency_masks.get(urgency)
        if mask is None:
            # by need (a handful) and then by request: comparing every request's urgency
            # string took milliseconds
            mine = self.need_urgency == urgency
            need = self.rec.requests["need"]
            mask = mine[need] if len(need) else np.zeros(0, dtype=bool)
            self._urgency_masks[urgency] = mask
        return mask

    def narrowed(self, hours: np.ndarray) -> KpiContext:
        """The same replication narrowed to the requests that arrive in the simulated
        ``hours`` (a mask: a day type, a date), with their calls and rides; per-week
        figures count the weeks the reported hours among them make up.

        A few rows (a date's few hundred requests) are taken out of the tables, so that a
        formula works on those rows alone rather than on the whole run behind a mask; many
        rows (a day type's) are masked, since a copy of them would weigh on a long run's
        memory. Either way a formula that selects what is reported (every headline KPI does)
        gives exactly what it gives on the whole context with its selections narrowed: the
        same values in the same order. Figures over every ride or request of the run
        (coverage, requests in the system at the end) are not meant for a narrowed
        context."""
        keep = hours[self.arrival_hour]
        if np.count_nonzero(keep) > _FEW_ROWS * len(keep):
            return self._masked(keep, hours)
        calls, rides = self.rec.calls["request"], self.rec.rides["request"]
        return self._restricted(
            np.flatnonzero(keep), np.flatnonzero(keep[calls]), np.flatnonzero(keep[rides]), hours
        )

    def narrowed_by(self, label_of_hour: np.ndarray, labels: Iterable[int]) -> Iterator[KpiContext]:
        """``narrowed(label_of_hour == label)`` for each of ``labels`` (small non-negative
        integers: the dates), in that order, with the rows' labels found once for all of
        them; one narrowed context is built at a time. (For a few large groups, such as the
        day types, ``narrowed`` of each is lighter.)"""
        n = int(label_of_hour.max(initial=0)) + 1
        # 16-bit labels (a run has far fewer days): the rows of a label are then found by
        # one comparison per table, with little memory (sorting the rows by label held
        # 64-bit index arrays of every call, which set a long run's peak memory)
        small = np.int16 if n <= np.iinfo(np.int16).max else np.int32
        label = label_of_hour.astype(small)[self.arrival_hour]
        of_call, of_ride = label[self.rec.calls["request"]], label[self.rec.rides["request"]]
        for value in labels:
            hours = label_of_hour == value
            requests = np.flatnonzero(label == value)
            if len(requests) > _FEW_ROWS * len(label):
                yield self.narrowed(hours)  # many rows: masked, as narrowed decides
                continue
            calls, rides = np.flatnonzero(of_call == value), np.flatnonzero(of_ride == value)
            yield self._restricted(requests, calls, rides, hours)

    def _masked(self, keep: np.ndarray, hours: np.ndarray) -> KpiContext:
        """The context with what is reported masked to the requests ``keep`` (arriving in
        ``hours``) and their calls and rides; the tables whole."""
        sub = copy.copy(self)
        sub.cache = {}
        sub.reported = self.reported & keep
        sub.n_reported = int(sub.reported.sum())
        sub.phone = self.phone & keep
        calls, rides = self.rec.calls["request"], self.rec.rides["request"]
        sub.call_reported = self.call_reported & keep[calls] if len(calls) else self.call_reported
        sub.ride_reported = self.ride_reported & keep[rides] if len(rides) else self.ride_reported
        sub.window_hours = self.window_hours & hours
        sub.weeks = float((self.window_all & hours).sum()) / 168.0
        sub.routing = _routing(sub)
        return sub

    def _restricted(
        self, requests: np.ndarray, calls: np.ndarray, rides: np.ndarray, hours: np.ndarray
    ) -> KpiContext:
        """The context of the given rows (ascending) of the request, call and ride tables
        (the rows of the requests arriving in ``hours``, with their calls and rides)."""
        sub = copy.copy(self)
        sub.cache = {}
        sub.rec = RecordRows(
            _Rows(self.rec.requests, requests),
            _Rows(self.rec.calls, calls, requests),
            _Rows(self.rec.rides, rides, requests),
            self.rec.monitors,
            self.rec.moves,
        )
        sub.arrival_hour = self.arrival_hour[requests]
        sub.reported = self.reported[requests]
        sub.n_reported = int(sub.reported.sum())
        sub.phone = self.phone[requests]
        sub.time_to_care = self.time_to_care[requests]
        sub._urgency_masks = {u: m[requests] for u, m in self._urgency_masks.items()}
        sub.public_calls = self.public_calls[requests]
        sub.call_reported = self.call_reported[calls]
        sub.call_public = self.call_public[calls]
        sub.call_wait = self.call_wait[calls]
        sub.call_norm_code = self.call_norm_code[calls]
        sub.ride_reported = self.ride_reported[rides]
        sub.ride_gp_type = self.ride_gp_type[rides]
        sub.window_hours = self.window_hours & hours
        sub.weeks = float((self.window_all & hours).sum()) / 168.0
        every: Routing = self.cache_all["routing"]  # set by the whole context's _routing
        sub.cache_all = {
            "routing": Routing(
                *(getattr(every, f.name)[requests] for f in dataclasses.fields(Routing))
            )
        }
        sub.routing = _routing(sub)
        return sub

    def _need_tables(self, sc: Scenario) -> None:
        needs = list(sc.needs.values())
        self.need_urgency = np.array([n.urgency for n in needs], dtype=object)
        self.need_target = np.array([n.target_min for n in needs])
        self.need_gp_type = np.array([n.home_door == "gp_post" for n in needs])
        self.need_acuity = np.array([n.acuity for n in needs])
        services = list(sc.services)
        self.need_service = np.array([services.index(n.service) for n in needs], dtype=np.int64)

    def _call_tables(self, in_rep: np.ndarray) -> None:
        """Masks and figures of the calls of reported requests."""
        r, c = self.rec.requests, self.rec.calls
        self.call_reported = in_rep[c["request"]] if len(c["request"]) else np.zeros(0, dtype=bool)
        self.call_public = np.isin(c["kind"], PUBLIC_CALL_KINDS)
        self.call_wait = c["answered_min"] - c["placed_min"]
        # public calls each request placed before its care started (first call, redials,
        # switches, referrals, ...; a repeat contact after care is not a routing failure)
        care_at = r["care_min"][c["request"]] if len(c["request"]) else np.zeros(0)
        before_care = ~(c["placed_min"] >= care_at)  # nan care: every call counts
        self.public_calls = np.bincount(
            c["request"][self.call_public & before_care], minlength=len(in_rep)
        ).astype(np.int32)
        # every call's answering norm: its desk's urgent or regular limit (minutes)
        # (held as a small code per call, 2 x desk + urgent, into a table of the norms: a
        # year's calls hold 2 MB less)
        norms = [self.sc.triage_of(d).answer_norm for d in DESK_NAMES]
        self.norm_table = np.array([m for n in norms for m in (n.regular_min, n.urgent_min)])
        self.call_norm_code = (c["desk"] * 2 + c["urgent"]).astype(np.int8)


@dataclass(frozen=True)
class RecordRows:
    """Some rows of a replication's records (a narrowed context's): the request, call and
    ride tables restricted to them; the pools' areas and the move-up log whole."""

    requests: Mapping[str, np.ndarray]
    calls: Mapping[str, np.ndarray]
    rides: Mapping[str, np.ndarray]
    monitors: dict[str, MonitorTable]
    moves: dict[str, np.ndarray]


class _Rows(Mapping[str, np.ndarray]):
    """A table's columns at some of its rows, each column taken when it is first read. With
    ``requests`` (the request rows kept, ascending), the ``request`` column of a call or
    ride table gives the request's position among them."""

    def __init__(
        self, table: Mapping[str, np.ndarray], rows: np.ndarray, requests: np.ndarray | None = None
    ):
        self._table = table
        self._rows = rows
        self._requests = requests
        self._taken: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        column = self._taken.get(key)
        if column is None:
            column = self._table[key][self._rows]
            if key == "request" and self._requests is not None:
                column = np.searchsorted(self._requests, column).astype(column.dtype)
            self._taken[key] = column
        return column

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


#: A narrowed context takes its rows out of the tables when they are at most this share of
#: the requests (a date), and masks the whole tables when there are more (a day type).
_FEW_ROWS = 0.125


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
            return _share(w <= limit + 1e-9)  # never answered (nan): not within

        return f

    out = [
        Kpi(
            f"answer.{desk}.mean_min", "min", f"Time to answer, {label}: mean", mean, True, "lower"
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


def _all_calls(ctx: KpiContext) -> np.ndarray:
    return ctx.call_reported & ctx.call_public


def _within_own_norm(ctx: KpiContext) -> float:
    m = _all_calls(ctx)
    norm = ctx.norm_table[ctx.call_norm_code[m]]
    return _share(ctx.call_wait[m] <= norm + 1e-9)  # nan: not within


#: Time to answer over every public call, whatever desk answers it: comparable across forms.
ALL_DESK_ANSWER_KPIS: tuple[Kpi, ...] = (
    Kpi(
        "answer.all.mean_min",
        "min",
        "Time to answer, every public call at any desk: mean",
        lambda ctx: _mean(ctx.call_wait[_all_calls(ctx)]),
        headline=True,
        better="lower",
    ),
    Kpi(
        "answer.all.p90_min",
        "min",
        "Time to answer, every public call at any desk: 90th percentile",
        lambda ctx: _p90(ctx.call_wait[_all_calls(ctx)]),
    ),
    Kpi(
        "answer.all.abandoned_share",
        "share",
        "Public calls abandoned in a queue, any desk",
        lambda ctx: _share(ctx.rec.calls["abandoned"][_all_calls(ctx)]),
        headline=True,
        better="lower",
    ),
    Kpi(
        "answer.all.within_norm_share",
        "share",
        "Public calls answered within their desk's norm (urgent or regular line), of calls offered",
        _within_own_norm,
    ),
)


def _care_kpis(urgency: str, target: float) -> list[Kpi]:
    def sel(ctx: KpiContext) -> np.ndarray:
        return ctx.reported & ctx.of_urgency(urgency)

    def mean(ctx: KpiContext) -> float:
        return _mean(ctx.time_to_care[sel(ctx)])

    def p90(ctx: KpiContext) -> float:
        return _p90(ctx.time_to_care[sel(ctx)])

    def within(ctx: KpiContext) -> float:
        m = sel(ctx)
        target = ctx.target_of(m)
        return _share(ctx.time_to_care[m] <= target + 1e-9)  # no care (nan): not within

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
            better="higher",
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


def _self_care_per_week(ctx: KpiContext) -> float:
    return float((ctx.rec.requests["outcome"][ctx.reported] == OUTCOME_SELF_CARE).sum()) / ctx.weeks


def _outcome_share(code: int) -> Callable[[KpiContext], float]:
    def f(ctx: KpiContext) -> float:
        return _share(ctx.rec.requests["outcome"][ctx.reported] == code)

    return f


@dataclass(frozen=True)
class Routing:
    """How each phone request was routed: exclusive reasons for being misrouted."""

    never_answered: np.ndarray
    over_triage: np.ndarray
    under_triage: np.ndarray
    other_service: np.ndarray
    called_again: np.ndarray
    wrong_door: np.ndarray

    @property
    def misrouted(self) -> np.ndarray:
        """Phone requests misrouted for any reason."""
        return (
            self.never_answered
            | self.over_triage
            | self.under_triage
            | self.other_service
            | self.called_again
        )


def _routing(ctx: KpiContext) -> Routing:
    """The routing masks of the context's phone requests: the masks over every request
    (computed once per replication), each narrowed to ``ctx.phone``."""
    every = ctx.cache_all.get("routing")
    if every is None:
        every = ctx.cache_all["routing"] = _routing_of_every_request(ctx)
    phone = ctx.phone
    return Routing(
        never_answered=phone & every.never_answered,
        over_triage=phone & every.over_triage,
        under_triage=phone & every.under_triage,
        other_service=phone & every.other_service,
        called_again=phone & every.called_again,
        wrong_door=phone & every.wrong_door,
    )


def _routing_of_every_request(ctx: KpiContext) -> Routing:
    """The routing masks as if every request had phoned (``_routing`` keeps the phone
    requests): none depends on what a context reports."""
    r = ctx.rec.requests
    answered = r["first_desk"] >= 0
    first = np.maximum(r["first_assigned"], 0)
    need = r["need"]
    wrong = answered & (ctx.need_service[first] != ctx.need_service[need])
    first_acuity, need_acuity = ctx.need_acuity[first], ctx.need_acuity[need]
    # had to call again: placed another public call, hung up in a queue, or was told to
    # phone another number (whether or not they then did)
    again = (
        (ctx.public_calls > 1) | (r["n_abandoned"] > 0) | (r["outcome"] == OUTCOME_REFERRAL_GAVE_UP)
    )
    return Routing(
        never_answered=~answered,
        over_triage=wrong & (first_acuity > need_acuity),
        under_triage=wrong & (first_acuity < need_acuity),
        other_service=wrong & (first_acuity == need_acuity),
        called_again=answered & ~wrong & again,
        wrong_door=r["wrong_door"].astype(bool, copy=False),
    )


def _count_per_week(mask_fn: Callable[[KpiContext], np.ndarray]) -> Callable[[KpiContext], float]:
    return lambda ctx: float(mask_fn(ctx).sum()) / ctx.weeks


def _share_of_phone(mask_fn: Callable[[KpiContext], np.ndarray]) -> Callable[[KpiContext], float]:
    def f(ctx: KpiContext) -> float:
        n = int(ctx.phone.sum())
        return float((mask_fn(ctx) & ctx.phone).sum() / n) if n else NAN

    return f


def _sum_per_week(column: str, offset: int = 0) -> Callable[[KpiContext], float]:
    def f(ctx: KpiContext) -> float:
        v = ctx.rec.requests[column][ctx.reported] - offset
        return float(np.clip(v, 0, None).sum()) / ctx.weeks

    return f


def _abandoned_calls(ctx: KpiContext) -> float:
    m = ctx.call_reported & ctx.call_public & ctx.rec.calls["abandoned"]
    return float(m.sum()) / ctx.weeks


def _repeat_contacts(ctx: KpiContext) -> float:
    m = ctx.call_reported & (ctx.rec.calls["kind"] == CALL_REPEAT)
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


def _vehicle_hours(gp_type_only: bool) -> Callable[[KpiContext], float]:
    """Hours ambulances spent on rides (assigned until free again), per week."""

    def f(ctx: KpiContext) -> float:
        rides = ctx.rec.rides
        m = ctx.ride_reported & (ctx.ride_gp_type if gp_type_only else True)
        hours = (rides["released_min"][m] - rides["assigned_min"][m]).sum() / 60.0
        return float(hours) / ctx.weeks

    return f


def _rides_gp_share(ctx: KpiContext) -> float:
    n = int(ctx.ride_reported.sum())
    return float((ctx.ride_reported & ctx.ride_gp_type).sum() / n) if n else NAN


def _a1_mask(ctx: KpiContext) -> np.ndarray:
    return ctx.ride_reported & (ctx.rec.rides["priority"] == AMBULANCE_A1)


def _a1_response(ctx: KpiContext) -> np.ndarray:
    rides = ctx.rec.rides
    m = _a1_mask(ctx)
    return rides["on_scene_min"][m] - rides["call_taken_min"][m]


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


def _part(name: str) -> Callable[[KpiContext], np.ndarray]:
    return lambda ctx: getattr(ctx.routing, name)


_MISROUTED_PARTS = (
    ("never_answered", "Part: never answered (gave up, or the desk closed first)"),
    ("over_triage", "Part: first disposition a wrong service of higher acuity (over-triage)"),
    ("under_triage", "Part: first disposition a wrong service of lower acuity (under-triage)"),
    ("other_service", "Part: first disposition a wrong service of the same acuity"),
    ("called_again", "Part: right first service, but had to call again (redial, switch, referral)"),
)

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
        "Misrouted requests (never answered, a wrong first service, or had to call again), "
        "of phone requests",
        _share_of_phone(_part("misrouted")),
        headline=True,
        better="lower",
    ),
    Kpi(
        "misrouted.per_week",
        "requests/week",
        "Misrouted requests per week",
        _count_per_week(_part("misrouted")),
    ),
    *(
        Kpi(f"misrouted.{name}.share", "share", label, _share_of_phone(_part(name)))
        for name, label in _MISROUTED_PARTS
    ),
    Kpi(
        "doors.wrong_door.share",
        "share",
        "Phone requests whose first call reached a desk that does not own their need "
        "(descriptive: a form with one door has none by definition)",
        _share_of_phone(_part("wrong_door")),
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
        "calls.repeat_contacts.per_week",
        "calls/week",
        "Repeat contacts: a second call about the same problem after care by advice or a "
        "consultation, per week",
        _repeat_contacts,
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
        "ambulance.vehicle_hours.per_week",
        "hours/week",
        "Ambulance vehicle-hours spent on rides (assigned until free again) per week",
        _vehicle_hours(False),
    ),
    Kpi(
        "ambulance.vehicle_hours_gp_type.per_week",
        "hours/week",
        "Ambulance vehicle-hours spent on rides for GP-type needs per week",
        _vehicle_hours(True),
        headline=True,
        better="lower",
    ),
    Kpi(
        "ambulance.rides_gp_type.share",
        "share",
        "Share of ambulance rides that were for GP-type needs",
        _rides_gp_share,
        headline=True,
        better="lower",
    ),
    Kpi(
        "ambulance.a1_within_15.share",
        "share",
        "A1 rides on scene within 15 min of the call being taken",
        _a1_within,
        headline=True,
        better="higher",
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
    out.extend(ALL_DESK_ANSWER_KPIS)
    for desk in sc.active_desks():
        out.extend(_answer_kpis(desk, sc))
    seen: dict[str, float] = {}
    for need in sc.needs.values():
        seen.setdefault(need.urgency, need.target_min)
    for urgency, target in seen.items():
        out.extend(_care_kpis(urgency, target))
    out.extend(FLOW_KPIS)
    online = sc.demand.self_triage.active()
    if online:
        out.append(
            Kpi(
                "self_triage.resolved.per_week",
                "requests/week",
                "Requests resolved by online self-triage (self-care advice, no call), per week",
                _self_care_per_week,
            )
        )
    for code, name in enumerate(OUTCOME_NAMES):
        if name == "in_system" or (name == "self_care" and not online):
            continue
        label = f"Outcome share: {name.replace('_', ' ')}"
        out.append(Kpi(f"outcome.{name}.share", "share", label, _outcome_share(code)))
    if callback_desks(sc):
        out.extend(CALLBACK_KPIS)
    if sc.geography is not None:
        out.extend(_zone_kpis(sc))
    desks = desk_pool_names(sc)
    out.extend(_pool_kpis("front_desks", desks, "all front-desk staff together"))
    for pool in pool_names(sc):
        out.extend(_pool_kpis(pool, [pool], pool.replace("_", " ")))
    out.extend(_cost_kpis(sc))
    return [_with_direction(k) for k in out]


def cost_key_of_pool(pool: str) -> str:
    """The ``costs.per_hour`` key of a staffed pool (its staffing table's name)."""
    fixed = {
        "mka_call_takers": "mka.call_takers",
        "gp_post_triagists": "gp_post.triagists",
        "coordination_agents": "coordination.agents",
        "gp_consult_gps": "gp_post.consult_gps",
        "gp_visit_cars": "gp_post.visit_cars",
        "ambulances": "ambulances",
    }
    if pool in fixed:
        return fixed[pool]
    if pool.endswith("_intake"):
        return f"{pool[: -len('_intake')]}.triage.callback.intake_staff"
    return f"teams.{pool[len('team_') :]}.staff"


#: Weeks in a year, for costs per year.
WEEKS_PER_YEAR = 365.25 / 7.0


def _cost_kpis(sc: Scenario) -> list[Kpi]:
    """With a ``costs:`` block: what the hours on duty after hours cost, front desks,
    services and all, per week and per year. They follow from the rosters the scenario
    gives (an input), not from the model: ``run_sim.py staffing --compare`` gives the
    cost of each form at equal service."""
    if sc.costs is None:
        return []
    rates = sc.costs.per_hour
    currency = sc.costs.currency

    def cost(pools: list[str], per_year: bool) -> Callable[[KpiContext], float]:
        def f(ctx: KpiContext) -> float:
            total = 0.0
            for p in pools:
                rate = rates.get(cost_key_of_pool(p), 0.0)
                total += rate * ctx.pool_areas[p][1][ctx.window_hours].sum() / 60.0 / ctx.weeks
            return total * (WEEKS_PER_YEAR if per_year else 1.0)

        return f

    desks = desk_pool_names(sc)
    services = [p for p in pool_names(sc) if p not in desks]
    groups = [
        ("front_desks", desks, "front desks"),
        ("services", services, "services"),
        ("total", desks + services, "front desks and services"),
    ]
    out = []
    for key, pools, label in groups:
        for per_year, unit in ((False, "week"), (True, "year")):
            out.append(
                Kpi(
                    f"cost.{key}.per_{unit}",
                    f"{currency}/{unit}",
                    f"Cost of hours on duty after hours, {label} (the rosters given x costs)",
                    cost(pools, per_year),
                )
            )
    return out


#: Which way is better for the access and care figures that are not headlines (patients
#: wait less, fewer give up, more get care in time): the watch-out list of a report names
#: every one of them that gets worse. A mean time to care counts only requests that got
#: care, so it is always read next to the share that got care.
DIRECTIONS: tuple[tuple[str, str, str], ...] = (
    ("answer.", "_min", "lower"),
    ("answer.", "abandoned_share", "lower"),
    ("answer.", "within_norm_share", "higher"),
    ("care.", "_min", "lower"),
    ("care.", "reached_share", "higher"),
    ("care.", "within_target_share", "higher"),
    ("ambulance.a1_response.", "_min", "lower"),
    ("requests.gave_up.", "share", "lower"),
    ("outcome.abandoned.", "share", "lower"),
    ("outcome.referral_gave_up.", "share", "lower"),
    ("outcome.advised_below_need.", "share", "lower"),
)


def _callbacks(ctx: KpiContext) -> tuple[np.ndarray, np.ndarray]:
    """The call-back waits (queued to a triagist on the line) of reported requests, and
    the mask of the attempts nobody answered (computed once for the three KPIs)."""
    cached = ctx.cache.get("callbacks")
    if cached is None:
        c = ctx.rec.calls
        mine = ctx.call_reported & (c["kind"] == CALL_CALLBACK)
        answered = mine & ~np.isnan(c["answered_min"])
        waits = c["answered_min"][answered] - c["placed_min"][answered]
        cached = waits, mine & c["abandoned"]
        ctx.cache["callbacks"] = cached
    return cached


def _time_to_triage(ctx: KpiContext) -> np.ndarray:
    """Minutes from the request to the first triage call (phone requests triaged)."""
    r = ctx.rec.requests
    m = ctx.phone & ~np.isnan(r["first_answer_min"])
    return r["first_answer_min"][m] - r["arrival_min"][m]


CALLBACK_KPIS: tuple[Kpi, ...] = (
    Kpi(
        "callback.wait.mean_min",
        "min",
        "Call-back mode: wait from the end of the intake to a triagist calling back: mean",
        lambda ctx: _mean(_callbacks(ctx)[0]),
        better="lower",
    ),
    Kpi(
        "callback.wait.p90_min",
        "min",
        "Call-back mode: wait from the end of the intake to a triagist calling back: 90th "
        "percentile",
        lambda ctx: _p90(_callbacks(ctx)[0]),
        better="lower",
    ),
    Kpi(
        "callback.failed_attempts.per_week",
        "calls/week",
        "Call-back attempts nobody answered, per week",
        lambda ctx: float(_callbacks(ctx)[1].sum()) / ctx.weeks,
    ),
    Kpi(
        "triage.time_to_triage.mean_min",
        "min",
        "Time from the first call to the start of triage (phone requests triaged): mean",
        lambda ctx: _mean(_time_to_triage(ctx)),
        # a headline in call-back mode: the time to answer then measures only the intake,
        # which every form staffs alike, and the wait moves to the call-back
        headline=True,
        better="lower",
    ),
)


def _zone_kpis(sc: Scenario) -> list[Kpi]:
    """A1 within 15 min, A1 response (mean, P90) and coverage of every demand zone."""
    assert sc.geography is not None
    out = []
    for index, zone in enumerate(sc.geography.zones):
        within, mean, p90, coverage = zone_kpi_formulas(index)
        out += [
            Kpi(
                f"zone.{zone}.a1_within_15.share",
                "share",
                f"A1 rides on scene within 15 min of the call being taken, zone {zone}",
                within,
                better="higher",
            ),
            Kpi(
                f"zone.{zone}.a1_response.mean_min",
                "min",
                f"A1 response time (call taken to on scene), zone {zone}: mean",
                mean,
                better="lower",
            ),
            Kpi(
                f"zone.{zone}.a1_response.p90_min",
                "min",
                f"A1 response time (call taken to on scene), zone {zone}: 90th percentile",
                p90,
                better="lower",
            ),
            Kpi(
                f"zone.{zone}.coverage.share",
                "share",
                f"Coverage, zone {zone}: share of after-hours time with an idle ambulance "
                "at a post within the cover drive",
                coverage,
                better="higher",
            ),
        ]
    return out


def _with_direction(k: Kpi) -> Kpi:
    if k.better is not None:
        return k
    for prefix, suffix, better in DIRECTIONS:
        if k.name.startswith(prefix) and k.name.endswith(suffix):
            return dataclasses.replace(k, better=better)
    return k


def callback_desks(sc: Scenario) -> list[str]:
    """The active desks that answer the GP post's number in call-back mode."""
    return [d for d in sc.active_desks() if d != "mka" and sc.triage_of(d).callback is not None]


def desk_pool_name(desk: str) -> str:
    """The staff pool that answers at a front desk."""
    return {"mka": "mka_call_takers", "gp_post": "gp_post_triagists"}.get(
        desk, "coordination_agents"
    )


def desk_pool_names(sc: Scenario) -> list[str]:
    """The staff pools of the front desks of the scenario's form (intake staff included)."""
    names = [desk_pool_name(d) for d in sc.active_desks()]
    return names + [f"{d}_intake" for d in callback_desks(sc)]


def pool_names(sc: Scenario) -> list[str]:
    """Every staffed pool of the scenario: front desks, then services."""
    names = desk_pool_names(sc)
    names += ["ambulances", "gp_consult_gps", "gp_visit_cars"]
    names += [f"team_{t}" for t in sc.teams]
    return names


class KpiOutOfRange(RuntimeError):
    """A KPI outside the values it can take: a defect of the model, never of the input."""


def compute_kpis(ctx: KpiContext) -> dict[str, float]:
    """Every KPI of the scenario for one replication. A guard checks that every share lies
    in [0, 1] (or is undefined) and no KPI is infinite, so that a defect cannot reach a
    report as a number."""
    values = {}
    for k in registry(ctx.sc):
        value = k.formula(ctx)
        share = k.unit == "share" and not math.isnan(value)
        if math.isinf(value) or (share and not -1e-9 <= value <= 1 + 1e-9):
            raise KpiOutOfRange(
                f"internal check failed: KPI {k.name} = {value!r} in scenario "
                f"'{ctx.sc.name}' lies outside its range; please report this with the scenario"
            )
        values[k.name] = value
    return values

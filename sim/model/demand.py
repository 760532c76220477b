"""Demand: who asks for acute care, when, with which true need, and which door they try.

Requests arrive as non-stationary Poisson processes, one per demand group, with a
piecewise-constant rate per simulated hour: the hour-of-week profile of the group (a special
day uses the profile of the weekday its day type follows, a Sunday for a public holiday),
scaled so that a normal year carries the group's annual volume per 1,000 inhabitants, times
the day type's demand multiplier and the month's seasonal factor where the scenario gives
them. Groups marked ``after_hours_only`` (GP-type demand) arrive
only while the GP out-of-hours post is open. Within an hour the count is Poisson and the
times are uniform, which is exact for a piecewise-constant rate, also at night-time rates
near zero.

Each request's own attributes (need, door chosen, urgent-line choice and the uniform random
numbers behind its patience, call and task durations) are drawn when it is created from the
group's own streams, so the same replication number gives the same callers, needs and task
draws in every organisational form (common random numbers).

Default volumes and profiles: see docs/PARAMETERS.md (demand volumes and profiles).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sim.codes import CHANNEL_112, CHANNEL_GP_POST, CHANNEL_PROFESSIONAL, CHANNEL_WALK_IN
from sim.model.calendar import MIN_PER_HOUR, MIN_PER_WEEK, Timeline
from sim.model.draws import SLOT_CHANNEL, SLOT_NEED, SLOT_URGENT_LINE, new_request_rows
from sim.model.streams import Streams
from sim.scenario.schema import MONTHS, DemandGroup, Scenario

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class ArrivalBatch:
    """The requests of one demand group in one simulated week, in time order."""

    group: int
    times: np.ndarray
    needs: np.ndarray
    channels: np.ndarray
    urgent_line: np.ndarray
    rows: np.ndarray  # shape (n, ROW_LENGTH): each request's uniform numbers
    # True where digital self-triage ends in self-care advice (the person never calls);
    # None when self-triage is off
    self_care: np.ndarray | None = None


class GroupDemand:
    """Arrival rates and attribute tables of one demand group."""

    def __init__(
        self,
        sc: Scenario,
        timeline: Timeline,
        index: int,
        name: str,
        scale: float = 1.0,
        stream_suffix: str = "",
    ):
        group = sc.demand.groups[name]
        self.index = index
        self.name = name
        self.stream_suffix = stream_suffix
        self.need_names = list(sc.needs)
        self.rate_per_hour = _rate_per_hour(sc, timeline, group, name)
        if scale != 1.0:
            self.rate_per_hour = self.rate_per_hour * scale
        self.arrivals_end_min = timeline.arrivals_end_min
        mix = np.array([group.need_mix.get(n, 0.0) for n in self.need_names])
        self.need_cdf = np.cumsum(mix)
        self.need_cdf[-1] = 1.0
        self.professional = group.channel == "professional"
        self.channel_cdf = _channel_cdf(sc, group)
        self.urgent_line_share = np.array([sc.needs[n].urgent_line_share for n in self.need_names])
        online = sc.demand.self_triage
        self.self_triage = (
            (np.array([online.uptake.get(n, 0.0) for n in self.need_names]), online.resolved_share)
            if online.active() and not self.professional
            else None
        )

    def batches(self, streams: Streams, n_weeks: int) -> Iterator[ArrivalBatch]:
        """Yield one batch per simulated week; each draws only from this group's streams."""
        arrivals = streams.get(f"arrivals/{self.name}{self.stream_suffix}")
        attributes = streams.get(f"attributes/{self.name}{self.stream_suffix}")
        online = streams.get(f"self_triage/{self.name}{self.stream_suffix}")
        hours_per_week = 168
        for week in range(n_weeks):
            lo, hi = week * hours_per_week, (week + 1) * hours_per_week
            rates = self.rate_per_hour[lo:hi]
            counts = arrivals.poisson(rates)
            n = int(counts.sum())
            starts = np.repeat(np.arange(lo, lo + len(rates), dtype=float) * MIN_PER_HOUR, counts)
            times = np.sort(starts + MIN_PER_HOUR * arrivals.random(n))
            times = times[times < self.arrivals_end_min]
            n = len(times)
            rows = new_request_rows(attributes, n)
            need = np.searchsorted(self.need_cdf, rows[:, SLOT_NEED], side="right")
            need = np.minimum(need, len(self.need_names) - 1)
            if self.professional:
                channel = np.full(n, CHANNEL_PROFESSIONAL, dtype=np.int64)
            else:
                cdf = self.channel_cdf[need]
                uc = rows[:, SLOT_CHANNEL]
                channel = np.where(
                    uc < cdf[:, 0],
                    CHANNEL_112,
                    np.where(uc < cdf[:, 1], CHANNEL_GP_POST, CHANNEL_WALK_IN),
                )
            urgent = rows[:, SLOT_URGENT_LINE] < self.urgent_line_share[need]
            self_care = None
            if self.self_triage is not None:
                # a stream of its own: switching self-triage on changes nobody else
                u = online.random((n, 2))
                uptake, resolved = self.self_triage
                self_care = (
                    (channel == CHANNEL_GP_POST) & (u[:, 0] < uptake[need]) & (u[:, 1] < resolved)
                )
            yield ArrivalBatch(self.index, times, need, channel, urgent, rows, self_care)


def n_simulated_weeks(timeline: Timeline) -> int:
    """Whole weeks of arrivals to generate (the last one is cut at the arrivals' end)."""
    return int(np.ceil(timeline.arrivals_end_min / MIN_PER_WEEK))


def _rate_per_hour(
    sc: Scenario, timeline: Timeline, group: DemandGroup, group_name: str
) -> np.ndarray:
    """Poisson arrival rate of a group in every simulated hour: the group's hour-of-week
    profile scaled so that a normal week (no holidays) carries its annual volume, times the
    day type's multiplier on special days and the month's seasonal factor."""
    profile = np.asarray(sc.demand.profiles[group.profile].hour_of_week(), dtype=float)
    weekly = (
        group.requests_per_1000_per_year
        * group.volume_factor
        * sc.region.population
        / 1000.0
        * 7.0
        / DAYS_PER_YEAR
    )
    std_week = np.arange(168)
    if group.after_hours_only:
        ah = sc.calendar.after_hours
        hod, dow = std_week % 24, std_week // 24
        std_active = (dow >= 5) | (hod >= ah.weekday_start_hour) | (hod < ah.weekday_end_hour)
        active = timeline.after_hours
    else:
        std_active = np.ones(168, dtype=bool)
        active = np.ones(timeline.n_hours, dtype=bool)
    norm = float(np.sum(profile * std_active))
    weights = profile[timeline.hour_of_week] * active
    rate = weekly * weights / norm if norm > 0 else np.zeros(timeline.n_hours)
    multipliers = [1.0] + [
        sc.calendar.day_type(name).demand.get(group_name, 1.0)
        for name in timeline.day_type_names[1:]
    ]
    if any(m != 1.0 for m in multipliers):
        rate = rate * np.asarray(multipliers)[timeline.day_type]
    if sc.demand.season_by_month:
        rate = rate * season_per_hour(sc, timeline)
    # no arrivals after the arrival horizon
    last_hour = int(np.ceil(timeline.arrivals_end_min / MIN_PER_HOUR))
    rate[last_hour:] = 0.0
    return rate


def season_per_hour(sc: Scenario, timeline: Timeline) -> np.ndarray:
    """The seasonal factor of every simulated hour: its month's factor over the factors'
    mean across a year, weighted by the days of each month (so a year keeps its volume)."""
    season = {str(m): f for m, f in sc.demand.season_by_month.items()}
    factors = np.array([season.get(m, 1.0) for m in MONTHS])
    days = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    mean = float(np.sum(factors * days) / np.sum(days))
    if mean <= 0:
        return np.zeros(timeline.n_hours)
    months = np.array([d.month - 1 for d in timeline.dates()])
    return factors[months[np.arange(timeline.n_hours) // 24]] / mean


def _channel_cdf(sc: Scenario, group: DemandGroup) -> np.ndarray:
    """Per need, the cumulative shares (dial 112, dial the GP post); the rest walk in.

    ``demand.gp_type_dial_112_factor`` scales the 112 share of GP-type needs; the GP-post
    share absorbs the difference (capped so that the phone share stays as it is)."""
    factor = sc.demand.gp_type_dial_112_factor
    cdf = []
    for n in sc.needs:
        ch = group.channel_by_need.get(n, sc.needs[n].channel)
        dial_112, dial_gp = ch.dial_112, ch.dial_gp_post
        if factor != 1.0 and sc.needs[n].home_door == "gp_post":
            phone = dial_112 + dial_gp
            dial_112 = min(phone, dial_112 * factor)
            dial_gp = phone - dial_112
        cdf.append([dial_112, dial_112 + dial_gp])
    return np.array(cdf)

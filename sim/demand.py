"""Demand: who asks for acute care, when, with which true need, and which door they try.

Requests arrive as non-stationary Poisson processes, one per demand group, with a
piecewise-constant rate per simulated hour: the hour-of-week profile of the group (public
holidays use the Sunday profile), scaled so that a normal year carries the group's annual
volume per 1,000 inhabitants. Groups marked ``after_hours_only`` (GP-type demand) arrive
only while the GP out-of-hours post is open. Within an hour the count is Poisson and the
times are uniform, which is exact for a piecewise-constant rate, also at night-time rates
near zero.

Each request's own attributes (need, door chosen, urgent-line choice and the uniform random
numbers behind its patience, call and task durations) are drawn when it is created from the
group's own streams, so the same replication number gives the same callers, needs and task
draws in every organisational form (common random numbers).

Default volumes: ``domain/parameters.md`` §2a (HAP contacts, 112 ambulance calls, urgent
rides) and §2f (hour-of-week profiles).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.scenario import Scenario
from sim.streams import Streams
from sim.timeline import MIN_PER_HOUR, MIN_PER_WEEK, Timeline

DAYS_PER_YEAR = 365.25

# Random numbers kept per request, by purpose. Each purpose (slot) has a uniform number u at
# an even position of the request's row and its standard normal quantile right after it,
# for lognormal durations. The constants below are positions in that row. Calls use
# CALL_STRIDE positions each, for MAX_SLOT_CALLS calls; rarer later calls extend the row
# from an overflow stream.
_SLOT_NAMES = (
    "need", "channel", "urgent_line",
    "dispatch", "turnout", "drive", "on_scene", "convey", "transport", "handover", "return",
    "travel_post", "consult", "visit_travel", "visit_on_site",
    "team_travel", "team_on_site", "ed_referral",
    "recontact", "recontact_delay", "escalation_delay",
    "referral_give_up", "referral_delay",
)  # fmt: skip
(
    U_NEED, U_CHANNEL, U_URGENT_LINE,
    U_DISPATCH, U_TURNOUT, U_DRIVE, U_ON_SCENE, U_CONVEY, U_TRANSPORT, U_HANDOVER, U_RETURN,
    U_TRAVEL_POST, U_CONSULT, U_VISIT_TRAVEL, U_VISIT_ON_SITE,
    U_TEAM_TRAVEL, U_TEAM_ON_SITE, U_ED_REFERRAL,
    U_RECONTACT, U_RECONTACT_DELAY, U_ESCALATION_DELAY,
    U_REFERRAL_GIVE_UP, U_REFERRAL_DELAY,
) = (2 * i for i in range(len(_SLOT_NAMES)))  # fmt: skip
_CALL_SLOT_NAMES = ("patience", "handle", "triage", "abandon", "redial_delay", "national_desk")
C_PATIENCE, C_HANDLE, C_TRIAGE, C_ABANDON, C_REDIAL_DELAY, C_NATIONAL_DESK = (
    2 * i for i in range(len(_CALL_SLOT_NAMES))
)
FIRST_CALL_POS = 2 * len(_SLOT_NAMES)
CALL_STRIDE = 2 * len(_CALL_SLOT_NAMES)
MAX_SLOT_CALLS = 3
N_SLOTS = len(_SLOT_NAMES) + len(_CALL_SLOT_NAMES) * MAX_SLOT_CALLS
ROW_LENGTH = 2 * N_SLOTS

CHANNEL_112, CHANNEL_GP_POST, CHANNEL_WALK_IN, CHANNEL_PROFESSIONAL = 0, 1, 2, 3
CHANNEL_NAMES = ("112", "gp_post", "walk_in_ed", "professional")


@dataclass(frozen=True)
class ArrivalBatch:
    """The requests of one demand group in one simulated week, in time order."""

    group: int
    times: np.ndarray
    needs: np.ndarray
    channels: np.ndarray
    urgent_line: np.ndarray
    rows: np.ndarray  # shape (n, ROW_LENGTH): uniform numbers and their normal quantiles


class GroupDemand:
    """Arrival rates and attribute tables of one demand group."""

    def __init__(self, sc: Scenario, timeline: Timeline, index: int, name: str):
        group = sc.demand.groups[name]
        self.index = index
        self.name = name
        self.need_names = list(sc.needs)
        profile = np.asarray(sc.demand.profiles[group.profile].hour_of_week(), dtype=float)
        weekly = (
            group.requests_per_1000_per_year
            * group.volume_factor
            * sc.region.population
            / 1000.0
            * 7.0
            / DAYS_PER_YEAR
        )
        # normalise over a standard week (no holidays): a normal week carries the volume
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
        self.rate_per_hour = weekly * weights / norm if norm > 0 else np.zeros(timeline.n_hours)
        # no arrivals after the arrival horizon
        last_hour = int(np.ceil(timeline.arrivals_end_min / MIN_PER_HOUR))
        self.rate_per_hour[last_hour:] = 0.0
        self.arrivals_end_min = timeline.arrivals_end_min
        mix = np.array([group.need_mix.get(n, 0.0) for n in self.need_names])
        self.need_cdf = np.cumsum(mix)
        self.need_cdf[-1] = 1.0
        self.professional = group.channel == "professional"
        needs = [sc.needs[n] for n in self.need_names]
        factor = sc.demand.gp_type_dial_112_factor
        cdf = []
        for n in self.need_names:
            ch = group.channel_by_need.get(n, sc.needs[n].channel)
            dial_112, dial_gp = ch.dial_112, ch.dial_gp_post
            if factor != 1.0 and sc.needs[n].home_door == "gp_post":
                phone = dial_112 + dial_gp
                dial_112 = min(phone, dial_112 * factor)
                dial_gp = phone - dial_112
            cdf.append([dial_112, dial_112 + dial_gp])
        self.channel_cdf = np.array(cdf)
        self.urgent_line_share = np.array([nd.urgent_line_share for nd in needs])

    def batches(self, streams: Streams, n_weeks: int) -> Iterator[ArrivalBatch]:
        """Yield one batch per simulated week; each draws only from this group's streams."""
        arrivals = streams.get(f"arrivals/{self.name}")
        attributes = streams.get(f"attributes/{self.name}")
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
            u = attributes.random((n, N_SLOTS))
            rows = np.empty((n, ROW_LENGTH))
            rows[:, 0::2] = u
            rows[:, 1::2] = ndtri(u)
            u = rows
            need = np.searchsorted(self.need_cdf, u[:, U_NEED], side="right")
            need = np.minimum(need, len(self.need_names) - 1)
            if self.professional:
                channel = np.full(n, CHANNEL_PROFESSIONAL, dtype=np.int64)
            else:
                cdf = self.channel_cdf[need]
                uc = u[:, U_CHANNEL]
                channel = np.where(
                    uc < cdf[:, 0], CHANNEL_112, np.where(uc < cdf[:, 1], CHANNEL_GP_POST, CHANNEL_WALK_IN)
                )
            urgent = u[:, U_URGENT_LINE] < self.urgent_line_share[need]
            yield ArrivalBatch(self.index, times, need, channel, urgent, rows)


def n_simulated_weeks(timeline: Timeline) -> int:
    return int(np.ceil(timeline.arrivals_end_min / MIN_PER_WEEK))

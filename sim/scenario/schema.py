"""The scenario schema: what is simulated, as typed, validated, immutable data.

A scenario is data: it is loaded once, validated once, and is immutable while a model runs.
Every model here forbids unknown fields and checks its ranges; checks that span several
sections (names that must refer to each other) live in ``sim.scenario.checks``. Units are
in the field names: ``_min`` for minutes, ``_share`` for fractions between 0 and 1,
``requests_per_1000_per_year`` for volumes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUILTIN_SERVICES: tuple[str, ...] = ("ambulance", "gp_consult", "gp_visit", "advice")
FORMS: tuple[str, ...] = ("separate", "colocated", "coordination_centre", "central")
Form = Literal["separate", "colocated", "coordination_centre", "central"]
#: The front desks that answer calls, per organisational form.
FORM_DESKS: dict[str, tuple[str, ...]] = {
    "separate": ("mka", "gp_post"),
    "colocated": ("mka", "gp_post"),
    "coordination_centre": ("mka", "coordination"),
    "central": ("coordination",),
}
SUM_TOLERANCE = 1e-6

# Bounds that no real region reaches: a value beyond one is a typing error, and would
# otherwise run for days, exhaust memory or overflow (checked before anything runs).
MAX_MINUTES = 10_080.0  # a duration or target: one week
MAX_CV = 10.0  # coefficient of variation of a lognormal duration
MAX_STAFF = 1_000  # people or vehicles of one kind on duty in one day part
MAX_POPULATION = 50_000_000
MAX_RATE = 100_000.0  # requests per 1,000 inhabitants per year (100 per person)
MAX_FACTOR = 100.0  # multipliers and relative profile weights
MAX_SEED = 2**63 - 1

# Numbers are strict: a count must be a whole number, and no number may be given as a
# bool or a string; every number must be finite and within its bounds.
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Share = Annotated[float, Field(ge=0.0, le=1.0, strict=True, allow_inf_nan=False)]
Minutes = Annotated[float, Field(ge=0.0, le=MAX_MINUTES, strict=True, allow_inf_nan=False)]
Factor = Annotated[float, Field(ge=0.0, le=MAX_FACTOR, strict=True, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=MAX_STAFF, strict=True)]
Hour = Annotated[int, Field(ge=0, le=23, strict=True)]
Staffing = dict[str, Count]

_STD_NORMAL = NormalDist()


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_sums_to_one(shares: Mapping[str, float], what: str) -> None:
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"{what} must sum to 1, but they sum to {total:.6g}")


# --------------------------------------------------------------------------- durations


#: The cvs a gamma or Weibull duration may have (beyond them the shape is extreme: a
#: Weibull shape from about 0.2 to 100).
MIN_SHAPE_CV = 0.01
MAX_SHAPE_CV = 10.0


def weibull_shape(cv: float) -> float:
    """The Weibull shape k with coefficient of variation ``cv`` (bisection on log k: the
    cv falls as k grows)."""

    def cv_of(k: float) -> float:
        g1 = math.gamma(1.0 + 1.0 / k)
        return math.sqrt(max(math.gamma(1.0 + 2.0 / k) / (g1 * g1) - 1.0, 0.0))

    lo, hi = math.log(0.05), math.log(200.0)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if cv_of(math.exp(mid)) > cv:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


class Duration(_Frozen):
    """A task duration in minutes.

    ``fixed`` (mean_min), ``exponential`` (mean_min), ``lognormal``, ``gamma`` or
    ``weibull`` (mean_min and cv, the coefficient of variation) or ``uniform`` (low_min,
    high_min). The model samples it by inverse transform from one uniform number, so that
    the same random number gives comparable durations in every scenario (common random
    numbers). ``fit-durations`` fits the lognormal, gamma, Weibull and exponential forms to
    measured times.
    """

    dist: Literal["fixed", "exponential", "lognormal", "gamma", "weibull", "uniform"]
    mean_min: Minutes | None = None
    cv: Annotated[float, Field(ge=0.0, le=MAX_CV, strict=True, allow_inf_nan=False)] | None = None
    low_min: Minutes | None = None
    high_min: Minutes | None = None

    @model_validator(mode="after")
    def _fields_for_dist(self) -> Duration:
        needs = {
            "fixed": ("mean_min",),
            "exponential": ("mean_min",),
            "lognormal": ("mean_min", "cv"),
            "gamma": ("mean_min", "cv"),
            "weibull": ("mean_min", "cv"),
            "uniform": ("low_min", "high_min"),
        }[self.dist]
        allowed = set(needs)
        missing = [f for f in needs if getattr(self, f) is None]
        extra = [
            f
            for f in ("mean_min", "cv", "low_min", "high_min")
            if f not in allowed and getattr(self, f) is not None
        ]
        if missing:
            raise ValueError(f"dist '{self.dist}' needs {', '.join(missing)}")
        if extra:
            raise ValueError(
                f"dist '{self.dist}' takes only {', '.join(needs)}; remove {', '.join(extra)}"
            )
        if self.dist == "uniform" and self.high_min < self.low_min:  # type: ignore[operator]
            raise ValueError("high_min must be at least low_min")
        if self.dist in ("gamma", "weibull") and not MIN_SHAPE_CV <= self.cv <= MAX_SHAPE_CV:  # type: ignore[operator]
            raise ValueError(
                f"a {self.dist} duration needs cv from {MIN_SHAPE_CV} to {MAX_SHAPE_CV} "
                "(use fixed for no variation)"
            )
        return self

    @property
    def mean(self) -> float:
        """The mean duration in minutes."""
        if self.dist == "uniform":
            return 0.5 * (self.low_min + self.high_min)  # type: ignore[operator]
        return float(self.mean_min)  # type: ignore[arg-type]

    def lognormal_mu_sigma(self) -> tuple[float, float]:
        """Parameters of the normal distribution of log(duration), from mean and cv."""
        mean = float(self.mean_min)  # type: ignore[arg-type]
        cv = float(self.cv)  # type: ignore[arg-type]
        sigma = math.sqrt(math.log1p(cv * cv))
        return math.log(mean) - 0.5 * sigma * sigma, sigma

    def quantile(self, u: float) -> float:
        """The duration at probability ``u``: the inverse of the distribution function."""
        if self.dist == "fixed":
            return float(self.mean_min)  # type: ignore[arg-type]
        if self.dist == "exponential":
            return -float(self.mean_min) * math.log1p(-u)  # type: ignore[arg-type]
        if self.dist == "uniform":
            low, high = float(self.low_min), float(self.high_min)  # type: ignore[arg-type]
            return low + (high - low) * u
        if self.mean_min == 0.0:
            return 0.0
        if self.dist == "gamma":
            from scipy.special import gammaincinv  # only here: reading a scenario needs no scipy

            shape, scale = self.gamma_shape_scale()
            return scale * float(gammaincinv(shape, u))
        if self.dist == "weibull":
            shape, scale = self.weibull_shape_scale()
            return scale * (-math.log1p(-u)) ** (1.0 / shape)
        mu, sigma = self.lognormal_mu_sigma()
        return math.exp(mu + sigma * _STD_NORMAL.inv_cdf(min(max(u, 1e-300), 1 - 1e-16)))

    def gamma_shape_scale(self) -> tuple[float, float]:
        """Shape k and scale of the gamma distribution with this mean and cv."""
        cv = float(self.cv)  # type: ignore[arg-type]
        return 1.0 / (cv * cv), float(self.mean_min) * cv * cv  # type: ignore[arg-type]

    def weibull_shape_scale(self) -> tuple[float, float]:
        """Shape k and scale of the Weibull distribution with this mean and cv (k solves
        Gamma(1 + 2/k) / Gamma(1 + 1/k)^2 = 1 + cv^2)."""
        cv = float(self.cv)  # type: ignore[arg-type]
        shape = weibull_shape(cv)
        return shape, float(self.mean_min) / math.gamma(1.0 + 1.0 / shape)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- calendar


class DayPart(_Frozen):
    """A block of hours on the listed days; when end_hour <= start_hour it runs past midnight."""

    days: tuple[Day, ...] = Field(min_length=1)
    start_hour: Hour
    end_hour: int = Field(ge=0, le=24, strict=True)

    def hours_of_week(self) -> list[int]:
        """The hours of the week (Monday 00:00 = 0) this day part covers."""
        out: list[int] = []
        for day in self.days:
            base = DAYS.index(day) * 24
            length = (self.end_hour - self.start_hour) % 24 or 24
            out.extend((base + self.start_hour + k) % 168 for k in range(length))
        return out


class AfterHours(_Frozen):
    """The GP out-of-hours window: weekdays from start to end hour, all weekend and holidays."""

    weekday_start_hour: Hour
    weekday_end_hour: Hour


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MONTHS: tuple[str, ...] = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
)  # fmt: skip
Month = Literal["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

#: The day type of a public holiday that no ``special_days`` entry names otherwise.
HOLIDAY = "holiday"


class DayType(_Frozen):
    """A kind of special day (a public holiday, Christmas): whose hour profiles and day parts
    it follows, its demand multipliers and its own staffing."""

    # the weekday whose demand profile and day parts (hence staffing) the day follows
    like: Weekday = "sun"
    # multiplier of each demand group's rate on this day (groups not named: 1)
    demand: dict[str, Factor] = {}
    # staffing on this day that differs from the ordinary tables: table -> day part -> count,
    # a table named as in the file (mka.call_takers, gp_post.triagists, gp_post.consult_gps,
    # gp_post.visit_cars, coordination.agents, ambulances.on_duty, teams.<name>.staff)
    staffing: dict[str, Staffing] = {}
    # the GP post is open (after-hours) all day, as on a public holiday
    after_hours_all_day: bool = True


class Calendar(_Frozen):
    """The simulated calendar: start Monday, public holidays, special days, after-hours
    window, day parts."""

    start_date: dt.date
    public_holidays: tuple[dt.date, ...] = ()
    # kinds of special day; 'holiday' (public holidays) is built in: like a Sunday, demand and
    # staffing as on a Sunday, the GP post open all day
    day_types: dict[str, DayType] = {}
    # dates with a day type of their own (a listed date that is also a public holiday takes
    # this day type)
    special_days: dict[dt.date, str] = {}
    after_hours: AfterHours
    day_parts: dict[str, DayPart] = Field(min_length=1)

    def day_type_of(self) -> dict[dt.date, str]:
        """Every special date with its day type (public holidays first, then special days)."""
        out = {d: HOLIDAY for d in self.public_holidays}
        out.update(self.special_days)
        return out

    def day_type(self, name: str) -> DayType:
        """A day type by name ('holiday' is built in when the file does not define it)."""
        if name in self.day_types:
            return self.day_types[name]
        return DayType()

    @field_validator("start_date")
    @classmethod
    def _monday(cls, value: dt.date) -> dt.date:
        if value.weekday() != 0:
            raise ValueError(
                f"must be a Monday (clock 0 is Monday 00:00); {value} is a {value.strftime('%A')}"
            )
        return value

    @field_validator("day_parts")
    @classmethod
    def _cover_week(cls, parts: dict[str, DayPart]) -> dict[str, DayPart]:
        part_of: dict[int, str] = {}
        overlaps: list[str] = []
        for name, part in parts.items():
            for h in part.hours_of_week():
                if h in part_of and len(overlaps) < 5:
                    overlaps.append(f"{_hour_name(h)} is in both '{part_of[h]}' and '{name}'")
                part_of.setdefault(h, name)
        gaps = [h for h in range(168) if h not in part_of]
        problems = []
        if overlaps:
            problems.append("day parts overlap: " + "; ".join(overlaps))
        if gaps:
            problems.append("day parts leave hours of the week uncovered: " + _hour_ranges(gaps))
        if problems:
            raise ValueError(" | ".join(problems))
        return parts

    def day_part_of_hour(self) -> list[str]:
        """Name of the day part for each of the 168 hours of the week (Monday 00:00 = 0)."""
        table = [""] * 168
        for name, part in self.day_parts.items():
            for h in part.hours_of_week():
                table[h] = name
        return table


def _hour_name(h: int) -> str:
    return f"{DAYS[h // 24]} {h % 24:02d}:00"


def _hour_ranges(hours: Sequence[int]) -> str:
    ranges: list[str] = []
    start = prev = hours[0]
    following: list[int | None] = [*hours[1:], None]
    for h in following:
        if h is not None and h == prev + 1:
            prev = h
            continue
        end = prev + 1
        ranges.append(f"{_hour_name(start)}-{end % 24:02d}:00")
        if h is not None:
            start = prev = h
    return ", ".join(ranges[:8]) + (" ..." if len(ranges) > 8 else "")


class Run(_Frozen):
    """Length of a replication: reporting weeks after a warm-up, then a drain; base seed."""

    weeks: int = Field(ge=1, le=520, strict=True)
    warmup_days: float = Field(default=7.0, ge=0.0, le=365.0, strict=True, allow_inf_nan=False)
    drain_hours: float = Field(default=24.0, ge=0.0, le=720.0, strict=True, allow_inf_nan=False)
    seed: int = Field(ge=0, le=MAX_SEED, strict=True)


class Region(_Frozen):
    """The region whose inhabitants make the requests."""

    name: str
    population: int = Field(ge=0, le=MAX_POPULATION, strict=True)


# --------------------------------------------------------------------------- needs and demand


class ChannelChoice(_Frozen):
    """Which door a person with this need tries first (shares sum to 1)."""

    dial_112: Share
    dial_gp_post: Share
    walk_in_ed: Share = 0.0

    @model_validator(mode="after")
    def _sum(self) -> ChannelChoice:
        _check_sums_to_one(
            {"a": self.dial_112, "b": self.dial_gp_post, "c": self.walk_in_ed},
            "dial_112 + dial_gp_post + walk_in_ed",
        )
        return self


class Need(_Frozen):
    """A true need: it fixes the right service, the urgency and the time target."""

    label: str
    urgency: str = Field(min_length=1)
    service: str
    acceptable_services: tuple[str, ...] = ()
    ambulance_priority: Literal["A1", "A2", "B"] | None = None
    target_min: float = Field(gt=0, le=MAX_MINUTES, strict=True, allow_inf_nan=False)
    acuity: int = Field(ge=0, le=100, strict=True)
    home_door: Literal["mka", "gp_post"]
    channel: ChannelChoice
    urgent_line_share: Share = 0.0
    conveyance_share: Share = 0.0
    ed_referral_share: Share = 0.0
    recontact_after_advice_share: Share = 0.0


#: The weekdays a profile may give a day of its own for (else ``weekday`` serves them).
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday")
_Hours = tuple[Factor, ...] | None


class Profile(_Frozen):
    """Relative arrival rate per clock hour (00-01 is the first value): ``weekday`` for
    Monday to Friday, or a day of its own for any of them (``monday`` ... ``friday``; a day
    without one takes ``weekday``), ``saturday`` and ``sunday``."""

    weekday: _Hours = Field(default=None, min_length=24, max_length=24)
    monday: _Hours = Field(default=None, min_length=24, max_length=24)
    tuesday: _Hours = Field(default=None, min_length=24, max_length=24)
    wednesday: _Hours = Field(default=None, min_length=24, max_length=24)
    thursday: _Hours = Field(default=None, min_length=24, max_length=24)
    friday: _Hours = Field(default=None, min_length=24, max_length=24)
    saturday: tuple[Factor, ...] = Field(min_length=24, max_length=24)
    sunday: tuple[Factor, ...] = Field(min_length=24, max_length=24)

    @model_validator(mode="after")
    def _every_day_and_not_all_zero(self) -> Profile:
        missing = [d for d in WEEKDAY_NAMES if getattr(self, d) is None]
        if missing and self.weekday is None:
            raise ValueError(
                f"give 'weekday' (Monday to Friday) or a profile for {', '.join(missing)}"
            )
        if sum(self.hour_of_week()) <= 0:
            raise ValueError("a profile needs at least one positive hour")
        return self

    @model_serializer(mode="wrap")
    def _without_unset_days(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Days not given are left out (a file with only ``weekday`` dumps as before)."""
        out: dict[str, Any] = handler(self)
        return {k: v for k, v in out.items() if v is not None}

    def hour_of_week(self) -> list[float]:
        """The 168 relative rates of a week, Monday 00:00 first."""
        days = [getattr(self, d) or self.weekday or () for d in WEEKDAY_NAMES]
        return [h for day in (*days, self.saturday, self.sunday) for h in day]


class DemandGroup(_Frozen):
    """A stream of requests with its own volume, time profile, need mix and channel."""

    label: str
    requests_per_1000_per_year: float = Field(ge=0.0, le=MAX_RATE, strict=True, allow_inf_nan=False)
    volume_factor: Factor = 1.0
    after_hours_only: bool = Field(strict=True)
    profile: str
    channel: Literal["public", "professional"] = "public"
    need_mix: dict[str, Share] = Field(min_length=1)
    # which door people of this group try first, per need, where it differs from the need's
    # own channel choice (e.g. people who call the GP post with chest pain)
    channel_by_need: dict[str, ChannelChoice] = {}

    @field_validator("need_mix")
    @classmethod
    def _mix(cls, mix: dict[str, float]) -> dict[str, float]:
        _check_sums_to_one(mix, "need_mix shares")
        return mix


class SelfTriage(_Frozen):
    """Digital self-triage on the GP post's website, before a call to its number: some
    people check online first, and some of them end with self-care advice and never call
    (the rest call with their need unchanged). Off unless ``uptake`` names needs."""

    # per need: the share of those about to phone the GP post's number who check online first
    uptake: dict[str, Share] = {}
    # of those who check, the share whose check ends in self-care advice (they do not call)
    resolved_share: Share = 0.0
    # minutes from the start of the check to its advice (the time to care of those it resolves)
    check_min: Minutes = 5.0

    def active(self) -> bool:
        """Whether anyone can be resolved online."""
        return self.resolved_share > 0 and any(v > 0 for v in self.uptake.values())


class Demand(_Frozen):
    """Who asks for acute care: hour-of-week profiles and demand groups."""

    profiles: dict[str, Profile] = Field(min_length=1)
    groups: dict[str, DemandGroup] = Field(min_length=1)
    # sensitivity knob: multiplies the share of people with a GP-type need who dial 112
    # (the GP-post share absorbs the difference; the walk-in share stays; capped at 1)
    gp_type_dial_112_factor: Factor = 1.0
    # extra after-hours-only (GP-type) requests because a form's entry is easier, as a share
    # of those groups' volume; drawn from streams of their own so that everyone else is the
    # same person in every form
    induced_share: Factor = 0.0
    # relative demand by month of the year (months not named: 1), for every group; divided
    # by their mean over a year (weighted by the days of each month), so that a year keeps
    # each group's annual volume
    season_by_month: dict[Month, Factor] = {}
    self_triage: SelfTriage = SelfTriage()


# --------------------------------------------------------------------------- desks


class OnAbandon(_Frozen):
    """What a caller who hangs up in the queue does next; the rest give up for good."""

    redial_same_share: Share
    switch_other_share: Share
    redial_delay: Duration

    @model_validator(mode="after")
    def _sum(self) -> OnAbandon:
        total = self.redial_same_share + self.switch_other_share
        if total > 1 + SUM_TOLERANCE:
            raise ValueError(
                f"redial_same_share + switch_other_share must be at most 1, not {total:.6g}"
            )
        return self


class AnswerNorm(_Frozen):
    """A desk's answering norm: minutes within which an urgent or regular call counts as
    answered in time."""

    urgent_min: Minutes
    regular_min: Minutes


class CallBack(_Frozen):
    """Call-back mode of the GP post's number (GP post or coordination desk): a short intake
    (answer, registration, urgency screen) by intake staff; urgent cases go to a triagist
    at once, the others hang up and are called back by a triagist, most urgent first.
    Calls on the urgent line and on 112 skip the intake."""

    intake_staff: Staffing
    intake_time: Duration
    # urgencies the intake passes to a triagist at once (the caller stays on the line)
    at_once: tuple[str, ...] = ("A1", "A2", "U1")
    # share of call-back attempts nobody answers (tried again after retry_delay)
    attempt_fail_share: Share = 0.0
    attempt_min: Minutes = 1.0  # a triagist's time on an attempt nobody answers
    retry_delay: Duration
    max_attempts: int = Field(default=3, ge=1, le=10, strict=True)


class Triage(_Frozen):
    """How a front desk handles a call: durations, caller patience and the triage matrix."""

    handle_time: dict[str, Duration]
    patience: Duration
    on_abandon: OnAbandon
    answer_norm: AnswerNorm
    warm_transfer_time: Duration
    dispatches: tuple[str, ...] = Field(min_length=1)
    confusion: dict[str, dict[str, Share]] = {}
    # call-back mode (the GP post's number only); None: every call is triaged at once
    callback: CallBack | None = None

    @field_validator("handle_time")
    @classmethod
    def _default(cls, value: dict[str, Duration]) -> dict[str, Duration]:
        if "default" not in value:
            raise ValueError("needs a 'default' entry (used for services not listed)")
        return value

    @field_validator("confusion")
    @classmethod
    def _rows(cls, rows: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for true_need, row in rows.items():
            _check_sums_to_one(row, f"confusion row '{true_need}'")
        return rows

    def handle_duration(self, service: str) -> Duration:
        """How long a call takes when it ends in ``service`` (or the default)."""
        return self.handle_time.get(service, self.handle_time["default"])


class Referral(_Frozen):
    """A caller told by the MKA to phone the GP post (separate form only)."""

    give_up_share: Share
    redial_delay: Duration


class RoomConsult(_Frozen):
    """Co-located form: before sending an A2 ambulance to a 112 caller, the MKA nurse asks
    the GP-post triagist in the room (when one is free) with this share, for this long."""

    share: Share
    duration: Duration


class Mka(_Frozen):
    """The ambulance dispatch centre (MKA): 112 call-takers, the national 112 desk before
    them, their triage, the referral of GP-type callers in the ``separate`` form and the
    consultation in the room in the ``colocated`` form."""

    call_takers: Staffing
    national_desk_delay: Duration
    triage: Triage
    referral: Referral
    room_consult: RoomConsult


class GpPost(_Frozen):
    """The GP out-of-hours post: triagists, GPs for consultations, cars for home visits."""

    triagists: Staffing
    triage: Triage
    consult_gps: Staffing
    travel_to_post: Duration
    consultation: Duration
    visit_cars: Staffing
    visit_travel: Duration
    visit_on_site: Duration


class Coordination(_Frozen):
    """The coordination desk: the one pooled desk of the ``central`` form, or the desk that
    answers the GP post's number with broad triage in the ``coordination_centre`` form."""

    agents: Staffing
    triage: Triage
    # when the assigned service already has this many waiting, send an acceptable
    # alternative from ``alternative_services`` that has someone free (None: never)
    alternatives_when_queue_at_least: int | None = Field(default=None, ge=1, le=10_000, strict=True)
    alternative_services: tuple[str, ...] = ()


# --------------------------------------------------------------------------- services


class Ambulances(_Frozen):
    """The ambulance fleet on duty and the phases of a ride."""

    # vehicles on duty in the region per day part; with a geography the fleet is the sum of
    # its posts (this table may then be left out, or must say the same)
    on_duty: Staffing | None = None
    dispatch: Duration
    turnout: Duration
    drive_to_scene: Duration
    on_scene: Duration
    transport: Duration
    handover: Duration
    return_to_base: Duration


class Team(_Frozen):
    """An optional visiting team (district nurse, mental-health crisis team)."""

    label: str
    staff: Staffing
    travel: Duration
    on_site: Duration


class U1Dispatch(_Frozen):
    """What is sent when a desk triages a need as U1 (immediate danger, GP-post scale):
    shares of an ambulance only, a GP only, or both. The same rule holds in every form."""

    ambulance: Share
    gp: Share
    both: Share

    @model_validator(mode="after")
    def _sum(self) -> U1Dispatch:
        _check_sums_to_one(
            {"a": self.ambulance, "b": self.gp, "c": self.both}, "ambulance + gp + both"
        )
        return self


class RepeatContact(_Frozen):
    """A second call about the same problem after care by telephone advice or a
    consultation: the share who call again, and when."""

    after_advice_share: Share
    after_consult_share: Share
    delay: Duration


class Behaviour(_Frozen):
    """Rules every form shares: call limits, shift changes, recontact and escalation delays."""

    max_calls_per_request: int = Field(ge=1, le=50, strict=True)
    # What happens at a day-part boundary. ``level``: the staffing number is a level; when it
    # falls, idle staff leave at once and busy ones finish the call in hand, then leave;
    # when it rises, the extra staff start at once. ``handover``: every boundary is a shift
    # change; the whole new shift starts on time while the outgoing staff finish the calls
    # in hand (for a while both are there).
    shift_change: Literal["level", "handover"] = "level"
    recontact_delay: Duration
    escalation_delay: Duration
    # minutes into a triage call at which the triagist has decided and sends a GP car or a
    # team (capped at the call's length); an ambulance uses ``ambulances.dispatch``
    triage_decision: Duration
    u1_dispatch: U1Dispatch
    # Of the MKA's over-triage of GP-type callers who dial 112, the share that comes from
    # how the caller presents (it follows them to any desk that triages them); the rest
    # belongs to the MKA's protocol and stays at the MKA.
    caller_driven_over_triage_share: Share
    repeat_contact: RepeatContact


# --------------------------------------------------------------------------- staffing, costs


class CallbackNorm(_Frozen):
    """A call-back norm: the share of call-backs a triagist starts within some minutes of
    the call-back being queued."""

    within_min: Minutes
    share: Share


class StaffingNorms(_Frozen):
    """The service every front desk must give, in every part of the week, for the
    ``staffing`` command. Answering limits are each desk's own ``triage.answer_norm``;
    waits are measured at the desk's own queue (a 112 call's national desk is not counted)."""

    # share of urgent-line calls answered within the desk's answer_norm.urgent_min
    urgent_answered_share: Share = 0.90
    # share of regular-line calls answered within the desk's answer_norm.regular_min
    regular_answered_share: Share = 0.75
    # share of public calls (urgent and regular lines) that hang up while waiting, at most
    abandoned_share_max: Share = 0.05
    # call-back mode: how soon the triagists call back (None: no call-back norm)
    callback: CallbackNorm | None = CallbackNorm(within_min=30.0, share=0.80)
    # services staffed too (``staffing.services``): per urgency, the share of requests whose
    # need has that urgency that a professional reaches within the need's ``target_min``
    # (counted with the service the need is meant for); urgencies not named have no norm
    care: dict[str, Share] = Field(default_factory=dict)
    # travel and the desks limit what any number of units can reach: a care norm is met
    # when the share reaches it, or comes within this of the share unlimited units reach
    # for the same callers (whichever asks less)
    care_tolerance: Share = 0.02


class ShiftPatterns(_Frozen):
    """The shifts a roster may use: each may start at any of ``starts`` on any day and last
    any of ``lengths`` hours (paid hours; breaks are not modelled)."""

    starts: tuple[Hour, ...] = Field(min_length=1)
    lengths: tuple[Annotated[int, Field(ge=1, le=24, strict=True)], ...] = Field(min_length=1)


class StaffingSearch(_Frozen):
    """How the ``staffing`` command searches: the norms, how sure the verification must be,
    and how many replications each step simulates."""

    norms: StaffingNorms = StaffingNorms()
    # paid hours of one full-time employee per week (FTE = staff hours per week / this)
    hours_per_fte: float = Field(default=36.0, gt=0.0, le=80.0, strict=True, allow_inf_nan=False)
    # a norm counts as met when the one-sided bound at this confidence meets it
    confidence: float = Field(default=0.95, ge=0.5, le=0.999, strict=True, allow_inf_nan=False)
    # replications per step of the search (common random numbers across steps)
    replications: int = Field(default=6, ge=2, le=200, strict=True)
    # replications of the verification run (independent of the search's)
    verify_replications: int = Field(default=10, ge=2, le=500, strict=True)
    # staff on duty in every hour a desk is open, at least
    min_staff: Count = 1
    # real shift patterns: the hourly requirement is also covered by the fewest paid hours
    # of such shifts, chosen by an integer program (None: day parts only)
    shifts: ShiftPatterns | None = None
    # also staff the services behind the desks (GP consult GPs, GP cars, ambulances) to the
    # care norms (``run_sim.py staffing --services``)
    services: bool = False


#: The ambulance fleet's key in ``costs.per_hour`` (one rate per ambulance hour on duty).
AMBULANCE_COST_KEY = "ambulances"


class Costs(_Frozen):
    """What staff and vehicles cost per hour on duty, by staffing table (named as in the
    file: ``mka.call_takers``, ``gp_post.triagists``, ``teams.<name>.staff``, ...) and
    ``ambulances`` for each ambulance hour on duty. Tables not named cost nothing."""

    currency: str = Field(default="EUR", min_length=1, max_length=8)
    per_hour: dict[
        str, Annotated[float, Field(ge=0.0, le=100_000.0, strict=True, allow_inf_nan=False)]
    ] = Field(min_length=1)


class Provenance(_Frozen):
    """Where a default figure comes from and how sure it is."""

    confidence: Literal["measured", "norm", "estimated", "guessed"]
    source: str


# --------------------------------------------------------------------------- uncertainty

#: How an uncertain input moves its fields: ``set`` gives each field the drawn value;
#: ``multiply`` multiplies each field's value by it (a whole number stays whole, rounded);
#: ``off_diagonal`` multiplies the mass a confusion row puts on needs other than its own
#: (the errors) and gives the rest to the row's own need.
UncertainHow = Literal["set", "multiply", "off_diagonal"]
#: A parameter of an uncertain input's distribution: every field a scenario has is a
#: number of at least 0, and so is every multiplier.
Bound = Annotated[float, Field(ge=0.0, le=1e9, strict=True, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, le=1e9, strict=True, allow_inf_nan=False)]


class UncertainInput(_Frozen):
    """An input that is not known exactly: the scenario fields it moves (dotted paths as in
    ``--set``; a ``*`` part stands for every key at that level, and a field that is null
    there is left alone), how it moves them, and the distribution of its value, with where
    that range comes from.

    Distributions: ``uniform`` (low, high), ``triangular`` (low, mode, high), ``beta`` on
    [low, high] (default [0, 1]) with ``mean`` and ``sd`` (shares), ``lognormal`` with
    ``median`` and ``cv`` (multipliers and durations)."""

    fields: list[str] = Field(min_length=1, max_length=200)
    how: UncertainHow = "multiply"
    dist: Literal["uniform", "triangular", "beta", "lognormal"]
    low: Bound | None = None
    high: Bound | None = None
    mode: Bound | None = None
    mean: Bound | None = None
    sd: Positive | None = None
    median: Positive | None = None
    cv: Annotated[float, Field(gt=0.0, le=MAX_CV, strict=True, allow_inf_nan=False)] | None = None
    confidence: Literal["measured", "norm", "estimated", "guessed"]
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _parameters(self) -> UncertainInput:
        needed = {
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "beta": ("mean", "sd"),
            "lognormal": ("median", "cv"),
        }[self.dist]
        allowed = set(needed) | ({"low", "high"} if self.dist == "beta" else set())
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        extra = [
            k
            for k in ("low", "high", "mode", "mean", "sd", "median", "cv")
            if getattr(self, k) is not None and k not in allowed
        ]
        if extra:
            raise ValueError(
                f"a {self.dist} distribution takes {', '.join(sorted(allowed))}, "
                f"not {', '.join(extra)}"
            )
        low, high = self.support()
        if not low < high:
            raise ValueError("high must be above low")
        if self.dist == "triangular" and not low <= self.mode <= high:  # type: ignore[operator]
            raise ValueError("mode must lie between low and high")
        if self.dist == "beta":
            m = (self.mean - low) / (high - low)  # type: ignore[operator]
            v = (self.sd / (high - low)) ** 2  # type: ignore[operator]
            if not 0.0 < m < 1.0 or v >= m * (1.0 - m):
                raise ValueError(
                    "a beta needs low < mean < high and sd below sqrt((mean - low) * (high - mean))"
                )
        return self

    def support(self) -> tuple[float, float]:
        """The interval the value can take (the lognormal's is its 0.1 % to 99.9 % range)."""
        if self.dist == "lognormal":
            sigma = math.sqrt(math.log1p(self.cv**2))  # type: ignore[operator]
            z = _STD_NORMAL.inv_cdf(0.999)
            return self.median * math.exp(-z * sigma), self.median * math.exp(z * sigma)  # type: ignore[operator]
        if self.dist == "beta":
            return (0.0 if self.low is None else self.low, 1.0 if self.high is None else self.high)
        return self.low, self.high  # type: ignore[return-value]


# --------------------------------------------------------------------------- geography

#: A point's coordinate on a grid in kilometres with its origin south-west of the region,
#: so that every coordinate is non-negative (the Dutch RD grid is such a grid).
Km = Annotated[float, Field(ge=0.0, le=1e4, strict=True, allow_inf_nan=False)]


class Zone(_Frozen):
    """A demand zone: its inhabitants (the share of every demand group it holds) and its
    point in kilometres on a flat map (e.g. the Dutch RD grid divided by 1,000)."""

    population: int = Field(ge=0, le=MAX_POPULATION, strict=True)
    x_km: Km
    y_km: Km
    # typical distance from the point to the zone's inhabitants (added to every drive to
    # or from the zone: sqrt(straight line^2 + spread^2))
    spread_km: Annotated[float, Field(ge=0.0, le=100.0, strict=True, allow_inf_nan=False)] = 0.0


class Point(_Frozen):
    """A place on the map (a hospital with an emergency department)."""

    x_km: Km
    y_km: Km


class Post(_Frozen):
    """An ambulance post: its point and the vehicles on duty there per day part."""

    x_km: Km
    y_km: Km
    vehicles: Staffing


class DriveModel(_Frozen):
    """Expected emergency drive time between two points: fixed minutes plus the road
    distance (straight line x detour factor) at the mean emergency speed; each drive
    varies around it (lognormal with this coefficient of variation)."""

    fixed_min: Minutes
    detour_factor: Annotated[float, Field(ge=1.0, le=3.0, strict=True, allow_inf_nan=False)]
    speed_kmh: Annotated[float, Field(gt=0.0, le=200.0, strict=True, allow_inf_nan=False)]
    cv: Annotated[float, Field(ge=0.0, le=2.0, strict=True, allow_inf_nan=False)]

    def minutes(self, km: float) -> float:
        """The expected drive over a straight-line distance of ``km``."""
        return self.fixed_min + self.detour_factor * km / self.speed_kmh * 60.0


class Geography(_Frozen):
    """Where people live, where ambulances wait and where patients are taken. With a
    geography, dispatch sends the free vehicle with the shortest expected drive, drives
    follow the map, and the fleet on duty is the sum of the posts."""

    zones: dict[str, Zone] = Field(min_length=1)
    posts: dict[str, Post] = Field(min_length=1)
    hospitals: dict[str, Point] = Field(min_length=1)
    drive: DriveModel
    # the longest expected drive from a post for a zone to count as covered by it (the
    # drive budget of the 15-minute A1 norm: 2 min call, 1 min turnout, 12 min drive)
    cover_drive_min: Minutes = 12.0
    # where GP cars and visiting teams leave from (the nearest base to the patient's zone)
    # and how they drive (no lights and sirens); none: their travel times as without a map
    car_bases: dict[str, Point] = {}
    car: DriveModel | None = None
    # move-up: when a dispatch leaves a zone with no idle vehicle within the cover drive,
    # an idle vehicle that no other zone needs drives to the post nearest that zone and
    # stays there until the posts' rosters next change (docs/MODEL.md, "Move-up")
    move_up: bool = False
    # a region's own expected drive minutes between named places (a post, zone or hospital
    # to another), used in place of the drive model for the pairs given; a pair counts both
    # ways unless the way back is given too. Usually read from a file by the loader
    # (drive_minutes_file: a CSV with the header from,to,minutes)
    drive_minutes: dict[str, dict[str, Minutes]] = {}

    @model_validator(mode="after")
    def _cars(self) -> Geography:
        if bool(self.car_bases) != (self.car is not None):
            raise ValueError("car_bases and car go together: give both, or neither")
        return self


# --------------------------------------------------------------------------- the scenario


class Scenario(_Frozen):
    """Everything one simulation needs: region, calendar, demand, desks, services, form."""

    name: str = Field(min_length=1)
    description: str = ""
    organisation: Form
    region: Region
    calendar: Calendar
    run: Run
    needs: dict[str, Need] = Field(min_length=1)
    demand: Demand
    mka: Mka
    gp_post: GpPost
    coordination: Coordination
    ambulances: Ambulances
    geography: Geography | None = None
    teams: dict[str, Team] = {}
    behaviour: Behaviour
    provenance: dict[str, Provenance] = {}
    # inputs that are not known exactly, by name (for studies of input uncertainty; a run
    # of the scenario itself uses the values above)
    uncertainty: dict[str, UncertainInput] = {}
    # the norms and settings of the ``staffing`` command
    staffing: StaffingSearch = StaffingSearch()
    # cost per hour on duty (optional: reports show costs only where it is given)
    costs: Costs | None = None

    @property
    def services(self) -> tuple[str, ...]:
        """Every service a desk can send: the built-in ones, then the teams."""
        return BUILTIN_SERVICES + tuple(self.teams)

    def active_desks(self) -> tuple[str, ...]:
        """The front desks that answer calls in this scenario's organisational form."""
        return FORM_DESKS[self.organisation]

    def triage_of(self, desk: str) -> Triage:
        """The triage settings of a desk by its name."""
        return {
            "mka": self.mka.triage,
            "gp_post": self.gp_post.triage,
            "coordination": self.coordination.triage,
        }[desk]

    def staffing_tables(self) -> dict[str, Mapping[str, int]]:
        """Every staffing table by its name in the file (``mka.call_takers``, ...)."""
        tables: dict[str, Mapping[str, int]] = {
            "mka.call_takers": self.mka.call_takers,
            "gp_post.triagists": self.gp_post.triagists,
            "gp_post.consult_gps": self.gp_post.consult_gps,
            "gp_post.visit_cars": self.gp_post.visit_cars,
            "coordination.agents": self.coordination.agents,
        }
        if self.ambulances.on_duty is not None:
            tables["ambulances.on_duty"] = self.ambulances.on_duty
        for desk in ("gp_post", "coordination"):
            spec = self.triage_of(desk).callback
            if spec is not None:
                tables[f"{desk}.triage.callback.intake_staff"] = spec.intake_staff
        tables.update({f"teams.{t}.staff": team.staff for t, team in self.teams.items()})
        if self.geography is not None:
            tables.update(
                {
                    f"geography.posts.{name}.vehicles": post.vehicles
                    for name, post in self.geography.posts.items()
                }
            )
        return tables

    def cost_keys(self) -> list[str]:
        """The names ``costs.per_hour`` may use: the staff tables and ``ambulances``."""
        staff = [
            t
            for t in self.staffing_tables()
            if not t.startswith("geography.") and t != "ambulances.on_duty"
        ]
        # intake staff may have a rate while call-back is off (they then cost nothing)
        intake = [f"{d}.triage.callback.intake_staff" for d in ("gp_post", "coordination")]
        return [*staff, *(t for t in intake if t not in staff), AMBULANCE_COST_KEY]

    def content_hash(self) -> str:
        """A hash of the whole validated content (the same scenario gives the same hash)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

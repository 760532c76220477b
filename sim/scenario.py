"""Typed scenario model and the one YAML loader.

A scenario is data: it is loaded once, validated once, and is immutable while a model runs.
Every problem found in a scenario file is reported at once, each as
``file:line:col: field.path: message``; nothing is simulated when there is any.

Variant files name a base with ``extends:`` and override only what differs: mappings merge
key by key, while lists, durations (mappings with ``dist``) and empty mappings replace the
base value whole. Command-line overrides (``--set a.b.c=value``) are merged last and
validated exactly like the file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import math
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUILTIN_SERVICES: tuple[str, ...] = ("ambulance", "gp_consult", "gp_visit", "advice")
FORMS: tuple[str, ...] = ("separate", "colocated", "central")
SUM_TOLERANCE = 1e-6

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Staffing = dict[str, Annotated[int, Field(ge=0)]]

_STD_NORMAL = NormalDist()


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_sums_to_one(shares: Mapping[str, float], what: str) -> None:
    total = math.fsum(shares.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"{what} must sum to 1, but they sum to {total:.6g}")


# --------------------------------------------------------------------------- durations


class Duration(_Frozen):
    """A task duration in minutes.

    ``fixed`` (mean_min), ``exponential`` (mean_min), ``lognormal`` (mean_min and cv, the
    coefficient of variation) or ``uniform`` (low_min, high_min). Samples are taken by
    inverse transform from one uniform number, so that the same random number gives
    comparable durations in every scenario (common random numbers).
    """

    dist: Literal["fixed", "exponential", "lognormal", "uniform"]
    mean_min: NonNegative | None = None
    cv: NonNegative | None = None
    low_min: NonNegative | None = None
    high_min: NonNegative | None = None

    @model_validator(mode="after")
    def _fields_for_dist(self) -> Duration:
        needs = {
            "fixed": ("mean_min",),
            "exponential": ("mean_min",),
            "lognormal": ("mean_min", "cv"),
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
        return self

    @property
    def mean(self) -> float:
        if self.dist == "uniform":
            return 0.5 * (self.low_min + self.high_min)  # type: ignore[operator]
        return float(self.mean_min)  # type: ignore[arg-type]

    def quantile(self, u: float) -> float:
        """The duration at probability u (inverse CDF); the reference for the samplers."""
        return self.sampler()([u, _STD_NORMAL.inv_cdf(min(max(u, 1e-300), 1 - 1e-16))], 0)

    def sampler(self) -> typing.Callable[[typing.Sequence[float], int], float]:
        """A fast function (row, i) -> duration.

        ``row[i]`` is a uniform number u on [0, 1) and ``row[i + 1]`` its standard normal
        quantile, so every distribution is an inverse transform of the same u (common
        random numbers) and no normal quantile is computed during the run.
        """
        if self.dist == "fixed":
            value = float(self.mean_min)  # type: ignore[arg-type]
            return lambda row, i: value
        if self.dist == "exponential":
            mean = float(self.mean_min)  # type: ignore[arg-type]
            log1p = math.log1p
            return lambda row, i: -mean * log1p(-row[i])
        if self.dist == "uniform":
            low = float(self.low_min)  # type: ignore[arg-type]
            width = float(self.high_min) - low  # type: ignore[arg-type]
            return lambda row, i: low + width * row[i]
        mean = float(self.mean_min)  # type: ignore[arg-type]
        cv = float(self.cv)  # type: ignore[arg-type]
        if mean == 0.0:
            return lambda row, i: 0.0
        sigma = math.sqrt(math.log1p(cv * cv))
        mu = math.log(mean) - 0.5 * sigma * sigma
        exp = math.exp
        return lambda row, i: exp(mu + sigma * row[i + 1])


# --------------------------------------------------------------------------- calendar


class DayPart(_Frozen):
    """A block of hours on the listed days; when end_hour <= start_hour it runs past midnight."""

    days: tuple[Day, ...] = Field(min_length=1)
    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=0, le=24)

    def hours_of_week(self) -> list[int]:
        out: list[int] = []
        for day in self.days:
            base = DAYS.index(day) * 24
            length = (self.end_hour - self.start_hour) % 24 or 24
            out.extend((base + self.start_hour + k) % 168 for k in range(length))
        return out


class AfterHours(_Frozen):
    """The GP out-of-hours window: weekdays from start to end hour, all weekend and holidays."""

    weekday_start_hour: int = Field(ge=0, le=23)
    weekday_end_hour: int = Field(ge=0, le=23)


class Calendar(_Frozen):
    start_date: dt.date
    public_holidays: tuple[dt.date, ...] = ()
    after_hours: AfterHours
    day_parts: dict[str, DayPart] = Field(min_length=1)

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
        owner: dict[int, str] = {}
        overlaps: list[str] = []
        for name, part in parts.items():
            for h in part.hours_of_week():
                if h in owner and len(overlaps) < 5:
                    overlaps.append(f"{_hour_name(h)} is in both '{owner[h]}' and '{name}'")
                owner.setdefault(h, name)
        gaps = [h for h in range(168) if h not in owner]
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
    for h in list(hours[1:]) + [None]:  # type: ignore[list-item]
        if h is not None and h == prev + 1:
            prev = h
            continue
        end = prev + 1
        ranges.append(f"{_hour_name(start)}-{end % 24:02d}:00")
        if h is not None:
            start = prev = h
    return ", ".join(ranges[:8]) + (" ..." if len(ranges) > 8 else "")


class Run(_Frozen):
    weeks: int = Field(ge=1, le=520)
    warmup_days: NonNegative = 7.0
    drain_hours: NonNegative = 24.0
    seed: int = Field(ge=0)


class Region(_Frozen):
    name: str
    population: int = Field(ge=0)


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
    target_min: float = Field(gt=0)
    acuity: int = Field(ge=0)
    home_door: Literal["mka", "gp_post"]
    channel: ChannelChoice
    urgent_line_share: Share = 0.0
    conveyance_share: Share = 0.0
    ed_referral_share: Share = 0.0
    recontact_after_advice_share: Share = 0.0


class Profile(_Frozen):
    """Relative arrival rate per clock hour (00-01 is the first value)."""

    weekday: tuple[NonNegative, ...] = Field(min_length=24, max_length=24)
    saturday: tuple[NonNegative, ...] = Field(min_length=24, max_length=24)
    sunday: tuple[NonNegative, ...] = Field(min_length=24, max_length=24)

    @model_validator(mode="after")
    def _not_all_zero(self) -> Profile:
        if sum(self.weekday) + sum(self.saturday) + sum(self.sunday) <= 0:
            raise ValueError("a profile needs at least one positive hour")
        return self

    def hour_of_week(self) -> list[float]:
        return list(self.weekday) * 5 + list(self.saturday) + list(self.sunday)


class DemandGroup(_Frozen):
    label: str
    requests_per_1000_per_year: NonNegative
    volume_factor: NonNegative = 1.0
    after_hours_only: bool
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


class Demand(_Frozen):
    profiles: dict[str, Profile] = Field(min_length=1)
    groups: dict[str, DemandGroup] = Field(min_length=1)
    # sensitivity knob: multiplies the share of people with a GP-type need who dial 112
    # (the GP-post share absorbs the difference; the walk-in share stays; capped at 1)
    gp_type_dial_112_factor: NonNegative = 1.0


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
    urgent_min: NonNegative
    regular_min: NonNegative


class Triage(_Frozen):
    """How a front desk handles a call: durations, caller patience and the triage matrix."""

    handle_time: dict[str, Duration]
    patience: Duration
    on_abandon: OnAbandon
    answer_norm: AnswerNorm
    warm_transfer_time: Duration
    dispatches: tuple[str, ...] = Field(min_length=1)
    confusion: dict[str, dict[str, Share]] = {}

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
        return self.handle_time.get(service, self.handle_time["default"])


class Referral(_Frozen):
    """A caller told by the MKA to phone the GP post (separate form only)."""

    give_up_share: Share
    redial_delay: Duration


class Mka(_Frozen):
    call_takers: Staffing
    national_desk_delay: Duration
    triage: Triage
    referral: Referral


class GpPost(_Frozen):
    triagists: Staffing
    triage: Triage
    consult_gps: Staffing
    travel_to_post: Duration
    consultation: Duration
    visit_cars: Staffing
    visit_travel: Duration
    visit_on_site: Duration


class Coordination(_Frozen):
    agents: Staffing
    triage: Triage
    # when the assigned service already has this many waiting, send an acceptable
    # alternative from ``alternative_services`` that has someone free (None: never)
    alternatives_when_queue_at_least: int | None = Field(default=None, ge=1)
    alternative_services: tuple[str, ...] = ()


# --------------------------------------------------------------------------- services


class Ambulances(_Frozen):
    on_duty: Staffing
    dispatch: Duration
    turnout: Duration
    drive_to_scene: Duration
    on_scene: Duration
    transport: Duration
    handover: Duration
    return_to_base: Duration


class Team(_Frozen):
    label: str
    staff: Staffing
    travel: Duration
    on_site: Duration


class Behaviour(_Frozen):
    max_calls_per_request: int = Field(ge=1, le=50)
    # What happens at a day-part boundary. ``level``: the staffing number is a level; when it
    # falls, idle staff leave at once and busy ones finish the call in hand, then leave;
    # when it rises, the extra staff start at once. ``handover``: every boundary is a shift
    # change; the whole new shift starts on time while the outgoing staff finish the calls
    # in hand (for a while both are there).
    shift_change: Literal["level", "handover"] = "level"
    recontact_delay: Duration
    escalation_delay: Duration


class Provenance(_Frozen):
    confidence: Literal["measured", "norm", "estimated", "guessed"]
    source: str


# --------------------------------------------------------------------------- the scenario


class Scenario(_Frozen):
    name: str = Field(min_length=1)
    description: str = ""
    organisation: Literal["separate", "colocated", "central"]
    region: Region
    calendar: Calendar
    run: Run
    needs: dict[str, Need] = Field(min_length=1)
    demand: Demand
    mka: Mka
    gp_post: GpPost
    coordination: Coordination
    ambulances: Ambulances
    teams: dict[str, Team] = {}
    behaviour: Behaviour
    provenance: dict[str, Provenance] = {}

    @property
    def services(self) -> tuple[str, ...]:
        return BUILTIN_SERVICES + tuple(self.teams)

    def active_desks(self) -> tuple[str, ...]:
        return ("coordination",) if self.organisation == "central" else ("mka", "gp_post")

    def triage_of(self, desk: str) -> Triage:
        return {
            "mka": self.mka.triage,
            "gp_post": self.gp_post.triage,
            "coordination": self.coordination.triage,
        }[desk]

    def content_hash(self) -> str:
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- loader


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    location: Location
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.path or '(top level)'}: {self.message}"


class ScenarioError(Exception):
    """Raised with every problem of a scenario; str() gives one located line per problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


PathT = tuple[str | int, ...]


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Positions:
    """Where in which file each field path was written."""

    def __init__(self) -> None:
        self._map: dict[PathT, Location] = {}

    def set(self, path: PathT, loc: Location) -> None:
        self._map[path] = loc

    def drop_under(self, path: PathT) -> None:
        n = len(path)
        for key in [k for k in self._map if k[:n] == path and len(k) > n]:
            del self._map[key]

    def find(self, path: PathT) -> Location:
        path = tuple(path)
        while path:
            if path in self._map:
                return self._map[path]
            path = path[:-1]
        return self._map.get((), Location("<scenario>", 0, 0))

    def update(self, other: _Positions) -> None:
        self._map.update(other._map)


def _compose_file(path: Path, problems: list[Problem]) -> tuple[Any, _Positions]:
    positions = _Positions()
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem(Location(name, 0, 0), "", f"cannot read file: {exc.strerror}"))
        return None, positions
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 0, 0)
        problems.append(Problem(loc, "", f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None, positions
    if node is None:
        problems.append(Problem(Location(name, 1, 1), "", "the file is empty"))
        return None, positions
    constructor = yaml.SafeLoader("")
    positions.set((), Location(name, node.start_mark.line + 1, node.start_mark.column + 1))
    data = _construct(node, name, (), positions, problems, constructor)
    return data, positions


def _construct(
    node: yaml.Node,
    name: str,
    path: PathT,
    positions: _Positions,
    problems: list[Problem],
    constructor: yaml.SafeLoader,
) -> Any:
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in (
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    ):
        loc = Location(name, node.start_mark.line + 1, node.start_mark.column + 1)
        problems.append(Problem(loc, _dotted(path), f"value not allowed: tag {node.tag} is not plain YAML"))
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            loc = Location(name, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(loc, _dotted(path), "mapping keys must be plain names"))
                continue
            key = str(key_node.value)
            if key in out:
                problems.append(
                    Problem(loc, _dotted(path + (key,)), "duplicate key (it is already set above)")
                )
                continue
            positions.set(path + (key,), loc)
            out[key] = _construct(value_node, name, path + (key,), positions, problems, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            loc = Location(name, item.start_mark.line + 1, item.start_mark.column + 1)
            positions.set(path + (i,), loc)
            items.append(_construct(item, name, path + (i,), positions, problems, constructor))
        return items
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        loc = Location(name, node.start_mark.line + 1, node.start_mark.column + 1)
        problems.append(Problem(loc, _dotted(path), f"value not allowed: {exc}"))
        return None


def _merges(over: Any) -> bool:
    """Whether an override mapping merges into the base key by key. A duration (a mapping
    with ``dist``) replaces the base value as a whole, and so does an empty mapping, which
    is how a variant clears a table (``confusion: {}`` means perfect triage)."""
    return isinstance(over, dict) and bool(over) and "dist" not in over


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and _merges(over):
        out = dict(base)
        for key, value in over.items():
            out[key] = _deep_merge(base[key], value) if key in base else value
        return out
    return over


def _merge_positions(
    base: _Positions, over: _Positions, over_data: Any, path: PathT = ()
) -> None:
    """Positions of an override win for every path it sets; lists and scalars replace whole."""
    if _merges(over_data):
        for key, value in over_data.items():
            _merge_positions(base, over, value, path + (key,))
        if path:
            base.set(path, over.find(path))
        return
    base.drop_under(path)
    for key, loc in over._map.items():
        if key[: len(path)] == path:
            base.set(key, loc)


def _load_raw(path: Path, problems: list[Problem], seen: tuple[Path, ...] = ()) -> tuple[Any, _Positions]:
    path = path.resolve() if path.is_absolute() else path
    data, positions = _compose_file(path, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.append(Problem(positions.find(()), "", "a scenario file must be a mapping"))
        return None, positions
    base_name = data.pop("extends", None)
    if base_name is None:
        return data, positions
    loc = positions.find(("extends",))
    if not isinstance(base_name, str):
        problems.append(Problem(loc, "extends", "must be a file name"))
        return None, positions
    base_path = (path.parent / base_name)
    if base_path.resolve() in [p.resolve() for p in seen + (path,)]:
        problems.append(Problem(loc, "extends", f"'{base_name}' extends itself (a cycle)"))
        return None, positions
    if not base_path.exists():
        problems.append(Problem(loc, "extends", f"base file '{base_name}' does not exist"))
        return None, positions
    base_data, base_positions = _load_raw(base_path, problems, seen + (path,))
    if base_data is None:
        return None, positions
    merged = _deep_merge(base_data, data)
    _merge_positions(base_positions, positions, data)
    base_positions.set((), positions.find(()))
    return merged, base_positions


def parse_override(text: str) -> tuple[PathT, Any]:
    """Parse ``a.b.c=value``; the value is read as a YAML scalar or flow collection."""
    if "=" not in text:
        raise ValueError(f"--set needs the form field.path=value, got '{text}'")
    key, _, raw = text.partition("=")
    parts = tuple(p for p in key.strip().split("."))
    if not all(parts):
        raise ValueError(f"--set has an empty field name in '{key}'")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ValueError(f"--set {key}: value is not valid YAML: {exc}") from exc
    return parts, value


def _apply_override(data: dict[str, Any], path: PathT, value: Any) -> str | None:
    node: Any = data
    for part in path[:-1]:
        if not isinstance(node, dict):
            return f"'{part}' is inside a value that is not a mapping"
        node = node.setdefault(part, {})
    if not isinstance(node, dict):
        return "the field above it is not a mapping"
    node[path[-1]] = value
    return None


# --------------------------------------------------------------------------- error shaping


def _model_fields_at(loc: Sequence[str | int], root: Any = None) -> list[str] | None:
    """Field names allowed at a location of a schema (None if free-form keys)."""
    tp: Any = Scenario if root is None else root
    for part in loc:
        tp = _strip_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) in (tuple, list):
            tp = typing.get_args(tp)[0]
        else:
            return None
    tp = _strip_optional(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return None


def _strip_optional(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    valid = ", ".join(choices) if len(choices) <= 12 else ", ".join(choices[:12]) + ", ..."
    return f"{hint} Valid here: {valid}"


def _pydantic_problems(exc: ValidationError, positions: _Positions, root: Any = None) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # pydantic adds the tag of a function validator to some locations; drop non-fields
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            allowed = _model_fields_at(loc[:-1], root) or []
            msg = f"unknown field '{loc[-1]}'" + _did_you_mean(str(loc[-1]), allowed)
        elif err["type"] == "missing":
            msg = "required field is missing"
        out.append(Problem(positions.find(loc), _dotted(loc), msg))
    return out


def _cross_reference_problems(sc: Scenario, positions: _Positions) -> list[Problem]:
    """Checks that span several sections (names that must refer to each other)."""
    out: list[Problem] = []

    def problem(path: PathT, message: str) -> None:
        out.append(Problem(positions.find(path), _dotted(path), message))

    needs = list(sc.needs)
    services = list(sc.services)
    parts = list(sc.calendar.day_parts)
    for team in sc.teams:
        if team in BUILTIN_SERVICES:
            problem(("teams", team), f"a team may not be called '{team}' (a built-in service)")
    for name, need in sc.needs.items():
        if need.service not in services:
            problem(("needs", name, "service"), f"unknown service '{need.service}'" + _did_you_mean(need.service, services))
        for i, alt in enumerate(need.acceptable_services):
            if alt not in services:
                problem(("needs", name, "acceptable_services", i), f"unknown service '{alt}'" + _did_you_mean(alt, services))
        if need.service == "ambulance" and need.ambulance_priority is None:
            problem(("needs", name, "ambulance_priority"), "a need served by an ambulance needs an ambulance_priority (A1, A2 or B)")
    for gname, group in sc.demand.groups.items():
        if group.profile not in sc.demand.profiles:
            problem(("demand", "groups", gname, "profile"), f"unknown profile '{group.profile}'" + _did_you_mean(group.profile, sc.demand.profiles))
        for need in group.need_mix:
            if need not in sc.needs:
                problem(("demand", "groups", gname, "need_mix", need), f"unknown need '{need}'" + _did_you_mean(need, needs))
        for need in group.channel_by_need:
            if need not in sc.needs:
                problem(("demand", "groups", gname, "channel_by_need", need), f"unknown need '{need}'" + _did_you_mean(need, needs))
    staffing: list[tuple[PathT, Mapping[str, int]]] = [
        (("mka", "call_takers"), sc.mka.call_takers),
        (("gp_post", "triagists"), sc.gp_post.triagists),
        (("gp_post", "consult_gps"), sc.gp_post.consult_gps),
        (("gp_post", "visit_cars"), sc.gp_post.visit_cars),
        (("coordination", "agents"), sc.coordination.agents),
        (("ambulances", "on_duty"), sc.ambulances.on_duty),
    ] + [(("teams", t, "staff"), team.staff) for t, team in sc.teams.items()]
    for path, table in staffing:
        for part in table:
            if part not in parts:
                problem(path + (part,), f"unknown day part '{part}'" + _did_you_mean(part, parts))
        missing = [p for p in parts if p not in table]
        if missing:
            problem(path, "staffing must give a number for every day part; missing: " + ", ".join(missing))
    for desk in ("mka", "gp_post", "coordination"):
        triage = sc.triage_of(desk)
        base = (desk, "triage")
        for i, service in enumerate(triage.dispatches):
            if service not in services:
                problem(base + ("dispatches", i), f"unknown service '{service}'" + _did_you_mean(service, services))
        for service in triage.handle_time:
            if service != "default" and service not in services:
                problem(base + ("handle_time", service), f"unknown service '{service}'" + _did_you_mean(service, services))
        for true_need, row in triage.confusion.items():
            if true_need not in sc.needs:
                problem(base + ("confusion", true_need), f"unknown need '{true_need}'" + _did_you_mean(true_need, needs))
            for assigned in row:
                if assigned not in sc.needs:
                    problem(base + ("confusion", true_need, assigned), f"unknown need '{assigned}'" + _did_you_mean(assigned, needs))
    for i, service in enumerate(sc.coordination.alternative_services):
        if service not in services:
            problem(("coordination", "alternative_services", i), f"unknown service '{service}'" + _did_you_mean(service, services))
    # every disposition a desk can reach must be deliverable by some active desk
    active = sc.active_desks()
    reachable = {s for d in active for s in sc.triage_of(d).dispatches}
    for desk in active:
        triage = sc.triage_of(desk)
        for true_need in needs:
            row = triage.confusion.get(true_need, {true_need: 1.0})
            for assigned, share in row.items():
                if share <= 0 or assigned not in sc.needs:
                    continue
                service = sc.needs[assigned].service
                if service not in reachable:
                    problem(
                        (desk, "triage", "confusion", true_need, assigned) if true_need in triage.confusion else (desk, "triage", "confusion"),
                        f"need '{assigned}' is served by '{service}', which no desk of the "
                        f"'{sc.organisation}' form dispatches (add it to a desk's dispatches, or give "
                        f"'{true_need}' a confusion row that avoids it)",
                    )
    for key in sc.provenance:
        if not _path_exists(sc, key):
            problem(("provenance", key), f"'{key}' is not a field of this scenario")
    return out


def _path_exists(sc: Scenario, dotted: str) -> bool:
    node: Any = sc
    for part in dotted.split("."):
        if isinstance(node, BaseModel):
            if part not in type(node).model_fields:
                return False
            node = getattr(node, part)
        elif isinstance(node, Mapping):
            if part not in node:
                return False
            node = node[part]
        else:
            return False
    return True


def load_raw(path: str | Path) -> dict[str, Any]:
    """The merged (extends resolved) but unvalidated content of a scenario file."""
    problems: list[Problem] = []
    data, _ = _load_raw(Path(path), problems)
    if problems or data is None:
        raise ScenarioError(problems)
    return data


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load, merge and validate a scenario file; raise ScenarioError listing every problem."""
    problems: list[Problem] = []
    data, positions = _load_raw(Path(path), problems)
    if data is None:
        raise ScenarioError(problems or [Problem(Location(str(path), 0, 0), "", "nothing to load")])
    for text in overrides:
        loc = Location(f"--set {text}", 0, 0)
        try:
            key, value = parse_override(text)
        except ValueError as exc:
            problems.append(Problem(loc, "", str(exc)))
            continue
        error = _apply_override(data, key, value)
        if error:
            problems.append(Problem(loc, _dotted(key), error))
            continue
        positions.drop_under(key)
        positions.set(key, loc)
    return validate_data(data, positions, problems)


def validate_data(
    data: Any, positions: _Positions | None = None, problems: list[Problem] | None = None
) -> Scenario:
    positions = positions or _Positions()
    problems = list(problems or [])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, positions))
        raise ScenarioError(problems) from None
    problems.extend(_cross_reference_problems(scenario, positions))
    if problems:
        raise ScenarioError(problems)
    return scenario


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Base scenario file this variant overrides (relative path).",
    }
    return schema

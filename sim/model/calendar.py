"""The simulated calendar: hours of the week, special days and the after-hours window.

Clock 0 is Monday 00:00 of the scenario's start week; the unit is the minute. A special day
(a public holiday, or a date the scenario gives a day type such as ``christmas``) follows
the hour profiles and day parts of the weekday its day type names (a Sunday unless said
otherwise), with its own demand multipliers and staffing; a public holiday with no day type
of its own is treated as a Sunday for demand, staffing and the GP post's opening hours.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.scenario.schema import DAYS, Scenario

MIN_PER_HOUR = 60.0
MIN_PER_DAY = 1440.0
MIN_PER_WEEK = 10080.0


#: The day type code of an ordinary day.
ORDINARY = 0


@dataclass(frozen=True)
class Timeline:
    """The replication's clock: warm-up, arrivals and drain ends, and for every simulated
    hour its effective hour of the week, whether it is after hours, and its day type."""

    warmup_end_min: float
    arrivals_end_min: float
    end_min: float
    n_hours: int
    hour_of_week: np.ndarray  # effective hour of week (special days -> their 'like' day)
    after_hours: np.ndarray  # bool per simulated hour: GP post open / reporting window
    start_date: dt.date  # the date of clock 0
    day_type: np.ndarray  # per simulated hour: 0 ordinary, k the k-th of day_type_names
    day_type_names: tuple[str, ...]  # index 0: 'ordinary'

    @classmethod
    def from_scenario(cls, sc: Scenario) -> Timeline:
        """The timeline of a scenario's run and calendar."""
        run, cal = sc.run, sc.calendar
        warmup = run.warmup_days * MIN_PER_DAY
        arrivals_end = warmup + run.weeks * MIN_PER_WEEK
        end = arrivals_end + run.drain_hours * MIN_PER_HOUR
        n_hours = int(math.ceil(end / MIN_PER_HOUR)) + 1
        hours = np.arange(n_hours)
        eff = hours % 168
        day = hours // 24
        special = cal.day_type_of()
        names = ("ordinary", *sorted(set(special.values())))
        code = np.zeros(n_hours, dtype=np.int64)
        all_day = np.zeros(n_hours, dtype=bool)
        for date, name in special.items():
            on_day = day == (date - cal.start_date).days
            if date < cal.start_date or not on_day.any():
                continue
            kind = cal.day_type(name)
            code[on_day] = names.index(name)
            eff = np.where(on_day, DAYS.index(kind.like) * 24 + hours % 24, eff)
            all_day |= on_day & kind.after_hours_all_day
        ah = cal.after_hours
        hod = eff % 24
        dow = eff // 24
        weekday_open = (hod >= ah.weekday_start_hour) | (hod < ah.weekday_end_hour)
        # Monday 00:00-08:00 still belongs to the weekend's after-hours, as does every
        # weekday night; Saturday and Sunday are after-hours all day.
        after = np.where(dow >= 5, True, weekday_open) | all_day
        return cls(
            warmup,
            arrivals_end,
            end,
            n_hours,
            eff.astype(np.int64),
            after.astype(bool),
            cal.start_date,
            code,
            names,
        )

    def per_hour(
        self,
        per_how: Sequence[float] | np.ndarray,
        on_day_types: Mapping[int, Sequence[float] | np.ndarray] | None = None,
    ) -> np.ndarray:
        """A quantity given per effective hour of week, for every simulated hour; on the
        hours of a day type in ``on_day_types`` (code -> per hour of week) from its table."""
        values = np.asarray(per_how)[self.hour_of_week]
        for code, table in (on_day_types or {}).items():
            on = self.day_type == code
            values = np.where(on, np.asarray(table)[self.hour_of_week], values)
        return values

    def dates(self) -> list[dt.date]:
        """The calendar date of every simulated day (day 0 is the start date)."""
        n_days = (self.n_hours + 23) // 24
        return [self.start_date + dt.timedelta(days=d) for d in range(n_days)]

    def hourly_series_changes(self, values: np.ndarray) -> list[tuple[float, float]]:
        """Change points (time, value) of a quantity given per simulated hour."""
        out: list[tuple[float, float]] = [(0.0, float(values[0]))]
        for h in np.flatnonzero(np.diff(values)) + 1:
            out.append((float(h) * MIN_PER_HOUR, float(values[h])))
        return out

    def shift_changes(
        self, values: np.ndarray, part_of_how: Sequence[str]
    ) -> list[tuple[float, float]]:
        """Change points (time, staff) at every day-part boundary, also where the number of
        staff stays the same (for the ``handover`` shift-change rule); ``values`` per
        simulated hour."""
        parts = np.asarray(part_of_how, dtype=object)[self.hour_of_week]
        out: list[tuple[float, float]] = [(0.0, float(values[0]))]
        boundaries = np.flatnonzero((parts[1:] != parts[:-1]) | (values[1:] != values[:-1])) + 1
        for h in boundaries:
            out.append((float(h) * MIN_PER_HOUR, float(values[h])))
        return out

    def open_changes(self) -> list[tuple[float, bool]]:
        """Change points of the GP post's after-hours opening."""
        flags = self.after_hours
        out: list[tuple[float, bool]] = [(0.0, bool(flags[0]))]
        for h in np.flatnonzero(np.diff(flags.astype(np.int8))) + 1:
            out.append((float(h) * MIN_PER_HOUR, bool(flags[h])))
        return out


def staffing_per_hour_of_week(sc: Scenario, staffing: dict[str, int]) -> list[int]:
    """A staffing table by day part, spelt out for each of the 168 hours of the week."""
    parts = sc.calendar.day_part_of_hour()
    return [int(staffing[p]) for p in parts]

"""The simulated calendar: hours of the week, public holidays and the after-hours window.

Clock 0 is Monday 00:00 of the scenario's start week; the unit is the minute. A public
holiday is treated as a Sunday for demand, staffing and the GP post's opening hours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.scenario.schema import Scenario

MIN_PER_HOUR = 60.0
MIN_PER_DAY = 1440.0
MIN_PER_WEEK = 10080.0
SUNDAY_OFFSET_H = 6 * 24


@dataclass(frozen=True)
class Timeline:
    """The replication's clock: warm-up, arrivals and drain ends, and for every simulated
    hour its effective hour of the week and whether it is after hours."""

    warmup_end_min: float
    arrivals_end_min: float
    end_min: float
    n_hours: int
    hour_of_week: np.ndarray  # effective hour of week (holidays -> Sunday) per simulated hour
    after_hours: np.ndarray  # bool per simulated hour: GP post open / reporting window

    @classmethod
    def from_scenario(cls, sc: Scenario) -> Timeline:
        """The timeline of a scenario's run and calendar."""
        run = sc.run
        warmup = run.warmup_days * MIN_PER_DAY
        arrivals_end = warmup + run.weeks * MIN_PER_WEEK
        end = arrivals_end + run.drain_hours * MIN_PER_HOUR
        n_hours = int(math.ceil(end / MIN_PER_HOUR)) + 1
        hours = np.arange(n_hours)
        how = hours % 168
        day = hours // 24
        start = sc.calendar.start_date
        holiday_days = {(h - start).days for h in sc.calendar.public_holidays if h >= start}
        is_holiday = np.isin(
            day, np.fromiter(holiday_days, dtype=np.int64, count=len(holiday_days))
        )
        eff = np.where(is_holiday, SUNDAY_OFFSET_H + hours % 24, how)
        ah = sc.calendar.after_hours
        hod = eff % 24
        dow = eff // 24
        weekday_open = (hod >= ah.weekday_start_hour) | (hod < ah.weekday_end_hour)
        # Monday 00:00-08:00 still belongs to the weekend's after-hours, as does every
        # weekday night; Saturday and Sunday are after-hours all day.
        after = np.where(dow >= 5, True, weekday_open) | is_holiday
        return cls(warmup, arrivals_end, end, n_hours, eff.astype(np.int64), after.astype(bool))

    def hourly_series_changes(
        self, per_how: Sequence[float] | np.ndarray
    ) -> list[tuple[float, float]]:
        """Change points (time, value) of a quantity given per effective hour of week."""
        values = np.asarray(per_how)[self.hour_of_week]
        out: list[tuple[float, float]] = [(0.0, float(values[0]))]
        for h in np.flatnonzero(np.diff(values)) + 1:
            out.append((float(h) * MIN_PER_HOUR, float(values[h])))
        return out

    def shift_changes(
        self, per_how: Sequence[float] | np.ndarray, part_of_how: Sequence[str]
    ) -> list[tuple[float, float]]:
        """Change points (time, staff) at every day-part boundary, also where the number of
        staff stays the same (for the ``handover`` shift-change rule)."""
        values = np.asarray(per_how)[self.hour_of_week]
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

"""``import-profile``: hourly call or contact counts (a telephony export) into a demand
profile and an annual volume.

Three layouts are read (the header names the layout):

- one row per call with a date-time: a column ``timestamp`` (or ``time``, ``datetime``,
  ``start``);
- one row per call, or per hour with a ``count``, with its hour of the week: a column
  ``hour_of_week`` (0 = Monday 00:00-01:00 ... 167), which needs ``--weeks`` (the weeks
  the rows cover);
- counts per date and hour: columns ``date``, ``hour`` (0-23) and ``count`` (or ``calls``,
  ``contacts``).

The rate of each hour of the week is its count over the number of such days the data
cover (the days from the first to the last date, less the days left out with ``--skip``);
every day of the week must be covered. Stamps with a UTC offset are read as Dutch clock
time. The profile is that rate relative to the mean hour (so it averages 1). Whether Monday
to Friday share one profile is tested (a chi-square test of homogeneity, its statistic
divided by the counts' dispersion across dates, so that day-to-day variation beyond Poisson
does not read as weekdays that differ); if they differ, the profile has a day of its own for
each weekday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.data.tables import DataProblem, column, datetimes, numbers, read_csv
from sim.model.demand import DAYS_PER_YEAR
from sim.scenario.schema import WEEKDAY_NAMES

DAY_NAMES = (*WEEKDAY_NAMES, "saturday", "sunday")
TIMESTAMP_COLUMNS = ("timestamp", "time", "datetime", "date_time", "start", "started")
COUNT_COLUMNS = ("count", "calls", "contacts", "n")
#: Below this p-value, Monday to Friday are taken to differ (``--days auto``).
DAYS_DIFFER_P = 0.01
#: Decimals of the relative profile (rates averaging 1).
DECIMALS = 4


@dataclass
class ImportedProfile:
    """Counts per hour of the week, the days they cover, and what follows from them."""

    source: Path
    counts: np.ndarray  # 7 x 24 calls, Monday first
    days: np.ndarray  # 7: days of each weekday covered
    first: dt.date | None
    last: dt.date | None
    skipped: int
    #: Variance of a (weekday, hour) cell's counts across its dates over their mean, pooled:
    #: 1 for Poisson counts, more when demand varies from day to day (1 without dates)
    dispersion: float = 1.0

    @property
    def total(self) -> float:
        """Calls counted (the days left out not included)."""
        return float(self.counts.sum())

    @property
    def rates(self) -> np.ndarray:
        """Calls per hour, 7 x 24 (an hour of a day never covered: 0)."""
        return np.divide(
            self.counts, self.days[:, None], out=np.zeros((7, 24)), where=self.days[:, None] > 0
        )

    @property
    def daytime_share(self) -> float:
        """Share of the calls on weekdays from 08:00 to 17:00 (outside the after-hours
        window of the Dutch GP posts)."""
        return float(self.counts[:5, 8:17].sum()) / self.total if self.total else 0.0

    @property
    def per_year(self) -> float:
        """Calls a year: the total over the days covered, times the days of a year."""
        return self.total / float(self.days.sum()) * DAYS_PER_YEAR

    def weekdays_differ(self) -> tuple[float, int, float]:
        """Chi-square test that Monday to Friday share one hourly profile: (statistic,
        degrees of freedom, p-value); hours no weekday has calls in are left out. The
        Pearson statistic is divided by the counts' dispersion (day-to-day variation beyond
        Poisson would otherwise read as weekdays that differ); 0 degrees of freedom: no
        test was possible."""
        table = self.counts[:5]
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2 or (self.days[:5] == 0).any():
            return 0.0, 0, 1.0
        # each hour's calls split over the five weekdays in proportion to the days covered
        # (known shares, not estimated: 4 degrees of freedom per hour)
        share = self.days[:5] / self.days[:5].sum()
        expected = share[:, None] * table.sum(axis=0)[None, :]
        statistic = float(((table - expected) ** 2 / expected).sum()) / max(self.dispersion, 1.0)
        df = (table.shape[0] - 1) * table.shape[1]
        return statistic, df, float(stats.chi2.sf(statistic, df))


def read_profile(
    path: Path, weeks: float | None = None, skip: Sequence[dt.date] = ()
) -> ImportedProfile:
    """Read a telephony export in any of the three layouts (``DataProblem`` if it cannot)."""
    table = read_csv(path)
    if "hour_of_week" in table.columns:
        return _by_hour_of_week(table, path, weeks, skip)
    if weeks is not None:
        raise DataProblem(path, "--weeks goes with an 'hour_of_week' column; dates give the span")
    if "date" in table.columns and "hour" in table.columns:
        return _by_date_and_hour(table, path, skip)
    stamp = column(
        table, path, TIMESTAMP_COLUMNS, "the time of each call (or give date, hour and count)"
    )
    when = datetimes(table, path, stamp, "a date-time")
    counts = pd.Series(1.0, index=table.index)
    if any(c in table.columns for c in COUNT_COLUMNS):
        name = column(table, path, COUNT_COLUMNS, "counts")
        counts = numbers(table, path, name, 0, 1e9)
    return _from_dates(path, when.dt.normalize(), when.dt.hour, counts, skip)


def _by_date_and_hour(table: pd.DataFrame, path: Path, skip: Sequence[dt.date]) -> ImportedProfile:
    day = datetimes(table, path, "date", "a date")
    hour = numbers(table, path, "hour", 0, 23, whole=True).astype(int)
    counts = numbers(table, path, column(table, path, COUNT_COLUMNS, "counts"), 0, 1e9)
    return _from_dates(path, day.dt.normalize(), hour, counts, skip)


def _from_dates(
    path: Path, day: pd.Series, hour: pd.Series, counts: pd.Series, skip: Sequence[dt.date]
) -> ImportedProfile:
    first, last = day.min().date(), day.max().date()
    span = pd.date_range(first, last, freq="D")
    left_out = {pd.Timestamp(d) for d in skip}
    keep = ~day.isin(left_out)
    covered = [d for d in span if d not in left_out]
    if not covered:
        raise DataProblem(path, "every day of the data is left out with --skip")
    grid = np.zeros((7, 24))
    np.add.at(
        grid,
        (day[keep].dt.day_of_week.to_numpy(), hour[keep].to_numpy()),
        counts[keep].to_numpy(dtype=float),
    )
    days = np.bincount([d.weekday() for d in covered], minlength=7).astype(float)
    _every_day(path, days)
    dispersion = _dispersion(day[keep], hour[keep], counts[keep], covered)
    return ImportedProfile(path, grid, days, first, last, len(span) - len(covered), dispersion)


def _every_day(path: Path, days: np.ndarray) -> None:
    """Refuse data that leave a day of the week uncovered (its profile would be zeros)."""
    missing = [DAY_NAMES[d] for d in range(7) if days[d] == 0]
    if missing:
        raise DataProblem(
            path,
            f"the data cover no {', '.join(missing)}: a profile needs every day of the week "
            "(give at least one whole week)",
        )


def _dispersion(day: pd.Series, hour: pd.Series, counts: pd.Series, covered: list) -> float:
    """Pooled dispersion of the counts of each (weekday, hour) across its dates: the sum of
    (count - cell mean)^2 / cell mean over the sum of (dates - 1), cells with calls only."""
    index = {d: i for i, d in enumerate(covered)}
    per_date = np.zeros((len(covered), 24))
    rows = day.map(index).to_numpy()
    np.add.at(per_date, (rows, hour.to_numpy()), counts.to_numpy(dtype=float))
    weekday = np.array([d.weekday() for d in covered])
    num, den = 0.0, 0
    for w in range(7):
        cell = per_date[weekday == w]
        if len(cell) < 2:
            continue
        mean = cell.mean(axis=0)
        used = mean > 0
        num += float((((cell[:, used] - mean[used]) ** 2) / mean[used]).sum())
        den += (len(cell) - 1) * int(used.sum())
    return num / den if den else 1.0


def _by_hour_of_week(
    table: pd.DataFrame, path: Path, weeks: float | None, skip: Sequence[dt.date]
) -> ImportedProfile:
    if weeks is None:
        raise DataProblem(
            path, "an 'hour_of_week' column needs --weeks: how many weeks the rows cover", line=1
        )
    if skip:
        raise DataProblem(path, "--skip needs dates; an 'hour_of_week' column has none")
    how = numbers(table, path, "hour_of_week", 0, 167, whole=True).astype(int)
    counts = pd.Series(1.0, index=table.index)
    if any(c in table.columns for c in COUNT_COLUMNS):
        counts = numbers(table, path, column(table, path, COUNT_COLUMNS, "counts"), 0, 1e9)
    grid = np.zeros(168)
    np.add.at(grid, how.to_numpy(), counts.to_numpy(dtype=float))
    return ImportedProfile(path, grid.reshape(7, 24), np.full(7, float(weeks)), None, None, 0)


def profile_values(imported: ImportedProfile, seven: bool) -> dict[str, list[float]]:
    """The profile's days (``monday`` ... ``sunday``, or ``weekday``, ``saturday``,
    ``sunday``), relative to the mean hour of the week."""
    rates = imported.rates
    mean = float(rates.mean())
    if mean <= 0:
        raise DataProblem(imported.source, "no calls counted: a profile needs some")
    relative = rates / mean
    if seven:
        days = dict(zip(DAY_NAMES, relative, strict=True))
    else:
        weekday = (relative[:5] * imported.days[:5, None]).sum(axis=0) / imported.days[:5].sum()
        days = {"weekday": weekday, "saturday": relative[5], "sunday": relative[6]}
    return {name: [round(float(v), DECIMALS) for v in values] for name, values in days.items()}


def _test_line(statistic: float, df: int, p: float, dispersion: float) -> str:
    if df == 0:
        return "# Monday to Friday: not tested (too few hours with calls)"
    shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    return (
        f"# Monday to Friday {'differ' if p < DAYS_DIFFER_P else 'do not differ'} "
        f"(chi-square {statistic:.1f} after dividing by the counts' dispersion "
        f"{max(dispersion, 1.0):.2f}, {df} df, {shown})"
    )


def snippet(
    imported: ImportedProfile,
    name: str,
    days: str = "auto",
    group: str | None = None,
    population: int | None = None,
) -> str:
    """The scenario snippet (YAML, loadable as an overlay) with the profile, and with
    ``group`` its volume (per 1,000 people, with ``population``) and profile name."""
    statistic, df, p = imported.weekdays_differ()
    seven = days == "seven" or (days == "auto" and p < DAYS_DIFFER_P)
    values = profile_values(imported, seven)
    span = (
        f"{imported.first} to {imported.last}, {imported.days.sum():.0f} days"
        if imported.first is not None
        else f"{imported.days[0]:g} weeks"
    )
    lines = [
        f"# imported from {imported.source.name}: {imported.total:,.0f} calls ({span}"
        + (f"; {imported.skipped} days left out" if imported.skipped else "")
        + ")",
        _test_line(statistic, df, p, imported.dispersion)
        + (": a profile per weekday" if seven else ": one weekday profile"),
        f"# about {imported.per_year:,.0f} calls a year, {imported.daytime_share:.1%} of them on "
        "weekdays 08-17 h (for a group with after_hours_only: true the model spreads its whole "
        "volume over the after-hours hours: give it the after-hours calls only)",
        "demand:",
        "  profiles:",
        f"    {name}:",
        *[f"      {day}: [{', '.join(f'{v:g}' for v in hours)}]" for day, hours in values.items()],
    ]
    if group is not None:
        lines += ["  groups:", f"    {group}:", f"      profile: {name}"]
        if population is not None:
            per_1000 = imported.per_year / population * 1000.0
            lines += [
                "      # calls, not requests: redials and transfers count too; check the",
                "      # simulated contacts against your figures with validate --targets",
                f"      requests_per_1000_per_year: {per_1000:.6g}",
            ]
    return "\n".join(lines) + "\n"

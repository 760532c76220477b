"""The headline figures of a study per day type and per calendar date.

Each replication keeps, for every day type and every date of its reported window, the
headline KPIs computed on the requests that arrived that day (``calendar_kpis``). Here they
become two tables: ``by_day_type.csv`` (every scenario's mean with its interval over the
replications, and each later scenario's paired difference with the first) and
``by_date.csv`` (mean and interval per date). A day type or date holds few requests, so its
intervals are wider than the whole run's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sim.experiments.comparison import Experiment, ScenarioResults
from sim.experiments.runfiles import write_csv
from sim.experiments.statistics import paired_difference, t_interval
from sim.measures.aggregates import REQUESTS_KEY

#: The columns of the two tables (written also when a study kept no calendar figures).
_FIGURE_FIELDS = ("kpi", "label", "unit", "scenario", "mean", "ci_low", "ci_high", "n")
DAY_TYPE_FIELDS = ("day_type", *_FIGURE_FIELDS, "diff_vs_first", "diff_ci_low", "diff_ci_high")
DATE_FIELDS = ("date", "weekday", "day_type", *_FIGURE_FIELDS)


def write_calendar_tables(folder: Path, exp: Experiment) -> None:
    """Write ``by_day_type.csv`` and ``by_date.csv`` into a finished study's folder."""
    write_csv(folder / "by_day_type.csv", day_type_rows(exp), DAY_TYPE_FIELDS)
    write_csv(folder / "by_date.csv", date_rows(exp), DATE_FIELDS)


def _values(s: ScenarioResults, reps: list[int], part: str, key: str, kpi: str) -> list[float]:
    out = []
    for r in reps:
        figures = s.replications[r].get("calendar", {}).get(part, {}).get(key, {})
        value = figures.get(kpi)
        out.append(float("nan") if value is None else float(value))
    return out


def _keys(exp: Experiment, part: str) -> list[str]:
    """The day types (or dates) any scenario kept figures for, in first-seen order."""
    seen: dict[str, None] = {}
    for s in exp.scenarios:
        for r in exp.replications:
            seen.update(dict.fromkeys(s.replications[r].get("calendar", {}).get(part, {})))
    return list(seen)


def _kpis(exp: Experiment) -> list[tuple[str, str, str]]:
    """(name, label, unit) of the figures kept per day: the count, then the headlines."""
    count = (REQUESTS_KEY, "Reported requests (arrived after hours on these days)", "count")
    return [count] + [(k.name, k.label, k.unit) for k in exp.kpis() if k.headline]


def _figure(
    name: str, label: str, unit: str, s: ScenarioResults, values: list[float]
) -> dict[str, Any]:
    """The columns a figure's row shares in both tables: its mean over the replications."""
    iv = t_interval(values)
    return {
        "kpi": name,
        "label": label,
        "unit": unit,
        "scenario": s.scenario.name,
        "mean": iv.mean,
        "ci_low": iv.low,
        "ci_high": iv.high,
        "n": iv.n,
    }


def day_type_rows(exp: Experiment) -> list[dict[str, Any]]:
    """One row per day type, KPI and scenario; later scenarios with their paired difference
    to the first on the same replications."""
    rows: list[dict[str, Any]] = []
    reps = exp.replications
    first = exp.scenarios[0] if exp.scenarios else None
    for day_type in _keys(exp, "day_type"):
        for name, label, unit in _kpis(exp):
            base = _values(first, reps, "day_type", day_type, name) if first else []
            for s in exp.scenarios:
                values = _values(s, reps, "day_type", day_type, name)
                row = {"day_type": day_type} | _figure(name, label, unit, s, values)
                row |= {"diff_vs_first": "", "diff_ci_low": "", "diff_ci_high": ""}
                if s is not first:
                    d = paired_difference(base, values).interval
                    row.update(diff_vs_first=d.mean, diff_ci_low=d.low, diff_ci_high=d.high)
                rows.append(row)
    return rows


def date_rows(exp: Experiment) -> list[dict[str, Any]]:
    """One row per date, KPI and scenario."""
    rows: list[dict[str, Any]] = []
    reps = exp.replications
    special = {s.scenario.name: s.scenario.calendar.day_type_of() for s in exp.scenarios}
    for date in _keys(exp, "date"):
        day = dt.date.fromisoformat(date)
        for s in exp.scenarios:
            day_type = special[s.scenario.name].get(day, "ordinary")
            for name, label, unit in _kpis(exp):
                values = _values(s, reps, "date", date, name)
                row = {"date": date, "weekday": day.strftime("%a"), "day_type": day_type}
                rows.append(row | _figure(name, label, unit, s, values))
    return rows
